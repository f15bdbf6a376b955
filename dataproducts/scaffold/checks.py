"""The one check of a template (PRODUCT §4.1): what a Template or EditTemplate document must hold beyond the
catalog's entity rules (its type, mesh ids, identity parameters and their pickers, an edit's fields), with
``spec.parameters`` judged by ``scaffold.parameters``, the same check the forms use."""

from __future__ import annotations

import json
import re

from core.problems import Problem, Problems, messages
from dataproducts.scaffold.parameters import TEMPLATE_CODE, Declaration, parameters_parse
from dataproducts.scaffold.rendering import extension_keys

__all__ = ["IDENTITY_PATHS", "TEMPLATE_TYPES", "template_check", "template_problems"]

TEMPLATE_TYPES = ("dataproduct", "outputport", "workload", "storage", "observability")
# Never editable (§4.1): they make up the entity's identity and its place in the data product. apiVersion and
# kind are the envelope; an edit that rewrote them would turn the file into another kind of entity.
IDENTITY_PATHS = (
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "spec.domain",
    "spec.owner",
    "spec.system",
    "spec.type",
    "spec.mesh.id",
)

_FIELD_PATH_RE = re.compile(r"(metadata|spec)(\.[A-Za-z_][A-Za-z0-9_-]*)+")
_DATA_PRODUCT_PARAMETERS = {"name": None, "domain": "DomainPicker", "owner": "OwnerPicker"}


def template_problems(document: dict) -> list[str]:
    """Every problem of a Template or EditTemplate document (§4.1) that the catalog's entity rules do not see,
    as ``"path: message"``; empty when the template can be offered: the texts of :func:`template_check`."""
    return messages(template_check(document))


def template_check(document: object) -> list[Problem]:
    """Every problem of a Template or EditTemplate document that the catalog's entity rules do not see, all
    errors coded ``template``; empty when the template can be offered."""
    problems = Problems(code=TEMPLATE_CODE)
    if not isinstance(document, dict):
        problems.add("document", "must be an object")
        return list(problems)
    kind = document.get("kind")
    spec = document.get("spec")
    if kind not in ("Template", "EditTemplate"):
        problems.add("kind", f"{_shown(kind)} is not a template; expected Template or EditTemplate")
        return list(problems)
    if not isinstance(spec, dict):
        problems.add("spec", "must be an object")
        return list(problems)

    for path in extension_keys(spec, ""):
        problems.add(f"spec.{path}", "is not allowed; templates may not load Jinja extensions")
    template_type = spec.get("type")
    if template_type is not None and template_type not in TEMPLATE_TYPES:
        allowed = ", ".join(TEMPLATE_TYPES)
        problems.add("spec.type", f"{_shown(template_type)} is not allowed; expected one of {allowed}")
    elif template_type is None and kind == "Template":
        problems.add("spec.type", "is required")
    declared = _parameters_check(spec.get("parameters"), problems)

    if kind == "Template":
        mesh = spec.get("mesh")
        if not isinstance(mesh, dict):
            problems.add("spec.mesh", "is required, with useCaseTemplateId")
            mesh = {}
        needed = ["useCaseTemplateId"]
        if template_type in TEMPLATE_TYPES and template_type != "dataproduct":
            needed.append("infrastructureTemplateId")
        for field in needed:
            if not isinstance(mesh.get(field), str) or not mesh.get(field):
                problems.add(f"spec.mesh.{field}", "is required (a non-empty string)")
        expected = _DATA_PRODUCT_PARAMETERS if template_type == "dataproduct" else {"name": None}
        if template_type in TEMPLATE_TYPES:
            for name, ui_field in expected.items():
                if name not in declared:
                    problems.add(
                        "spec.parameters", f"a template of type {template_type} must declare the parameter {name}"
                    )
                    continue
                if not declared[name].required:
                    problems.add(declared[name].path, "must be listed in its step's required")
                if ui_field is not None and declared[name].schema.get("ui:field") != ui_field:
                    problems.add(f"{declared[name].path}.ui:field", f"must be {ui_field}")
    else:
        if not isinstance(spec.get("useCaseTemplateId"), str) or not spec.get("useCaseTemplateId"):
            problems.add("spec.useCaseTemplateId", "is required (a non-empty string)")
        _check_fields(spec.get("fields"), declared, problems)
    return list(problems)


def _parameters_check(parameters: object, problems: Problems) -> dict[str, Declaration]:
    """Add the problems of ``spec.parameters`` (``parameters_parse``, the check the forms use) and a template's
    one rule beyond it: every step has a title, which the wizard lists (a form only needs it to be text). Returns
    the parameters declared with a schema, by name."""
    parsed = parameters_parse(parameters)
    problems.extend(parsed.problems)
    for index, step in enumerate(parameters if isinstance(parameters, list) else []):
        if isinstance(step, dict) and step.get("title", "") == "":
            problems.add(f"spec.parameters[{index}].title", "is required (a non-empty string)")
    return {name: declaration for name, declaration in parsed.declared.items() if isinstance(declaration.schema, dict)}


def _check_fields(fields: object, parameters: dict[str, Declaration], problems: Problems) -> None:
    if not isinstance(fields, dict) or not fields:
        problems.add("spec.fields", "must map each parameter to a dotted path (or a list of them) in the entity")
        return
    written: dict[str, str] = {}
    for name, target in fields.items():
        path = f"spec.fields.{name}"
        if name not in parameters:
            problems.add(path, f"{_shown(name)} is not a declared parameter")
        targets = target if isinstance(target, list) else [target]
        if not targets:
            problems.add(path, "must name at least one path")
        for position, field_path in enumerate(targets):
            item_path = f"{path}[{position}]" if isinstance(target, list) else path
            if not isinstance(field_path, str) or not _FIELD_PATH_RE.fullmatch(field_path):
                problems.add(
                    item_path,
                    f"{_shown(field_path)} is not a dotted path under metadata or spec, such as metadata.description",
                )
                continue
            identity = next((path for path in IDENTITY_PATHS if _paths_overlap(field_path, path)), None)
            if identity is not None:
                problems.add(item_path, f"{field_path} may not be edited; it would change {identity}")
                continue
            overlapping = next((path for path in written if _paths_overlap(field_path, path)), None)
            if overlapping is not None:
                problems.add(item_path, f"{field_path} overlaps {overlapping}, which {written[overlapping]} writes")
                continue
            written[field_path] = name
    for name, declaration in parameters.items():
        if name not in fields:
            problems.add(declaration.path, "is not mapped to a path in spec.fields")


def _paths_overlap(first: str, second: str) -> bool:
    return first == second or first.startswith(second + ".") or second.startswith(first + ".")


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
