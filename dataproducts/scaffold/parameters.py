"""What a template's ``spec.parameters`` may say (PRODUCT §4.1): the JSON Schema Meshforge can turn into a form
and check, parsed into :class:`Step` and :class:`Param`, and ``parameters_check``, the one check of it that the
forms, the values' check and the template check (``scaffold.checks``) share.

Supported per parameter: ``string`` (pattern, minLength, maxLength, enum, ``ui:widget`` textarea|password),
``number`` and ``integer`` (minimum, maximum, exclusiveMinimum/Maximum, multipleOf, enum), ``boolean``, ``array``
of strings (free lines, or checkboxes with ``items.enum``), ``array`` of objects of scalars (an editable table),
``object`` of scalars (flattened to ``parent.child`` inputs) and the pickers of ``ui:field`` (EntityPicker,
OwnerPicker, DomainPicker, ComponentPicker). Anything else is a template problem, never a silently dropped rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError as SchemaValidationError

from core.problems import Problem, Problems
from core.yaml import YamlError, load
from dataproducts.exceptions import TemplateError
from dataproducts.scaffold.wording import error_message, shown

__all__ = [
    "MAX_ITEMS",
    "MAX_STRING_LENGTH",
    "TEMPLATE_CODE",
    "Declaration",
    "Param",
    "ParsedParameters",
    "RowRule",
    "Step",
    "Validator",
    "parameters_check",
    "parameters_parse",
    "parameters_problems",
    "steps_parse",
    "template_parameters",
]

# The rule family (Problem.code) of every problem of a template's document: what a template may declare.
TEMPLATE_CODE = "template"

# Long enough for any description, short enough that one value cannot fill a commit (PRODUCT §11).
MAX_STRING_LENGTH = 10_000
# The most rows a list or table may have unless its schema says otherwise; also bounds the rows a tampered
# "<table>-rows" count can make the server build.
MAX_ITEMS = 1_000

_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
_TYPES = ("string", "number", "integer", "boolean", "array", "object")
_UI_KEYS = frozenset({"ui:help", "ui:widget", "ui:field", "ui:options", "ui:placeholder"})


def _ecma_pattern(pattern: str) -> str:
    """JSON Schema patterns are ECMA 262 regular expressions, where ``$`` matches only at the very end; Python's
    ``$`` also matches before a final newline, so ``"day\\n"`` would pass ``^[a-z]+$``. Outside character
    classes, ``$`` becomes ``\\Z``."""
    out, index, in_class = [], 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        index += 1
    return "".join(out)


def _pattern(validator, pattern: str, instance: object, schema: dict):
    if validator.is_type(instance, "string") and not re.search(_ecma_pattern(pattern), instance):
        yield SchemaValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 2020-12 with ECMA 262 end-of-string semantics for ``pattern``
Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


_ANNOTATIONS = frozenset({"type", "title", "description", "default", "ui:help", "ui:placeholder"})
_KEYWORDS = {
    "string": _ANNOTATIONS | {"pattern", "minLength", "maxLength", "enum", "ui:widget", "ui:field", "ui:options"},
    "number": _ANNOTATIONS | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum"},
    "boolean": _ANNOTATIONS,
    "array": _ANNOTATIONS | {"items", "minItems", "maxItems", "uniqueItems", "ui:field"},
    "object": _ANNOTATIONS | {"properties", "required", "additionalProperties"},
}
_KEYWORDS["integer"] = _KEYWORDS["number"]
_STRING_ITEM_KEYWORDS = frozenset({"type", "title", "description", "pattern", "minLength", "maxLength", "enum"})
_ROW_KEYWORDS = frozenset({"type", "title", "description", "properties", "required", "additionalProperties", "allOf"})
# Table cells and the children of an object are plain inputs: no widgets, pickers or defaults of their own
# (a default in a cell would make every added row look filled in).
_CELL_KEYWORDS = {
    "string": frozenset({"type", "title", "description", "pattern", "minLength", "maxLength", "enum"}),
    "number": frozenset({"type", "title", "description", "minimum", "maximum", "exclusiveMinimum"})
    | {"exclusiveMaximum", "multipleOf", "enum"},
    "boolean": frozenset({"type", "title", "description"}),
}
_CELL_KEYWORDS["integer"] = _CELL_KEYWORDS["number"]
_STEP_KEYS = frozenset({"title", "description", "type", "required", "properties"})
_WIDGETS = ("textarea", "password")
_STRING_PICKERS = ("EntityPicker", "OwnerPicker", "DomainPicker")

# What each parameter becomes in the form.
TEXT, TEXTAREA, PASSWORD, SELECT = "text", "textarea", "password", "select"
NUMBER, INTEGER, BOOLEAN = "number", "integer", "boolean"
LINES, CHECKBOXES, TABLE, OBJECT = "lines", "checkboxes", "table", "object"
ENTITY, OWNER, DOMAIN, COMPONENTS = "EntityPicker", "OwnerPicker", "DomainPicker", "ComponentPicker"
PICKERS = (ENTITY, OWNER, DOMAIN, COMPONENTS)
LIST_KINDS = (LINES, CHECKBOXES, COMPONENTS)


# --- the supported schema ----------------------------------------------------------------------------------


@dataclass
class Param:
    """One parameter (or a child of an object parameter, or a column of a table) as the form sees it."""

    name: str
    path: str  # where its value lives in the values: "name", "contact.email"
    schema: dict
    kind: str
    required: bool
    children: list[Param] = field(default_factory=list)  # an object's properties, a table's columns
    rules: list[RowRule] = field(default_factory=list)  # a table's rules between columns (``items.allOf``)

    @property
    def label(self) -> str:
        title = self.schema.get("title")
        return title if isinstance(title, str) and title else self.name

    @property
    def items(self) -> dict:
        items = self.schema.get("items")
        return items if isinstance(items, dict) else {}

    @property
    def enum(self) -> list:
        source = self.items if self.kind == CHECKBOXES else self.schema
        enum = source.get("enum")
        return enum if isinstance(enum, list) else []


@dataclass(frozen=True)
class RowRule:
    """One ``if``/``then``/``else`` of a table's ``items.allOf``: when column ``column`` holds one of ``values``,
    the columns in ``required`` must be filled; otherwise the columns in ``only`` must stay empty. This is how a
    contract's ``dataLength`` is needed for VARCHAR and meaningless for INT. The form shows and hides those cells
    as the type changes; ``values_validate`` says which value asked for a missing cell."""

    column: str
    values: tuple[str, ...]
    required: tuple[str, ...] = ()
    only: tuple[str, ...] = ()


@dataclass
class Step:
    title: str
    description: str
    params: list[Param]
    schema: dict  # what values_validate checks: the step without ui: keys, with the length caps added

    @property
    def names(self) -> list[str]:
        return [param.name for param in self.params]


def is_number(value: object) -> bool:
    """A finite int or float, not a bool: what a numeric keyword of a schema may hold."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def is_count(value: object) -> bool:
    """A non-negative int, not a bool: what minLength, maxItems and the like may hold."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _unsupported(problems: Problems, path: str, schema: dict, allowed: Iterable[str], what: str) -> None:
    for key in schema:
        if key not in allowed:
            if isinstance(key, str) and key.startswith("ui:") and key not in _UI_KEYS:
                problems.add(f"{path}.{key}", f"is not a supported hint; expected one of {', '.join(sorted(_UI_KEYS))}")
            else:
                problems.add(f"{path}.{key}", f"is not supported for {what}")


def _strings_check(problems: Problems, path: str, schema: dict) -> None:
    for key in ("title", "description", "ui:help", "ui:placeholder"):
        if key in schema and not isinstance(schema[key], str):
            problems.add(f"{path}.{key}", "must be a string")


def _string_rules_check(problems: Problems, path: str, schema: dict) -> None:
    if "pattern" in schema:
        pattern = schema["pattern"]
        if not isinstance(pattern, str):
            problems.add(f"{path}.pattern", "must be a string (a regular expression)")
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.add(f"{path}.pattern", f"is not a valid regular expression: {exc}")
    for key in ("minLength", "maxLength"):
        if key in schema and not is_count(schema[key]):
            problems.add(f"{path}.{key}", "must be a non-negative integer")
    lengths = schema.get("minLength"), schema.get("maxLength")
    if is_count(lengths[0]) and is_count(lengths[1]) and lengths[0] > lengths[1]:
        problems.add(f"{path}.minLength", "is greater than maxLength")
    if "enum" in schema:
        _enum_check(problems, f"{path}.enum", schema["enum"], "string")


def _number_rules_check(problems: Problems, path: str, schema: dict, type_: str) -> None:
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in schema and not is_number(schema[key]):
            problems.add(f"{path}.{key}", "must be a number")
    if "multipleOf" in schema and not (is_number(schema["multipleOf"]) and schema["multipleOf"] > 0):
        problems.add(f"{path}.multipleOf", "must be a number greater than 0")
    bounds = schema.get("minimum"), schema.get("maximum")
    if is_number(bounds[0]) and is_number(bounds[1]) and bounds[0] > bounds[1]:
        problems.add(f"{path}.minimum", "is greater than maximum")
    if "enum" in schema:
        _enum_check(problems, f"{path}.enum", schema["enum"], type_)


def _enum_check(problems: Problems, path: str, enum: object, type_: str) -> None:
    if not isinstance(enum, list) or not enum:
        problems.add(path, "must be a non-empty list")
        return
    expected = {
        "string": lambda value: isinstance(value, str),
        "number": is_number,
        "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    }[type_]
    for index, value in enumerate(enum):
        if not expected(value):
            problems.add(f"{path}[{index}]", f"{shown(value)} is not a {type_}")
    if len({repr(value) for value in enum}) != len(enum):
        problems.add(path, "lists a value twice")


def _required_names(problems: Problems, path: str, required: object, properties: dict) -> set[str]:
    if required is None:
        return set()
    if not isinstance(required, list):
        problems.add(path, "must be a list of property names")
        return set()
    names = set()
    for index, name in enumerate(required):
        if not isinstance(name, str) or name not in properties:
            problems.add(f"{path}[{index}]", f"{shown(name)} is not one of the properties")
        elif name in names:
            problems.add(f"{path}[{index}]", f"{shown(name)} is listed twice")
        else:
            names.add(name)
    return names


def _scalar_kind(problems: Problems, path: str, schema: dict, *, cell: bool) -> str | None:
    """The kind of a string, number, integer or boolean parameter (or table cell / object child)."""
    type_ = schema.get("type")
    if cell:
        _unsupported(problems, path, schema, _CELL_KEYWORDS[type_], f"a {type_} inside a table or object")
    if type_ == "string":
        _string_rules_check(problems, path, schema)
        widget, picker = schema.get("ui:widget"), schema.get("ui:field")
        if "ui:options" in schema and picker != ENTITY:
            problems.add(f"{path}.ui:options", "is only supported with ui:field EntityPicker")
        if picker is not None:
            if picker not in _STRING_PICKERS:
                problems.add(f"{path}.ui:field", f"{shown(picker)} is not a picker for a string")
                return None
            if "enum" in schema or widget is not None:
                problems.add(f"{path}.ui:field", "cannot be combined with enum or ui:widget")
            if picker == ENTITY:
                _entity_options_check(problems, path, schema.get("ui:options"))
            return picker
        if widget is not None:
            if widget not in _WIDGETS:
                problems.add(f"{path}.ui:widget", f"{shown(widget)} is not supported; expected textarea or password")
                return None
            if "enum" in schema:
                problems.add(f"{path}.ui:widget", "cannot be combined with enum")
            return TEXTAREA if widget == "textarea" else PASSWORD
        return SELECT if "enum" in schema else TEXT
    if type_ in ("number", "integer"):
        _number_rules_check(problems, path, schema, type_)
        if "enum" in schema:
            return SELECT
        return INTEGER if type_ == "integer" else NUMBER
    if type_ == "boolean":
        return BOOLEAN
    problems.add(f"{path}.type", f"{shown(type_)} is not supported here; expected string, number, integer or boolean")
    return None


def _entity_options_check(problems: Problems, path: str, options: object) -> None:
    if not isinstance(options, dict):
        problems.add(f"{path}.ui:options", "is required for an EntityPicker: {allowedKinds: [kinds]}")
        return
    for key in options:
        if key != "allowedKinds":
            problems.add(f"{path}.ui:options.{key}", "is not supported; an EntityPicker takes allowedKinds")
    kinds = options.get("allowedKinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(kind, str) and kind for kind in kinds):
        problems.add(f"{path}.ui:options.allowedKinds", "must be a non-empty list of entity kinds")


def _properties_parse(
    problems: Problems, path: str, schema: dict, parent: str, *, cell_kind: bool
) -> tuple[list[Param], set[str]]:
    """The scalar properties of an object parameter or a table's rows."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.add(f"{path}.properties", "must be a non-empty object")
        return [], set()
    required = _required_names(problems, f"{path}.required", schema.get("required"), properties)
    children = []
    for name, child in properties.items():
        child_path = f"{path}.properties.{name}"
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            problems.add(child_path, "names are a letter followed by letters, digits and _")
            continue
        if not isinstance(child, dict):
            problems.add(child_path, "must be an object (a JSON Schema)")
            continue
        if child.get("type") not in ("string", "number", "integer", "boolean"):
            problems.add(f"{child_path}.type", "must be string, number, integer or boolean (a plain input)")
            continue
        _strings_check(problems, child_path, child)
        if not cell_kind:
            _unsupported(problems, child_path, child, _KEYWORDS[child["type"]], f"type {child['type']}")
        kind = _scalar_kind(problems, child_path, child, cell=cell_kind)
        if kind is not None and not cell_kind and "default" in child:
            _default_check(problems, child_path, child)
        if kind is not None:
            children.append(Param(name, f"{parent}.{name}", child, kind, name in required))
    return children, required


