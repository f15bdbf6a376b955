"""Template forms (PRODUCT §4.1): which JSON Schema a template's ``spec.parameters`` may use, the Django form
generated for each of its steps, and ``values_validate``, the one server-side check of submitted values that
the wizard, the API and the ``create_dataproduct`` command share.

Supported per parameter: ``string`` (pattern, minLength, maxLength, enum, ``ui:widget`` textarea|password),
``number`` and ``integer`` (minimum, maximum, exclusiveMinimum/Maximum, multipleOf, enum), ``boolean``, ``array``
of strings (free lines, or checkboxes with ``items.enum``), ``array`` of objects of scalars (an editable table),
``object`` of scalars (flattened to ``parent.child`` inputs) and the pickers of ``ui:field`` (EntityPicker,
OwnerPicker, DomainPicker, ComponentPicker). Anything else is a template problem, never a silently dropped rule.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaValidationError

from core.problems import Problem, Problems
from core.text import invisible_problem, reveal_invisible
from core.yaml import YamlError, load
from dataproducts.exceptions import TemplateError
from dataproducts.scaffold import pickers
from dataproducts.scaffold.rendering import TEMPLATE_CODE

if TYPE_CHECKING:
    from dataproducts.models import Component, DataProduct

__all__ = [
    "MAX_ITEMS",
    "MAX_STRING_LENGTH",
    "PickerContext",
    "StepForm",
    "errors_first_step",
    "form_summary",
    "form_values",
    "parameters_check",
    "parameters_problems",
    "pattern_sentence",
    "step_form",
    "template_parameters",
    "values_validate",
]

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
_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


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
_PICKERS = (ENTITY, OWNER, DOMAIN, COMPONENTS)
_LIST_KINDS = (LINES, CHECKBOXES, COMPONENTS)

_WIDGET_TEMPLATES = {
    TEXT: "text",
    PASSWORD: "text",
    NUMBER: "text",
    INTEGER: "text",
    TEXTAREA: "textarea",
    SELECT: "select",
    ENTITY: "select",
    OWNER: "select",
    DOMAIN: "select",
    BOOLEAN: "checkbox",
    CHECKBOXES: "checkboxes",
    COMPONENTS: "checkboxes",
    LINES: "lines",
    TABLE: "table",
    OBJECT: "object",
}


@dataclass
class PickerContext:
    """Who fills the form and where: pickers offer ``user``'s teams, and the components of ``data_product``
    (without ``component``, the one being edited, which cannot depend on itself)."""

    user: Any
    data_product: DataProduct | None = None
    component: Component | None = None


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


def _shown(value: object) -> str:
    # a bidi override quoted as typed would reorder the rest of the message: shown as an escape
    return f'"{reveal_invisible(value)}"' if isinstance(value, str) else repr(value)


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _is_count(value: object) -> bool:
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
        if key in schema and not _is_count(schema[key]):
            problems.add(f"{path}.{key}", "must be a non-negative integer")
    lengths = schema.get("minLength"), schema.get("maxLength")
    if _is_count(lengths[0]) and _is_count(lengths[1]) and lengths[0] > lengths[1]:
        problems.add(f"{path}.minLength", "is greater than maxLength")
    if "enum" in schema:
        _enum_check(problems, f"{path}.enum", schema["enum"], "string")


def _number_rules_check(problems: Problems, path: str, schema: dict, type_: str) -> None:
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in schema and not _is_number(schema[key]):
            problems.add(f"{path}.{key}", "must be a number")
    if "multipleOf" in schema and not (_is_number(schema["multipleOf"]) and schema["multipleOf"] > 0):
        problems.add(f"{path}.multipleOf", "must be a number greater than 0")
    bounds = schema.get("minimum"), schema.get("maximum")
    if _is_number(bounds[0]) and _is_number(bounds[1]) and bounds[0] > bounds[1]:
        problems.add(f"{path}.minimum", "is greater than maximum")
    if "enum" in schema:
        _enum_check(problems, f"{path}.enum", schema["enum"], type_)


def _enum_check(problems: Problems, path: str, enum: object, type_: str) -> None:
    if not isinstance(enum, list) or not enum:
        problems.add(path, "must be a non-empty list")
        return
    expected = {
        "string": lambda value: isinstance(value, str),
        "number": _is_number,
        "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    }[type_]
    for index, value in enumerate(enum):
        if not expected(value):
            problems.add(f"{path}[{index}]", f"{_shown(value)} is not a {type_}")
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
            problems.add(f"{path}[{index}]", f"{_shown(name)} is not one of the properties")
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
                problems.add(f"{path}.ui:field", f"{_shown(picker)} is not a picker for a string")
                return None
            if "enum" in schema or widget is not None:
                problems.add(f"{path}.ui:field", "cannot be combined with enum or ui:widget")
            if picker == ENTITY:
                _entity_options_check(problems, path, schema.get("ui:options"))
            return picker
        if widget is not None:
            if widget not in _WIDGETS:
                problems.add(f"{path}.ui:widget", f"{_shown(widget)} is not supported; expected textarea or password")
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
    problems.add(f"{path}.type", f"{_shown(type_)} is not supported here; expected string, number, integer or boolean")
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
        problems.add(f"{path}.type", f"{_shown(type_)} is not supported; expected one of {', '.join(_TYPES)}")
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
        problems.add(f"{path}.if.properties", f"{_shown(column)} is not a column of this table")
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
    for column in columns:
        if column not in names:
            problems.add(f"{path}.{key}", f"{_shown(column)} is not a column of this table")
    return [column for column in columns if column in names]


def _closed_check(problems: Problems, path: str, schema: dict) -> None:
    # objects and table rows never take keys beyond their properties; saying so explicitly is welcome
    if "additionalProperties" in schema and schema["additionalProperties"] is not False:
        problems.add(f"{path}.additionalProperties", "only false is supported: a form has no other fields")


def _array_parse(problems: Problems, path: str, name: str, schema: dict) -> tuple[str | None, list[Param]]:
    for key in ("minItems", "maxItems"):
        if key in schema and not _is_count(schema[key]):
            problems.add(f"{path}.{key}", "must be a non-negative integer")
    counts = schema.get("minItems"), schema.get("maxItems")
    if _is_count(counts[0]) and _is_count(counts[1]) and counts[0] > counts[1]:
        problems.add(f"{path}.minItems", "is greater than maxItems")
    if "uniqueItems" in schema and not isinstance(schema["uniqueItems"], bool):
        problems.add(f"{path}.uniqueItems", "must be true or false")
    items = schema.get("items")
    if not isinstance(items, dict):
        problems.add(f"{path}.items", "is required: the schema of each item (a string, or an object of columns)")
        return None, []
    picker = schema.get("ui:field")
    if picker is not None and picker != COMPONENTS:
        problems.add(f"{path}.ui:field", f"{_shown(picker)} is not a picker for a list; expected ComponentPicker")
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
        _closed_check(problems, f"{path}.items", items)
        columns, _ = _properties_parse(problems, f"{path}.items", items, f"{name}[]", cell_kind=True)
        return TABLE, columns
    problems.add(f"{path}.items.type", "must be string (a list) or object (a table of scalar columns)")
    return None, []


def _default_check(problems: Problems, path: str, schema: dict) -> None:
    validator = _Validator(_checked_schema(schema))
    for error in validator.iter_errors(schema["default"]):
        problems.add(f"{path}.default", _message(error))
        break


def _steps_parse(parameters: object) -> tuple[list[Step], Problems]:
    problems = Problems(code=TEMPLATE_CODE)
    if not isinstance(parameters, list) or not parameters:
        problems.add("spec.parameters", "must be a non-empty list of form steps")
        return [], problems
    steps: list[Step] = []
    declared: dict[str, str] = {}
    for index, raw in enumerate(parameters):
        path = f"spec.parameters[{index}]"
        step = _step_parse(problems, path, raw, declared)
        if step is not None:
            steps.append(step)
    return steps, problems


def _step_parse(problems: Problems, path: str, raw: object, declared: dict[str, str]) -> Step | None:
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
            problems.add(param_path, f"is already declared at {declared[name]}")
            continue
        declared[name] = param_path
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
    return _steps_parse(parameters)[1].messages()


def parameters_check(parameters: object) -> list[Problem]:
    """The problems :func:`parameters_problems` words, all errors coded ``template``."""
    return list(_steps_parse(parameters)[1])


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


def _steps(parameters: object) -> list[Step]:
    steps, problems = _steps_parse(parameters)
    if problems:
        raise TemplateError(f"the template's form is not supported: {'; '.join(problems.messages()[:5])}")
    return steps


# --- checking values ---------------------------------------------------------------------------------------


def _path_text(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _listed(values: Iterable[object]) -> str:
    return ", ".join(str(value) for value in values)


# --- a pattern in words: people are never shown a regular expression -------------------------------------------

_CLASS_WORDS = (  # (what the class holds, plural, singular), in the order a sentence lists them
    (frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), "letters", "a letter"),
    (frozenset("abcdefghijklmnopqrstuvwxyz"), "lower-case letters", "a lower-case letter"),
    (frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "upper-case letters", "an upper-case letter"),
    (frozenset("0123456789"), "digits", "a digit"),
    (frozenset("-"), "hyphens", "a hyphen"),
    (frozenset("_"), "underscores", "an underscore"),
    (frozenset("."), "dots", "a dot"),
)
_ATOM_RE = re.compile(r"(\[(?:[^\]\\]|\\.)+\]|[A-Za-z0-9_-]|\\[d.-])(\?|\*|\+|\{(\d+)(,(\d*))?\})?")


def _class_chars(atom: str) -> frozenset[str] | None:
    r"""The characters of ``[a-z0-9-]``, ``\d`` or a literal; None for anything a sentence cannot say."""
    if atom == "\\d":
        return frozenset("0123456789")
    if not atom.startswith("["):
        return frozenset(atom[-1])
    body, chars, index = atom[1:-1], set(), 0
    if body.startswith("^"):
        return None
    while index < len(body):
        char = body[index]
        if char == "\\":
            chars.add(body[index + 1])
            index += 2
        elif index + 2 < len(body) and body[index + 1] == "-":
            chars.update(chr(code) for code in range(ord(char), ord(body[index + 2]) + 1))
            index += 3
        else:
            chars.add(char)
            index += 1
    return frozenset(chars)


def _class_words(chars: frozenset[str], *, singular: bool) -> str | None:
    words, left = [], set(chars)
    for members, plural, one in _CLASS_WORDS:
        if members <= left:
            words.append(one if singular else plural)
            left -= members
    if left or not words:
        return None
    if singular:
        return " or ".join(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def pattern_sentence(pattern: object) -> str:
    """``^[a-z][a-z0-9-]{1,38}[a-z0-9]$`` as "use 3 to 40 lower-case letters, digits and hyphens, starting with a
    lower-case letter and ending with a lower-case letter or digit"; ``""`` for a pattern too rich to say (the
    field's ``ui:help`` speaks then)."""
    if not isinstance(pattern, str) or not pattern.startswith("^") or not pattern.endswith("$"):
        return ""
    body, atoms, index = pattern[1:-1], [], 0
    while index < len(body):
        match = _ATOM_RE.match(body, index)
        if match is None:
            return ""
        chars = _class_chars(match[1])
        if chars is None:
            return ""
        quantifier = match[2] or ""
        low, high = {"?": (0, 1), "*": (0, None), "+": (1, None), "": (1, 1)}.get(quantifier, (None, None))
        if low is None:
            low = int(match[3])
            high = low if match[4] is None else (int(match[5]) if match[5] else None)
        atoms.append((chars, low, high))
        index = match.end()
    if not atoms:
        return ""
    every = _class_words(frozenset().union(*(chars for chars, _, _ in atoms)), singular=False)
    if every is None:
        return ""
    low = sum(atom[1] for atom in atoms)
    high = None if any(atom[2] is None for atom in atoms) else sum(atom[2] for atom in atoms)
    count = f"{low} to {high} " if high is not None and high != low else f"{low} " if high == low else ""
    if high is None and low > 1:
        count = f"at least {low} "
    sentence = f"use {count}{every}"
    ends = []
    union = frozenset().union(*(chars for chars, _, _ in atoms))
    first, last = atoms[0], atoms[-1]
    if first[1] >= 1 and first[0] != union:
        ends.append(f"starting with {_class_words(first[0], singular=True)}")
    if len(atoms) > 1 and last[1] >= 1 and last[0] != union:
        ends.append(f"ending with {_class_words(last[0], singular=True)}")
    if None in ends:
        return ""
    return f"{sentence}, {' and '.join(ends)}" if ends else sentence


