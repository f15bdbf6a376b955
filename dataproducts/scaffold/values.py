"""``values_validate``: the one server-side check of the values given to a template's form, which the wizard, the
API and the ``create_dataproduct`` command share (JSON Schema per step, picker membership, text that can be
stored), with ``errors_first_step`` for the wizard to open the step at fault."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from jsonschema.exceptions import SchemaError

from core.text import invisible_problem
from dataproducts.exceptions import TemplateError
from dataproducts.scaffold import pickers
from dataproducts.scaffold.parameters import (
    COMPONENTS,
    DOMAIN,
    OBJECT,
    OWNER,
    PICKERS,
    Param,
    Step,
    Validator,
    steps_parse,
)
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.scaffold.wording import error_message, listed, shown

__all__ = ["errors_first_step", "path_root", "step_errors", "values_validate"]


def _path_text(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _schema_errors(step: Step, values: dict) -> Iterator[tuple[str, str]]:
    try:
        validator = Validator(step.schema)
        errors = list(validator.iter_errors(values))
    except SchemaError as exc:  # pragma: no cover - parameters_problems admits valid schemas only
        raise TemplateError(f"the template's form is not a valid JSON Schema: {exc.message}") from exc
    for error in errors:
        parts = list(error.absolute_path)
        rule = _rule_of(step.schema, list(error.absolute_schema_path))
        if rule is not None:
            yield from _rule_errors(rule, values, parts, error)
        elif error.validator == "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    yield _path_text([*parts, name]), "is required"
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties") or {}
            for key in error.instance:
                if key not in known:
                    yield _path_text([*parts, str(key)]), "is not a field here"
        else:
            yield _path_text(parts), error_message(error)


def _rule_of(schema: dict, schema_path: list) -> tuple[dict, str] | None:
    """The ``allOf`` entry (and ``"then"`` or ``"else"``) of a table's row rule that an error comes from."""
    for index, part in enumerate(schema_path):
        if part == "allOf" and index + 2 < len(schema_path) and schema_path[index + 2] in ("then", "else"):
            node: object = schema
            for step in schema_path[: index + 2]:
                node = node[step] if isinstance(node, dict | list) else None
            return (node, schema_path[index + 2]) if isinstance(node, dict) else None
    return None


def _rule_errors(rule: tuple[dict, str], values: dict, parts: list, error) -> Iterator[tuple[str, str]]:
    """A row rule's error in words: which value of the watched column asked for (or against) which cell."""
    entry, branch = rule
    column, test = next(iter(entry["if"]["properties"].items()))
    row: object = values
    for part in parts:
        row = row[part] if isinstance(row, dict | list) else None
    if not isinstance(row, dict):  # a false schema's error points at the cell; its row is one step up
        row, parts = _lookup_parts(values, parts[:-1]), parts[:-1]
    if not isinstance(row, dict):
        yield _path_text(parts), error.message
        return
    if branch == "then":
        for name in entry["then"]["required"]:
            if name not in row:
                yield _path_text([*parts, name]), f"required for {row.get(column)}"
        return
    for name in entry["else"]["properties"]:
        if name in row:
            message = f"only applies to {listed(test['enum'])}"
            yield (
                _path_text([*parts, name]),
                f"{message}; leave it empty for {row[column]}" if row.get(column) else message,
            )


def _lookup_parts(values: object, parts: list) -> object:
    for part in parts:
        values = values[part] if isinstance(values, dict | list) else None
    return values


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problems(value: object, parts: list) -> Iterator[tuple[str, str]]:
    # PostgreSQL text cannot hold NUL, and no YAML a person writes does; a lone surrogate (JSON "\ud800") is not
    # Unicode text at all and cannot be stored or written to Git. Both are value problems of their field.
    if isinstance(value, str):
        if "\x00" in value:
            yield _path_text(parts), "must not contain NUL characters"
        if surrogate := _SURROGATE.search(value):
            code = ord(surrogate.group())
            yield _path_text(parts), f"must not contain surrogate characters (U+{code:04X} is not valid Unicode text)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _text_problems(item, [*parts, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _text_problems(item, [*parts, index])


def _printable(path: str) -> str:
    """A field path as text that can be shown and encoded, even when a key holds a lone surrogate."""
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


