"""Governance in the admin, the platform team's tool (PRODUCT §5): policies with their body checked on save, their
read-only version history with diffs, lifecycle actions and the test bench; waivers; evaluations read-only. Every
write goes through ``governance.services`` (a version and an audit event each)."""

from __future__ import annotations

import difflib

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from governance.choices import Lifecycle
from governance.engines import engine_choices
from governance.models import POLICY_FIELDS, Evaluation, Policy, PolicyVersion, Waiver
from governance.services import (
    BENCH_AT_ONCE,
    NOT_APPLICABLE,
    bench_environments,
    bench_products,
    bench_queue,
    bench_run,
    policy_delete,
    policy_lifecycle_set,
    policy_save,
    waiver_delete,
    waiver_save,
)

MONOSPACE = {"class": "policy-body", "spellcheck": "false"}  # styled by css/admin-governance.css


class PolicyForm(forms.ModelForm):
    """The model's ``clean()`` (run by the form) has the engine check the body: its errors show on the body."""

    engine = forms.ChoiceField(choices=())

    class Meta:
        model = Policy
        fields = list(POLICY_FIELDS)
        widgets = {"body": forms.Textarea(attrs={**MONOSPACE, "rows": 24})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engine"].choices = engine_choices()


class EnvironmentFilter(admin.SimpleListFilter):
    """Policies that run in an environment: those naming it and those naming none (every environment)."""

    title = "environment"
    parameter_name = "environment"

    def lookups(self, request, model_admin):
        return [(name, name) for name in settings.MESHFORGE_ENVIRONMENTS]

    def queryset(self, request, queryset):
        if self.value() in settings.MESHFORGE_ENVIRONMENTS:
            return queryset.filter(Q(environments=[]) | Q(environments__contains=[self.value()]))
        return queryset


class PolicyVersionInline(admin.TabularInline):
    model = PolicyVersion
    fields = ["number", "lifecycle", "created_by_name", "created_at", "body_diff"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    verbose_name_plural = "version history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="body diff with the version before")
    def body_diff(self, version: PolicyVersion) -> str:
        before = version.policy.versions.filter(number__lt=version.number).order_by("-number").first()
        old = before.body if before is not None else ""
        diff = "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                version.body.splitlines(keepends=True),
                fromfile=f"v{before.number}" if before is not None else "(none)",
                tofile=f"v{version.number}",
            )
        )
        return format_html('<pre class="policy-diff">{}</pre>', diff or "(body unchanged)")


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm

    class Media:
        css = {"all": ["css/admin-governance.css"]}

    list_display = ["name", "engine", "lifecycle", "severity", "environment_list", "updated_at"]
    list_filter = ["engine", "lifecycle", "severity", EnvironmentFilter]
    search_fields = ["name", "description"]
    inlines = [PolicyVersionInline]
    actions = ["move_to_grace", "enable", "deprecate", "test_on_all_data_products"]

    @admin.display(description="environments")
    def environment_list(self, policy: Policy) -> str:
        return ", ".join(policy.environments) or "all"

    def save_model(self, request, obj, form, change):
        policy_save(policy=obj, actor=request.user)

    def delete_model(self, request, obj):
        policy_delete(policy=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            policy_delete(policy=policy, actor=request.user)

    def _lifecycle(self, request, queryset, lifecycle: Lifecycle) -> None:
        moved = 0
        for policy in queryset:
            try:
                policy_lifecycle_set(policy=policy, lifecycle=lifecycle, actor=request.user)
            except ValidationError as exc:  # a body its engine no longer accepts, an engine that is gone
                reasons = "; ".join(f"{field}: {' '.join(found)}" for field, found in exc.message_dict.items())
                self.message_user(request, f"{policy.name} was not moved: {reasons}", messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} policies now {lifecycle.label.lower()}.", messages.SUCCESS)

    @admin.action(description="Move to grace")
    def move_to_grace(self, request, queryset):
        self._lifecycle(request, queryset, Lifecycle.GRACE)

    @admin.action(description="Enable")
    def enable(self, request, queryset):
        self._lifecycle(request, queryset, Lifecycle.ENABLED)

    @admin.action(description="Deprecate")
    def deprecate(self, request, queryset):
        self._lifecycle(request, queryset, Lifecycle.DEPRECATED)

    @admin.action(description="Test on all data products")
    def test_on_all_data_products(self, request, queryset):
        """The test bench: every selected policy against every data product's working copy, changing nothing. More
        data products than a request judges go to the worker, one queued run per policy, followed on the policy
        page (its progress bar and results)."""
        if bench_products().count() > BENCH_AT_ONCE:
            for policy in queryset:
                run = bench_queue(
                    policy=policy,
                    saved=True,
                    source="working",
                    environments=bench_environments(policy),
                    product="",
                    actor=request.user,
                )
                url = reverse("governance:bench_run_detail", args=[run.pk])
                self.message_user(
                    request,
                    format_html('{}: the bench runs in the background; <a href="{}">follow it</a>.', policy.name, url),
                    messages.INFO,
                )
            return None
        benches = [(policy, bench_run(policy=policy)) for policy in queryset]
        return TemplateResponse(
            request,
            "admin/governance/policy/bench.html",
            {
                **self.admin_site.each_context(request),
                "title": "Test bench",
                "opts": self.model._meta,
                "benches": benches,
                "not_applicable": NOT_APPLICABLE,
            },
        )


@admin.register(Waiver)
class WaiverAdmin(admin.ModelAdmin):
    list_display = ["policy", "product", "expires_at", "active", "created_by_name"]
    list_filter = ["policy"]
    search_fields = ["policy__name", "product__dp_id", "product__entity_name", "reason"]
    fields = ["policy", "product", "reason", "expires_at", "created_by_name", "created_at"]
    readonly_fields = ["created_by_name", "created_at"]

    @admin.display(boolean=True)
    def active(self, waiver: Waiver) -> bool:
        return waiver.is_active

    def save_model(self, request, obj, form, change):
        waiver_save(waiver=obj, actor=request.user)

    def delete_model(self, request, obj):
        waiver_delete(waiver=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for waiver in queryset:
            waiver_delete(waiver=waiver, actor=request.user)


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    """What the gate and the runtime schedule judged: history, never edited."""

    list_display = ["time", "policy_version", "product", "version", "environment", "resource_id", "outcome", "blocking"]
    list_filter = ["product", ("policy_version__policy", admin.RelatedOnlyFieldListFilter), "outcome", "environment"]
    search_fields = ["resource_id", "version", "product__dp_id"]
    list_select_related = ["policy_version", "product"]
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
