"""The ``jsonschema`` engine: a policy is a JSON Schema (Draft 2020-12, written as YAML or JSON) that the resource
must satisfy, formats included; each violation is a finding at the path of the value at fault
(``components[0].dataContract.schema``)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from datetime import datetime

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.exceptions import ValidationError as Violation
from referencing import Registry

from core import yaml as core_yaml
from core.problems import SCHEMA_TYPE_NAMES, Problem, Severity, join_path, show, type_name
from governance.engines import BatchEngine, Item, Result

__all__ = ["JsonSchemaEngine"]

CODE = "jsonschema"
# A schema that matches nothing would otherwise list every value of a large descriptor.
MAX_FINDINGS = 100
MAX_MESSAGE_CHARS = 300
DRAFT_URIS = frozenset(
    {"https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2020-12/schema#"}
)


class BodyError(ValueError):
    """The body is not a JSON Schema this engine can use; the message says where and why."""


class JsonSchemaEngine(BatchEngine):
    name = "jsonschema"
    label = "JSON Schema"

    def check(self, body: str) -> list[Problem]:
        try:
            validator_for(body)
        except BodyError as exc:
            return [Problem("body", str(exc), code=CODE)]
        except Exception as exc:  # a body must never break the form that saves it
            return [Problem("body", f"the schema could not be read: {exc}", code=CODE)]
        return []

    def evaluate_many(self, body: str, items: list[Item]) -> list[Result]:
        try:
            validator = validator_for(body)
        except Exception as exc:  # a body saved before a rule changed still answers
            return [Result.failed(f"the policy's schema cannot be used: {exc}")] * len(items)
        return [_evaluate(validator, resource) for resource, _previous, _context in items]


def _evaluate(validator: Draft202012Validator, resource: object) -> Result:
    try:
        errors = sorted(validator.iter_errors(resource), key=lambda error: _path_key(error.absolute_path))
    except Exception as exc:  # an unresolvable $ref, a recursion too deep
        return Result.failed(f"the schema could not be applied: {type(exc).__name__}: {_shorten(str(exc))}")
    findings = [_finding(error) for error in errors[:MAX_FINDINGS]]
    if len(errors) > MAX_FINDINGS:
        findings.append(Problem("", f"and {len(errors) - MAX_FINDINGS} more violations", code=CODE))
    return Result.of(findings)


@functools.lru_cache(maxsize=64)
def validator_for(body: str) -> Draft202012Validator:
    """The validator of a body, checked (the gate and the bench ask for the same bodies again and again)."""
    schema = _document(body)
    if not isinstance(schema, dict | bool):
        raise BodyError(f"a JSON Schema is an object (or true or false), not {type_name(schema)}")
    if isinstance(schema, dict) and "$schema" in schema and schema["$schema"] not in DRAFT_URIS:
        raise BodyError(
            f"$schema is {show(schema['$schema'])}: this engine checks Draft 2020-12; remove $schema or set it to"
            " https://json-schema.org/draft/2020-12/schema"
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        # "not valid under any of the given schemas" says little: the closest alternative says what was expected
        error = best_match(exc.context) if exc.context else exc
        where = _path(error.absolute_path) or "its root"
        raise BodyError(f"not a valid JSON Schema at {where}: {_shorten(error.message)}") from None
    _local_refs_only(schema, [])
    # an empty registry: a reference is resolved inside the body or not at all. Without one, the jsonschema
    # library fetches any other $ref over the network (or from file://), past GOVERNANCE_REMOTE_ALLOWED_HOSTS
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER, registry=Registry())


REFERENCE_KEYWORDS = ("$ref", "$dynamicRef")


def _local_refs_only(node: object, path: list) -> None:
    """Refuse a reference to anything outside the body (``#/$defs/x`` is fine; a URL or a file is not)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in REFERENCE_KEYWORDS and isinstance(value, str) and not value.startswith("#"):
                where = _path([*path, key])
                raise BodyError(
                    f"{where}: {show(value)} points outside the policy; only references inside it (#/...) are"
                    " allowed, the engine fetches nothing"
                )
            _local_refs_only(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _local_refs_only(value, [*path, index])


def _document(body: str) -> object:
    if not isinstance(body, str):
        raise BodyError(f"the body must be text, not {type(body).__name__}")
    if not body.strip():
        raise BodyError("the body is empty: write a JSON Schema, as YAML or JSON")
    json_error = None
    if body.lstrip().startswith(("{", "[")):
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:  # YAML's flow style starts the same way: try it before refusing
            json_error = exc
    try:
        return core_yaml.load(body, source="body")
    except core_yaml.YamlError as exc:
        if json_error is not None:
            raise BodyError(
                f"line {json_error.lineno}, column {json_error.colno}: not valid JSON: {json_error.msg}"
            ) from None
        where = f"line {exc.line}, column {exc.column}: " if exc.line is not None else ""
        raise BodyError(f"{where}not valid YAML: {exc.problem}") from None


# --- findings -------------------------------------------------------------------------------------------------


def _finding(error: Violation) -> Problem:
    path = _path(error.absolute_path)
    return Problem(path, _message(error, path), severity=Severity.ERROR, code=CODE)


def _message(error: Violation, path: str) -> str:
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(SCHEMA_TYPE_NAMES.get(name, str(name)) for name in expected)
        return f"must be {names}, not {type_name(error.instance)}"
    if error.validator == "enum" and isinstance(error.validator_value, list):
        expected = ", ".join(show(value) for value in error.validator_value)
        return f"{show(error.instance)} is not allowed; expected one of {expected}"
    if error.validator == "const":
        return f"{show(error.instance)} is not allowed; expected {show(error.validator_value)}"
    if error.validator == "format":
        return f"{show(error.instance)} is not a valid {error.validator_value}"
    return _shorten(error.message)


def _path(parts: Iterable[object]) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else join_path(path, str(part))
    return path


def _path_key(parts: Iterable[object]) -> tuple:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in parts)


def _shorten(text: str) -> str:
    """jsonschema quotes whole values in its messages: a descriptor is kept to its first characters."""
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


# --- formats --------------------------------------------------------------------------------------------------
# The library checks email, ipv4, ipv6, uuid, date, regex and idn-hostname itself; date-time, time and uri need
# optional packages that are not installed, so they are checked here (RFC 3339 and RFC 3986).

FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)

_TIME = r"(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))"
_DATE_TIME_RE = re.compile(rf"(\d{{4}})-(\d{{2}})-(\d{{2}})[Tt ]{_TIME}")
_TIME_RE = re.compile(_TIME)
_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*")


def _valid_time(hour: str, minute: str, second: str, offset_hour: str | None, offset_minute: str | None) -> bool:
    offset_ok = offset_hour is None or (int(offset_hour) <= 23 and int(offset_minute) <= 59)
    return int(hour) <= 23 and int(minute) <= 59 and int(second) <= 60 and offset_ok  # 60: a leap second


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    match = _DATE_TIME_RE.fullmatch(instance)
    if match is None:
        return False
    year, month, day, *time = match.groups()
    datetime(int(year), int(month), int(day))  # raises ValueError for 2024-02-30
    return _valid_time(*time)


@FORMAT_CHECKER.checks("time", raises=ValueError)
def _is_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    match = _TIME_RE.fullmatch(instance)
    return match is not None and _valid_time(*match.groups())


@FORMAT_CHECKER.checks("uri")
def _is_uri(instance: object) -> bool:
    return not isinstance(instance, str) or _URI_RE.fullmatch(instance) is not None
