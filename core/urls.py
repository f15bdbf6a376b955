from django.contrib.auth import views as auth_views
from django.urls import path

from core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/tokens/<int:pk>/revoke/", views.api_token_revoke_view, name="apitoken_revoke"),
]
