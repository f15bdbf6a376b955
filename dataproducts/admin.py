"""The Builder in the admin: the projections read-only (they follow the catalog), and the reservations, which
staff may delete to free the id of a data product that is gone from the catalog."""

from django.contrib import admin

from dataproducts.models import Component, DataProduct, DataProductReservation, Domain


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
