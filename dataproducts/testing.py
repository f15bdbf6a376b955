"""Test builders: data products with components as catalog entities and their projections in milliseconds, for
the many tests that do not test Git or rendering (the few that do keep the real path: template → cookiecutter →
Git → processing, through ``dataproducts.services``).

A builder writes the catalog-info.yaml files the built-in templates would render (one function,
:func:`entity_document`, holds their shape) into a folder on disk, in the Builder's layout (the System and a
Location listing ``components/<slug>/catalog-info.yaml``), and registers it as a trusted ``file`` location, so the
entities and the ``Domain``/``DataProduct``/``Component`` rows come from catalog processing as in production:
validation, relations, the membership rules and ``dataproducts.projections`` all run. What differs from a product
the Builder created: no Git, so no commits, no ``environments/<env>/configurations.yaml`` (the descriptor of such
a product names the missing environment files among its problems), no edits and no component removal through
the services (they raise ``RepositoryNotWritable``), and ``repository_url`` is the file's path.

The folder must lie under ``settings.CATALOG_FILE_ROOTS`` (the ``catalog_files`` fixture of
``dataproducts/tests/conftest.py`` sets one per test)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from catalog.models import Location
from catalog.refs import component_urn, dp_urn, parse_ref
from catalog.selectors import location_child_errors, location_get
from catalog.services import location_refresh, location_register
from core.services import OPERATOR
from core.yaml import dump, load, load_all
from dataproducts import selectors
from dataproducts.demo import BUILTIN_TEMPLATES
from dataproducts.models import Component, DataProduct

CATALOG_FILE = "catalog-info.yaml"
COMPONENTS_FOLDER = "components"
INITIAL_VERSION = "0.0.0"
API_VERSION = "backstage.io/v1alpha1"
_COMPONENT_KINDS = ("outputport", "workload", "storage")

# The values a data product is built with unless told otherwise: those of the tests' ``dp_values``.
DATAPRODUCT_VALUES = {
    "name": "cashflow",
    "title": "Cash flow",
    "description": "Operating cash flows",
    "domain": "domain:finance",
    "owner": "group:finance",
    "maturity": "Strategic",
    "tags": ["finance"],
}

# The platform's domains and the users the personas stand for, as the tests' ``domains`` fixture registers them.
DOMAIN_DOCUMENTS = [
    {"kind": "Domain", "metadata": {"name": "finance", "title": "Finance"}, "spec": {"owner": "group:finance"}},
    {"kind": "Domain", "metadata": {"name": "marketing", "title": "Marketing"}, "spec": {"owner": "group:marketing"}},
    {"kind": "User", "metadata": {"name": "alice"}, "spec": {"profile": {"displayName": "Alice"}, "memberOf": []}},
    {"kind": "User", "metadata": {"name": "bob"}, "spec": {"profile": {"displayName": "Bob"}, "memberOf": []}},
]


class BuildFailed(RuntimeError):
    """Catalog processing did not produce what the builder wrote: the message carries the location's errors."""


# --- the documents ---------------------------------------------------------------------------------------------


def entity_document(*, kind: str, meta: Mapping, values: Mapping) -> dict:
    """The entity that the built-in template of ``kind`` (``dataproduct``, ``outputport``, ``workload``,
    ``storage``) renders from ``meta`` and ``values``, the ``cookiecutter._meta`` and ``cookiecutter._values`` that
    ``dataproducts.services`` passes to the skeleton. The one place that mirrors
    ``builtin_templates/*/skeleton/**/catalog-info.yaml``: a field added there is added here
    (``test_testing_builders`` compares the two)."""
    if kind not in ("dataproduct", *_COMPONENT_KINDS):
        raise ValueError(f"kind: {kind!r} is not a built-in template (dataproduct, {', '.join(_COMPONENT_KINDS)})")
    domain, name, major = meta["domain"], meta["name"], meta["major"]
    title = values.get("title") or ""
    metadata = {"description": values.get("description") or ""}
    spec = {"type": kind, "lifecycle": "experimental", "owner": meta["owner"]}
    if kind == "dataproduct":
        metadata = {"name": meta["entity_name"], "title": title, **metadata, "tags": list(values.get("tags") or [])}
        mesh = {
            "name": title,
            "fullyQualifiedName": f"{domain.capitalize()} - {title} - v{major}",
            "version": meta["version"],
            "dataProductOwner": meta["user_ref"],
            "devGroup": meta["owner"],
            "maturity": values.get("maturity") or "Tactical",
            **({"informationSLA": values["informationSLA"]} if values.get("informationSLA") else {}),
            "tags": [],
            "billing": {},
            "specific": {},
            "useCaseTemplateId": meta["use_case_template_id"],
        }
        return {
            "apiVersion": API_VERSION,
            "kind": "System",
            "metadata": metadata,
            "spec": {**spec, "domain": f"domain:{domain}", "mesh": mesh},
        }
    schema = f"{domain}_{name}_{major}".replace("-", "_")
    mesh = {
        "name": title,
        "fullyQualifiedName": f"{domain.capitalize()} - {name} - v{major} - {title}",
        "kind": kind,
        "version": meta["version"],
        "infrastructureTemplateId": meta["infrastructure_template_id"],
        "useCaseTemplateId": meta["use_case_template_id"],
        "dependsOn": list(meta["depends_on"]),
        "platform": "PostgreSQL",
        "technology": "PostgreSQL",
    }
    if kind == "outputport":
        mesh |= {
            "outputPortType": "SQL",
            "creationDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tags": [],
            "dataContract": {
                "schema": list(values.get("columns") or []),
                "termsAndConditions": values.get("termsAndConditions") or "",
                "SLA": {},
            },
            "dataSharingAgreement": {},
            "semanticLinking": [],
            "specific": {"schema": schema, "view": meta["component"].replace("-", "_")},
        }
    elif kind == "workload":
        mesh |= {
            "workloadType": "batch",
            "connectionType": "DataPipeline",
            "tags": [],
            "readsFrom": [],
            "specific": {"schema": schema, "sql": values.get("sql")},
        }
    else:
        mesh |= {
            "storageType": "Database",
            "tags": [],
            "specific": {"schema": f"{schema}_{meta['component']}".replace("-", "_")},
        }
    metadata = {"name": meta["component_entity_name"], "title": title, **metadata}
    return {
        "apiVersion": API_VERSION,
        "kind": "Component",
        "metadata": metadata,
        "spec": {**spec, "system": meta["system"], "mesh": mesh},
    }


