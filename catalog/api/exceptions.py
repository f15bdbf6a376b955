"""Backstage's error body for the catalog API (PRODUCT §3.4):
``{"error": {"name": "NotFoundError", "message": ...}, "response": {"statusCode": 404}}``.

The rest of the API keeps core's ``{"detail", "errors"}`` body; catalog views opt in through
:class:`BackstageErrorsMixin`, so a Backstage client pointed at Meshforge reads the errors it expects.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from catalog.predicates import PredicateError
from catalog.selectors import QueryError
from catalog.services import RefreshThrottled
from core.api.exceptions import request_limit_error
from core.errors import api_exception

# Backstage's error names (@backstage/errors) by status code.
ERROR_NAMES = {
    status.HTTP_400_BAD_REQUEST: "InputError",
    status.HTTP_401_UNAUTHORIZED: "AuthenticationError",
    status.HTTP_403_FORBIDDEN: "NotAllowedError",
    status.HTTP_404_NOT_FOUND: "NotFoundError",
    status.HTTP_405_METHOD_NOT_ALLOWED: "NotAllowedError",
    status.HTTP_406_NOT_ACCEPTABLE: "InputError",
    status.HTTP_409_CONFLICT: "ConflictError",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "InputError",
    status.HTTP_429_TOO_MANY_REQUESTS: "TooManyRequestsError",
}
KEPT_HEADERS = {"WWW-Authenticate", "Retry-After", "Allow"}
BODY = "request body"


def error_body(name: str, message: str, status_code: int) -> dict:
    return {"error": {"name": name, "message": message}, "response": {"statusCode": status_code}}


def field_messages(detail, prefix: str = "") -> list[str]:
    """DRF's nested error detail as ``field.sub: message`` lines, so a 400 names what was wrong."""
    if isinstance(detail, dict):
        lines = []
        for key, sub in detail.items():
            if isinstance(key, int):  # ListField reports items by index
                lines += field_messages(sub, f"{prefix}[{key}]")
                continue
            key = BODY if key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS) else str(key)
            lines += field_messages(sub, f"{prefix}.{key}" if prefix else key)
        return lines
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [f"{prefix}: {item}" if prefix else str(item) for item in detail]
        lines = []
        for index, sub in enumerate(detail):
            if sub:  # DRF reports valid list items as empty dicts
                lines += field_messages(sub, f"{prefix}[{index}]" if prefix else str(index))
        return lines
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _translate(exc: Exception) -> Exception:
    """Exceptions of the catalog's selectors and services (and Django's) as DRF exceptions: the services' by the
    status each carries (``core.errors``), a throttled refresh with its ``Retry-After``."""
    if isinstance(exc, QueryError):
        return exceptions.ValidationError({exc.param: [exc.message]})
    if isinstance(exc, PredicateError):  # its message names the place: query.$all[1].kind: …
        return exceptions.ValidationError([str(exc)])
    if isinstance(exc, RefreshThrottled):
        return exceptions.Throttled(wait=exc.retry_after, detail=str(exc))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
    return api_exception(exc) or exc


def backstage_exception_handler(exc, context):
    exc = request_limit_error(exc, context.get("request")) or _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug, not bad input: let it surface as a 500
    if isinstance(exc, serializers.ValidationError):
        message = "; ".join(field_messages(exc.detail)) or "Invalid input."
    elif isinstance(exc, exceptions.APIException):
        message = str(exc.detail)
    else:
        message = str(response.data.get("detail", "")) if isinstance(response.data, dict) else str(response.data)
    code = response.status_code
    headers = {name: value for name, value in response.items() if name in KEPT_HEADERS}
    return Response(error_body(ERROR_NAMES.get(code, "Error"), message, code), status=code, headers=headers)


class BackstageErrorsMixin:
    """Mix into a catalog APIView: its errors use Backstage's body instead of core's."""

    def get_exception_handler(self):
        return backstage_exception_handler
