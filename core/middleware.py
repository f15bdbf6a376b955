import re
import uuid

from django.core.signals import request_finished

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


def _clear_request_context(**kwargs):
    current_request_id.set("-")
    current_request.set(None)


request_finished.connect(_clear_request_context, dispatch_uid="meshforge-clear-request-context")
