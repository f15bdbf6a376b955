"""Errors that services raise carry the HTTP status they mean (STYLE §11), so that every door answers a
refusal the same way and the mapping is written once: :func:`error_status` for pages (which word the message
their own way), :func:`api_exception` for the REST API."""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from rest_framework import exceptions


class ServiceError(Exception):
    """A refusal or a failure people can act on. ``status`` is the HTTP status it means; a 400 names the
    request ``field`` it is about (``""``: the request as a whole), or carries ``errors`` by field path."""

    status: int = HTTPStatus.BAD_REQUEST
    field: str = ""


def error_status(exc: BaseException) -> int | None:
    """The HTTP status a service's exception means; None for anything else (a bug, left to be a 500)."""
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, PermissionDenied):
        return HTTPStatus.FORBIDDEN
    return None


def _field(prefix: str, path: str) -> str:
    if prefix and path:
        return f"{prefix}.{path}"
    return prefix or path or "non_field_errors"


def api_exception(exc: BaseException, *, values_field: str = "") -> exceptions.APIException | None:
    """The DRF answer to a service's exception (None: not one). Field errors become a 400 naming each field
    (under ``values_field`` for the paths of a values object), a failed step a 503 saying nothing was changed."""
    code = error_status(exc)
    if code is None:
        return None
    if code == HTTPStatus.BAD_REQUEST:
        field = getattr(exc, "field", "")
        if field:  # a field of the request itself, not a path in its values
            return exceptions.ValidationError({field: [str(exc)]})
        errors = getattr(exc, "errors", None)
        if not isinstance(errors, dict):
            errors = {"": [str(exc)]}
        return exceptions.ValidationError({_field(values_field, path): messages for path, messages in errors.items()})
    if code == HTTPStatus.FORBIDDEN:
        return exceptions.PermissionDenied(str(exc))
    answer = exceptions.APIException(f"{exc}; nothing was changed" if code >= 500 else str(exc))
    answer.status_code = code
    return answer