def _param_parse(problems: Problems, path: str, name: str, schema: dict, required: bool) -> Param | None:
    type_ = schema.get("type")
    if type_ not in _TYPES:
        problems.add(f"{path}.type", f"{shown(type_)} is not supported; expected one of {', '.join(_TYPES)}")
        return None
    _unsupported(problems, path, schema, _KEYWORDS[type_], f"type {type_}")
    _strings_check(problems, path, schema)
    kind: str | None
    children: list[Param] = []
    if type_ == "array":
        kind, children = _array_parse(problems, path, name, schema)
    elif type_ == "object":
        kind = OBJECT
        _closed_check(problems, path, schema)
        children, _ = _properties_parse(problems, path, schema, name, cell_kind=False)
    else:
        kind = _scalar_kind(problems, path, schema, cell=False)
    if kind is None:
        return None
    rules = _row_rules_parse(problems, f"{path}.items.allOf", schema["items"], children) if kind == TABLE else []
    if "default" in schema:
        _default_check(problems, path, schema)
    return Param(name, name, schema, kind, required, children, rules)


def _row_rules_parse(problems: Problems, path: str, items: dict, columns: list[Param]) -> list[RowRule]:
    """A table's ``items.allOf``, in the one shape a form can show: ``{if: {properties: {<column>: {enum: [..]}},
    required: [<column>]}, then: {required: [columns]}, else: {properties: {<column>: false}}}``."""
    if "allOf" not in items:
        return []
    entries = items["allOf"]
    if not isinstance(entries, list) or not entries:
        problems.add(path, "must be a non-empty list of if/then/else rules between columns")
        return []
    names = {column.name for column in columns}
    rules = []
    for index, entry in enumerate(entries):
        rule = _row_rule_parse(problems, f"{path}[{index}]", entry, names)
        if rule is not None:
            rules.append(rule)
    return rules


