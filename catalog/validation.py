"""Validation of catalog entities (PRODUCT §3.1: the rules of Backstage's own validators for Backstage's kinds, with
Meshforge's kinds and data product rules on top; §3.3: data product rules on one entity and across the entities of
one data product), the relations an entity's spec generates, and the processed form of an entity that the catalog
stores. Pure functions: no database."""

from __future__ import annotations

import copy
import dataclasses
import encodings.idna
import ipaddress
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

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
from core import graphs
from core.problems import Problem, Problems, messages, type_name
from core.text import invisible_character, invisible_problem, reveal_invisible

__all__ = [
    "BACKSTAGE_API_VERSIONS",
    "CYCLE_CODE",
    "DATA_PRODUCT_CODE",
    "DATA_PRODUCT_TYPE",
    "MESHFORGE_KINDS",
    "REF_CODE",
    "SCHEMA_CODE",
    "TEMPLATE_API_VERSION",
    "entity_relations",
    "is_data_product",
    "is_data_product_component",
    "normalize_entity",
    "validate_data_product",
    "validate_data_product_problems",
    "validate_entity",
    "validate_entity_problems",
]

# Every pattern is used with re.fullmatch: "$" would accept a trailing newline, and "name\n" is not a name.
_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
# A DNS label as Backstage reads one (RFC 1123 with any number of dashes between sequences): namespaces, and the
# labels of the prefixes of apiVersion, label keys and annotation keys.
_DNS_LABEL_RE = re.compile(r"[a-z0-9]+(-+[a-z0-9]+)*")
_KIND_RE = re.compile(r"[a-zA-Z][a-z0-9A-Z]*")
_TAG_RE = re.compile(r"[a-z0-9:+#]+(-[a-z0-9:+#]+)*")
_API_VERSION_NAME_RE = re.compile(r"[a-z0-9A-Z]+")
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
_API_VERSION_RULE = (
    "expected [prefix/]version, where prefix is a DNS subdomain such as backstage.io and version is letters and "
    "digits such as v1alpha1, at most 63 characters"
)
_URL_RULE = "expected an absolute URL such as https://example.com/docs or mailto:team@example.com"
_VERSION_RULE = "expected <major>.<minor>.<patch> such as 1.2.0, or a draft <major>.<minor>-SNAPSHOT-<n>"
_COMPONENT_ID_RULE = "expected a component id urn:dmb:cmp:<domain>:<name>:<major>:<component>"
_LINEAGE_RULE = (
    "expected a component id urn:dmb:cmp:<domain>:<name>:<major>:<component>, a data product id "
    "urn:dmb:dp:<domain>:<name>:<major>, or an external source urn:dmb:ex:<name>"
)

_ENVELOPE_KEYS = ("apiVersion", "kind", "metadata", "spec")
# Produced by Meshforge, never read from files (§3.1): a file holding them is refused, as Backstage refuses it.
_GENERATED_ROOT_KEYS = frozenset({"relations", "status"})

DATA_PRODUCT_TYPE = "dataproduct"

# The apiVersions Backstage's validators recognize for its kinds; any other pair of kind and apiVersion is refused,
# as Backstage's catalog refuses it ("no processor recognized the entity").
BACKSTAGE_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
TEMPLATE_API_VERSION = "scaffolder.backstage.io/v1beta3"
# Meshforge's own kinds (PRODUCT §1, §4.1): Backstage does not know them, Meshforge's rules judge them.
MESHFORGE_KINDS = ("EditTemplate", "ReverseProvisioningTemplate", "AccessControlRequestTemplate")
_BACKSTAGE_KINDS = ("API", "Component", "Domain", "Group", "Location", "Resource", "System", "Template", "User")
_KNOWN_KINDS = {kind.lower(): kind for kind in (*_BACKSTAGE_KINDS, *MESHFORGE_KINDS)}


# --- the shapes of spec fields, as Backstage's JSON schemas of its kinds state them ---------------------------

# A string of at least one character (JSON Schema's minLength: 1; blanks count), any string, a string or a boolean.
_STRING = "string"
_TEXT = "text"
_STRING_OR_BOOLEAN = "string or boolean"


@dataclass(frozen=True, slots=True)
class _Object:
    """An object; ``fields`` are checked when present, ``other`` (when set) is the shape of every other field."""

    fields: dict = dataclasses.field(default_factory=dict)
    required: tuple[str, ...] = ()
    other: object = None


@dataclass(frozen=True, slots=True)
class _List:
    item: object


@dataclass(frozen=True, slots=True)
class _ObjectOrList:
    """One of two shapes, chosen by the value's type (JSON Schema's oneOf of an object and an array)."""

    when_object: _Object
    when_list: _List


@dataclass(frozen=True, slots=True)
class _Enum:
    values: tuple[str, ...]


