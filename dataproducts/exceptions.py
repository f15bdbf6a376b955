"""What the Builder's services raise; views, the API and commands turn each into the matching answer."""

from __future__ import annotations


class ValuesInvalid(Exception):
    """The form values do not satisfy the template (HTTP 400). ``errors`` maps a field path (``name``,
    ``columns[1].dataType``; ``""`` for the form as a whole) to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path or 'values'}: {m}" for path, ms in errors.items() for m in ms))


class DataProductConflict(Exception):
    """The data product (or component) already exists or is being created (HTTP 409)."""


class TemplateError(Exception):
    """The template itself is unusable: it renders invalid YAML, declares ``_extensions``… (HTTP 400)."""


class CreationFailed(Exception):
    """A step after validation failed (repository, commit, location, processing); everything made so far
    was undone (HTTP 503). ``step`` names the step."""

    def __init__(self, step: str, message: str):
        self.step = step
        super().__init__(f"{step}: {message}")


class StaleEdit(Exception):
    """The file changed in Git since the edit form was opened (HTTP 409)."""