def _row_rule_parse(problems: Problems, path: str, entry: object, names: set[str]) -> RowRule | None:
    shape = "an object with if, then and/or else"
    if not isinstance(entry, dict) or "if" not in entry or not {"then", "else"} & set(entry):
        problems.add(path, f"must be {shape}")
        return None
    for key in set(entry) - {"if", "then", "else"}:
        problems.add(f"{path}.{key}", f"is not supported; a rule is {shape}")
    condition = entry["if"]
    watched = condition.get("properties") if isinstance(condition, dict) else None
    if not isinstance(watched, dict) or len(watched) != 1 or set(condition) - {"properties", "required"}:
        problems.add(f"{path}.if", "must be {properties: {<column>: {enum: [values]}}, required: [<column>]}")
        return None
    column, test = next(iter(watched.items()))
    values = test.get("enum") if isinstance(test, dict) and set(test) == {"enum"} else None
    if column not in names:
        problems.add(f"{path}.if.properties", f"{shown(column)} is not a column of this table")
        return None
    if not isinstance(values, list) or not values or not all(isinstance(value, str) for value in values):
        problems.add(f"{path}.if.properties.{column}", "must be {enum: [values]} (a non-empty list of strings)")
        return None
    if condition.get("required") != [column]:
        # without it a row that leaves the column empty would match the rule
        problems.add(f"{path}.if.required", f"must be [{column}]")
    required = _rule_columns(problems, f"{path}.then", entry.get("then"), names, key="required")
    only = _rule_columns(problems, f"{path}.else", entry.get("else"), names, key="properties")
    return RowRule(column, tuple(values), tuple(required), tuple(only))


