"""Policy engines behind one registry (PRODUCT §5): each engine is a module with one class that checks a policy's
body when it is saved and evaluates it against a resource. The set is pluggable: ``GOVERNANCE_ENGINES`` lists the
classes by dotted path, and a platform may add its own.

The interface every engine implements (:class:`Engine`):

- ``check(body) -> list[Problem]``: the body's problems at save time, each with ``path="body"`` and a message that
  names the line and column where the engine gives one. An empty list: the body may be saved.
- ``evaluate(body, resource, previous, *, context) -> Result``: the policy against one resource (the descriptor of
  a data product in an environment, or ``{dataProduct, component}`` for a component policy), with the previous
  stable release's descriptor when there is one. ``context`` says what the resource is, ``{"id": <data product or
  component id>, "kind": "dataproduct" | <component kind>, "environment": <environment>}`` (or None): the remote
  engine sends it, the others ignore it. Never raises for what the policy or the resource contain: an engine that
  cannot judge (a timeout, a body that no longer compiles, an unreachable server) answers ``ERROR`` with the
  reason, never ``PASS``.
- ``evaluate_many(body, items) -> list[Result]``: ``evaluate`` for each ``(resource, previous, context)`` of
  ``items``, in order, compiling the body (or starting a process, or a connection) once for all of them: the test
  bench runs a policy against every data product."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar, Protocol

from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string

from core.problems import Problem, Severity

__all__ = [
    "BatchEngine",
    "Engine",
    "Item",
    "Outcome",
    "Result",
    "UnknownEngine",
    "engine_choices",
    "engine_get",
    "engines",
]


class Outcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    ERROR = "error", "Error"


@dataclass(frozen=True, slots=True)
class Result:
    """What one evaluation found: the outcome and the findings (``Problem`` with the path in the resource at fault,
    the message, and the severity the engine gives it: a conftest ``warn`` is a warning, ``deny`` an error)."""

    outcome: Outcome
    findings: tuple[Problem, ...] = field(default=())

    @classmethod
    def of(cls, findings: list[Problem] | tuple[Problem, ...]) -> Result:
        """PASS unless a finding is an error."""
        findings = tuple(findings)
        return cls(Outcome.FAIL if any(f.severity == Severity.ERROR for f in findings) else Outcome.PASS, findings)

    @classmethod
    def failed(cls, reason: str, *, path: str = "") -> Result:
        """The engine could not judge: ``ERROR`` with the reason."""
        return cls(Outcome.ERROR, (Problem(path=path, message=reason, code="engine"),))

    @property
    def messages(self) -> list[str]:
        return [str(finding) for finding in self.findings]


# One resource to evaluate: (resource, previous, context), as ``evaluate`` takes them.
Item = tuple[dict, dict | None, dict | None]


class Engine(Protocol):
    name: ClassVar[str]
    label: ClassVar[str]

    def check(self, body: str) -> list[Problem]: ...

    def evaluate(
        self, body: str, resource: dict, previous: dict | None = None, *, context: dict | None = None
    ) -> Result: ...

    def evaluate_many(self, body: str, items: list[Item]) -> list[Result]: ...


class BatchEngine:
    """For an engine whose work is ``evaluate_many`` (it compiles or starts once for many resources): ``evaluate`` is
    a batch of one."""

    def evaluate(
        self, body: str, resource: dict, previous: dict | None = None, *, context: dict | None = None
    ) -> Result:
        return self.evaluate_many(body, [(resource, previous, context)])[0]


class UnknownEngine(LookupError):
    pass


def engines() -> dict[str, Engine]:
    """The registered engines by name, in the order of ``GOVERNANCE_ENGINES`` (imported once per setting)."""
    return _engines(tuple(settings.GOVERNANCE_ENGINES))


@cache
def _engines(paths: tuple[str, ...]) -> dict[str, Engine]:
    found: dict[str, Engine] = {}
    for path in paths:
        engine = import_string(path)()
        found[engine.name] = engine
    return found


def engine_get(name: str) -> Engine:
    try:
        return engines()[name]
    except KeyError:
        raise UnknownEngine(f"{name!r} is not an engine; known: {', '.join(engines())}") from None


def engine_choices() -> list[tuple[str, str]]:
    return [(name, engine.label) for name, engine in engines().items()]
