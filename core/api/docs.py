"""The API's documentation pages (Swagger UI and ReDoc, from local files) under the Content-Security-Policy."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from core.middleware import csp_extend


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI; the split view serves its start script from a URL (``?script``) rather than inline."""

    template_name = "api/swagger_ui.html"


class ApiRedocView(SpectacularRedocView):
    """ReDoc. It writes its styles into ``<style>`` elements as it runs, some while its bundle loads, before any
    nonce could be handed to it, so this page alone admits inline styles; its scripts stay as strict as anywhere,
    and the page shows nothing but the schema. Its web worker (search) starts from a ``blob:`` URL: ``worker-src``.
    ReDoc also always asks for a logo from cdn.redoc.ly: refused like any other request off the machine."""

    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if settings.MESHFORGE_CSP:
            response["Content-Security-Policy"] = csp_extend(settings.MESHFORGE_CSP, "style-src", "'unsafe-inline'")
        return response
