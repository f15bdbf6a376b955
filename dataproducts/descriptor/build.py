"""Assembly of the Data Product Specification (DPS) descriptor (PRODUCT §4.3): one data product in one
environment, from the processed catalog documents of its System and Components and their environment
configuration. Pure functions: no database, no Git."""

from __future__ import annotations

import copy

from catalog.refs import RefError, parse_dp_entity_name, parse_ref
from dataproducts.descriptor.validate import DATA_PRODUCT_KIND

__all__ = ["TAG_LABEL_SOURCE", "descriptor_build"]

# The order of the well-known fields in a built descriptor (PRODUCT §4.3); other spec.mesh keys follow as written.
_DP_FIELD_ORDER = (
    "id",
    "name",
    "fullyQualifiedName",
    "description",
    "kind",
    "domain",
    "version",
    "environment",
    "dataProductOwner",
    "ownerGroup",
    "devGroup",
    "informationSLA",
    "status",
    "maturity",
    "billing",
    "tags",
    "specific",
)
_COMPONENT_FIELD_ORDER = (
    "id",
    "name",
    "fullyQualifiedName",
    "description",
    "kind",
    "version",
    "infrastructureTemplateId",
    "useCaseTemplateId",
    "dependsOn",
)

# The tag label Meshforge writes for a plain tag. The DPS specification's source is Tag|Glossary, but the pydantic
# models of the public Witboost tech adapters accept only Classification|Glossary (OpenMetadata's current name):
# an emitted descriptor must pass the adapters, and the lenient reader still accepts Tag.
TAG_LABEL_SOURCE = "Classification"
# A workload that does not say how it connects is a data pipeline, as every built-in workload is.
_DEFAULT_CONNECTION_TYPE = "DataPipeline"


def descriptor_build(
    *, system: dict, components: list[dict], environment: str, configurations: dict[str, dict] | None = None
) -> dict:
    """The DPS descriptor of one data product in ``environment``, from the processed catalog documents of its
    System and its Components (the caller picks the Components of this System).

    Each entity's ``spec.mesh`` is copied as written; the fields Meshforge derives (PRODUCT §3.3) are filled in
    when absent, ``environment`` is always the argument. ``configurations`` maps an entity's ``metadata.name`` to
    its ``environments/<env>/configurations.yaml``, deep-merged into that entity's ``specific``: mappings merge
    key by key, anything else replaces. Components are ordered by id. The inputs are never changed.
    """
    configurations = configurations or {}
    metadata, spec, mesh = _entity_parts(system)
    identity = parse_dp_entity_name(metadata.get("name"))

    derived: dict[str, object] = {"kind": DATA_PRODUCT_KIND}
    if identity is not None:
        derived["id"] = identity.urn
        derived["domain"] = identity.domain
    else:
        domain = _ref_name(spec.get("domain"), "domain")
        if domain is not None:
            derived["domain"] = domain
    name = _default_name(metadata, identity.name if identity is not None else None)
    if name is not None:
        derived["name"] = name
    if isinstance(metadata.get("description"), str):
        derived["description"] = metadata["description"]
    owner_group = _ref_name(spec.get("owner"), "group")
    if owner_group is not None:
        derived["ownerGroup"] = owner_group
        derived["devGroup"] = owner_group
    derived["specific"] = {}

    fields = _with_defaults(mesh, derived)
    fields["tags"] = _tag_labels(mesh.get("tags"), metadata.get("tags"))
    fields["devGroup"] = _group_name(fields.get("devGroup"))
    fields.pop("components", None)  # the assembled list below is the only truth about components
    fields["environment"] = environment
    _merge_configuration(fields, configurations, metadata.get("name"))
    descriptor = _ordered(fields, _DP_FIELD_ORDER)

    built = [_component_build(component, configurations) for component in components]
    descriptor["components"] = sorted(
        built, key=lambda item: (not isinstance(item.get("id"), str), str(item.get("id")))
    )
    return descriptor