def _rule_columns(problems: Problems, path: str, part: object, names: set[str], *, key: str) -> list[str]:
    if part is None:
        return []
    expected = "{required: [columns]}" if key == "required" else "{properties: {<column>: false}}"
    if not isinstance(part, dict) or set(part) != {key}:
        problems.add(path, f"must be {expected}")
        return []
    listed = part[key]
    columns = listed if key == "required" else list(listed) if isinstance(listed, dict) else None
    if not isinstance(columns, list) or (key == "properties" and any(v is not False for v in listed.values())):
        problems.add(f"{path}.{key}", f"must be {expected}")
        return []
    for position, column in enumerate(columns):
        if column not in names:
            problems.add(f"{path}.{key}", f"{shown(column)} is not a column of this table")
        elif column in columns[:position]:
            problems.add(f"{path}.{key}", f"{shown(column)} is listed twice")
    return [column for column in columns if column in names]


def _closed_check(problems: Problems, path: str, schema: dict) -> None:
    # objects and table rows never take keys beyond their properties; saying so explicitly is welcome
    if "additionalProperties" in schema and schema["additionalProperties"] is not False:
        problems.add(f"{path}.additionalProperties", "only false is supported: a form has no other fields")


def _array_parse(problems: Problems, path: str, name: str, schema: dict) -> tuple[str | None, list[Param]]:
    for key in ("minItems", "maxItems"):
        if key in schema and not is_count(schema[key]):
            problems.add(f"{path}.{key}", "must be a non-negative integer")
    counts = schema.get("minItems"), schema.get("maxItems")
    if is_count(counts[0]) and is_count(counts[1]) and counts[0] > counts[1]:
        problems.add(f"{path}.minItems", "is greater than maxItems")
    if "uniqueItems" in schema and not isinstance(schema["uniqueItems"], bool):
        problems.add(f"{path}.uniqueItems", "must be true or false")
    items = schema.get("items")
    if not isinstance(items, dict):
        problems.add(f"{path}.items", "is required: the schema of each item (a string, or an object of columns)")
        return None, []
    picker = schema.get("ui:field")
    if picker is not None and picker != COMPONENTS:
        problems.add(f"{path}.ui:field", f"{shown(picker)} is not a picker for a list; expected ComponentPicker")
        return None, []
    if items.get("type") == "string":
        _unsupported(problems, f"{path}.items", items, _STRING_ITEM_KEYWORDS, "the items of a list of strings")
        _strings_check(problems, f"{path}.items", items)
        _string_rules_check(problems, f"{path}.items", items)
        if picker == COMPONENTS:
            if set(items) - {"type"}:
                problems.add(f"{path}.items", "of a ComponentPicker are component ids: {type: string} only")
            return COMPONENTS, []
        return (CHECKBOXES if "enum" in items else LINES), []
    if items.get("type") == "object" and picker is None:
        _unsupported(problems, f"{path}.items", items, _ROW_KEYWORDS, "the rows of a table")
        _strings_check(problems, f"{path}.items", items)
        _closed_check(problems, f"{path}.items", items)
        columns, _ = _properties_parse(problems, f"{path}.items", items, f"{name}[]", cell_kind=True)
        return TABLE, columns
    problems.add(f"{path}.items.type", "must be string (a list) or object (a table of scalar columns)")
    return None, []