_ANY_OBJECT = _Object()
_PROFILE = _Object({"displayName": _STRING, "email": _STRING, "picture": _STRING})
_PERMISSIONS = _Object({"tags": _List(_TEXT)})
_FORM_DECORATORS = _List(_Object({"id": _TEXT, "input": _ANY_OBJECT}))

# Fields holding entity refs are not here: _REF_FIELDS says how they are read.
_SPEC_SHAPES: dict[str, dict[str, object]] = {
    "Component": {"type": _STRING, "lifecycle": _STRING},
    "API": {"type": _STRING, "lifecycle": _STRING, "definition": _STRING},
    "Resource": {"type": _STRING},
    "System": {"type": _STRING},
    "Domain": {"type": _STRING},
    "Group": {"type": _STRING, "profile": _PROFILE},
    "User": {"profile": _PROFILE},
    "Location": {
        "type": _STRING,
        "target": _STRING,
        "targets": _List(_STRING),
        "presence": _Enum(("required", "optional")),
    },
    "Template": {
        "type": _STRING,
        "lifecycle": _STRING,
        "parameters": _ObjectOrList(
            _Object({"backstage:permissions": _PERMISSIONS}),
            _List(_Object({"when": _STRING_OR_BOOLEAN, "backstage:permissions": _PERMISSIONS})),
        ),
        "secrets": _Object({"schema": _ANY_OBJECT}),
        "presentation": _Object(
            {"buttonLabels": _Object({"backButtonText": _TEXT, "createButtonText": _TEXT, "reviewButtonText": _TEXT})}
        ),
        "EXPERIMENTAL_recovery": _Object({"EXPERIMENTAL_strategy": _TEXT}),
        "formDecorators": _FORM_DECORATORS,
        "EXPERIMENTAL_formDecorators": _FORM_DECORATORS,
        "steps": _List(
            _Object(
                {
                    "id": _TEXT,
                    "name": _TEXT,
                    "action": _TEXT,
                    "input": _ANY_OBJECT,
                    "if": _STRING_OR_BOOLEAN,
                    "backstage:permissions": _PERMISSIONS,
                },
                required=("action",),
            )
        ),
        "output": _Object(
            {
                "links": _List(
                    _Object(
                        {
                            "if": _STRING_OR_BOOLEAN,
                            "url": _STRING,
                            "entityRef": _STRING,
                            "title": _STRING,
                            "icon": _STRING,
                        }
                    )
                ),
                "text": _List(_Object({"if": _STRING_OR_BOOLEAN, "title": _STRING, "icon": _STRING, "content": _TEXT})),
            },
            other=_TEXT,
        ),
    },
}
_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "Component": ("type", "lifecycle", "owner"),
    "API": ("type", "lifecycle", "owner", "definition"),
    "Resource": ("type", "owner"),
    "System": ("owner",),
    "Domain": ("owner",),
    "Group": ("type", "children"),
    "User": ("memberOf",),
    "Location": (),
    "Template": ("type", "steps"),
}


@dataclass(frozen=True, slots=True)
class _RefField:
    """A spec field holding entity refs, with the relation pair it generates, as Backstage's built-in kinds.

    ``default_kind`` None: the ref must name its kind. ``many``: a list of refs. ``loose``: a field Backstage's
    schema does not type, whose relations are still made: absent when empty, a ref or a list of refs."""

    field: str
    default_kind: str | None
    many: bool
    relation: str
    reverse: str
    loose: bool = False


_OWNER = _RefField("owner", "group", False, "ownedBy", "ownerOf")
_SYSTEM = _RefField("system", "system", False, "partOf", "hasPart")
# Backstage requires a kind in dependsOn and dependencyOf: they may name a component or a resource.
_DEPENDS_ON = _RefField("dependsOn", None, True, "dependsOn", "dependencyOf")
_DEPENDENCY_OF = _RefField("dependencyOf", None, True, "dependencyOf", "dependsOn", loose=True)

# Keys are kinds in lower case, as entity_relations reads stored documents.
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

# Free strings of the spec that work as identifiers (facets, filters): no invisible characters, whatever the kind.
_IDENTIFIER_STRINGS = ("type", "lifecycle")

# spec.mesh lists of lineage ids on a data product component, with the relation pair each generates.
_LINEAGE_FIELDS = (
    ("readsFrom", "readsFrom", "readBy"),
    ("logicallyReadsFrom", "logicallyReadsFrom", "logicallyReadBy"),
)


# The rule families of the problems below (Problem.code): the shape of the envelope, metadata and spec (Backstage's
# validators and Meshforge's kinds), an entity reference that does not parse, the data product rules (§3.3: names,
# derived fields, membership, lineage), and a dependency cycle between the components of a data product.
SCHEMA_CODE = "schema"
REF_CODE = "ref"
DATA_PRODUCT_CODE = "dataproduct"
CYCLE_CODE = "cycle"