def _help_of(schema: object) -> str:
    help_text = schema.get("ui:help") if isinstance(schema, dict) else None
    return help_text if isinstance(help_text, str) else ""


_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def _message(error) -> str:
    """A jsonschema error in words that read after the field's name."""
    value = error.validator_value
    match error.validator:
        case "required":
            return "is required"
        case "type":
            return f"must be {_TYPE_WORDS.get(value, value)}"
        case "pattern":
            # a pattern makes the field an identifier (a name, a tag, a column): an invisible character in it is
            # what to name, since the value looks right in the form
            if isinstance(error.instance, str) and (problem := invisible_problem(error.instance)):
                return problem
            return pattern_sentence(value) or _help_of(error.schema) or "is not in the form this field expects"
        case "minLength":
            return f"must be at least {value} character{'s' if value != 1 else ''} long"
        case "maxLength":
            return f"must be at most {value} character{'s' if value != 1 else ''} long"
        case "enum":
            return f"must be one of: {_listed(value)}"
        case "minimum":
            return f"must be at least {value}"
        case "maximum":
            return f"must be at most {value}"
        case "exclusiveMinimum":
            return f"must be greater than {value}"
        case "exclusiveMaximum":
            return f"must be less than {value}"
        case "multipleOf":
            return f"must be a multiple of {value}"
        case "minItems":
            return f"must have at least {value} item{'s' if value != 1 else ''}"
        case "maxItems":
            return f"must have at most {value} item{'s' if value != 1 else ''}"
        case "uniqueItems":
            return "lists the same value twice"
    return error.message