def _default_check(problems: Problems, path: str, schema: dict) -> None:
    validator = Validator(_checked_schema(schema))
    for error in validator.iter_errors(schema["default"]):
        problems.add(f"{path}.default", error_message(error))
        break


class Declaration(NamedTuple):
    """A parameter as a step of ``spec.parameters`` declares it, supported or not: where, its schema as written
    and whether its step requires it (what the template check asks of name, domain and owner)."""

    path: str
    schema: object
    required: bool


class ParsedParameters(NamedTuple):
    """``spec.parameters`` read once: the steps a form shows (the parameters Meshforge supports), every declared
    parameter by name, and the problems, all errors coded ``template``."""

    steps: list[Step]
    declared: dict[str, Declaration]
    problems: Problems


def parameters_parse(parameters: object) -> ParsedParameters:
    """Parse and check ``spec.parameters``: the one code path that finds its problems, for the forms, the values'
    check and the template check alike."""
    problems = Problems(code=TEMPLATE_CODE)
    steps: list[Step] = []
    declared: dict[str, Declaration] = {}
    if not isinstance(parameters, list) or not parameters:
        problems.add("spec.parameters", "must be a non-empty list of form steps")
        return ParsedParameters(steps, declared, problems)
    for index, raw in enumerate(parameters):
        path = f"spec.parameters[{index}]"
        step = _step_parse(problems, path, raw, declared)
        if step is not None:
            steps.append(step)
    return ParsedParameters(steps, declared, problems)


