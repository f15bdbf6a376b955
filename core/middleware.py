import re
import uuid

from django.conf import settings
from django.core.signals import request_finished
from rest_framework.renderers import BrowsableAPIRenderer

from core.context import current_request, current_request_id

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Give every request an id (the proxy's ``X-Request-ID`` when sane), for logs, audit and the response.

    The context is cleared when the request *finishes* rather than when this middleware returns, because
    Django logs 4xx/5xx responses after the middleware chain has run and those lines need the id too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        current_request_id.set(request.id)
        current_request.set(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


def csp_extend(policy: str, directive: str, *sources: str) -> str:
    """``policy`` with ``sources`` added to ``directive`` (which starts from default-src's sources when absent)."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if words := part.split():
            directives.setdefault(words[0].lower(), words[1:])
    base = directives.get(directive, directives.get("default-src", []))
    directives[directive] = [*base, *(source for source in sources if source not in base)]
    return "; ".join(" ".join([name, *values]) for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    """Send ``settings.MESHFORGE_CSP`` as the Content-Security-Policy of every response that has none of its own.

    Pages, htmx and the API docs run without inline scripts, inline styles or ``on*`` handlers (see the policy in
    the settings), so an injected ``<script>`` or handler never runs even if some text escapes escaping. A view that
    needs something else sets the header itself (ReDoc's page, core.api.docs), and this middleware leaves it alone.
    DRF's browsable API, whose templates are not ours, may use inline styles; its scripts stay as strict as anywhere.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.MESHFORGE_CSP
        if policy and "Content-Security-Policy" not in response:
            if isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer):
                policy = csp_extend(policy, "style-src", "'unsafe-inline'")
            response["Content-Security-Policy"] = policy
        return response


def _clear_request_context(**kwargs):
    current_request_id.set("-")
    current_request.set(None)


request_finished.connect(_clear_request_context, dispatch_uid="meshforge-clear-request-context")