# --- one entity -------------------------------------------------------------------------------------------


def validate_entity(document: object, *, source: str) -> list[str]:
    """Every problem of one entity document as ``"{source}: {field path} {what}"``; empty when it is valid: the
    texts of :func:`validate_entity_problems`."""
    return messages(validate_entity_problems(document, source=source))


def validate_entity_problems(document: object, *, source: str) -> list[Problem]:
    """Every problem of one entity document, each with ``source`` (the file it comes from), all errors, coded
    ``schema``, ``ref`` or ``dataproduct``; empty when it is valid.

    Backstage's kinds follow Backstage's validators (its entity policies, the JSON schemas of its kinds and
    apiVersions, Template ``scaffolder.backstage.io/v1beta3`` included, and the refs its processors read). On top:
    Meshforge's own kinds and templates (``MESHFORGE_KINDS``; a Template with ``spec.mesh``, PRODUCT §4.1), the data
    product rules (§3.3), no invisible characters in identifiers, and no ``javascript:`` links.
    """
    problems = Problems(source=source, code=SCHEMA_CODE)
    if not isinstance(document, dict):
        problems.add("entity", f"must be an object, not {type_name(document)}")
        return list(problems)
    for key in document:
        if key in _GENERATED_ROOT_KEYS:
            problems.add(key, "is not allowed in a file; the catalog makes relations and status itself")
        elif key not in _ENVELOPE_KEYS:
            problems.add(
                _join("", key), "is not allowed at the root; an entity has apiVersion, kind, metadata and spec"
            )

    api_version = _check_api_version(problems, document.get("apiVersion"))
    kind = _check_kind(problems, document.get("kind"))
    _check_metadata(problems, document)

    spec = document.get("spec")
    if "spec" in document and not isinstance(spec, dict):
        problems.add("spec", f"must be an object, not {type_name(spec)}")
    if kind is None:
        return list(problems)
    spec = spec if isinstance(spec, dict) else None
    meshforge_template = kind == "Template" and spec is not None and "mesh" in spec
    if api_version is not None and kind in _SPEC_SHAPES and not meshforge_template:
        _check_kind_api_version(problems, kind, api_version)
    if kind in MESHFORGE_KINDS:
        if spec is not None or "spec" not in document:
            _check_meshforge_kind(problems, kind, spec or {})
    else:
        _check_spec(problems, kind, spec, has_spec="spec" in document, meshforge_template=meshforge_template)

    metadata = document.get("metadata")
    if isinstance(metadata, dict) and spec is not None:
        if kind == "System" and spec.get("type") == DATA_PRODUCT_TYPE:
            _check_data_product_system(problems.coded(DATA_PRODUCT_CODE), metadata, spec)
        elif kind == "Component" and "mesh" in spec:
            _check_data_product_component(problems.coded(DATA_PRODUCT_CODE), metadata, spec)
    return list(problems)


def _check_api_version(problems: Problems, api_version: object) -> str | None:
    """Report a bad apiVersion; return it when it is well formed."""
    if api_version is None:
        problems.add("apiVersion", "is required")
        return None
    if not isinstance(api_version, str) or not api_version:
        problems.add("apiVersion", _non_empty_string_problem(api_version) or "must be a non-empty string")
        return None
    prefix, slash, version = api_version.rpartition("/")
    if (slash and not _is_dns_subdomain(prefix)) or not (
        len(version) <= _MAX_NAME_LENGTH and _API_VERSION_NAME_RE.fullmatch(version)
    ):
        problems.add("apiVersion", _invalid(api_version, _API_VERSION_RULE))
        return None
    return api_version


def _check_kind(problems: Problems, kind: object) -> str | None:
    """Report a bad or unknown kind; return the kind when it is one the catalog knows."""
    if kind is None:
        problems.add("kind", "is required")
        return None
    if not isinstance(kind, str):
        problems.add("kind", f"must be a string, not {type_name(kind)}")
        return None
    if len(kind) > _MAX_NAME_LENGTH or not _KIND_RE.fullmatch(kind):
        problems.add("kind", _invalid(kind, _KIND_RULE))
        return None
    known = _KNOWN_KINDS.get(kind.lower())
    if known is None:
        problems.add(
            "kind",
            f"{_show(kind)} is not a kind the catalog knows; expected one of {', '.join(_BACKSTAGE_KINDS)} "
            f"(Backstage's) or {', '.join(MESHFORGE_KINDS)} (Meshforge's)",
        )
        return None
    if known != kind:  # Backstage's validators compare kinds exactly
        problems.add(
            "kind", f"{_show(kind)} is not a kind the catalog knows; kinds are case-sensitive: did you mean {known}?"
        )
        return None
    return kind


