"""The governance API under /api/governance/: policies, evaluations, and evaluate."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.api import views

app_name = "governance-api"

router = SimpleRouter()
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("evaluations", views.EvaluationViewSet, basename="evaluation")

urlpatterns = [
    path("evaluate", views.EvaluateView.as_view(), name="evaluate"),
    *router.urls,
]
