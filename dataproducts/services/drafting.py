"""What creating a data product, adding a component and editing share: a template usable here, values that
satisfy it, and (for creation) its skeleton rendered into files whose ``catalog-info.yaml`` holds the expected
entity."""

from __future__ import annotations

import re

from django.conf import settings

from catalog.models import Entity
from catalog.readers import ReadError
from catalog.refs import RefError, parse_ref
from catalog.selectors import entity_source_files
from catalog.validation import validate_entity
from core.yaml import YamlError, load_all
from dataproducts.exceptions import TemplateError, ValuesInvalid
from dataproducts.layout import CATALOG_FILE, environment_file
from dataproducts.scaffold.checks import template_problems
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.scaffold.rendering import TemplateRenderError, skeleton_render
from dataproducts.scaffold.values import values_validate

INITIAL_VERSION = "0.0.0"
_SLUG_RE = re.compile(r"[a-z][a-z0-9-]{1,38}[a-z0-9]")


def template_check(template: Entity, *, kind: str, types: frozenset[str]) -> None:
    """Only a template of ``kind`` from a trusted location, of one of ``types``, without problems, is used."""
    if template.kind.lower() != kind or template.location is None or not template.location.trusted:
        raise TemplateError(f"{template.ref} is not a {kind} from a trusted location")
    template_type = template.spec.get("type")
    if template_type not in types:
        raise TemplateError(f"template {template.name}: spec.type {template_type!r} cannot be used here")
    problems = template_problems(template.document)
    if problems:
        raise TemplateError(f"template {template.name}: {problems[0]}")


def values_check(template: Entity, values: object, *, context: PickerContext) -> dict:
    if not isinstance(values, dict):
        raise ValuesInvalid({"": ["must be an object of parameter values"]})
    errors = values_validate(template.spec.get("parameters") or [], values, context=context)
    if errors:
        raise ValuesInvalid(errors)
    return values


def slug_check(name: object) -> str:
    """A data product's or component's name, as its identifier takes it."""
    if not isinstance(name, str) or not _SLUG_RE.fullmatch(name):
        raise ValuesInvalid({"name": ["must be 3 to 40 characters of a-z, 0-9 and '-', starting with a letter"]})
    return name


def ref_name(value: str, kind: str, field_name: str) -> str:
    try:
        parsed = parse_ref(value, default_kind=kind)
    except (RefError, TypeError) as exc:
        raise ValuesInvalid({field_name: [f"{value!r} is not a {kind} reference"]}) from exc
    if parsed.kind.lower() != kind:
        raise ValuesInvalid({field_name: [f"{value!r} is not a {kind} reference"]})
    return parsed.name.lower()


def short_ref(key: str) -> str:
    """``group:default/finance`` → ``group:finance`` (the form written in files)."""
    kind, _, rest = key.partition(":")
    namespace, _, name = rest.partition("/")
    return f"{kind}:{name}" if namespace == "default" else key


def username_of(actor) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else "meshforge"


def _skeleton(template: Entity) -> dict[str, bytes]:
    try:
        return entity_source_files(entity=template, folder="skeleton")
    except ReadError as exc:
        raise TemplateError(f"template {template.name}: cannot read its skeleton: {exc}") from exc


def files_render(template: Entity, values: dict, meta: dict) -> dict[str, str]:
    """Render the skeleton and add the environment files the template did not write."""
    try:
        files = skeleton_render(files=_skeleton(template), values=values, meta=meta, template_name=template.name)
    except TemplateRenderError as exc:
        raise TemplateError(str(exc)) from exc
    if CATALOG_FILE not in files:
        raise TemplateError(f"template {template.name}: its skeleton writes no {CATALOG_FILE}")
    for environment in settings.MESHFORGE_ENVIRONMENTS:
        files.setdefault(
            environment_file(environment),
            f"# Values for {environment}, deep-merged into spec.mesh.specific of the descriptor.\n{{}}\n",
        )
    return files


def rendered_entity_check(template: Entity, text: str, *, kind: str, name: str) -> list:
    """The rendered catalog-info.yaml must hold a valid entity of the expected kind and name."""
    try:
        documents = load_all(text, source=CATALOG_FILE)
    except YamlError as exc:
        raise TemplateError(f"template {template.name}: {CATALOG_FILE} does not render valid YAML: {exc}") from exc
    for document in documents:
        problems = validate_entity(document, source=CATALOG_FILE)
        if problems:
            raise TemplateError(f"template {template.name} renders an invalid entity: {problems[0]}")
    if not any(
        isinstance(d, dict) and str(d.get("kind", "")).lower() == kind and (d.get("metadata") or {}).get("name") == name
        for d in documents
    ):
        raise TemplateError(f"template {template.name}: {CATALOG_FILE} does not define {kind} {name}")
    return documents
