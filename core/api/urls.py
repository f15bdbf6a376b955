from django.urls import path

from core.api.views import MeView

app_name = "core-api"

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
]
