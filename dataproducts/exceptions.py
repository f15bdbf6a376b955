"""What the Builder's services raise; views, the API and commands turn each into the matching answer."""

from __future__ import annotations

from dataproducts.gitops.provider import redact_paths


class ValuesInvalid(Exception):
    """The form values do not satisfy the template (HTTP 400). ``errors`` maps a field path (``name``,
    ``columns[1].dataType``; ``""`` for the form as a whole) to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path or 'values'}: {m}" for path, ms in errors.items() for m in ms))


class DataProductConflict(Exception):
    """The data product (or component) already exists or is being created (HTTP 409)."""


class TemplateError(Exception):
    """The template itself is unusable: it renders invalid YAML, declares ``_extensions``… (HTTP 400). People read
    the message: the server's paths (of a template read from a folder of the server) are left out."""

    def __init__(self, message: str):
        super().__init__(redact_paths(message))


class CreationFailed(Exception):
    """A step after validation failed (repository, commit, location, processing); everything made so far
    was undone (HTTP 503). ``step`` names the step. People read the message: the server's paths are left out."""

    def __init__(self, step: str, message: str):
        self.step = step
        super().__init__(f"{step}: {redact_paths(message)}")


class StaleEdit(Exception):
    """The file changed in Git since the edit form was opened (HTTP 409)."""
