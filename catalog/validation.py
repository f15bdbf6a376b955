"""Validation of catalog entities (PRODUCT §3.1: Backstage envelope and kind rules; §3.3: data product rules on
one entity and across the entities of one data product), the relations an entity's spec generates, and the
processed form of an entity that the catalog stores. Pure functions: no database."""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from catalog.refs import (
    DEFAULT_NAMESPACE,
    DataProductUrn,
    EntityRef,
    RefError,
    parse_dp_entity_name,
    parse_ref,
    parse_urn,
    ref_of,
)
from core.text import invisible_character, invisible_problem, reveal_invisible

__all__ = [
    "DATA_PRODUCT_TYPE",
    "entity_relations",
    "is_data_product",
    "is_data_product_component",
    "normalize_entity",
    "validate_data_product",
    "validate_entity",
]

# Every pattern is used with re.fullmatch: "$" would accept a trailing newline, and "name\n" is not a name.
_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_NAMESPACE_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_KIND_RE = re.compile(r"[a-zA-Z][a-z0-9A-Z]*")
_TAG_RE = re.compile(r"[a-z0-9:+#]+(-[a-z0-9:+#]+)*")
_DNS_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+\..+")
_DRAFT_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+-SNAPSHOT-[0-9]+")
# Sources outside the mesh, as the DPS example reads them (readsFrom: [urn:dmb:ex:mainframe_db2_database]).
_EXTERNAL_URN_RE = re.compile(r"urn:dmb:ex:[A-Za-z0-9:._-]+")
_PLAIN_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_MAX_NAME_LENGTH = 63
_MAX_DNS_SUBDOMAIN_LENGTH = 253

_NAME_SHAPE = "sequences of [a-zA-Z0-9] separated by [-_.], at most 63 characters"
_NAME_RULE = f"expected {_NAME_SHAPE}"
_NAMESPACE_RULE = "expected sequences of [a-z0-9] separated by [-], at most 63 characters"
_KIND_RULE = "expected a letter followed by letters and digits, at most 63 characters"
_TAG_RULE = "expected sequences of [a-z0-9:+#] separated by [-], at most 63 characters"
_KEY_RULE = (
    f"expected [prefix/]name, where prefix is a DNS subdomain of at most 253 characters and name is {_NAME_SHAPE}"
)
_VERSION_RULE = "expected <major>.<minor>.<patch> such as 1.2.0, or a draft <major>.<minor>-SNAPSHOT-<n>"
_COMPONENT_ID_RULE = "expected a component id urn:dmb:cmp:<domain>:<name>:<major>:<component>"
_LINEAGE_RULE = (
    "expected a component id urn:dmb:cmp:<domain>:<name>:<major>:<component>, a data product id "
    "urn:dmb:dp:<domain>:<name>:<major>, or an external source urn:dmb:ex:<name>"
)

_ENVELOPE_KEYS = ("apiVersion", "kind", "metadata", "spec")
# Produced by Meshforge, never read from files (§3.1): dropped without a word.
_GENERATED_ROOT_KEYS = frozenset({"relations", "status"})

DATA_PRODUCT_TYPE = "dataproduct"


@dataclass(frozen=True, slots=True)
class _RefField:
    """A spec field holding entity refs, with the relation pair it generates, as Backstage's built-in kinds."""

    field: str
    default_kind: str
    many: bool
    relation: str
    reverse: str


_OWNER = _RefField("owner", "group", False, "ownedBy", "ownerOf")
_SYSTEM = _RefField("system", "system", False, "partOf", "hasPart")
# Backstage requires a kind in dependsOn/dependencyOf; Meshforge defaults it to component, the usual target.
_DEPENDS_ON = _RefField("dependsOn", "component", True, "dependsOn", "dependencyOf")
_DEPENDENCY_OF = _RefField("dependencyOf", "component", True, "dependencyOf", "dependsOn")

