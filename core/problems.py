"""What a validator reports, one shape for every app: a :class:`Problem` (where, what, how bad, which rule family)
and :class:`Problems`, the collector validators add to.

Why one shape: governance (PRODUCT §5) runs validators as checks, and a check needs more than a sentence. It
needs the field at fault (to show it beside the field), a severity (an ``error`` blocks a deployment, a
``warning`` does not, and a policy in ``grace`` reports its errors as warnings) and a code naming the family of
rule that failed (``schema``, ``ref``, ``cycle``, ``adapter``…) so results can be filtered, counted and stored.
Validators used to return bare ``"path: message"`` strings; they now collect Problems, and their string-returning
functions are thin wrappers over :meth:`Problems.messages`, so every page, command and API keeps its words.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import models

__all__ = ["SCHEMA_TYPE_NAMES", "Problem", "Problems", "Severity", "join_path", "messages", "show", "type_name"]

_PLAIN_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Severity(models.TextChoices):
    """How much a problem weighs. ``error`` and ``warning`` are governance's two levels (PRODUCT §5: an error
    blocks deployment, a warning does not); ``info`` is a finding that asks for nothing."""

    ERROR = "error", "Error"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a document: ``path`` is the field at fault from the document's root (such as
    ``components[2].dependsOn[0]``), ``message`` what is wrong with it in words, ``code`` the rule family.

    ``source`` (the file the document comes from) is set by the catalog, whose messages have always read as
    ``"{source}: {path} {message}"`` (``catalog-info.yaml: metadata.name is required``); without a source (None) a
    problem reads ``"{path}: {message}"``. ``str()`` gives that text, the one validators returned before."""

    path: str
    message: str
    severity: Severity = Severity.ERROR
    code: str = ""
    source: str | None = None

    def __str__(self) -> str:
        if self.source is not None:
            return f"{self.source}: {self.path} {self.message}"
        return f"{self.path}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def with_severity(self, severity: Severity) -> Problem:
        """The same problem at another severity (a policy in grace turns its errors into warnings)."""
        return dataclasses.replace(self, severity=severity)


class Problems:
    """An ordered collector of :class:`Problem`: validators ``add`` as they walk a document, callers read the
    problems back (iteration, ``len``, truth) or their texts (:meth:`messages`), in the order they were found.

    ``source`` is stamped on every problem added; ``code`` is the rule family of problems added without one.
    :meth:`coded` gives a view that adds to the same list under another family, so a helper checking one family
    of rules needs no ``code=`` on each line."""

    __slots__ = ("_items", "code", "source")

    def __init__(self, *, source: str | None = None, code: str = "", _items: list[Problem] | None = None) -> None:
        self.source = source
        self.code = code
        self._items: list[Problem] = [] if _items is None else _items

    def add(self, path: str, message: str, *, severity: Severity = Severity.ERROR, code: str | None = None) -> Problem:
        problem = Problem(
            path=path,
            message=message,
            severity=severity,
            code=self.code if code is None else code,
            source=self.source,
        )
        self._items.append(problem)
        return problem

    def extend(self, problems: Iterable[Problem]) -> None:
        """Add problems found elsewhere, as they are (their own source, severity and code)."""
        self._items.extend(problems)

    def coded(self, code: str) -> Problems:
        """A view of this collector whose ``add`` defaults to ``code``; both see the same problems."""
        return Problems(source=self.source, code=code, _items=self._items)

    def messages(self) -> list[str]:
        """The problems as text, ``str()`` of each, in order: what validators returned before Problems."""
        return [str(problem) for problem in self._items]

    def errors(self) -> list[Problem]:
        return [problem for problem in self._items if problem.severity == Severity.ERROR]

    def warnings(self) -> list[Problem]:
        return [problem for problem in self._items if problem.severity == Severity.WARNING]

    def __iter__(self) -> Iterator[Problem]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __repr__(self) -> str:
        return f"Problems({self._items!r})"


def messages(problems: Iterable[Problem]) -> list[str]:
    """The texts of any iterable of problems (a list a ``*_problems`` function returned, say)."""
    return [str(problem) for problem in problems]


# --- how problems name places and values (shared by every validator's messages) ---------------------------------


def join_path(base: str, key: str) -> str:
    """A field path: ``base.key``, or ``base["key"]`` when the key is not a plain identifier."""
    if _PLAIN_KEY_RE.fullmatch(key):
        return f"{base}.{key}" if base else key
    return f"{base}[{show(key)}]"


def show(value: object) -> str:
    """A scalar as messages show it: JSON, so quotes and newlines are visible, long strings shortened."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 100 else value[:100] + "…", ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return type_name(value)


# JSON Schema's type names as messages say them (the words of :func:`type_name`, and "a whole number")
SCHEMA_TYPE_NAMES = {
    "string": "a string",
    "object": "an object",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