def _lookup(values: dict, path: str) -> object:
    node: object = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _picker_errors(step: Step, values: dict, context: PickerContext, failed: set[str]) -> Iterator[tuple[str, str]]:
    params = [child for param in step.params for child in (param.children if param.kind == OBJECT else [param])]
    for param in params:
        if param.kind not in PICKERS or param.path in failed:
            continue
        value = _lookup(values, param.path)
        if value is None:
            continue
        if param.kind == COMPONENTS:
            if not isinstance(value, list):
                continue
            options = param.schema.get("ui:options") or {}
            allowed = {
                choice.value for choice in pickers.picker_choices(picker=param.kind, options=options, context=context)
            }
            where = context.data_product.name if context.data_product is not None else "this data product"
            for index, item in enumerate(value):
                if isinstance(item, str) and item not in allowed:
                    yield f"{param.path}[{index}]", f"{shown(item)} is not a component of {where}"
        elif isinstance(value, str):
            if problem := invisible_problem(value):  # a ref that looks like another team's or domain
                yield param.path, problem
                continue
            options = param.schema.get("ui:options") or {}
            if not pickers.picker_contains(picker=param.kind, value=value, options=options, context=context):
                yield param.path, _picker_refusal(param, value, context)


def _picker_refusal(param: Param, value: str, context: PickerContext) -> str:
    if param.kind == OWNER:
        teams = [choice.value for choice in pickers.owner_choices(user=context.user)]
        if not teams:
            return f"{shown(value)} is not one of your teams, and you are in no team that may own data products"
        return f"must be one of: {listed(teams)}"
    if param.kind == DOMAIN:
        return f"{shown(value)} is not a domain in the catalog (write domain:<name>)"
    kinds = (param.schema.get("ui:options") or {}).get("allowedKinds") or []
    return f"{shown(value)} is not a {' or '.join(kind.lower() for kind in kinds)} in the catalog (write kind:name)"


def step_errors(step: Step, values: dict, context: PickerContext) -> dict[str, list[str]]:
    """The errors of one step's values (``values_validate``'s shape), in the order of the step's fields."""
    own = {name: values[name] for name in step.names if name in values}
    found: list[tuple[str, str]] = list(_schema_errors(step, own))
    found += list(_text_problems(own, []))
    failed = {path for path, _ in found}
    found += list(_picker_errors(step, own, context, failed))
    order = {name: index for index, name in enumerate(step.names)}
    errors: dict[str, list[str]] = {}
    for path, message in sorted(found, key=lambda item: (order.get(path_root(item[0]), -1), _natural(item[0]))):
        messages = errors.setdefault(path, [])
        if message not in messages:
            messages.append(message)
    return errors


def _natural(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def path_root(path: str) -> str:
    """The parameter a field path starts in: ``columns`` for ``columns[1].dataType``."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def values_validate(
    parameters: list, values: object, *, context: PickerContext, steps: slice | None = None
) -> dict[str, list[str]]:
    """Check ``values`` (one flat dict keyed by parameter name, all steps merged) against the template's
    parameters: JSON Schema (Draft 2020-12) per step, picker membership, strings at most MAX_STRING_LENGTH
    characters unless the schema sets maxLength, and no keys the template does not declare. ``steps`` limits
    the check to some steps (the wizard's Next); unknown keys are refused whatever the slice.

    Returns ``{field path: [messages]}`` (``name``, ``columns[1].dataType``, ``""`` for the values as a whole),
    empty when the values are valid. Raises ``TemplateError`` when the parameters themselves are unsupported."""
    all_steps = steps_parse(parameters)
    if not isinstance(values, dict):
        return {"": [f"must be an object of parameter values, not {type(values).__name__}"]}
    errors: dict[str, list[str]] = {}
    declared = {name for step in all_steps for name in step.names}
    for key in values:
        if key not in declared:
            errors[str(key)] = ["is not a parameter of this template"]
    for step in all_steps[steps] if steps is not None else all_steps:
        errors |= step_errors(step, values, context)
    return {_printable(path): messages for path, messages in errors.items()}


def errors_first_step(*, parameters: list, errors: dict[str, list[str]]) -> int:
    """The index of the first step holding a field named in ``errors`` (0 for form-wide errors)."""
    steps = steps_parse(parameters)
    roots = {path_root(path) for path in errors}
    for index, step in enumerate(steps):
        if roots & set(step.names):
            return index
    return 0
