"""Provisioning in the admin, the platform team's tool (PRODUCT §6): the adapter registry, saved and deleted through
``provisioning.services`` (validated and audited); deployments with their steps, environments' units and the
built-in adapters' calls and reverse provisionings, read-only (the services and the coordinator write them)."""

from __future__ import annotations

from django.contrib import admin

from provisioning.forms import TechAdapterForm
from provisioning.models import (
    AdapterCall,
    Deployment,
    DeploymentTask,
    DeploymentUnit,
    ReverseProvisioning,
    TechAdapter,
)
from provisioning.services import adapter_delete, adapter_save


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: browsed, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TechAdapter)
class TechAdapterAdmin(admin.ModelAdmin):
    form = TechAdapterForm  # the environment picked from MESHFORGE_ENVIRONMENTS
    list_display = [
        *("infrastructure_template_id", "environment", "url", "connect_timeout", "request_timeout"),
        *("operation_timeout", "async_validation", "builtin", "updated_at"),
    ]
    list_filter = ["environment", "async_validation", "builtin"]
    search_fields = ["infrastructure_template_id", "url", "description"]
    readonly_fields = ["builtin", "async_validation_unsupported", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        adapter_save(adapter=obj, actor=request.user)

    def delete_model(self, request, obj):
        adapter_delete(adapter=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for adapter in queryset:
            adapter_delete(adapter=adapter, actor=request.user)


class DeploymentTaskInline(admin.TabularInline):
    model = DeploymentTask
    fields = [
        *("layer", "name", "component_id", "kind", "operation", "status", "attempts", "adapter_url", "token"),
        *("error", "started_at", "finished_at"),
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = [
        *("id", "operation", "product", "version", "environment", "status", "created_by_name", "created_at"),
        "finished_at",
    ]
    list_filter = ["status", "operation", "environment"]
    search_fields = ["product__entity_name", "product__dp_id", "version", "created_by_name"]
    list_select_related = ["product"]
    date_hierarchy = "created_at"
    inlines = [DeploymentTaskInline]


@admin.register(DeploymentUnit)
class DeploymentUnitAdmin(ReadOnlyAdmin):
    list_display = ["product", "environment", "status", "release", "deployed_at", "last_deployment", "updated_at"]
    list_filter = ["status", "environment"]
    search_fields = ["product__entity_name", "product__dp_id"]
    list_select_related = ["product", "release", "last_deployment__product"]


@admin.register(AdapterCall)
class AdapterCallAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "adapter", "operation", "component_id", "status", "error_status", "token"]
    list_filter = ["adapter", "operation", "status"]
    search_fields = ["component_id", "token"]
    date_hierarchy = "created_at"


@admin.register(ReverseProvisioning)
class ReverseProvisioningAdmin(ReadOnlyAdmin):
    list_display = [
        *("id", "component_name", "environment", "status", "adapter", "commit_sha", "created_by_name"),
        "created_at",
    ]
    list_filter = ["status", "environment"]
    search_fields = ["component_name", "product__entity_name", "product__dp_id", "created_by_name", "commit_sha"]
    list_select_related = ["product", "adapter"]
    date_hierarchy = "created_at"