def _schema_errors(step: Step, values: dict) -> Iterator[tuple[str, str]]:
    try:
        validator = _Validator(step.schema)
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
            yield _path_text(parts), _message(error)


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
            message = f"only applies to {_listed(test['enum'])}"
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
        if param.kind not in _PICKERS or param.path in failed:
            continue
        value = _lookup(values, param.path)
        if value is None:
            continue
        if param.kind == COMPONENTS:
            if not isinstance(value, list):
                continue
            allowed = {choice.value for choice in _choices(param, context)}
            where = context.data_product.name if context.data_product is not None else "this data product"
            for index, item in enumerate(value):
                if isinstance(item, str) and item not in allowed:
                    yield f"{param.path}[{index}]", f"{_shown(item)} is not a component of {where}"
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
            return f"{_shown(value)} is not one of your teams, and you are in no team that may own data products"
        return f"must be one of: {_listed(teams)}"
    if param.kind == DOMAIN:
        return f"{_shown(value)} is not a domain in the catalog (write domain:<name>)"
    kinds = (param.schema.get("ui:options") or {}).get("allowedKinds") or []
    return f"{_shown(value)} is not a {' or '.join(kind.lower() for kind in kinds)} in the catalog (write kind:name)"


def _step_errors(step: Step, values: dict, context: PickerContext) -> dict[str, list[str]]:
    own = {name: values[name] for name in step.names if name in values}
    found: list[tuple[str, str]] = list(_schema_errors(step, own))
    found += list(_text_problems(own, []))
    failed = {path for path, _ in found}
    found += list(_picker_errors(step, own, context, failed))
    order = {name: index for index, name in enumerate(step.names)}
    errors: dict[str, list[str]] = {}
    for path, message in sorted(found, key=lambda item: (order.get(_root(item[0]), -1), _natural(item[0]))):
        messages = errors.setdefault(path, [])
        if message not in messages:
            messages.append(message)
    return errors