# Keys are kinds in lower case: kinds compare case-insensitively, as refs do, so "component" cannot slip past
# the rules of "Component" while landing on the same ref key.
_REF_FIELDS: dict[str, tuple[_RefField, ...]] = {
    "component": (
        _OWNER,
        _SYSTEM,
        _RefField("subcomponentOf", "component", False, "partOf", "hasPart"),
        _RefField("providesApis", "api", True, "providesApi", "apiProvidedBy"),
        _RefField("consumesApis", "api", True, "consumesApi", "apiConsumedBy"),
        _DEPENDS_ON,
        _DEPENDENCY_OF,
    ),
    "resource": (_OWNER, _SYSTEM, _DEPENDS_ON, _DEPENDENCY_OF),
    "api": (_OWNER, _SYSTEM),
    "system": (_OWNER, _RefField("domain", "domain", False, "partOf", "hasPart")),
    "domain": (_OWNER, _RefField("subdomainOf", "domain", False, "partOf", "hasPart")),
    "group": (
        _RefField("parent", "group", False, "childOf", "parentOf"),
        _RefField("children", "group", True, "parentOf", "childOf"),
        _RefField("members", "user", True, "hasMember", "memberOf"),
    ),
    "user": (_RefField("memberOf", "group", True, "memberOf", "hasMember"),),
    "template": (_OWNER,),
    "edittemplate": (_OWNER,),
    "reverseprovisioningtemplate": (_OWNER,),
    "accesscontrolrequesttemplate": (_OWNER,),
}

_REQUIRED_STRINGS: dict[str, tuple[str, ...]] = {
    "component": ("type", "lifecycle", "owner"),
    "system": ("owner",),
    "domain": ("owner",),
    "resource": ("type", "owner"),
    "api": ("type", "lifecycle", "owner", "definition"),
    "group": ("type",),
    "template": ("type",),
    "edittemplate": ("type",),
    "reverseprovisioningtemplate": ("type",),
    "accesscontrolrequesttemplate": ("type",),
}
_REQUIRED_LISTS: dict[str, tuple[str, ...]] = {"group": ("children",), "user": ("memberOf",)}
_OPTIONAL_STRINGS: dict[str, tuple[str, ...]] = {"system": ("type",), "domain": ("type",), "location": ("type",)}
# Free strings of the spec that work as identifiers (facets, filters): no invisible characters, whatever the kind.
_IDENTIFIER_STRINGS = ("type", "lifecycle")
_OPTIONAL_OBJECTS: dict[str, tuple[str, ...]] = {"group": ("profile",), "user": ("profile",)}
_LOCATION_PRESENCE = ("required", "optional")

# spec.mesh lists of lineage ids on a data product component, with the relation pair each generates.
_LINEAGE_FIELDS = (
    ("readsFrom", "readsFrom", "readBy"),
    ("logicallyReadsFrom", "logicallyReadsFrom", "logicallyReadBy"),
)


