"""One error body for the whole API: ``{"detail": str}``, plus ``"errors": {field: [messages]}`` on 400s.

Django ``ValidationError`` raised by models and services (``full_clean()``) becomes a 400 as well, so a
service never needs to know it was called from the API.
"""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def _as_lists(errors) -> dict[str, list[str]]:
    """Flatten DRF's nested error structure into ``{"field.sub": [messages]}``."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            flat.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).extend(str(item) for item in value)
        elif isinstance(value, list):
            for index, sub in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            flat.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(value))

    walk("", errors)
    return flat


def request_limit_error(exc: Exception, request) -> exceptions.ParseError | None:
    """Django's refusal of a request body over its limits (raised when the body is read, DRF reads it whole for
    JSON) as a 400 naming the body and the limit; left alone it would reach Django's handler and an HTML page."""
    if isinstance(exc, RequestDataTooBig):
        length = str(request.META.get("CONTENT_LENGTH") or "") if request is not None else ""
        size = f"{length} bytes, " if length.isdigit() else ""  # a chunked body has no length
        return exceptions.ParseError(
            f"Request body too large: {size}the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ParseError(
            f"Request body has too many fields: the limit is {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}."
        )
    if isinstance(exc, TooManyFilesSent):
        return exceptions.ParseError(
            f"Request body has too many files: the limit is {settings.DATA_UPLOAD_MAX_NUMBER_FILES}."
        )
    return None


def exception_handler(exc, context):
    exc = request_limit_error(exc, context.get("request")) or exc
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value
            for key, value in detail.items()
        }
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_lists(exc.detail)
        first = next(iter(errors.items()), None)
        summary = f"{first[0]}: {first[1][0]}" if first else "Invalid input."
        response.data = {"detail": f"Invalid input ({summary})", "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return Response(response.data, status=response.status_code, headers=_headers(response))


def _headers(response) -> dict[str, str]:
    return {name: value for name, value in response.items() if name in {"WWW-Authenticate", "Retry-After", "Allow"}}
