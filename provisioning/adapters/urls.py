"""The built-in tech adapters' routes (Tech Adapter API 2.2), mounted at /tech-adapters/<name>/."""

from django.urls import path

from provisioning.adapters import views

urlpatterns = [
    path("<slug:name>/v1/provision", views.provision, name="adapter_provision"),
    path("<slug:name>/v1/provision/<str:token>/status", views.provision_status, name="adapter_provision_status"),
    path("<slug:name>/v1/unprovision", views.unprovision, name="adapter_unprovision"),
    path("<slug:name>/v1/validate", views.validate, name="adapter_validate"),
    path("<slug:name>/v2/validate", views.validate_async, name="adapter_validate_async"),
    path("<slug:name>/v2/validate/<str:token>/status", views.validate_status, name="adapter_validate_status"),
    path("<slug:name>/v1/updateacl", views.updateacl, name="adapter_updateacl"),
    path("<slug:name>/v1/reverse-provisioning", views.reverse_provisioning, name="adapter_reverse_provisioning"),
    path(
        "<slug:name>/v1/reverse-provisioning/<str:token>/status",
        views.reverse_provisioning_status,
        name="adapter_reverse_provisioning_status",
    ),
]