class _Problems:
    """Collects ``"{source}: {path} {what}"`` messages."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, path: str, what: str) -> None:
        self.messages.append(f"{self.source}: {path} {what}")


# --- one entity -------------------------------------------------------------------------------------------


def validate_entity(document: object, *, source: str) -> list[str]:
    """Every problem of one entity document as ``"{source}: {field path} {what}"``; empty when it is valid.

    Root ``relations`` and ``status`` are ignored. Unknown kinds get the envelope and metadata checks only.
    """
    problems = _Problems(source)
    if not isinstance(document, dict):
        problems.add("entity", f"must be an object, not {_type_name(document)}")
        return problems.messages
    for key in document:
        if key not in _ENVELOPE_KEYS and key not in _GENERATED_ROOT_KEYS:
            problems.add(
                _join("", key), "is not allowed at the root; an entity has apiVersion, kind, metadata and spec"
            )

    api_version = document.get("apiVersion")
    if api_version is None:
        problems.add("apiVersion", "is required")
    elif problem := _non_empty_string_problem(api_version):
        problems.add("apiVersion", problem)

    kind = _check_kind(problems, document.get("kind"))
    namespace = _check_metadata(problems, document)

    spec = document.get("spec")
    if "spec" in document and not isinstance(spec, dict):
        problems.add("spec", f"must be an object, not {_type_name(spec)}")
        spec = None
    if kind is not None:
        kind_key = kind.lower()
        _check_spec(problems, kind_key, spec or {}, namespace or DEFAULT_NAMESPACE)
        metadata = document.get("metadata")
        if isinstance(metadata, dict) and isinstance(spec, dict):
            if kind_key == "system" and spec.get("type") == DATA_PRODUCT_TYPE:
                _check_data_product_system(problems, metadata, spec)
            elif kind_key == "component" and "mesh" in spec:
                _check_data_product_component(problems, metadata, spec)
    return problems.messages


def _check_kind(problems: _Problems, kind: object) -> str | None:
    """Report a bad kind; return the kind when the kind rules can be applied."""
    if kind is None:
        problems.add("kind", "is required")
        return None
    if not isinstance(kind, str):
        problems.add("kind", f"must be a string, not {_type_name(kind)}")
        return None
    if len(kind) > _MAX_NAME_LENGTH or not _KIND_RE.fullmatch(kind):
        problems.add("kind", _invalid(kind, _KIND_RULE))
        return None
    return kind


def _check_metadata(problems: _Problems, document: dict) -> str | None:
    """Report metadata problems; return the namespace (default applied) when it is valid."""
    if "metadata" not in document or document["metadata"] is None:
        problems.add("metadata", "is required")
        return None
    metadata = document["metadata"]
    if not isinstance(metadata, dict):
        problems.add("metadata", f"must be an object, not {_type_name(metadata)}")
        return None

    name = metadata.get("name")
    if name is None:
        problems.add("metadata.name", "is required")
    elif not isinstance(name, str):
        problems.add("metadata.name", f"must be a string, not {_type_name(name)}")
    elif not _is_name(name):
        problems.add("metadata.name", _invalid(name, _NAME_RULE))

    namespace: str | None = DEFAULT_NAMESPACE
    if "namespace" in metadata:
        namespace = metadata["namespace"]
        if not isinstance(namespace, str):
            problems.add("metadata.namespace", f"must be a string, not {_type_name(namespace)}")
            namespace = None
        elif len(namespace) > _MAX_NAME_LENGTH or not _NAMESPACE_RE.fullmatch(namespace):
            problems.add("metadata.namespace", _invalid(namespace, _NAMESPACE_RULE))
            namespace = None

    for field in ("title", "description"):
        if field in metadata and not isinstance(metadata[field], str):
            problems.add(f"metadata.{field}", f"must be a string, not {_type_name(metadata[field])}")

    if "tags" in metadata:
        for path, tag in _string_items(problems, "metadata.tags", metadata["tags"]):
            if len(tag) > _MAX_NAME_LENGTH or not _TAG_RE.fullmatch(tag):
                problems.add(path, _invalid(tag, _TAG_RULE))

    for field in ("labels", "annotations"):
        if field in metadata:
            _check_key_values(problems, f"metadata.{field}", metadata[field], labels=field == "labels")

    if "links" in metadata:
        _check_links(problems, metadata["links"])
    return namespace


def _check_key_values(problems: _Problems, path: str, mapping: object, *, labels: bool) -> None:
    if not isinstance(mapping, dict):
        problems.add(path, f"must be an object, not {_type_name(mapping)}")
        return
    for key, value in mapping.items():
        if not isinstance(key, str) or not _is_label_key(key):
            problems.add(path, f"key {_invalid(key, _KEY_RULE)}")
            continue
        value_path = _join(path, key)
        if not isinstance(value, str):
            problems.add(value_path, f"must be a string, not {_type_name(value)}")
        elif labels and value and not _is_name(value):
            problems.add(value_path, _invalid(value, f"expected an empty string, or {_NAME_SHAPE}"))


def _check_links(problems: _Problems, links: object) -> None:
    if not isinstance(links, list):
        problems.add("metadata.links", f"must be a list, not {_type_name(links)}")
        return
    for index, link in enumerate(links):
        path = f"metadata.links[{index}]"
        if not isinstance(link, dict):
            problems.add(path, f"must be an object, not {_type_name(link)}")
            continue
        url = link.get("url")
        if url is None:
            problems.add(f"{path}.url", "is required")
        elif not isinstance(url, str):
            problems.add(f"{path}.url", f"must be a string, not {_type_name(url)}")
        elif not _is_url(url):
            problems.add(
                f"{path}.url",
                f"{_show(url)} is not a valid URL; expected an absolute URL such as https://example.com/docs "
                "or mailto:team@example.com (schemes: http, https, mailto, ftp, ftps, ssh, git, git+ssh, git+https)",
            )
        for field in ("title", "icon", "type"):
            if field in link and not isinstance(link[field], str):
                problems.add(f"{path}.{field}", f"must be a string, not {_type_name(link[field])}")


def _check_spec(problems: _Problems, kind_key: str, spec: dict, namespace: str) -> None:
    """The kind rules: required fields, field types, and references that must parse."""
    already_reported: set[str] = set()
    for field in _REQUIRED_STRINGS.get(kind_key, ()):
        value = spec.get(field)
        if value is None:
            problems.add(f"spec.{field}", "is required")
            already_reported.add(field)
        elif problem := _non_empty_string_problem(value):
            problems.add(f"spec.{field}", problem)
            already_reported.add(field)
    for field in _REQUIRED_LISTS.get(kind_key, ()):
        value = spec.get(field)
        if value is None:
            problems.add(f"spec.{field}", "is required")
            already_reported.add(field)
        elif not isinstance(value, list):
            problems.add(f"spec.{field}", f"must be a list, not {_type_name(value)}")
            already_reported.add(field)
    for field in _OPTIONAL_STRINGS.get(kind_key, ()):
        if field in spec and (problem := _non_empty_string_problem(spec[field])):
            problems.add(f"spec.{field}", problem)
            already_reported.add(field)
    for field in _IDENTIFIER_STRINGS:
        value = spec.get(field)
        if field not in already_reported and isinstance(value, str) and (problem := invisible_problem(value)):
            problems.add(f"spec.{field}", f"{_show(value)} {problem}")
    for field in _OPTIONAL_OBJECTS.get(kind_key, ()):
        if field in spec and not isinstance(spec[field], dict):
            problems.add(f"spec.{field}", f"must be an object, not {_type_name(spec[field])}")

    for ref_field in _REF_FIELDS.get(kind_key, ()):
        if ref_field.field in already_reported or ref_field.field not in spec:
            continue
        _check_refs(problems, f"spec.{ref_field.field}", spec[ref_field.field], ref_field, namespace)

    if kind_key == "location":
        _check_location(problems, spec)
    elif kind_key == "template":
        _check_template(problems, spec)


def _check_refs(problems: _Problems, path: str, value: object, ref_field: _RefField, namespace: str) -> None:
    if ref_field.many:
        if not isinstance(value, list):
            problems.add(path, f"must be a list of entity references, not {_type_name(value)}")
            return
        items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    else:
        items = [(path, value)]
    for item_path, item in items:
        if problem := _non_empty_string_problem(item):
            problems.add(item_path, problem)
            continue
        if problem := invisible_problem(item):  # a ref that looks like another team's, or reorders the page
            problems.add(item_path, f"{_show(item)} {problem}")
            continue
        try:
            parse_ref(item, default_kind=ref_field.default_kind, default_namespace=namespace)
        except RefError as exc:
            problems.add(item_path, f"{_show(item)} is not a valid entity reference; it {exc.problem}")


def _check_location(problems: _Problems, spec: dict) -> None:
    if spec.get("target") is None and spec.get("targets") is None:
        problems.add("spec.target or spec.targets", "is required")
    if spec.get("target") is not None and (problem := _non_empty_string_problem(spec["target"])):
        problems.add("spec.target", problem)
    if spec.get("targets") is not None:
        _string_items(problems, "spec.targets", spec["targets"], non_empty=True)
    if "presence" in spec and spec["presence"] not in _LOCATION_PRESENCE:
        problems.add("spec.presence", f'{_show(spec["presence"])} is not valid; expected "required" or "optional"')


def _check_template(problems: _Problems, spec: dict) -> None:
    # Backstage templates have steps; Meshforge's (§4.1) have parameters and a cookiecutter skeleton folder.
    steps = spec.get("steps")
    parameters = spec.get("parameters")
    if steps is None and parameters is None:
        problems.add("spec.steps or spec.parameters", "is required")
    if steps is not None and not isinstance(steps, list):
        problems.add("spec.steps", f"must be a list, not {_type_name(steps)}")
    if parameters is not None and not isinstance(parameters, list | dict):
        problems.add("spec.parameters", f"must be a list or an object, not {_type_name(parameters)}")


# --- data product rules on one entity ------------------------------------------------------------------------


def is_data_product(document: object) -> bool:
    """A System with ``spec.type: dataproduct``."""
    spec = _spec_of(document)
    return _kind_key(document) == "system" and spec is not None and spec.get("type") == DATA_PRODUCT_TYPE


def is_data_product_component(document: object) -> bool:
    """A Component with ``spec.mesh``."""
    spec = _spec_of(document)
    return _kind_key(document) == "component" and spec is not None and "mesh" in spec


def _check_data_product_system(problems: _Problems, metadata: dict, spec: dict) -> None:
    identity = _dp_identity(problems, metadata, component=False)
    if identity is not None and spec.get("domain") is not None:
        domain = _parsed_ref(spec["domain"], "domain")
        expected = f"domain:{identity.domain}"
        if domain is not None and domain.key != f"domain:{DEFAULT_NAMESPACE}/{identity.domain}".lower():
            problems.add(
                "spec.domain",
                f"{_show(spec['domain'])} is not the domain of this data product; expected {_show(expected)}",
            )
    mesh = spec.get("mesh")
    if mesh is None:
        problems.add("spec.mesh", "is required for a data product")
        return
    if not isinstance(mesh, dict):
        problems.add("spec.mesh", f"must be an object, not {_type_name(mesh)}")
        return
    _check_mesh_version(problems, mesh, identity, metadata.get("name"))
    if identity is not None:
        _check_derived(problems, mesh, "id", identity.urn, "metadata.name")
    _check_derived(problems, mesh, "kind", DATA_PRODUCT_TYPE, "spec.type")
    if identity is not None:
        _check_derived(problems, mesh, "domain", identity.domain, "metadata.name")
    owner = _parsed_ref(spec.get("owner"), "group")
    if owner is not None:
        _check_derived(problems, mesh, "ownerGroup", owner.name, "spec.owner")
    _check_derived_description(problems, metadata, mesh)
    _check_no_environment(problems, mesh)


def _check_data_product_component(problems: _Problems, metadata: dict, spec: dict) -> None:
    identity = _dp_identity(problems, metadata, component=True)
    mesh = spec["mesh"]
    if not isinstance(mesh, dict):
        problems.add("spec.mesh", f"must be an object, not {_type_name(mesh)}")
        return
    _check_mesh_version(problems, mesh, identity, metadata.get("name"))
    if identity is not None:
        _check_derived(problems, mesh, "id", identity.urn, "metadata.name")
    if _non_empty_string_problem(spec.get("type")) is None:
        _check_derived(problems, mesh, "kind", spec["type"], "spec.type")
    _check_derived_description(problems, metadata, mesh)
    _check_no_environment(problems, mesh)

    if identity is not None:
        expected = f"system:{identity.system_name}"
        system = spec.get("system")
        if system is None:
            problems.add("spec.system", f"is required for a data product component; expected {_show(expected)}")
        else:
            parsed = _parsed_ref(system, "system")
            if parsed is not None and parsed.key != identity.system_ref.key:
                problems.add(
                    "spec.system",
                    f"{_show(system)} is not the data product of this component; expected {_show(expected)}",
                )

    if "dependsOn" in mesh:
        for path, urn in _string_items(problems, "spec.mesh.dependsOn", mesh["dependsOn"]):
            target = parse_urn(urn)
            if target is None or target.component is None:
                problems.add(path, f"{_show(urn)} is not valid; {_COMPONENT_ID_RULE}")
            elif identity is not None and target.dp_urn != identity.dp_urn:
                own = f"urn:dmb:cmp:{identity.domain}:{identity.name}:{identity.major}:<component>"
                problems.add(path, f"{_show(urn)} is not a component of this data product; expected {own}")
    for field, _relation, _reverse in _LINEAGE_FIELDS:
        if field in mesh:
            for path, urn in _string_items(problems, f"spec.mesh.{field}", mesh[field]):
                if parse_urn(urn) is None and not _EXTERNAL_URN_RE.fullmatch(urn):
                    problems.add(path, f"{_show(urn)} is not valid; {_LINEAGE_RULE}")


def _dp_identity(problems: _Problems, metadata: dict, *, component: bool) -> DataProductUrn | None:
    """The id parts from a data product entity's name, reporting a name of the wrong shape, and the namespace
    (URNs carry none, so data products live in the default namespace)."""
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace != DEFAULT_NAMESPACE and _NAMESPACE_RE.fullmatch(namespace):
        problems.add(
            "metadata.namespace",
            f'{_show(namespace)} is not allowed for a data product; expected "default", since its id has no namespace',
        )
    name = metadata.get("name")
    if not isinstance(name, str) or not _is_name(name):
        return None  # reported by the metadata checks
    identity = parse_dp_entity_name(name, component=component)
    if identity is None:
        if component:
            shape = "a data product component name <domain>.<name>.<major>.<component>"
        else:
            shape = "a data product name <domain>.<name>.<major>"
        problems.add(
            "metadata.name",
            f"{_show(name)} is not valid; expected {shape}, each part of [a-zA-Z0-9_-] "
            "and major a non-negative integer without leading zeros",
        )
    return identity


def _check_mesh_version(problems: _Problems, mesh: dict, identity: DataProductUrn | None, name: object) -> None:
    version = mesh.get("version")
    if version is None:
        problems.add("spec.mesh.version", "is required")
    elif not isinstance(version, str):
        problems.add("spec.mesh.version", f"must be a string, not {_type_name(version)}")
    elif invisible_character(version) or not (_VERSION_RE.fullmatch(version) or _DRAFT_VERSION_RE.fullmatch(version)):
        problems.add("spec.mesh.version", _invalid(version, _VERSION_RULE))
    elif identity is not None:
        major = _major_of(version)
        if major != identity.major:
            problems.add(
                "spec.mesh.version",
                f"{_show(version)} has major {major}, but metadata.name {_show(name)} has major {identity.major}",
            )


def _check_derived(problems: _Problems, mesh: dict, field: str, expected: str, origin: str) -> None:
    # Derived fields may be absent; when written they must agree, or the descriptor would say two things.
    if field in mesh and mesh[field] != expected:
        problems.add(
            f"spec.mesh.{field}",
            f"{_show(mesh[field])} does not equal {_show(expected)}, the value derived from {origin}",
        )


def _check_derived_description(problems: _Problems, metadata: dict, mesh: dict) -> None:
    description = metadata.get("description")
    if isinstance(description, str):
        _check_derived(problems, mesh, "description", description, "metadata.description")


def _check_no_environment(problems: _Problems, mesh: dict) -> None:
    if "environment" in mesh:
        problems.add(
            "spec.mesh.environment",
            "is not allowed in a file; Meshforge sets it for each environment it deploys to",
        )


# --- data product rules across entities ---------------------------------------------------------------------


@dataclass
class _Member:
    key: str
    identity: DataProductUrn
    depends_on: list[tuple[int, str]]  # (index in spec.mesh.dependsOn, component id)


def validate_data_product(
    system: dict | None, components: list[dict], *, sources: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """The rules spanning one data product (§3.2), on the processed documents of its System (None when it is
    missing) and its Components: every component has the DP's major, and ``spec.mesh.dependsOn`` names
    components of the DP that exist and form no cycle.

    Returns ``{entity ref key: [messages]}`` for the entities with problems only, so ``{}`` means consistent.
    Each problem is reported on the offending component and on the System. ``sources`` maps ref keys to the
    file names that prefix the messages (the ref key is used for entities it does not list).
    """
    sources = sources or {}
    problems: dict[str, list[str]] = {}
    system_key = _key_or_none(system)
    system_identity = None
    if system is not None and isinstance(system.get("metadata"), dict):
        system_identity = parse_dp_entity_name(system["metadata"].get("name"))

    def report(key: str, path: str, what: str) -> None:
        message = f"{sources.get(key, key)}: {path} {what}"
        problems.setdefault(key, []).append(message)
        if system_key is not None and key != system_key:
            problems.setdefault(system_key, []).append(message)

    members: dict[str, _Member] = {}
    for component in components:
        member = _member_of(component)
        if member is not None:
            members.setdefault(member.identity.urn, member)

    for member in members.values():
        label = system_key or member.identity.system_ref.key
        if system_identity is not None and member.identity.major != system_identity.major:
            report(
                member.key,
                "metadata.name",
                f"{_show(member.identity.entity_name)} has major {member.identity.major}, but its data product "
                f"{system_key} has major {system_identity.major}",
            )
        for index, target in member.depends_on:
            parsed = parse_urn(target)
            # Ids of other data products are reported by validate_entity; here only missing components.
            if parsed is not None and parsed.dp_urn == member.identity.dp_urn and target not in members:
                report(
                    member.key,
                    f"spec.mesh.dependsOn[{index}]",
                    f"{_show(target)} names a component that is not part of data product {label}",
                )

    edges = {urn: [target for _i, target in member.depends_on] for urn, member in members.items()}
    for cycle in dependency_cycles(edges):
        names = " -> ".join(members[urn].identity.component or urn for urn in cycle)
        for current, following in itertools.pairwise(cycle):
            member = members[current]
            index = next(index for index, target in member.depends_on if target == following)
            message = f"{sources.get(member.key, member.key)}: spec.mesh.dependsOn[{index}] {_show(following)} "
            message += f"is part of a dependency cycle: {names}"
            problems.setdefault(member.key, []).append(message)
        if system_key is not None:
            problems.setdefault(system_key, []).append(
                f"{sources.get(system_key, system_key)}: components form a spec.mesh.dependsOn cycle: {names}"
            )
    return problems


def _member_of(component: dict) -> _Member | None:
    key = _key_or_none(component)
    metadata = component.get("metadata") if isinstance(component, dict) else None
    identity = parse_dp_entity_name(metadata.get("name"), component=True) if isinstance(metadata, dict) else None
    if key is None or identity is None:
        return None  # validate_entity reports the name
    spec = _spec_of(component) or {}
    mesh = spec.get("mesh")
    depends_on = mesh.get("dependsOn") if isinstance(mesh, dict) else None
    targets = [(i, t) for i, t in enumerate(depends_on) if isinstance(t, str)] if isinstance(depends_on, list) else []
    return _Member(key=key, identity=identity, depends_on=targets)


def dependency_cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """The cycles of a dependency graph (node → the nodes it depends on; targets outside ``edges`` are ignored):
    one per back edge of a depth-first walk in sorted order, the first node repeated at the end and rotated to
    start at the smallest; cutting every cycle reported leaves the graph acyclic. Iterative, so a long chain cannot
    exhaust the stack. Shared by the catalog's data product rules and the descriptor's."""
    edges = {node: [target for target in targets if target in edges] for node, targets in edges.items()}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        state[start] = 1
        iterators = [iter(edges[start])]
        while iterators:
            target = next(iterators[-1], None)
            if target is None:
                iterators.pop()
                state[path.pop()] = 2
            elif state.get(target) == 1:
                loop = path[path.index(target) :]
                first = loop.index(min(loop))
                rotated = tuple(loop[first:] + loop[:first])
                if rotated not in seen:
                    seen.add(rotated)
                    cycles.append([*rotated, rotated[0]])
            elif target not in state:
                state[target] = 1
                path.append(target)
                iterators.append(iter(edges[target]))
    return cycles


# --- relations and the stored form ----------------------------------------------------------------------------


def entity_relations(document: dict) -> list[tuple[str, str, str]]:
    """``(source ref key, type, target ref key)`` for every relation the entity's spec declares, both directions,
    deduplicated, in the order of the spec. Refs that do not parse are skipped (validation reports them);
    targets may dangle. Raises :class:`RefError` when the document itself has no ref."""
    own = ref_of(document)
    source = own.key
    spec = _spec_of(document) or {}
    relations: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()

    def emit(target: str, relation: str, reverse: str) -> None:
        for triple in ((source, relation, target), (target, reverse, source)):
            if triple not in seen:
                seen.add(triple)
                relations.append(triple)

    for ref_field in _REF_FIELDS.get(own.kind.lower(), ()):
        value = spec.get(ref_field.field)
        for text in _strings(value) if ref_field.many else [value]:
            if isinstance(text, str):
                try:
                    target = parse_ref(text, default_kind=ref_field.default_kind, default_namespace=own.namespace)
                except RefError:
                    continue
                emit(target.key, ref_field.relation, ref_field.reverse)

    if is_data_product_component(document) and isinstance(spec["mesh"], dict):
        mesh = spec["mesh"]
        for urn in _strings(mesh.get("dependsOn")):
            parsed = parse_urn(urn)
            if parsed is not None and parsed.component is not None:
                emit(parsed.ref.key, "dependsOn", "dependencyOf")
        for field, relation, reverse in _LINEAGE_FIELDS:
            for urn in _strings(mesh.get(field)):
                parsed = parse_urn(urn)
                if parsed is not None:
                    emit(parsed.ref.key, relation, reverse)
    return relations


def normalize_entity(document: dict) -> dict:
    """The processed document to store: a deep copy without root ``relations`` and ``status`` (Meshforge makes
    those), with ``metadata.namespace`` defaulted to ``default``; everything else as written."""
    processed = {key: copy.deepcopy(value) for key, value in document.items() if key not in _GENERATED_ROOT_KEYS}
    metadata = processed.get("metadata")
    if isinstance(metadata, dict) and metadata.get("namespace") is None:
        metadata["namespace"] = DEFAULT_NAMESPACE
    return processed


# --- helpers ---------------------------------------------------------------------------------------------------


def _invalid(value: object, rule: str) -> str:
    """``"value" is not valid; <rule>``, or which invisible character makes it so."""
    problem = invisible_problem(value) if isinstance(value, str) else None
    return f"{_show(value)} {problem}" if problem else f"{_show(value)} is not valid; {rule}"


def _is_name(value: str) -> bool:
    return len(value) <= _MAX_NAME_LENGTH and _NAME_RE.fullmatch(value) is not None


def _is_label_key(key: str) -> bool:
    """``[prefix/]name`` with prefix a DNS subdomain (Backstage's isValidLabelKey / isValidAnnotationKey)."""
    parts = key.split("/")
    if len(parts) == 1:
        return _is_name(key)
    if len(parts) != 2:
        return False
    prefix, name = parts
    return (
        0 < len(prefix) <= _MAX_DNS_SUBDOMAIN_LENGTH
        and all(len(label) <= 63 and _DNS_LABEL_RE.fullmatch(label) for label in prefix.split("."))
        and _is_name(name)
    )


_LINK_SCHEMES = frozenset({"http", "https", "mailto", "ftp", "ftps", "ssh", "git", "git+ssh", "git+https"})


def _is_url(value: str) -> bool:
    """An absolute URL with a scheme and a host, or a ``mailto:`` address."""
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value) or invisible_character(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    if parts.scheme.lower() not in _LINK_SCHEMES:  # javascript:, data: and the like never reach a page
        return False
    if parts.scheme.lower() == "mailto":
        return bool(parts.path)
    return bool(parts.hostname)


def _non_empty_string_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a non-empty string, not {_type_name(value)}"
    if not value.strip():
        return "must be a non-empty string"
    return None


def _string_items(problems: _Problems, path: str, value: object, *, non_empty: bool = False) -> list[tuple[str, str]]:
    """The items of a list of strings with their paths, reporting a non-list and the items that are not strings."""
    if not isinstance(value, list):
        problems.add(path, f"must be a list, not {_type_name(value)}")
        return []
    items = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, str):
            problems.add(item_path, f"must be a string, not {_type_name(item)}")
        elif non_empty and not item.strip():
            problems.add(item_path, "must be a non-empty string")
        else:
            items.append((item_path, item))
    return items


