"""Engines for governance's own tests, registered through ``settings.GOVERNANCE_ENGINES`` (the real engines live
in ``governance.engines`` and have tests of their own): a JSON Schema engine good enough to judge descriptors, and
an engine whose body names the outcome, counting its calls."""

from __future__ import annotations

import json
from typing import ClassVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.problems import Problem, Severity
from governance.engines import Outcome, Result


class SchemaEngine:
    name: ClassVar[str] = "jsonschema"
    label: ClassVar[str] = "JSON Schema (test)"

    def check(self, body: str) -> list[Problem]:
        try:
            schema = json.loads(body)
        except json.JSONDecodeError as exc:
            return [Problem("body", f"line {exc.lineno} column {exc.colno}: {exc.msg}")]
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            return [Problem("body", f"not a JSON Schema: {exc.message}")]
        return []

    def evaluate(self, body: str, resource: dict, previous: dict | None = None, *, context=None) -> Result:
        validator = Draft202012Validator(json.loads(body))
        return Result.of(
            [
                Problem(".".join(str(part) for part in error.absolute_path), error.message)
                for error in validator.iter_errors(resource)
            ]
        )


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


class AcceptingEngine:
    """Stands for an engine whose module is not under test here: any body passes its check, every resource passes."""

    name: ClassVar[str] = "accepting"
    label: ClassVar[str] = "Accepting (test)"

    def check(self, body: str) -> list[Problem]:
        return []

    def evaluate(self, body: str, resource: dict, previous: dict | None = None, *, context=None) -> Result:
        return Result(Outcome.PASS)


class RegoStandIn(AcceptingEngine):
    name: ClassVar[str] = "rego"


class BreakingChangeStandIn(AcceptingEngine):
    name: ClassVar[str] = "breaking_change"


ENGINES = [
    f"{__name__}.{engine}" for engine in ("SchemaEngine", "ScriptedEngine", "RegoStandIn", "BreakingChangeStandIn")
]