def _natural(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def _root(path: str) -> str:
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
    all_steps = _steps(parameters)
    if not isinstance(values, dict):
        return {"": [f"must be an object of parameter values, not {type(values).__name__}"]}
    errors: dict[str, list[str]] = {}
    declared = {name for step in all_steps for name in step.names}
    for key in values:
        if key not in declared:
            errors[str(key)] = ["is not a parameter of this template"]
    for step in all_steps[steps] if steps is not None else all_steps:
        errors |= _step_errors(step, values, context)
    return {_printable(path): messages for path, messages in errors.items()}


def errors_first_step(*, parameters: list, errors: dict[str, list[str]]) -> int:
    """The index of the first step holding a field named in ``errors`` (0 for form-wide errors)."""
    steps = _steps(parameters)
    roots = {_root(path) for path in errors}
    for index, step in enumerate(steps):
        if roots & set(step.names):
            return index
    return 0


# --- parsing what the browser sent -------------------------------------------------------------------------
# The fields only turn text into the value's JSON type where they can; every rule (required, pattern, ranges,
# pickers) is judged by values_validate, so the wizard, the API and the command give the same messages. What
# cannot be parsed ("abc" for a number) stays a string and gets values_validate's "must be a number".


def _number(value: object, *, integer: bool) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        return value
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        pass
    if integer:
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _cell(param: Param, value: object) -> object:
    if param.kind == BOOLEAN:
        return bool(value) and value not in ("false", "False", "0", "off")
    if param.kind in (NUMBER, INTEGER) or (param.kind == SELECT and param.schema.get("type") != "string"):
        return _number(value, integer=param.schema.get("type") == "integer")
    if value is None:
        return None
    # browsers send a text area's line breaks as CRLF; a value written into YAML in Git wants plain LF
    text = value.replace("\r\n", "\n") if isinstance(value, str) else str(value)
    return text if text.strip() else None


class _SchemaBoundField(forms.BoundField):
    """``{{ form.field }}`` draws the field through its widget template (label, input, errors and help)."""

    def as_widget(self, widget=None, attrs=None, only_initial=False):
        view = self.form._view(self.name, self.field.param)
        return render_to_string(view.template, {"f": view})


class _ValueField(forms.Field):
    def __init__(self, param: Param, **kwargs):
        super().__init__(required=False, label=param.label, **kwargs)
        self.param = param

    def get_bound_field(self, form, field_name):
        return _SchemaBoundField(form, self, field_name)


class _TextField(_ValueField):
    def to_python(self, value):
        value = _cell(self.param, value)
        # single-line inputs lose stray surrounding spaces; text areas and passwords keep what was typed
        if isinstance(value, str) and self.param.kind in (TEXT, SELECT, ENTITY, OWNER, DOMAIN):
            value = value.strip() or None
        return value


class _NumberField(_ValueField):
    def to_python(self, value):
        return _cell(self.param, value)


class _BooleanField(_ValueField):
    widget = forms.CheckboxInput

    def to_python(self, value):
        return _cell(self.param, value)


class _ChoicesField(_ValueField):
    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        if value in (None, ""):
            return []
        items = value if isinstance(value, list | tuple) else [value]
        return [item if isinstance(item, str) else str(item) for item in items]


class _LinesField(_ValueField):
    widget = forms.Textarea

    def to_python(self, value):
        if value in (None, ""):
            return []
        if isinstance(value, list | tuple):
            return [item if isinstance(item, str) else str(item) for item in value]
        return [line.strip() for line in str(value).splitlines() if line.strip()]


class TableRows(list):
    """The filled rows of a table (blank rows dropped) and, for each, the row it was on the screen."""

    def __init__(self, rows: Iterable[dict] = (), screen_rows: Iterable[int] = ()):
        super().__init__(rows)
        self.screen_rows = list(screen_rows)


class _TableWidget(forms.Widget):
    """Reads ``<name>-<row>-<column>`` inputs (and the ``<name>-rows`` count that keeps blank rows) as a list
    of raw rows."""

    def __init__(self, columns: list[Param], max_rows: int):
        super().__init__()
        self.columns = columns
        self.max_rows = max_rows

    def row_count(self, data, name: str) -> int:
        count = 0
        counted = data.get(f"{name}-rows") if hasattr(data, "get") else None
        if isinstance(counted, str) and counted.isdigit() and len(counted) < 6:
            count = int(counted)
        pattern = re.compile(rf"{re.escape(name)}-(\d{{1,5}})-")
        for key in data:
            if isinstance(key, str) and (match := pattern.match(key)):
                count = max(count, int(match[1]) + 1)
        return min(count, self.max_rows)

    def value_from_datadict(self, data, files, name):
        rows = []
        for index in range(self.row_count(data, name)):
            row = {}
            for column in self.columns:
                key = f"{name}-{index}-{column.name}"
                if column.kind == BOOLEAN:
                    row[column.name] = forms.CheckboxInput().value_from_datadict(data, files, key)
                else:
                    value = data.get(key, "")
                    row[column.name] = value if isinstance(value, str) else ""
            rows.append(row)
        return rows

    def value_omitted_from_data(self, data, files, name):
        return not any(isinstance(key, str) and key.startswith(f"{name}-") for key in data)


class _TableField(_ValueField):
    def __init__(self, param: Param, **kwargs):
        max_rows = param.schema.get("maxItems")
        max_rows = min(max_rows, MAX_ITEMS) if _is_count(max_rows) else MAX_ITEMS
        # one more than allowed, so that values_validate can say "at most N items" instead of rows vanishing
        super().__init__(param, widget=_TableWidget(param.children, max_rows + 1), **kwargs)

    def to_python(self, value):
        if not value:
            return TableRows()
        rows, screen_rows = [], []
        for index, raw in enumerate(value if isinstance(value, list) else []):
            if not isinstance(raw, dict):
                continue
            row = {}
            for column in self.param.children:
                cell = _cell(column, raw.get(column.name))
                if cell is not None:
                    row[column.name] = cell
            if any(cell is not False for cell in row.values()):  # a row of empty inputs is no row
                rows.append(row)
                screen_rows.append(index)
        return TableRows(rows, screen_rows)


def _form_field(param: Param) -> forms.Field:
    if param.kind in (NUMBER, INTEGER):
        return _NumberField(param, widget=forms.TextInput)
    if param.kind == BOOLEAN:
        return _BooleanField(param)
    if param.kind in (CHECKBOXES, COMPONENTS):
        return _ChoicesField(param)
    if param.kind == LINES:
        return _LinesField(param)
    if param.kind == TABLE:
        return _TableField(param)
    widget = forms.Textarea if param.kind == TEXTAREA else forms.TextInput
    return _TextField(param, widget=widget)


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _same(first: object, second: object) -> bool:
    # 1 and 1.0 are one number; True and 1 are not one value
    if isinstance(first, bool) or isinstance(second, bool):
        return first is second or (first == second and type(first) is type(second))
    if isinstance(first, list) and isinstance(second, list):
        return len(first) == len(second) and all(_same(a, b) for a, b in zip(first, second, strict=True))
    if isinstance(first, dict) and isinstance(second, dict):
        return first.keys() == second.keys() and all(_same(first[key], second[key]) for key in first)
    return first == second


# --- the form ----------------------------------------------------------------------------------------------


@dataclass
class Choice:
    value: str
    label: str
    id: str = ""
    checked: bool = False


@dataclass
class FieldView:
    """Everything a widget template needs to draw one field: ids, value, errors and the ARIA wiring."""

    template: str
    kind: str
    name: str
    id: str
    label: str
    required: bool
    disabled: bool
    value: object
    errors: list[str]
    description: str = ""
    help: str = ""
    input_type: str = "text"
    attrs: dict = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)
    children: list[FieldView] = field(default_factory=list)
    columns: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    rows_name: str = ""  # a table's hidden row count
    add_action: str = ""  # a table's Add row button value
    can_add: bool = True

    @property
    def description_id(self) -> str:
        return f"{self.id}_description"

    @property
    def help_id(self) -> str:
        return f"{self.id}_help"

    @property
    def errors_id(self) -> str:
        return f"{self.id}_errors"

    @property
    def describedby(self) -> str:
        ids = [self.description_id] if self.description else []
        ids += [self.help_id] if self.help else []
        ids += [self.errors_id] if self.errors else []
        return " ".join(ids)

    @property
    def input_attrs(self) -> SafeString:
        """The attributes every input of the field carries: ARIA wiring, limits, disabled."""
        return _attrs_html(
            {
                "aria-describedby": self.describedby,
                "aria-invalid": "true" if self.errors else "",
                "aria-required": "true" if self.required else "",
                **self.attrs,
            },
            disabled=self.disabled,
        )