def _strings(value: object) -> Iterable[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _parsed_ref(value: object, default_kind: str) -> EntityRef | None:
    """The ref, or None when it does not parse (reported by the kind rules)."""
    if not isinstance(value, str):
        return None
    try:
        return parse_ref(value, default_kind=default_kind)
    except RefError:
        return None


def _key_or_none(document: dict | None) -> str | None:
    if document is None:
        return None
    try:
        return ref_of(document).key
    except RefError:
        return None


def _kind_key(document: object) -> str | None:
    kind = document.get("kind") if isinstance(document, dict) else None
    return kind.lower() if isinstance(kind, str) else None


def _spec_of(document: object) -> dict | None:
    spec = document.get("spec") if isinstance(document, dict) else None
    return spec if isinstance(spec, dict) else None


def _major_of(version: str) -> str:
    return version.split(".", 1)[0].lstrip("0") or "0"


def _join(base: str, key: object) -> str:
    """A field path: ``base.key``, or ``base["key"]`` when the key is not a plain identifier."""
    if isinstance(key, str) and _PLAIN_KEY_RE.fullmatch(key):
        return f"{base}.{key}" if base else key
    return f"{base}[{_show(key)}]"


def _show(value: object) -> str:
    """A value as it appears in messages: JSON, so quotes and newlines are visible; long values shortened."""
    if isinstance(value, str):  # bidi overrides and zero-width characters as escapes: a message shows what it says
        return reveal_invisible(json.dumps(value if len(value) <= 100 else value[:100] + "…", ensure_ascii=False))
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 100 else shown[:100] + "…"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
