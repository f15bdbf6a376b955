"""The provisioning pages, mounted at /provisioning/."""

from django.urls import path

from provisioning import views

app_name = "provisioning"

urlpatterns = [
    path("deployments/", views.deployment_list, name="deployment_list"),
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment_detail"),
    path("deployments/<int:pk>/confirm/", views.deployment_confirm, name="deployment_confirm"),
    path("deployments/<int:pk>/cancel/", views.deployment_cancel, name="deployment_cancel"),
    path("deployments/<int:pk>/retry/", views.deployment_retry, name="deployment_retry"),
    path("products/<str:name>/deploy/", views.dataproduct_deploy, name="dataproduct_deploy"),
    path("products/<str:name>/undeploy/", views.dataproduct_undeploy, name="dataproduct_undeploy"),
    path("adapters/", views.adapter_list, name="adapter_list"),
    path("adapters/<int:pk>/", views.adapter_detail, name="adapter_detail"),
    path("adapters/<int:pk>/delete/", views.adapter_delete, name="adapter_delete"),
]
