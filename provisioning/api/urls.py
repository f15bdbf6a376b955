"""The provisioning API under /api/provisioning/: adapters, deployments (with confirm, cancel, retry) and units."""

from rest_framework.routers import SimpleRouter

from provisioning.api import views

app_name = "provisioning-api"

router = SimpleRouter()
router.register("adapters", views.TechAdapterViewSet, basename="adapter")
router.register("deployments", views.DeploymentViewSet, basename="deployment")
router.register("units", views.DeploymentUnitViewSet, basename="unit")

urlpatterns = router.urls