def _attrs_html(attrs: dict, *, disabled: bool = False) -> SafeString:
    html = format_html_join("", ' {}="{}"', ((key, value) for key, value in attrs.items() if value not in ("", None)))
    return format_html("{}{}", html, mark_safe(" disabled") if disabled else "")


class StepForm(forms.Form):
    """One step of a template's form. Validation is ``values_validate`` on this step's values (see ``clean``);
    errors land on their field (table cells in ``cell_errors``). ``readonly`` fields are drawn disabled and keep
    their initial value; a POSTed value that differs is an error with code ``readonly``. With ``show_errors``
    False a bound form is drawn with what was typed but without judging it (after Back, Add row).

    ``{{ form }}`` renders the fields through ``dataproducts/partials/wizard_fields.html``."""

    template_name = "dataproducts/partials/wizard_fields.html"

    def __init__(
        self,
        *,
        step: Step,
        context: PickerContext,
        data=None,
        initial: dict | None = None,
        readonly: frozenset[str] = frozenset(),
        prefix: str = "",
        show_errors: bool = True,
    ):
        super().__init__(data=data, initial=_initial_flat(step, initial), prefix=prefix or None)
        self.step = step
        self.context = context
        self.show_errors = show_errors
        self.cell_errors: dict[str, dict[tuple[int, str], list[str]]] = defaultdict(lambda: defaultdict(list))
        self.params: dict[str, Param] = {}  # form field name -> parameter (object children: "parent.child")
        self._table_rows: dict[str, TableRows] = {}
        for param in step.params:
            for target in param.children if param.kind == OBJECT else [param]:
                self.params[target.path] = target
                form_field = _form_field(target)
                form_field.disabled = param.name in readonly or target.path in readonly
                self.fields[target.path] = form_field
        self._objects = {param.name: param for param in step.params if param.kind == OBJECT}
        self._choices_cache: dict[str, list[Choice]] = {}

    # --- validation ---

    def clean(self):
        cleaned = super().clean()
        for name, param in self.params.items():
            if param.kind == TABLE and isinstance(cleaned.get(name), TableRows):
                self._table_rows[name] = cleaned[name]
        values = self._values(cleaned)  # before a read-only error takes its field out of cleaned_data
        self._readonly_check()
        self.add_value_errors(_step_errors(self.step, values, self.context))
        return cleaned

    def _posted(self, name: str) -> bool:
        html = self.add_prefix(name)
        return any(isinstance(key, str) and (key == html or key.startswith(f"{html}-")) for key in self.data)

    def _readonly_check(self) -> None:
        for name, form_field in self.fields.items():
            if not form_field.disabled or not self._posted(name):
                continue
            posted = form_field.clean(
                form_field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            )
            kept = form_field.clean(self.get_initial_for_field(form_field, name))
            if not _same(_plain(posted), _plain(kept)):
                self.add_error(name, ValidationError("is read-only; it cannot be changed here", code="readonly"))

    @property
    def readonly_violated(self) -> bool:
        """A read-only field was POSTed with another value than it has (the edit page answers 400)."""
        return self.is_bound and any(self.has_error(name, "readonly") for name in self.fields)

    def _values(self, cleaned: dict) -> dict:
        values: dict[str, object] = {}
        for param in self.step.params:
            if param.kind == OBJECT:
                children = {
                    child.name: cleaned[child.path]
                    for child in param.children
                    if child.path in cleaned and not _empty(cleaned[child.path])
                }
                if children:
                    values[param.name] = children
                continue
            value = cleaned.get(param.name)
            if _empty(value):
                continue
            values[param.name] = [dict(row) for row in value] if param.kind == TABLE else value
        return values

    def add_value_errors(self, errors: dict[str, list[str]]) -> None:
        """Attach ``values_validate``-style errors (also a service's ``ValuesInvalid.errors``) to the fields of
        this step; ``""`` becomes a form error, paths of other steps are left out."""
        if not self.is_bound:
            raise ValueError("errors can only be added to a bound form")
        for path, messages in errors.items():
            for message in messages:
                self._attach(path, message)

    def _add(self, name: str | None, message: str, code: str | None = None) -> None:
        if self._errors is not None:
            current = self._errors.get(name or NON_FIELD_ERRORS)
            if current is not None and message in current:
                return
        self.add_error(name, ValidationError(message, code=code))

    def _attach(self, path: str, message: str) -> None:
        if self._errors is None:
            self.full_clean()
        root = _root(path)
        if path == "":
            self._add(None, message)
            return
        if root in self._objects:
            child = path[len(root) + 1 :] if path.startswith(f"{root}.") else ""
            child = _root(child)
            if child and f"{root}.{child}" in self.fields:
                self._add(f"{root}.{child}", message)
            else:
                self._add(None, f"{self._objects[root].label}: {message}")
            return
        param = self.params.get(root)
        if param is None:
            return
        index_match = re.match(rf"{re.escape(root)}\[(\d+)\](?:\.(\w+))?", path)
        if param.kind == TABLE and index_match:
            rows = self._table_rows.get(root)
            index = int(index_match[1])
            screen = rows.screen_rows[index] if rows is not None and index < len(rows.screen_rows) else index
            column = next((child for child in param.children if child.name == index_match[2]), None)
            if column is not None:
                cell = self.cell_errors[root][(screen, column.name)]
                if message not in cell:
                    cell.append(message)
                self._add(root, f"Row {screen + 1}, {column.label}: {message}", code="cell")
            else:
                self._add(root, f"Row {screen + 1}: {message}")
        elif param.kind in _LIST_KINDS and index_match:
            self._add(root, f"Item {int(index_match[1]) + 1}: {message}")
        else:
            self._add(root, message)

    # --- table rows ---

    def table_action_data(self, action: str) -> QueryDict | dict | None:
        """The POSTed data changed by a table button: ``add:<input name>`` appends a blank row,
        ``remove:<input name>:<row>`` drops that row and moves the rows below up. None for any other action."""
        match = re.fullmatch(r"(add|remove):([\w.-]+?)(?::(\d{1,5}))?", action or "")
        if not match or self.data is None:
            return None
        verb, html, row = match[1], match[2], match[3]
        name = next(
            (name for name, p in self.params.items() if p.kind == TABLE and self.add_prefix(name) == html), None
        )
        if name is None or (verb == "remove") != (row is not None):
            return None
        widget = self.fields[name].widget
        count = widget.row_count(self.data, html)
        data = self.data.copy()
        if verb == "add":
            data[f"{html}-rows"] = str(min(count + 1, widget.max_rows))
            return data
        removed = int(row)
        cell = re.compile(rf"{re.escape(html)}-(\d+)-(\w+)")
        for key in list(data.keys()):
            match = cell.fullmatch(key)
            if match and int(match[1]) >= removed:
                values = data.getlist(key) if isinstance(data, QueryDict) else [data[key]]
                del data[key]
                if int(match[1]) > removed:
                    moved = f"{html}-{int(match[1]) - 1}-{match[2]}"
                    if isinstance(data, QueryDict):
                        data.setlist(moved, values)
                    else:
                        data[moved] = values[0]
        data[f"{html}-rows"] = str(max(count - 1, 0))
        return data

    # --- drawing ---

    def _shown_errors(self, name: str | None) -> list[str]:
        if not self.is_bound or not self.show_errors:
            return []
        errors = self.errors.as_data().get(name or NON_FIELD_ERRORS, [])
        return [message for error in errors if error.code != "cell" for message in error.messages]

    @property
    def form_errors(self) -> list[str]:
        return self._shown_errors(None)

    def _raw(self, name: str) -> object:
        form_field = self.fields[name]
        if self.is_bound and not form_field.disabled:
            return form_field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        return self.get_initial_for_field(form_field, name)

    def _choices(self, param: Param, current: Iterable[str]) -> list[Choice]:
        if param.path not in self._choices_cache:
            if param.kind in (SELECT, CHECKBOXES):
                self._choices_cache[param.path] = [Choice(str(value), str(value)) for value in param.enum]
            else:
                self._choices_cache[param.path] = _choices(param, self.context)
        choices = [Choice(choice.value, choice.label) for choice in self._choices_cache[param.path]]
        known = {choice.value for choice in choices}
        # a value that is no longer offered (a team since removed) stays visible, and values_validate says why
        choices += [Choice(value, value) for value in current if value and value not in known]
        return choices

    def _view(self, name: str, param: Param) -> FieldView:
        html = self.add_prefix(name)
        view = FieldView(
            template=f"dataproducts/widgets/{_WIDGET_TEMPLATES[param.kind]}.html",
            kind=param.kind,
            name=html,
            id=f"id_{html}",
            label=param.label,
            required=param.required,
            disabled=self.fields[name].disabled,
            value=None,
            errors=self._shown_errors(name),
            description=param.schema.get("description") or "",
            help=param.schema.get("ui:help") or "",
        )
        raw = self._raw(name)
        schema = param.schema
        if param.kind in (TEXT, PASSWORD, TEXTAREA):
            view.value = _text(raw)
            view.input_type = "password" if param.kind == PASSWORD else "text"
            view.attrs = {"maxlength": schema.get("maxLength", MAX_STRING_LENGTH)}
            if "minLength" in schema:
                view.attrs["minlength"] = schema["minLength"]
            if schema.get("ui:placeholder"):
                view.attrs["placeholder"] = schema["ui:placeholder"]
            if param.kind == PASSWORD:
                view.attrs["autocomplete"] = "new-password"
            if param.name == "name" and "title" in self.params and "pattern" in schema and not view.disabled:
                # static/js/wizard.js suggests the name from the title as the person types it
                view.attrs["data-suggest-from"] = f"id_{self.add_prefix('title')}"
        elif param.kind in (NUMBER, INTEGER):
            view.value = _text(raw)
            view.input_type = "number"
            view.attrs = _number_attrs(schema)
        elif param.kind in (SELECT, ENTITY, OWNER, DOMAIN):
            view.value = _text(raw)
            view.choices = self._choices(param, [view.value])
            for choice in view.choices:
                choice.checked = choice.value == view.value
        elif param.kind == BOOLEAN:
            view.value = raw is True or raw in ("on", "true", "True")
        elif param.kind in (CHECKBOXES, COMPONENTS):
            selected = [_text(item) for item in (raw if isinstance(raw, list | tuple) else [raw] if raw else [])]
            view.value = selected
            view.choices = self._choices(param, selected)
            for index, choice in enumerate(view.choices):
                choice.id = f"{view.id}_{index}"
                choice.checked = choice.value in selected
        elif param.kind == LINES:
            view.value = "\n".join(_text(item) for item in raw) if isinstance(raw, list | tuple) else _text(raw)
        elif param.kind == TABLE:
            self._table_view(view, name, param, raw)
        return view

    def _table_view(self, view: FieldView, name: str, param: Param, raw: object) -> None:
        rows = [row for row in raw if isinstance(row, dict)] if isinstance(raw, list) else []
        if not self.is_bound or view.disabled:
            # a new table shows the rows it needs at least, and one to start typing in
            rows += [{}] * max(param.schema.get("minItems", 0) - len(rows), 0 if rows else 1)
        view.columns = [
            {
                "name": column.name,
                "label": column.label,
                "required": column.required,
                "description": column.schema.get("description") or "",
            }
            for column in param.children
        ]
        cell_errors = self.cell_errors.get(name, {}) if self.show_errors and self.is_bound else {}
        view.rows = [
            {
                "number": index + 1,
                "remove": f"remove:{view.name}:{index}",
                "cells": [
                    self._cell_view(
                        view,
                        column,
                        index,
                        row.get(column.name),
                        cell_errors.get((index, column.name)),
                        rules=param.rules,
                    )
                    for column in param.children
                ],
            }
            for index, row in enumerate(rows)
        ]
        view.rows_name = f"{view.name}-rows"
        view.add_action = f"add:{view.name}"
        view.can_add = not view.disabled and len(rows) < self.fields[name].widget.max_rows - 1

    def _cell_view(
        self,
        view: FieldView,
        column: Param,
        index: int,
        value: object,
        errors: list | None,
        *,
        rules: list[RowRule] = (),
    ) -> dict:
        cell_id = f"{view.id}-{index}-{column.name}"
        errors = list(errors or [])
        label = f"Row {index + 1}, {column.label}"
        if column.kind in (NUMBER, INTEGER):
            attrs = _number_attrs(column.schema)
        elif column.kind == TEXT:
            attrs = {"maxlength": column.schema.get("maxLength", MAX_STRING_LENGTH)}
        else:
            attrs = {}
        attrs |= _rule_attrs(column.name, rules, row_prefix=f"{view.name}-{index}-")
        aria = {
            "aria-describedby": f"{cell_id}_errors" if errors else "",
            "aria-invalid": "true" if errors else "",
            "aria-required": "true" if column.required and column.kind != BOOLEAN else "",
        }
        cell = {
            "id": cell_id,
            "name": f"{view.name}-{index}-{column.name}",
            "label": label,
            "kind": {BOOLEAN: "checkbox", SELECT: "select"}.get(column.kind, "input"),
            "input_type": "number" if column.kind in (NUMBER, INTEGER) else "text",
            "attrs": _attrs_html({**aria, **attrs}, disabled=view.disabled),
            "value": (value is True or value in ("on", "true")) if column.kind == BOOLEAN else _text(value),
            "errors": errors,
            "errors_id": f"{cell_id}_errors",
        }
        if column.kind == SELECT:
            options = [str(option) for option in column.enum]
            if cell["value"] and cell["value"] not in options:
                options.append(cell["value"])  # shown as sent, so the error beside it makes sense
            cell["choices"] = [Choice(option, option, checked=option == cell["value"]) for option in options]
        return cell

    @property
    def field_views(self) -> list[FieldView]:
        """The fields in the order of the schema; an object is one view whose ``children`` are its inputs."""
        views = []
        for param in self.step.params:
            if param.kind == OBJECT:
                html = self.add_prefix(param.name)
                group = FieldView(
                    template="dataproducts/widgets/object.html",
                    kind=OBJECT,
                    name=html,
                    id=f"id_{html}",
                    label=param.label,
                    required=param.required,
                    disabled=False,
                    value=None,
                    errors=[],
                    description=param.schema.get("description") or "",
                    help=param.schema.get("ui:help") or "",
                    children=[self._view(child.path, child) for child in param.children],
                )
                views.append(group)
            else:
                views.append(self._view(param.name, param))
        return views


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _rule_attrs(name: str, rules: Iterable[RowRule], *, row_prefix: str) -> dict:
    """The data- attributes with which static/js/wizard.js shows a cell only for the values of the column it
    depends on (Length for CHAR and VARCHAR) and marks it required for them; without JavaScript every cell shows
    and the server says what is missing."""
    applies = [value for rule in rules if name in rule.only for value in rule.values]
    needed = [value for rule in rules if name in rule.required for value in rule.values]
    watched = next((rule.column for rule in rules if name in rule.only or name in rule.required), None)
    if watched is None:
        return {}
    return {
        "data-depends-on": f"{row_prefix}{watched}",
        "data-applies-to": json.dumps(applies) if applies else "",
        "data-required-for": json.dumps(needed) if needed else "",
    }