def _check_kind_api_version(problems: Problems, kind: str, api_version: str) -> None:
    """Each of Backstage's kinds has the apiVersions its validator recognizes; no other validator takes the kind."""
    if kind == "Template":
        if api_version != TEMPLATE_API_VERSION:
            problems.add(
                "apiVersion",
                f"{_show(api_version)} is not valid for kind Template; expected {TEMPLATE_API_VERSION}, "
                "or a Meshforge template (one with spec.mesh)",
            )
    elif api_version not in BACKSTAGE_API_VERSIONS:
        expected = " or ".join(BACKSTAGE_API_VERSIONS)
        problems.add("apiVersion", f"{_show(api_version)} is not valid for kind {kind}; expected {expected}")


def _check_metadata(problems: Problems, document: dict) -> None:
    if "metadata" not in document or document["metadata"] is None:
        problems.add("metadata", "is required")
        return
    metadata = document["metadata"]
    if not isinstance(metadata, dict):
        problems.add("metadata", f"must be an object, not {type_name(metadata)}")
        return

    name = metadata.get("name")
    if name is None:
        problems.add("metadata.name", "is required")
    elif not isinstance(name, str):
        problems.add("metadata.name", f"must be a string, not {type_name(name)}")
    elif not _is_name(name):
        problems.add("metadata.name", _invalid(name, _NAME_RULE))

    if "namespace" in metadata:
        namespace = metadata["namespace"]
        if not isinstance(namespace, str):
            problems.add("metadata.namespace", f"must be a string, not {type_name(namespace)}")
        elif len(namespace) > _MAX_NAME_LENGTH or not _DNS_LABEL_RE.fullmatch(namespace):
            problems.add("metadata.namespace", _invalid(namespace, _NAMESPACE_RULE))

    # uid and etag are the catalog's, but a file may carry them (an exported entity): Backstage checks their type.
    for key in ("uid", "etag", "title"):
        if key in metadata:
            _check_shape(problems, f"metadata.{key}", metadata[key], _STRING)
    if "description" in metadata:
        _check_shape(problems, "metadata.description", metadata["description"], _TEXT)

    if "tags" in metadata:
        for path, tag in _string_items(problems, "metadata.tags", metadata["tags"]):
            if len(tag) > _MAX_NAME_LENGTH or not _TAG_RE.fullmatch(tag):
                problems.add(path, _invalid(tag, _TAG_RULE))

    for key in ("labels", "annotations"):
        if key in metadata:
            _check_key_values(problems, f"metadata.{key}", metadata[key], labels=key == "labels")

    if "links" in metadata:
        _check_links(problems, metadata["links"])


def _check_key_values(problems: Problems, path: str, mapping: object, *, labels: bool) -> None:
    if not isinstance(mapping, dict):
        problems.add(path, f"must be an object, not {type_name(mapping)}")
        return
    for key, value in mapping.items():
        if not isinstance(key, str) or not _is_label_key(key):
            problems.add(path, f"key {_invalid(key, _KEY_RULE)}")
            continue
        value_path = _join(path, key)
        if not isinstance(value, str):
            problems.add(value_path, f"must be a string, not {type_name(value)}")
        elif labels and value and not _is_name(value):
            problems.add(value_path, _invalid(value, f"expected an empty string, or {_NAME_SHAPE}"))


def _check_links(problems: Problems, links: object) -> None:
    if not isinstance(links, list):
        problems.add("metadata.links", f"must be a list, not {type_name(links)}")
        return
    for index, link in enumerate(links):
        path = f"metadata.links[{index}]"
        if not isinstance(link, dict):
            problems.add(path, f"must be an object, not {type_name(link)}")
            continue
        url = link.get("url")
        if url is None:
            problems.add(f"{path}.url", "is required")
        elif not isinstance(url, str) or not url:
            problems.add(f"{path}.url", _non_empty_string_problem(url) or "must be a non-empty string")
        elif problem := invisible_problem(url):  # a link that reads as another (Trojan Source)
            problems.add(f"{path}.url", f"{_show(url)} {problem}")
        elif (scheme := _url_scheme(url)) is None:
            problems.add(f"{path}.url", f"{_show(url)} is not a valid URL; {_URL_RULE}")
        elif scheme == "javascript":
            problems.add(
                f"{path}.url",
                f"{_show(url)} is not allowed; a javascript: link runs code in the browser of whoever follows it",
            )
        for key in ("title", "icon", "type"):
            if key in link:
                _check_shape(problems, f"{path}.{key}", link[key], _STRING)
                # Backstage's field format policy wants a title and an icon with more than blanks
                if key != "type" and isinstance(link[key], str) and link[key] and _is_blank(link[key]):
                    problems.add(f"{path}.{key}", "must not be blank")


