from django.urls import path
from rest_framework.routers import SimpleRouter

from dataproducts.api import views
from dataproducts.api.descriptor import DescriptorValidateView

app_name = "dataproducts-api"

router = SimpleRouter()
router.register("data-products", views.DataProductViewSet, basename="data-product")
router.register("components", views.ComponentViewSet, basename="component")
router.register("domains", views.DomainViewSet, basename="domain")
router.register("templates", views.TemplateViewSet, basename="template")

urlpatterns = [
    path("validate-descriptor", DescriptorValidateView.as_view(), name="validate_descriptor"),
    *router.urls,
]