def _number_attrs(schema: dict) -> dict:
    attrs: dict[str, object] = {}
    if _is_number(schema.get("minimum")):
        attrs["min"] = schema["minimum"]
    if _is_number(schema.get("maximum")):
        attrs["max"] = schema["maximum"]
    if _is_number(schema.get("multipleOf")):
        attrs["step"] = schema["multipleOf"]
    else:
        attrs["step"] = 1 if schema.get("type") == "integer" else "any"
    return attrs


def _plain(value: object) -> object:
    if isinstance(value, TableRows):
        return [dict(row) for row in value]
    return value


def _choices(param: Param, context: PickerContext) -> list[Choice]:
    options = param.schema.get("ui:options") or {}
    return [
        Choice(choice.value, choice.label)
        for choice in pickers.picker_choices(picker=param.kind, options=options, context=context)
    ]


def _initial_flat(step: Step, initial: dict | None) -> dict:
    """Form initial values keyed by form field: the given values, else the schema's defaults."""
    given = initial or {}
    flat: dict[str, object] = {}
    for param in step.params:
        if param.kind == OBJECT:
            given_object = given.get(param.name) if isinstance(given.get(param.name), dict) else None
            default_object = param.schema.get("default") if isinstance(param.schema.get("default"), dict) else {}
            for child in param.children:
                if given_object is not None and child.name in given_object:
                    flat[child.path] = given_object[child.name]
                elif child.name in default_object:
                    flat[child.path] = default_object[child.name]
        elif param.name in given:
            flat[param.name] = given[param.name]
        elif "default" in param.schema:
            flat[param.name] = param.schema["default"]
    return flat