def _step_parse(problems: Problems, path: str, raw: object, declared: dict[str, Declaration]) -> Step | None:
    if not isinstance(raw, dict):
        problems.add(path, "must be an object with title, required and properties")
        return None
    for key in raw:
        if key not in _STEP_KEYS:
            problems.add(f"{path}.{key}", "is not supported in a form step")
    if raw.get("type", "object") != "object":
        problems.add(f"{path}.type", "must be object")
    _strings_check(problems, path, raw)
    properties = raw.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.add(f"{path}.properties", "must be a non-empty object")
        return None
    required = _required_names(problems, f"{path}.required", raw.get("required"), properties)
    params = []
    for name, schema in properties.items():
        param_path = f"{path}.properties.{name}"
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            problems.add(param_path, "parameter names are a letter followed by letters, digits and _")
            continue
        if name in declared:
            problems.add(param_path, f"is already declared at {declared[name].path}")
            continue
        declared[name] = Declaration(param_path, schema, name in required)
        if not isinstance(schema, dict):
            problems.add(param_path, "must be an object (a JSON Schema)")
            continue
        param = _param_parse(problems, param_path, name, schema, name in required)
        if param is not None:
            params.append(param)
    step_schema = {
        "type": "object",
        "properties": {param.name: _checked_schema(param.schema) for param in params},
        "required": [param.name for param in params if param.required],
    }
    title = raw.get("title")
    description = raw.get("description")
    return Step(
        title=title if isinstance(title, str) else "",
        description=description if isinstance(description, str) else "",
        params=params,
        schema=step_schema,
    )


def _checked_schema(schema: dict) -> dict:
    """The schema jsonschema checks: no ui: hints, strings capped at MAX_STRING_LENGTH and lists at MAX_ITEMS
    unless the template sets its own limit, and no keys beyond an object's properties."""
    # ui:help stays (jsonschema ignores it): a pattern's error speaks with it when the pattern is too rich to say
    checked = {
        key: value
        for key, value in schema.items()
        if not (isinstance(key, str) and key.startswith("ui:") and key != "ui:help")
    }
    type_ = checked.get("type")
    if type_ == "string":
        checked.setdefault("maxLength", MAX_STRING_LENGTH)
    elif type_ == "array":
        checked.setdefault("maxItems", MAX_ITEMS)
        if isinstance(checked.get("items"), dict):
            checked["items"] = _checked_schema(checked["items"])
    elif type_ == "object":
        properties = checked.get("properties")
        if isinstance(properties, dict):
            checked["properties"] = {
                name: _checked_schema(child) if isinstance(child, dict) else child for name, child in properties.items()
            }
        checked["additionalProperties"] = False
    return checked


def parameters_problems(parameters: object) -> list[str]:
    """What in ``spec.parameters`` Meshforge cannot turn into a form or check, each as ``path: message``
    (e.g. ``spec.parameters[0].properties.size.format: is not supported for type string``); empty when the
    whole template is supported."""
    return parameters_parse(parameters).problems.messages()


def parameters_check(parameters: object) -> list[Problem]:
    """The problems :func:`parameters_problems` words, all errors coded ``template``."""
    return list(parameters_parse(parameters).problems)


def template_parameters(template) -> list:
    """A template entity's ``spec.parameters`` in the order its file writes them. The catalog stores documents as
    jsonb, which sorts object keys, but a form's fields come in the author's order; the file's text (the entity's
    ``source_text``) only gives that order: when it does not hold the very same parameters, the catalog's are
    used."""
    parameters = template.spec.get("parameters")
    text = getattr(template, "source_text", "")
    if text:
        try:
            written = load(text, source=str(template))
        except YamlError:
            written = None
        spec = written.get("spec") if isinstance(written, dict) else None
        if isinstance(spec, dict) and spec.get("parameters") == parameters:
            return spec["parameters"]
    return parameters if parameters is not None else []


def steps_parse(parameters: object) -> list[Step]:
    """The steps of ``spec.parameters``; raises ``TemplateError`` when Meshforge cannot show or check them."""
    steps, _declared, problems = parameters_parse(parameters)
    if problems:
        raise TemplateError(f"the template's form is not supported: {'; '.join(problems.messages()[:5])}")
    return steps