def _component_build(component: dict, configurations: dict[str, dict]) -> dict:
    metadata, spec, mesh = _entity_parts(component)
    identity = parse_dp_entity_name(metadata.get("name"), component=True)
    derived: dict[str, object] = {}
    if identity is not None:
        derived["id"] = identity.urn
    name = _default_name(metadata, identity.component if identity is not None else None)
    if name is not None:
        derived["name"] = name
    if isinstance(metadata.get("description"), str):
        derived["description"] = metadata["description"]
    if isinstance(spec.get("type"), str):
        derived["kind"] = spec["type"]
    derived["dependsOn"] = []
    kind = str(mesh.get("kind", spec.get("type"))).lower()
    # What the DPS and the tech adapters require of a kind, with the value a new component means: a workload reads
    # from nothing yet and is a data pipeline; an output port has no semantic links yet.
    if kind == "workload":
        derived["readsFrom"] = []
        derived["connectionType"] = _DEFAULT_CONNECTION_TYPE
    elif kind == "outputport":
        derived["semanticLinking"] = []
    derived["specific"] = {}
    fields = _with_defaults(mesh, derived)
    fields["tags"] = _tag_labels(mesh.get("tags"), metadata.get("tags"))
    if fields.get("semanticLinking") == {}:
        fields["semanticLinking"] = []  # the CUE's empty object; the adapters take a list
    _merge_configuration(fields, configurations, metadata.get("name"))
    return _ordered(fields, _COMPONENT_FIELD_ORDER)


def _tag_labels(written: object, names: object) -> object:
    """The ``tags`` of a descriptor: the labels ``spec.mesh.tags`` writes, then one label per ``metadata.tags``
    name not among them, so the tags people edit on the entity reach the descriptor. A plain string becomes a
    label; anything else is kept as written for validation to report."""
    if written is None:
        written = []
    if not isinstance(written, list):
        return copy.deepcopy(written)
    labels = [_tag_label(tag) if isinstance(tag, str) else copy.deepcopy(tag) for tag in written]
    present = {label.get("tagFQN") for label in labels if isinstance(label, dict)}
    for name in names if isinstance(names, list) else []:
        if isinstance(name, str) and name not in present:
            labels.append(_tag_label(name))
            present.add(name)
    return labels


def _tag_label(name: str) -> dict:
    """An OpenMetadata tag label for a plain tag, as a person attached it."""
    return {"tagFQN": name, "source": TAG_LABEL_SOURCE, "labelType": "Manual", "state": "Confirmed"}


def _group_name(value: object) -> object:
    """``devGroup`` in the form of ``ownerGroup``: a ``group:`` ref becomes its name (``group:finance`` →
    ``finance``), as in the DPS example, where both are names. Anything else is kept as written: a user ref or a
    plain name is no group ref to shorten."""
    if not isinstance(value, str) or not value.lower().startswith("group:"):
        return value
    return _ref_name(value, "group") or value


def _entity_parts(document: object) -> tuple[dict, dict, dict]:
    """``metadata``, ``spec`` and ``spec.mesh`` of an entity document, each ``{}`` when missing or not a mapping."""
    document = document if isinstance(document, dict) else {}
    metadata = document.get("metadata")
    spec = document.get("spec")
    metadata = metadata if isinstance(metadata, dict) else {}
    spec = spec if isinstance(spec, dict) else {}
    mesh = spec.get("mesh")
    return metadata, spec, mesh if isinstance(mesh, dict) else {}


def _default_name(metadata: dict, name_part: str | None) -> str | None:
    title = metadata.get("title")
    return title if isinstance(title, str) and title.strip() else name_part


def _ref_name(value: object, default_kind: str) -> str | None:
    """The name of a ref such as ``group:finance`` (``finance``), or None when it does not parse."""
    if not isinstance(value, str):
        return None
    try:
        return parse_ref(value, default_kind=default_kind).name
    except RefError:
        return None


def _with_defaults(mesh: dict, derived: dict[str, object]) -> dict:
    # Derived values fill gaps only: when spec.mesh writes one, catalog validation has made sure it agrees.
    fields = copy.deepcopy(mesh)
    for key, value in derived.items():
        fields.setdefault(key, value)
    return fields


def _merge_configuration(fields: dict, configurations: dict[str, dict], name: object) -> None:
    configuration = configurations.get(name) if isinstance(name, str) else None
    if configuration is not None:  # an empty configurations.yaml loads as None: nothing to merge
        fields["specific"] = _deep_merge(fields.get("specific"), configuration)


def _deep_merge(base: object, overlay: object) -> object:
    """``overlay`` on top of ``base``: mappings merge recursively, lists and scalars replace. Returns a new value;
    ``base`` may be reused (callers pass a copy), ``overlay`` is copied."""
    if not (isinstance(base, dict) and isinstance(overlay, dict)):
        return copy.deepcopy(overlay)
    merged = dict(base)
    for key, value in overlay.items():
        merged[key] = _deep_merge(merged[key], value) if key in merged else copy.deepcopy(value)
    return merged


def _ordered(fields: dict, order: tuple[str, ...]) -> dict:
    result = {key: fields[key] for key in order if key in fields}
    result.update((key, value) for key, value in fields.items() if key not in result)
    return result