@functools.cache
def template_mesh(kind: str) -> dict:
    """``spec.mesh`` of the built-in template of ``kind`` (its use-case and infrastructure template ids), read
    from the template itself so that the builders follow it."""
    document = load((BUILTIN_TEMPLATES / kind / "template.yaml").read_text(), source=f"{kind}/template.yaml")
    return dict(document["spec"].get("mesh") or {})


def _short_ref(ref: str, kind: str) -> str:
    """``group:default/finance`` → ``group:finance``: the form the templates write."""
    parsed = parse_ref(ref, default_kind=kind)
    return f"{parsed.kind}:{parsed.name}" if parsed.namespace == "default" else parsed.key


def dataproduct_meta(*, values: Mapping, major: int = 0, user: str = "alice") -> dict:
    """The ``cookiecutter._meta`` that ``dataproduct_create`` renders a product with."""
    domain = parse_ref(values["domain"], default_kind="domain").name
    name = values["name"]
    return {
        "kind": "dataproduct",
        "domain": domain,
        "name": name,
        "major": major,
        "entity_name": f"{domain}.{name}.{major}",
        "id": dp_urn(domain, name, major),
        "version": INITIAL_VERSION,
        "owner": _short_ref(values["owner"], "group"),
        "user_ref": f"user:{user}",
        "username": user,
        "use_case_template_id": template_mesh("dataproduct").get("useCaseTemplateId", ""),
    }


def component_meta(*, product: Mapping, kind: str, values: Mapping, user: str = "alice") -> dict:
    """The ``cookiecutter._meta`` that ``component_create`` renders a component of ``product`` with; ``product``
    is a data product's meta (see :func:`dataproduct_meta`)."""
    slug = values["name"]
    mesh = template_mesh(kind)
    return {
        **product,
        "kind": kind,
        "user_ref": f"user:{user}",
        "username": user,
        "use_case_template_id": mesh.get("useCaseTemplateId", ""),
        "infrastructure_template_id": mesh.get("infrastructureTemplateId", ""),
        "component": slug,
        "component_entity_name": f"{product['entity_name']}.{slug}",
        "component_id": component_urn(product["domain"], product["name"], product["major"], slug),
        "system": f"system:{product['entity_name']}",
        "dp_id": product["id"],
        "depends_on": list(values.get("dependsOn") or []),
    }


def _meta_of(data_product: DataProduct) -> dict:
    """A projected product's meta, as ``component_create`` derives it from the row."""
    return {
        "kind": "dataproduct",
        "domain": data_product.domain_name,
        "name": data_product.slug,
        "major": data_product.major,
        "entity_name": data_product.name,
        "id": data_product.dp_id,
        "version": data_product.version or INITIAL_VERSION,
        "owner": _short_ref(data_product.owner_ref, "group"),
    }


def _components_location(entity_name: str, slugs: Iterable[str]) -> dict:
    targets = [f"./{COMPONENTS_FOLDER}/{slug}/{CATALOG_FILE}" for slug in slugs]
    return {
        "apiVersion": API_VERSION,
        "kind": "Location",
        "metadata": {"name": f"{entity_name}.components"},
        "spec": {"targets": targets},
    }


def _write(path: Path, documents: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(dump(document) for document in documents), encoding="utf-8")


def _checked(result_errors: list[str], what: str) -> None:
    if result_errors:
        raise BuildFailed(f"{what}: catalog processing reported {result_errors}")


# --- builders ------------------------------------------------------------------------------------------------