def step_form(
    step: dict,
    *,
    context: PickerContext,
    data=None,
    initial: dict | None = None,
    readonly: frozenset[str] = frozenset(),
    prefix: str = "",
    show_errors: bool = True,
) -> StepForm:
    """The Django form of one step of ``spec.parameters`` (a JSON Schema object). ``initial`` holds values as
    ``values_validate`` takes them (objects nested, tables as lists of dicts); the schema's defaults fill the
    rest. Raises ``TemplateError`` when the step uses what Meshforge does not support."""
    steps = _steps([step])
    return StepForm(
        step=steps[0],
        context=context,
        data=data,
        initial=initial,
        readonly=readonly,
        prefix=prefix,
        show_errors=show_errors,
    )


def form_values(form: StepForm) -> dict:
    """The typed values of a bound, valid step form: objects rebuilt, table rows as a list of dicts, empty
    fields (and blank table rows) omitted; booleans are always there."""
    if not form.is_valid():
        raise ValueError("form_values needs a valid form; check form.is_valid() first")
    return form._values(form.cleaned_data)


def form_summary(form: StepForm) -> list[dict]:
    """What a valid step holds, for the review page: ``{"label", "text"}`` per field, or ``{"label",
    "columns", "rows"}`` for a table; passwords are masked."""
    values = form_values(form)
    summary = []
    for param in form.step.params:
        value = values.get(param.name)
        if param.kind == TABLE:
            columns = [column.label for column in param.children]
            rows = [[_text(row.get(column.name)) for column in param.children] for row in value or []]
            summary.append({"label": param.label, "columns": columns, "rows": rows, "text": "" if rows else "—"})
        elif param.kind == OBJECT:
            for child in param.children:
                child_value = (value or {}).get(child.name)
                summary.append({"label": f"{param.label} · {child.label}", "text": _summary_text(child, child_value)})
        else:
            summary.append({"label": param.label, "text": _summary_text(param, value)})
    return summary


def _summary_text(param: Param, value: object) -> str:
    if value is None:
        return "—"
    if param.kind == PASSWORD:
        return "•" * 8
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value) or "—"
    return _text(value)
