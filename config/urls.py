from django.contrib import admin
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from core.api.docs import ApiDocsView, ApiRedocView
from core.api.views import NotFoundView as ApiNotFoundView
from dataproducts import urls as dataproducts_urls

api_patterns = [
    path("", include("core.api.urls")),
    path("catalog/", include("catalog.api.urls")),
    path("dataproducts/", include("dataproducts.api.urls")),
    path("governance/", include("governance.api.urls")),
    path("provisioning/", include("provisioning.api.reverse_urls")),
    path("provisioning/", include("provisioning.api.urls")),
    path("marketplace/", include("marketplace.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs are pages for people: send anonymous visitors to the login page rather than a 401.
    path("docs/", login_required(ApiDocsView.as_view(url_name="schema")), name="api_docs"),
    path("redoc/", login_required(ApiRedocView.as_view(url_name="schema")), name="api_redoc"),
    # Last: any other path under /api/ is the API's JSON 404, whatever characters it holds (newlines included).
    re_path(r"^[\s\S]*$", ApiNotFoundView.as_view(), name="api_not_found"),
]

urlpatterns = [
    path("", include("core.urls")),
    path("", include("marketplace.urls")),
    path("builder/", include("dataproducts.urls")),
    path("dp/", include((dataproducts_urls.dp_urlpatterns, "dp"))),
    path("catalog/", include("catalog.urls")),
    path("governance/", include("governance.urls")),
    path("provisioning/reverse/", include("provisioning.reverse_urls")),
    path("provisioning/", include("provisioning.urls")),
    path("tech-adapters/", include("provisioning.adapters.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("favicon.ico", login_not_required(RedirectView.as_view(url="/static/img/favicon.svg", permanent=True))),
]

admin.site.site_header = "Meshforge administration"
admin.site.site_title = "Meshforge admin"