def _check_spec(problems: Problems, kind: str, spec: dict | None, *, has_spec: bool, meshforge_template: bool) -> None:
    """The rules of one of Backstage's kinds: required fields, field shapes, and references that must parse."""
    required = _REQUIRED_FIELDS[kind]
    if meshforge_template:  # Meshforge's templates (§4.1) have parameters and a skeleton folder instead of steps
        required = ("type",)
    if spec is None:
        if has_spec:
            return  # reported: spec is not an object
        if not required:
            problems.add("spec", "is required")
        spec = {}
    already_reported: set[str] = set()
    for key in required:
        if spec.get(key) is None:
            problems.add(f"spec.{key}", "is required")
            already_reported.add(key)
    if meshforge_template:
        if spec.get("steps") is None and spec.get("parameters") is None:
            problems.add("spec.steps or spec.parameters", "is required")
        if not isinstance(spec["mesh"], dict):
            problems.add("spec.mesh", f"must be an object, not {type_name(spec['mesh'])}")
    for key, shape in _SPEC_SHAPES[kind].items():
        if key in spec and key not in already_reported and _check_shape(problems, f"spec.{key}", spec[key], shape):
            already_reported.add(key)
    _check_identifier_strings(problems, spec, already_reported)
    for ref_field in _REF_FIELDS.get(kind.lower(), ()):
        if ref_field.field in spec and ref_field.field not in already_reported:
            _check_refs(problems, f"spec.{ref_field.field}", spec[ref_field.field], ref_field)


def _check_meshforge_kind(problems: Problems, kind: str, spec: dict) -> None:
    """Meshforge's own kinds (§4.1): a type that is not blank, and an owner that parses."""
    already_reported: set[str] = set()
    value = spec.get("type")
    if value is None:
        problems.add("spec.type", "is required")
        already_reported.add("type")
    elif problem := _non_blank_string_problem(value):
        problems.add("spec.type", problem)
        already_reported.add("type")
    _check_identifier_strings(problems, spec, already_reported)
    for ref_field in _REF_FIELDS.get(kind.lower(), ()):
        if ref_field.field in spec:
            _check_refs(problems, f"spec.{ref_field.field}", spec[ref_field.field], ref_field)


def _check_identifier_strings(problems: Problems, spec: dict, already_reported: set[str]) -> None:
    for key in _IDENTIFIER_STRINGS:
        value = spec.get(key)
        if key not in already_reported and isinstance(value, str) and (problem := invisible_problem(value)):
            problems.add(f"spec.{key}", f"{_show(value)} {problem}")


def _check_shape(problems: Problems, path: str, value: object, shape: object) -> bool:
    """Report where ``value`` does not have ``shape``; True when something was reported."""
    before = len(problems)
    if shape == _STRING:
        if not isinstance(value, str) or not value:
            problems.add(path, _non_empty_string_problem(value) or "must be a non-empty string")
    elif shape == _TEXT:
        if not isinstance(value, str):
            problems.add(path, f"must be a string, not {type_name(value)}")
    elif shape == _STRING_OR_BOOLEAN:
        if not isinstance(value, str | bool):
            problems.add(path, f"must be a string or a boolean, not {type_name(value)}")
    elif isinstance(shape, _Enum):
        if value not in shape.values:
            expected = " or ".join(json.dumps(allowed) for allowed in shape.values)
            problems.add(path, f"{_show(value)} is not valid; expected {expected}")
    elif isinstance(shape, _List):
        if not isinstance(value, list):
            problems.add(path, f"must be a list, not {type_name(value)}")
        else:
            for index, item in enumerate(value):
                _check_shape(problems, f"{path}[{index}]", item, shape.item)
    elif isinstance(shape, _ObjectOrList):
        if isinstance(value, dict):
            _check_shape(problems, path, value, shape.when_object)
        elif isinstance(value, list):
            _check_shape(problems, path, value, shape.when_list)
        else:
            problems.add(path, f"must be an object or a list, not {type_name(value)}")
    elif isinstance(shape, _Object):
        if not isinstance(value, dict):
            problems.add(path, f"must be an object, not {type_name(value)}")
        else:
            for key in shape.required:
                if key not in value:
                    problems.add(_join(path, key), "is required")
            for key, item in value.items():
                item_shape = shape.fields.get(key, shape.other)
                if item_shape is not None:
                    _check_shape(problems, _join(path, key), item, item_shape)
    return len(problems) > before


