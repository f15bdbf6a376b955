"""The reverse provisioning pages, included under ``/provisioning/reverse/``."""

from django.urls import path

from provisioning import views_reverse as views

app_name = "provisioning-reverse"

urlpatterns = [
    path("components/<str:name>/", views.reverse_provisioning_component, name="reverse_provisioning_component"),
    path("<int:pk>/", views.reverse_provisioning_detail, name="reverse_provisioning_detail"),
    path("<int:pk>/apply/", views.reverse_provisioning_apply, name="reverse_provisioning_apply"),
    path("<int:pk>/discard/", views.reverse_provisioning_discard, name="reverse_provisioning_discard"),
]