def documents_register(*, root: Path, name: str, documents: Iterable[Mapping]) -> Location:
    """Register ``documents`` (``apiVersion`` filled in) as one trusted file ``<root>/<name>.yaml``."""
    path = root / f"{name}.yaml"
    _write(path, [{"apiVersion": API_VERSION, **document} for document in documents])
    result = location_register(type="file", target=str(path), actor=OPERATOR, trusted=True)
    _checked(result.errors, str(path))
    return result.location


def domains_build(*, root: Path) -> Location:
    """The finance and marketing domains and the users alice and bob, from a trusted location."""
    return documents_register(root=root, name="domains", documents=DOMAIN_DOCUMENTS)


def templates_build(*, root: Path) -> Location:
    """The built-in Template and EditTemplate entities, from a trusted location, without their skeletons: enough
    for what reads a template's parameters or ids (validation, pickers, the lists), not for rendering."""
    folder = root / "templates"
    for source in [BUILTIN_TEMPLATES / CATALOG_FILE, *sorted(BUILTIN_TEMPLATES.glob("*/*template.yaml"))]:
        target = folder / source.relative_to(BUILTIN_TEMPLATES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    result = location_register(type="file", target=str(folder / CATALOG_FILE), actor=OPERATOR, trusted=True)
    _checked(result.errors, "the built-in templates")
    return result.location


def dataproduct_build(
    *, root: Path, user: str = "alice", major: int = 0, components: Iterable[Mapping] = (), **values
) -> DataProduct:
    """A data product as ``dataproduct_create`` makes it from ``values`` (defaults: :data:`DATAPRODUCT_VALUES`)
    for ``user``, with ``components`` (each the values of a component template plus ``kind``, default
    ``outputport``), registered from a trusted file location in one processing run. The product's domain must be
    in the catalog already (:func:`domains_build`) for it to have no errors, as with the Builder."""
    values = {**DATAPRODUCT_VALUES, **values}
    meta = dataproduct_meta(values=values, major=major, user=user)
    folder = root / meta["entity_name"]
    slugs = []
    for component in components:
        component = dict(component)
        kind = component.pop("kind", "outputport")
        part_meta = component_meta(product=meta, kind=kind, values=component, user=user)
        document = entity_document(kind=kind, meta=part_meta, values=component)
        _write(folder / COMPONENTS_FOLDER / component["name"] / CATALOG_FILE, [document])
        slugs.append(component["name"])
    system = entity_document(kind="dataproduct", meta=meta, values=values)
    _write(folder / CATALOG_FILE, [system, _components_location(meta["entity_name"], slugs)])
    result = location_register(type="file", target=str(folder / CATALOG_FILE), actor=OPERATOR, trusted=True)
    _checked(result.errors, meta["entity_name"])
    data_product = selectors.dataproduct_get(name=meta["entity_name"])
    if data_product is None:
        raise BuildFailed(f"catalog processing did not produce the data product {meta['entity_name']}")
    return data_product


def component_build(data_product: DataProduct, *, kind: str = "outputport", user: str = "alice", **values) -> Component:
    """Add a component to a product made by :func:`dataproduct_build`, as ``component_create`` would from the
    component template's ``values`` (``name`` required): its file, the product's Location target, a refresh."""
    data_product = selectors.dataproduct_get(name=data_product.name)
    location = data_product.entity.location
    product_file = Path(location.target)
    if location.type != "file":
        raise ValueError(f"data_product: {data_product.name} was not made by dataproduct_build (not a file location)")
    meta = component_meta(product=_meta_of(data_product), kind=kind, values=values, user=user)
    document = entity_document(kind=kind, meta=meta, values=values)
    _write(product_file.parent / COMPONENTS_FOLDER / values["name"] / CATALOG_FILE, [document])
    documents = load_all(product_file.read_text(encoding="utf-8"), source=str(product_file))
    for entry in documents:
        if entry.get("kind") == "Location":
            relative = f"./{COMPONENTS_FOLDER}/{values['name']}/{CATALOG_FILE}"
            entry["spec"]["targets"] = [*entry["spec"].get("targets", []), relative]
    _write(product_file, documents)
    location_refresh(location=location, actor=OPERATOR)
    component = selectors.component_get(name=meta["component_entity_name"])
    if component is None or component.data_product_id != data_product.pk:
        errors = location_child_errors(location=location)
        raise BuildFailed(f"catalog processing did not add {meta['component_entity_name']}: {list(errors)}")
    return component


def dataproduct_file_edit(data_product: DataProduct, change: Callable[[str], str]) -> DataProduct:
    """Rewrite the catalog file of a product made by :func:`dataproduct_build` with ``change`` (text → text) and
    refresh it, as someone editing the file where it lives would; the product as projected afterwards (None when
    it no longer is one)."""
    location = location_get(pk=data_product.entity.location_id)
    if location.type != "file":
        raise ValueError(f"data_product: {data_product.name} was not made by dataproduct_build (not a file location)")
    path = Path(location.target)
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    location_refresh(location=location, actor=OPERATOR)
    return selectors.dataproduct_get(name=data_product.name)
