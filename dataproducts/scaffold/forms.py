"""The Django form of a template's form step (PRODUCT §4.1): :class:`StepForm`, its fields and widgets, and the
:class:`FieldView` each widget template draws. The fields only turn what the browser sent into typed values;
every rule is judged by ``scaffold.values.values_validate``, so the wizard, the API and the command agree."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from dataproducts.scaffold import pickers
from dataproducts.scaffold.parameters import (
    BOOLEAN,
    CHECKBOXES,
    COMPONENTS,
    DOMAIN,
    ENTITY,
    INTEGER,
    LINES,
    LIST_KINDS,
    MAX_ITEMS,
    MAX_STRING_LENGTH,
    NUMBER,
    OBJECT,
    OWNER,
    PASSWORD,
    SELECT,
    TABLE,
    TEXT,
    TEXTAREA,
    Param,
    RowRule,
    Step,
    is_count,
    is_number,
    steps_parse,
)
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.scaffold.values import path_root, step_errors

__all__ = ["FieldView", "StepForm", "form_summary", "form_values", "step_form"]

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
        max_rows = min(max_rows, MAX_ITEMS) if is_count(max_rows) else MAX_ITEMS
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
        self.add_value_errors(step_errors(self.step, values, self.context))
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
        root = path_root(path)
        if path == "":
            self._add(None, message)
            return
        if root in self._objects:
            child = path[len(root) + 1 :] if path.startswith(f"{root}.") else ""
            child = path_root(child)
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
        elif param.kind in LIST_KINDS and index_match:
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
    if is_number(schema.get("minimum")):
        attrs["min"] = schema["minimum"]
    if is_number(schema.get("maximum")):
        attrs["max"] = schema["maximum"]
    if is_number(schema.get("multipleOf")):
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
    steps = steps_parse([step])
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
