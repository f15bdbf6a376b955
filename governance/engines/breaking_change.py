"""The ``breaking_change`` engine: the resource against the previous stable release of the same major, each
breaking difference (:func:`dataproducts.descriptor.changes.breaking_changes`: an output port removed or retyped, a
column removed, renamed or retyped, a contract narrowed) a finding at its path. Nothing to compare, no finding.

The body holds options, as YAML, and may be empty: ``ignore``, a list of paths whose breaking changes (at the path
or under it) are accepted, such as ``components[2]`` for a port being retired on purpose."""

from __future__ import annotations

from core import yaml as core_yaml
from core.problems import Problem, Severity
from dataproducts.descriptor.changes import breaking_changes
from governance.engines import Item, Result

__all__ = ["BreakingChangeEngine"]

CODE = "breaking_change"
OPTIONS = ("ignore",)


class OptionsError(ValueError):
    pass


class BreakingChangeEngine:
    name = "breaking_change"
    label = "Breaking change"

    def check(self, body: str) -> list[Problem]:
        try:
            _options(body)
        except OptionsError as exc:
            return [Problem("body", str(exc), code=CODE)]
        except Exception as exc:  # a body must never break the form that saves it
            return [Problem("body", f"the options could not be read: {exc}", code=CODE)]
        return []

    def evaluate(
        self, body: str, resource: dict, previous: dict | None = None, *, context: dict | None = None
    ) -> Result:
        try:
            ignored = _options(body)
            return _evaluate(resource, previous, ignored)
        except Exception as exc:  # never a pass, never an exception
            return Result.failed(f"the descriptors could not be compared: {exc}")

    def evaluate_many(self, body: str, items: list[Item]) -> list[Result]:
        return [self.evaluate(body, resource, previous, context=context) for resource, previous, context in items]


def _evaluate(resource: object, previous: object, ignored: list[str]) -> Result:
    if previous is None:
        return Result.of([])
    prefix = ""
    if _is_component_resource(resource):  # a component policy: the data products of both are compared
        resource, prefix = resource["dataProduct"], "dataProduct."
        if _is_component_resource(previous):
            previous = previous["dataProduct"]
    if not isinstance(resource, dict) or not isinstance(previous, dict):
        return Result.failed("a descriptor to compare is not a mapping")
    return Result.of(
        [
            Problem(prefix + change.path, change.message, severity=Severity.ERROR, code=CODE)
            for change in breaking_changes(previous, resource)
            if not any(_under(change.path, path) for path in ignored)
        ]
    )


def _is_component_resource(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("dataProduct"), dict) and "component" in value


def _under(path: str, ignored: str) -> bool:
    return path == ignored or path.startswith((f"{ignored}.", f"{ignored}["))


def _options(body: str) -> list[str]:
    """The ignored paths of a body; OptionsError says what is wrong with it."""
    if not isinstance(body, str):
        raise OptionsError(f"the body must be text, not {type(body).__name__}")
    if not body.strip():
        return []
    try:
        options = core_yaml.load(body, source="body")
    except core_yaml.YamlError as exc:
        where = f"line {exc.line}, column {exc.column}: " if exc.line is not None else ""
        raise OptionsError(f"{where}not valid YAML: {exc.problem}") from None
    if options is None:
        return []
    if not isinstance(options, dict):
        raise OptionsError("the options are a mapping (ignore: [paths]), or nothing")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise OptionsError(f"unknown option {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    ignored = options.get("ignore") or []
    if not isinstance(ignored, list) or not all(isinstance(path, str) and path.strip() for path in ignored):
        raise OptionsError("ignore is a list of descriptor paths, such as components[2]")
    return [path.strip() for path in ignored]
