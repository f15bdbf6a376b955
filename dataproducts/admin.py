"""The Builder in the admin: the projections read-only (they follow the catalog), with one action on data products,
*Make a draft release*, which runs the release service as the staff member (refresh, the governance gate, the
commit: a release is never a bare row); and the reservations, which staff may delete to free the id of a data
product that is gone from the catalog; and the releases, made only by the release service, whose stable ones refuse
any change (model validation, then a database trigger)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from core.errors import ServiceError
from dataproducts import selectors, services
from dataproducts.models import Component, DataProduct, DataProductReservation, Domain, Release
from dataproducts.services.releases import release_notes_set


class ProjectionAdmin(admin.ModelAdmin):
    """Rows drawn from catalog entities: change the entity in Git, never the row."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataProduct)
class DataProductAdmin(ProjectionAdmin):
    list_display = ["name", "dp_id", "owner_team", "maturity", "version", "has_errors", "orphan"]
    list_filter = ["domain_name", "maturity", "has_errors", "orphan"]
    search_fields = ["name", "dp_id", "title"]
    actions = ["release_draft_create"]

    @admin.action(description="Make a draft release (the governance gate decides)")
    def release_draft_create(self, request, queryset):
        """A draft of each selected product through the release service, as on the Releases tab: a refusal (the
        gate's reasons, a conflict) is shown per product, and nothing of a refused draft is written."""
        for name in queryset.values_list("name", flat=True):
            data_product = selectors.dataproduct_get(name=name)
            if data_product is None:  # processing removed it since the list was drawn
                self.message_user(
                    request, f"{name}: the draft was not made: it is no longer a data product", messages.ERROR
                )
                continue
            try:
                release = services.release_draft_create(data_product=data_product, actor=request.user)
            except ValidationError as exc:
                lines = (
                    [f"{field}: {message}" for field, found in exc.message_dict.items() for message in found]
                    if hasattr(exc, "error_dict")
                    else exc.messages
                )
                self.message_user(request, f"{name}: the draft was not made: {'; '.join(lines)}", messages.ERROR)
            except (ServiceError, PermissionDenied) as exc:
                self.message_user(request, f"{name}: the draft was not made: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{name}: made the draft {release.version}.", messages.SUCCESS)


@admin.register(Component)
class ComponentAdmin(ProjectionAdmin):
    list_display = ["name", "component_id", "kind", "data_product", "has_errors"]
    list_filter = ["kind", "has_errors"]
    search_fields = ["name", "component_id", "title"]


@admin.register(Domain)
class DomainAdmin(ProjectionAdmin):
    list_display = ["name", "title", "owner_ref", "parent_name"]
    search_fields = ["name", "title"]


@admin.register(DataProductReservation)
class DataProductReservationAdmin(admin.ModelAdmin):
    list_display = ["dp_id", "state", "created_by", "created_at", "repository_url"]
    list_filter = ["state"]
    search_fields = ["dp_id", "entity_name"]
    readonly_fields = ["dp_id", "entity_name", "state", "repository_url", "mark", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """Releases as the release service made them. A draft's notes may be amended (audited, through the service); a
    stable release is immutable, so saving one answers with the model's refusal next to the form (the trigger would
    refuse it anyway)."""

    list_display = ["product", "version", "kind", "commit_short", "created_by_name", "created_at"]
    list_filter = ["kind"]
    search_fields = ["product__entity_name", "product__dp_id", "version"]
    list_select_related = ["product"]
    fields = [
        "product",
        "version",
        "kind",
        "commit",
        "repository_url",
        "promoted_from",
        "created_by_name",
        "created_at",
        "notes",
        "descriptors",
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field for field in self.fields if field != "notes"]

    def save_model(self, request, obj, form, change):
        release_notes_set(release=obj, notes=obj.notes, actor=request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="commit")
    def commit_short(self, release: Release) -> str:
        return release.commit[:12]