def _check_refs(problems: Problems, path: str, value: object, ref_field: _RefField) -> None:
    """Refs as Backstage's processors read them to make relations: ``[kind:][namespace/]name`` without empty parts,
    with a kind where the field has no default. Blank parts and parts of any length are refs too (they name no
    entity: no relation is made)."""
    if ref_field.loose and not value:
        return  # Backstage makes no relation of an empty value
    if isinstance(value, list) and ref_field.many:
        items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    elif ref_field.loose and not isinstance(value, str):
        problems.add(path, f"must be an entity reference or a list of them, not {type_name(value)}")
        return
    elif ref_field.many and not ref_field.loose:
        problems.add(path, f"must be a list of entity references, not {type_name(value)}")
        return
    else:
        items = [(path, value)]
    problems = problems.coded(REF_CODE)  # the items: each one a ref that must parse
    for item_path, item in items:
        if not isinstance(item, str) or not item:
            problems.add(item_path, _non_empty_string_problem(item) or "must be a non-empty string")
        elif problem := invisible_problem(item):  # a ref that looks like another team's, or reorders the page
            problems.add(item_path, f"{_show(item)} {problem}")
        elif problem := _ref_problem(item, ref_field.default_kind):
            problems.add(item_path, f"{_show(item)} is not a valid entity reference; it {problem}")


def _ref_problem(text: str, default_kind: str | None) -> str | None:
    """What makes ``text`` no ref for Backstage's parseEntityRef, or None. Meshforge's parse_ref is stricter (no
    blank parts, none over 63 characters: such a ref can name no entity), so its relation is left out."""
    colon = text.find(":")
    slash = text.find("/")
    if slash != -1 and slash < colon:  # "ns/a:b": the colon belongs to the name
        colon = -1
    parts = (
        ("kind", text[:colon] if colon != -1 else None),
        ("namespace", text[colon + 1 : slash] if slash != -1 else None),
        ("name", text[max(colon, slash) + 1 :]),
    )
    for part, value in parts:
        if value == "":
            return f"has an empty {part}"
    if parts[0][1] is None and default_kind is None:
        return "has no kind, and a kind is required here (write kind:[namespace/]name)"
    return None


# --- URLs, read as browsers read them ---------------------------------------------------------------------------
# Backstage checks a link with JavaScript's URL parser, the WHATWG URL standard's (https://url.spec.whatwg.org/):
# the same rules here, so that a link Backstage takes is taken, and one a browser cannot open is refused.

_SPECIAL_SCHEMES = frozenset({"ftp", "http", "https", "ws", "wss"})
_LEADING_OR_TRAILING = "".join(map(chr, range(0x21)))  # C0 controls and space: stripped by the parser
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|")
_FORBIDDEN_DOMAIN = _FORBIDDEN_HOST | frozenset(map(chr, range(0x20))) | {"%", "\x7f"}
_LABEL_DOTS_RE = re.compile("[.\u3002\uff0e\uff61]")
_PERCENT_RE = re.compile(rb"%([0-9A-Fa-f]{2})")
_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset("0123456789abcdefABCDEF")}


def _url_scheme(value: str) -> str | None:
    """The scheme (lower case) of ``value`` read as a URL by the WHATWG URL standard, or None when it is no URL.

    Any scheme parses (``mailto:``, ``urn:isbn:…``); a host, where there is one, must be a valid domain, IPv4 or
    IPv6 address, and a port a number up to 65535. Non-ASCII domains are checked with IDNA 2003's nameprep, a close
    stand-in for the standard's UTS 46 mapping."""
    text = value.strip(_LEADING_OR_TRAILING).replace("\t", "").replace("\n", "").replace("\r", "")
    match = _SCHEME_RE.match(text)
    if match is None:
        return None
    scheme = match.group()[:-1].lower()
    rest = text[match.end() :]
    if scheme == "file":
        valid = _file_host_valid(rest)
    elif scheme in _SPECIAL_SCHEMES:  # any slashes or backslashes may follow: http:example.com is a URL
        valid = _authority_valid(re.split(r"[/\\?#]", rest.lstrip("/\\"), maxsplit=1)[0], special=True)
    elif rest.startswith("//"):
        valid = _authority_valid(re.split(r"[/?#]", rest[2:], maxsplit=1)[0], special=False)
    else:
        valid = True  # an opaque path: mailto:team@example.com
    return scheme if valid else None


def _authority_valid(authority: str, *, special: bool) -> bool:
    _userinfo, at, host_port = authority.rpartition("@")
    if at and not host_port:
        return False  # credentials without a host
    host, port, inside_brackets = host_port, None, False
    for index, char in enumerate(host_port):
        if char == "[":
            inside_brackets = True
        elif char == "]":
            inside_brackets = False
        elif char == ":" and not inside_brackets:
            host, port = host_port[:index], host_port[index + 1 :]
            break
    if not host:
        return port is None and not special
    if port and not (re.fullmatch(r"[0-9]+", port) and int(port) <= 65535):
        return False
    return _host_valid(host, opaque=not special)


def _file_host_valid(rest: str) -> bool:
    if not rest.startswith(("//", "\\\\", "/\\", "\\/")):
        return True  # a path
    host = re.split(r"[/\\?#]", rest[2:], maxsplit=1)[0]
    return not host or re.fullmatch(r"[A-Za-z][:|]", host) is not None or _host_valid(host, opaque=False)


