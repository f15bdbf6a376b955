"""The reverse provisioning API's routes (``reverse-provisioning/``), included under ``/api/provisioning/``."""

from rest_framework.routers import SimpleRouter

from provisioning.api.reverse import ReverseProvisioningViewSet

app_name = "provisioning-reverse-api"

router = SimpleRouter()
router.register("reverse-provisioning", ReverseProvisioningViewSet, basename="reverse-provisioning")

urlpatterns = router.urls
