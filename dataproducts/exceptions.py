"""What the Builder's services raise, each with the HTTP status it means (``core.errors`` maps them for pages
and the API; commands say them as they are)."""

from __future__ import annotations

from http import HTTPStatus

from core.errors import ServiceError
from dataproducts.gitops.provider import redact_paths


class ValuesInvalid(ServiceError):
    """The form values do not satisfy the template (HTTP 400). ``errors`` maps a field path (``name``,
    ``columns[1].dataType``; ``""`` for the form as a whole) to its messages."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path or 'values'}: {m}" for path, ms in errors.items() for m in ms))


class DataProductConflict(ServiceError):
    """The data product (or component) already exists or is being created (HTTP 409)."""

    status = HTTPStatus.CONFLICT


class TemplateError(ServiceError):
    """The template itself is unusable: it renders invalid YAML, declares ``_extensions``… (HTTP 400). People read
    the message: the server's paths (of a template read from a folder of the server) are left out."""

    status = HTTPStatus.BAD_REQUEST
    field = "template"

    def __init__(self, message: str):
        super().__init__(redact_paths(message))


class CreationFailed(ServiceError):
    """A step after validation failed (repository, commit, location, processing); everything made so far
    was undone (HTTP 503). ``step`` names the step. People read the message: the server's paths are left out."""

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, step: str, message: str):
        self.step = step
        super().__init__(f"{step}: {redact_paths(message)}")


class StaleEdit(ServiceError):
    """The file changed in Git since the edit form was opened (HTTP 409)."""

    status = HTTPStatus.CONFLICT