def _host_valid(host: str, *, opaque: bool) -> bool:
    if host.startswith("["):
        return host.endswith("]") and _ipv6_valid(host[1:-1])
    if opaque:
        return not any(char in _FORBIDDEN_HOST for char in host)
    decoded = _PERCENT_RE.sub(lambda match: bytes.fromhex(match.group(1).decode()), host.encode()).decode(
        "utf-8", "replace"
    )
    domain = _domain_to_ascii(decoded)
    if domain is None or any(char in _FORBIDDEN_DOMAIN for char in domain):
        return False
    return _ipv4_valid(domain) if _ends_in_number(domain) else True


def _domain_to_ascii(domain: str) -> str | None:
    labels = []
    for label in _LABEL_DOTS_RE.split(domain):
        if label.isascii():
            label = label.lower()
            if label.startswith("xn--"):
                try:
                    decoded = label[4:].encode().decode("punycode")
                except UnicodeError:
                    return None
                if not decoded or decoded.isascii():
                    return None
        else:
            try:
                label = encodings.idna.nameprep(label)
            except UnicodeError:
                return None
            if not label.isascii():
                label = "xn--" + label.encode("punycode").decode()
        labels.append(label)
    return ".".join(labels)


def _ends_in_number(domain: str) -> bool:
    labels = domain.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return bool(re.fullmatch(r"[0-9]+", last)) or _ipv4_number(last) is not None


def _ipv4_valid(domain: str) -> bool:
    labels = domain.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    numbers = [_ipv4_number(label) for label in labels]
    if len(numbers) > 4 or None in numbers:
        return False
    return all(number <= 255 for number in numbers[:-1]) and numbers[-1] < 256 ** (5 - len(numbers))


def _ipv4_number(text: str) -> int | None:
    if not text:
        return None
    radix = 10
    if text[:2] in ("0x", "0X"):
        text, radix = text[2:], 16
    elif len(text) > 1 and text[0] == "0":
        text, radix = text[1:], 8
    if not text:
        return 0
    return int(text, radix) if set(text) <= _DIGITS[radix] else None


def _ipv6_valid(text: str) -> bool:
    if not text or not set(text) <= set("0123456789abcdefABCDEF:."):  # no zone id: %25eth0 is not a host
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


# --- data product rules on one entity ------------------------------------------------------------------------


def is_data_product(document: object) -> bool:
    """A System with ``spec.type: dataproduct``."""
    spec = _spec_of(document)
    return _kind_key(document) == "system" and spec is not None and spec.get("type") == DATA_PRODUCT_TYPE


def is_data_product_component(document: object) -> bool:
    """A Component with ``spec.mesh``."""
    spec = _spec_of(document)
    return _kind_key(document) == "component" and spec is not None and "mesh" in spec


def _check_data_product_system(problems: Problems, metadata: dict, spec: dict) -> None:
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
        problems.add("spec.mesh", f"must be an object, not {type_name(mesh)}")
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


def _check_data_product_component(problems: Problems, metadata: dict, spec: dict) -> None:
    identity = _dp_identity(problems, metadata, component=True)
    mesh = spec["mesh"]
    if not isinstance(mesh, dict):
        problems.add("spec.mesh", f"must be an object, not {type_name(mesh)}")
        return
    _check_mesh_version(problems, mesh, identity, metadata.get("name"))
    if identity is not None:
        _check_derived(problems, mesh, "id", identity.urn, "metadata.name")
    if _non_blank_string_problem(spec.get("type")) is None:
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


def _dp_identity(problems: Problems, metadata: dict, *, component: bool) -> DataProductUrn | None:
    """The id parts from a data product entity's name, reporting a name of the wrong shape, and the namespace
    (URNs carry none, so data products live in the default namespace)."""
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace != DEFAULT_NAMESPACE and _DNS_LABEL_RE.fullmatch(namespace):
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


def _check_mesh_version(problems: Problems, mesh: dict, identity: DataProductUrn | None, name: object) -> None:
    version = mesh.get("version")
    if version is None:
        problems.add("spec.mesh.version", "is required")
    elif not isinstance(version, str):
        problems.add("spec.mesh.version", f"must be a string, not {type_name(version)}")
    elif invisible_character(version) or not (_VERSION_RE.fullmatch(version) or _DRAFT_VERSION_RE.fullmatch(version)):
        problems.add("spec.mesh.version", _invalid(version, _VERSION_RULE))
    elif identity is not None:
        major = _major_of(version)
        if major != identity.major:
            problems.add(
                "spec.mesh.version",
                f"{_show(version)} has major {major}, but metadata.name {_show(name)} has major {identity.major}",
            )


