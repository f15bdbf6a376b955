from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.utils import timezone

from core.forms import AdminSignInForm
from core.models import ApiToken, AuditEvent, ProcessHeartbeat, SignInFailure
from core.views import throttled

# The admin's own sign-in page goes through the same throttle (core.signin) and says so the same way.
admin.site.login_form = AdminSignInForm
_admin_login = admin.site.login


@login_not_required
def _throttled_admin_login(request, extra_context=None):
    response = _admin_login(request, extra_context)
    return throttled(response, (getattr(response, "context_data", None) or {}).get("form"))


admin.site.login = _throttled_admin_login


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["time", "actor_name", "action", "object_type", "object_repr", "request_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_name", "action", "object_repr", "object_id", "request_id"]
    date_hierarchy = "time"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_prefix", "created_at", "last_used_at", "expires_at", "expired"]
    search_fields = ["name", "user__username", "key_prefix"]
    readonly_fields = ["user", "name", "key_prefix", "created_at", "last_used_at", "expires_at"]
    exclude = ["key_digest"]

    @admin.display(boolean=True)
    def expired(self, obj):
        return obj.expired

    def has_add_permission(self, request):
        return False  # tokens are created by their owners on the profile page, which shows the key once


@admin.register(ProcessHeartbeat)
class ProcessHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["role", "hostname", "pid", "started_at", "last_beat_at", "alive"]
    list_filter = ["role"]
    readonly_fields = ["role", "hostname", "pid", "started_at", "last_beat_at"]

    @admin.display(boolean=True)
    def alive(self, obj):
        from django.conf import settings

        return (timezone.now() - obj.last_beat_at).total_seconds() < settings.HEARTBEAT_MAX_AGE_SECONDS

    def has_add_permission(self, request):
        return False


@admin.register(SignInFailure)
class SignInFailureAdmin(admin.ModelAdmin):
    """Failed sign-ins of the last window, to see who is being guessed at; delete rows to forgive them."""

    list_display = ["time", "username", "address"]
    search_fields = ["username", "address"]
    date_hierarchy = "time"
    readonly_fields = ["time", "username", "address"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
