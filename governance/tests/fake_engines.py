"""An engine for governance's own tests, registered beside the real ones through ``settings.GOVERNANCE_ENGINES``:
its body names the outcome, and it counts its calls."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings

from core.problems import Problem, Severity
from governance.engines import Outcome, Result


class ScriptedEngine:
    """The body is the outcome: ``pass``, ``fail``, ``warn``, ``error`` or ``boom`` (the engine raises)."""

    name: ClassVar[str] = "scripted"
    label: ClassVar[str] = "Scripted (test)"
    calls: ClassVar[list] = []

    def check(self, body: str) -> list[Problem]:
        if body.strip() not in {"pass", "fail", "warn", "error", "boom"}:
            return [Problem("body", "line 1 column 1: expected pass, fail, warn, error or boom")]
        return []

    def evaluate(self, body: str, resource: dict, previous: dict | None = None, *, context=None) -> Result:
        type(self).calls.append((body, context, previous))
        body = body.strip()
        if body == "boom":
            raise RuntimeError("kaboom")
        if body == "error":
            return Result.failed("could not judge")
        if body == "fail":
            return Result.of([Problem("id", f"{context['id']} failed")])
        if body == "warn":
            return Result.of([Problem("id", "a warning", severity=Severity.WARNING)])
        return Result(Outcome.PASS)


# the real engines, and the scripted one beside them
ENGINES = [*settings.GOVERNANCE_ENGINES, f"{__name__}.ScriptedEngine"]