def _check_derived(problems: Problems, mesh: dict, field: str, expected: str, origin: str) -> None:
    # Derived fields may be absent; when written they must agree, or the descriptor would say two things.
    if field in mesh and mesh[field] != expected:
        problems.add(
            f"spec.mesh.{field}",
            f"{_show(mesh[field])} does not equal {_show(expected)}, the value derived from {origin}",
        )


def _check_derived_description(problems: Problems, metadata: dict, mesh: dict) -> None:
    description = metadata.get("description")
    if isinstance(description, str):
        _check_derived(problems, mesh, "description", description, "metadata.description")


def _check_no_environment(problems: Problems, mesh: dict) -> None:
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
    """:func:`validate_data_product_problems` as ``{entity ref key: [messages]}``, each message
    ``"{source}: {field path} {what}"``."""
    found = validate_data_product_problems(system, components, sources=sources)
    return {key: messages(problems) for key, problems in found.items()}


def validate_data_product_problems(
    system: dict | None, components: list[dict], *, sources: dict[str, str] | None = None
) -> dict[str, list[Problem]]:
    """The rules spanning one data product (§3.2), on the processed documents of its System (None when it is
    missing) and its Components: every component has the DP's major, and ``spec.mesh.dependsOn`` names
    components of the DP that exist and form no cycle.

    Returns ``{entity ref key: [problems]}`` for the entities with problems only, so ``{}`` means consistent;
    all errors, coded ``dataproduct`` or ``cycle``. Each problem is reported on the offending component and on
    the System. ``sources`` maps ref keys to the problems' sources, the file names that prefix their messages
    (the ref key is used for entities it does not list).
    """
    sources = sources or {}
    problems: dict[str, list[Problem]] = {}
    system_key = _key_or_none(system)
    system_identity = None
    if system is not None and isinstance(system.get("metadata"), dict):
        system_identity = parse_dp_entity_name(system["metadata"].get("name"))

    def report(key: str, path: str, what: str) -> None:
        problem = Problem(path, what, code=DATA_PRODUCT_CODE, source=sources.get(key, key))
        problems.setdefault(key, []).append(problem)
        if system_key is not None and key != system_key:
            problems.setdefault(system_key, []).append(problem)

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
    for cycle in graphs.cycles(edges):
        names = " -> ".join(members[urn].identity.component or urn for urn in cycle)
        for current, following in itertools.pairwise(cycle):
            member = members[current]
            index = next(index for index, target in member.depends_on if target == following)
            problems.setdefault(member.key, []).append(
                Problem(
                    f"spec.mesh.dependsOn[{index}]",
                    f"{_show(following)} is part of a dependency cycle: {names}",
                    code=CYCLE_CODE,
                    source=sources.get(member.key, member.key),
                )
            )
        if system_key is not None:
            problems.setdefault(system_key, []).append(
                Problem(
                    "components",
                    f"form a spec.mesh.dependsOn cycle: {names}",
                    code=CYCLE_CODE,
                    source=sources.get(system_key, system_key),
                )
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
        single = not ref_field.many or ref_field.loose  # a loose field (dependencyOf) may hold one ref, not a list
        for text in value if isinstance(value, list) else [value] if single else []:
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
    return len(parts) == 2 and _is_dns_subdomain(parts[0]) and _is_name(parts[1])


def _is_dns_subdomain(value: str) -> bool:
    return 0 < len(value) <= _MAX_DNS_SUBDOMAIN_LENGTH and all(
        len(label) <= _MAX_NAME_LENGTH and _DNS_LABEL_RE.fullmatch(label) for label in value.split(".")
    )


# What JavaScript's String.prototype.trim removes, which Backstage's "non-empty string" checks use.
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_WHITESPACE += "".join(map(chr, range(0x2000, 0x200B)))


def _is_blank(value: str) -> bool:
    return not value.strip(_JS_WHITESPACE)


def _non_empty_string_problem(value: object) -> str | None:
    """A string of at least one character, blanks included (JSON Schema's minLength: 1, as Backstage's schemas)."""
    if not isinstance(value, str):
        return f"must be a non-empty string, not {type_name(value)}"
    if not value:
        return "must be a non-empty string"
    return None


def _non_blank_string_problem(value: object) -> str | None:
    """A string with more than blanks: Meshforge's own kinds ask for it."""
    if isinstance(value, str) and _is_blank(value):
        return "must be a non-empty string"
    return _non_empty_string_problem(value)


def _string_items(problems: Problems, path: str, value: object) -> list[tuple[str, str]]:
    """The items of a list of strings with their paths, reporting a non-list and the items that are not strings."""
    if not isinstance(value, list):
        problems.add(path, f"must be a list, not {type_name(value)}")
        return []
    items = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, str):
            problems.add(item_path, f"must be a string, not {type_name(item)}")
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
