"""The Data Product Specification (DPS) descriptor (PRODUCT §4.3): assembled from a data product's catalog
documents and environment configuration, and validated as real platforms send it. Pure functions: no database.

The rules port the CUE reference (``data-product-specification.cue``) and relax it where the real descriptors in
the shared Witboost fixtures differ: the fixtures win, because Meshforge must accept what real platforms send.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaViolation

from catalog.refs import DataProductUrn, RefError, parse_dp_entity_name, parse_ref, parse_urn
from core import graphs
from core.problems import Problem, Problems, messages

__all__ = [
    "ADAPTER_CODE",
    "ADAPTER_SCHEMA_PATH",
    "COMPONENT_KINDS",
    "CYCLE_CODE",
    "DATA_PRODUCT_KIND",
    "NO_COMPONENTS_PROBLEM",
    "REF_CODE",
    "SCHEMA_CODE",
    "TAG_LABEL_SOURCE",
    "AdapterVerdict",
    "component_descriptor_problems",
    "component_descriptor_validate",
    "descriptor_adapter_problems",
    "descriptor_adapter_ready_problems",
    "descriptor_adapter_verdict",
    "descriptor_build",
    "descriptor_problems",
    "descriptor_validate",
]

DATA_PRODUCT_KIND = "dataproduct"
COMPONENT_KINDS = ("outputport", "workload", "storage", "observability")

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

# --- formats, from the CUE file (every pattern is used with fullmatch, so a trailing newline never passes) ----
_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+\..+")
_DRAFT_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+-SNAPSHOT-[0-9]+")
_URL_RE = re.compile(r"https?://[a-zA-Z0-9@:%._~#=&/?]*")
# #OM_DataType, in the CUE's order (which error messages keep); compared in upper case.
_DATA_TYPE_NAMES = (
    "NUMBER TINYINT SMALLINT INT BIGINT BYTEINT BYTES FLOAT DOUBLE DECIMAL NUMERIC TIMESTAMP TIME DATE DATETIME "
    "INTERVAL STRING MEDIUMTEXT TEXT CHAR VARCHAR BOOLEAN BINARY VARBINARY ARRAY BLOB LONGBLOB MEDIUMBLOB MAP STRUCT "
    "UNION SET GEOGRAPHY ENUM JSON"
)
_DATA_TYPES = tuple(_DATA_TYPE_NAMES.split())
_SIZED_TYPES = frozenset({"CHAR", "VARCHAR", "BINARY", "VARBINARY"})
_CONSTRAINTS = ("NULL", "NOT_NULL", "UNIQUE", "PRIMARY_KEY")
# "Classification" is not in the CUE, but the scaffold descriptors (a real platform's output) use it.
_TAG_SOURCES = ("Tag", "Glossary", "Classification")
_TAG_LABEL_TYPES = ("Manual", "Propagated", "Automated", "Derived")
_TAG_STATES = ("Suggested", "Confirmed")
_PLAIN_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_VERSION_RULE = "expected <major>.<minor>.<patch> such as 1.2.0, or a draft <major>.<minor>-SNAPSHOT-<n>"
_DP_ID_RULE = (
    "expected urn:dmb:dp:<domain>:<name>:<major>, parts of [A-Za-z0-9_-], <major> without leading zeros, "
    "and <domain>.<name>.<major> at most 63 characters"
)
_COMPONENT_ID_RULE = (
    "expected urn:dmb:cmp:<domain>:<name>:<major>:<component>, parts of [A-Za-z0-9_-], <major> without leading "
    "zeros, and <domain>.<name>.<major>.<component> at most 63 characters"
)
_URL_RULE = "expected an http(s) URL of [a-zA-Z0-9@:%._~#=&/?] such as https://example.com/data"

# Nested columns (children of STRUCT, MAP, UNION) are walked recursively; a JSON body may nest far deeper than
# any real schema, and the validator must answer with a problem rather than a RecursionError.
_MAX_COLUMN_DEPTH = 32

_TYPE_NAMES = {"string": "a string", "object": "an object", "list": "a list", "number": "a number"}

# The tag label Meshforge writes for a plain tag. The DPS specification's source is Tag|Glossary, but the pydantic
# models of the public Witboost tech adapters accept only Classification|Glossary (OpenMetadata's current name):
# an emitted descriptor must pass the adapters, and the lenient reader still accepts Tag.
TAG_LABEL_SOURCE = "Classification"
# A workload that does not say how it connects is a data pipeline, as every built-in workload is.
_DEFAULT_CONNECTION_TYPE = "DataPipeline"


# --- assembly ----------------------------------------------------------------------------------------------------


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


# --- validation ------------------------------------------------------------------------------------------------


# The rule families of the problems below (Problem.code): the DPS shape of a field, a reference between the
# descriptor's parts (ids that must agree, dependsOn and componentIdToProvision naming a component), a dependency
# cycle, and what only the tech adapters' models refuse (strict, adapter readiness).
SCHEMA_CODE = "schema"
REF_CODE = "ref"
CYCLE_CODE = "cycle"
ADAPTER_CODE = "adapter"


def descriptor_problems(descriptor: object) -> list[Problem]:
    """Every problem of a bare DP descriptor (paths from the descriptor root, such as ``components[2].dependsOn[0]``),
    all errors, coded ``schema``, ``ref`` or ``cycle``; empty when it is valid. Never raises, whatever the input."""
    problems = Problems(code=SCHEMA_CODE)
    _check_data_product(problems, descriptor, "")
    return list(problems)


def descriptor_validate(descriptor: object) -> list[str]:
    """:func:`descriptor_problems` as ``"path: message"`` texts."""
    return messages(descriptor_problems(descriptor))


def component_descriptor_problems(document: object) -> list[Problem]:
    """As :func:`descriptor_problems`, for what a tech adapter receives: either a bare DP descriptor or the
    wrapper ``{dataProduct, componentIdToProvision}`` (told apart by those keys), whose paths start with
    ``dataProduct.`` and whose ``componentIdToProvision`` must name one of ``dataProduct.components``."""
    if not _is_wrapper(document):
        return descriptor_problems(document)
    problems = Problems(code=SCHEMA_CODE)
    component_ids = None
    if "dataProduct" not in document:
        problems.add("dataProduct", "is required")
    else:
        component_ids = _check_data_product(problems, document["dataProduct"], "dataProduct")
    target = _get(problems, document, "", "componentIdToProvision", "string", required=True, non_empty=True)
    if target is not None and component_ids is not None and target not in component_ids:
        problems.add(
            "componentIdToProvision", f"{_show(target)} names no component of dataProduct.components", code=REF_CODE
        )
    return list(problems)


def component_descriptor_validate(document: object) -> list[str]:
    """:func:`component_descriptor_problems` as ``"path: message"`` texts."""
    return messages(component_descriptor_problems(document))


# --- adapter readiness (strict) ---------------------------------------------------------------------------------

ADAPTER_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "witboost_scaffold.schema.json"
# What descriptor_validate says of a product without components; the Descriptor tab reads it as "incomplete".
NO_COMPONENTS_PROBLEM = "components: must list at least one component"
_SCHEMA_TYPE_NAMES = {
    "string": "a string",
    "object": "an object",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}
_SIZE_FIELDS = ("dataLength", "precision", "scale")


def descriptor_adapter_ready_problems(document: object) -> list[Problem]:
    """Every reason a public Witboost tech adapter would refuse ``document`` (a bare descriptor or the wrapper
    ``{dataProduct, componentIdToProvision}``); empty when it is adapter-ready. All are errors: what the adapters
    refuse is coded ``adapter``, the DPS rules keep their own codes.

    Writing is strict where reading is lenient (PRODUCT §4.3): the DPS rules of :func:`component_descriptor_problems`
    apply, and on top of them the JSON Schema of the adapters' models (``ADAPTER_SCHEMA_PATH``) and the rules that
    relate two values of a column. A field is reported once: the more specific adapter message wins.
    """
    wrapped = _is_wrapper(document)
    problems = [_schema_problem(error) for error in _adapter_validator(wrapped=wrapped).iter_errors(document)]
    dp = document.get("dataProduct") if wrapped and isinstance(document, dict) else document
    problems += _column_size_problems(dp, "dataProduct" if wrapped else "")
    problems.sort(key=lambda problem: _path_sort_key(problem.path))
    reported = {problem.path for problem in problems}
    problems += [p for p in component_descriptor_problems(document) if p.path not in reported]
    # The same text twice says nothing new (a schema may find one fault by two rules): the first one stays.
    unique: dict[str, Problem] = {}
    for problem in problems:
        unique.setdefault(str(problem), problem)
    return list(unique.values())


def descriptor_adapter_problems(document: object) -> list[str]:
    """:func:`descriptor_adapter_ready_problems` as ``"path: message"`` texts."""
    return messages(descriptor_adapter_ready_problems(document))


@dataclass(frozen=True, slots=True)
class AdapterVerdict:
    """What a descriptor's page says of it: ``valid`` (adapter-ready), ``incomplete`` (a data product with no
    component yet: nothing to deploy, nothing wrong) or ``invalid``, with the problems to fix."""

    state: str
    problems: tuple[str, ...]


def descriptor_adapter_verdict(descriptor: object, *, other_problems: Iterable[str] = ()) -> AdapterVerdict:
    """The verdict on a built descriptor: :func:`descriptor_adapter_problems`, then ``other_problems`` (such as an
    environment file that does not parse) on fields not already reported. A product whose only problem is that
    it has no component yet is ``incomplete``, not ``invalid``: a new product is not broken."""
    problems = descriptor_adapter_problems(descriptor)
    reported = {_problem_path(problem) for problem in problems}
    problems += [problem for problem in other_problems if _problem_path(problem) not in reported]
    problems = list(dict.fromkeys(problems))
    if not problems:
        return AdapterVerdict("valid", ())
    no_components = isinstance(descriptor, dict) and descriptor.get("components") == []
    if no_components and problems == [NO_COMPONENTS_PROBLEM]:
        return AdapterVerdict("incomplete", ())
    return AdapterVerdict("invalid", tuple(problems))


def _is_wrapper(document: object) -> bool:
    return isinstance(document, dict) and ("dataProduct" in document or "componentIdToProvision" in document)


@functools.cache
def _adapter_validator(*, wrapped: bool) -> Draft202012Validator:
    """The schema's validator for a DATAPRODUCT_DESCRIPTOR, or for a COMPONENT_DESCRIPTOR when ``wrapped``."""
    schema = json.loads(ADAPTER_SCHEMA_PATH.read_text(encoding="utf-8"))
    if wrapped:
        schema["$ref"] = "#/$defs/componentDescriptor"
    return Draft202012Validator(schema)


def _schema_problem(error: SchemaViolation) -> Problem:
    """One jsonschema error as a problem in the words of :func:`descriptor_problems`."""
    path = _schema_path(error.absolute_path)
    if error.validator == "required":
        missing = next(
            (key for key in error.validator_value if key not in error.instance and repr(key) in error.message), None
        )
        field = _join(path, missing) if missing is not None else path or "descriptor"
        data_type = error.instance.get("dataType") if isinstance(error.instance, dict) else None
        if missing in _SIZE_FIELDS and isinstance(data_type, str):
            return _adapter_problem(field, f"required for {data_type.upper()}")
        return _adapter_problem(field, "is required")
    where = path or "descriptor"
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(_SCHEMA_TYPE_NAMES.get(name, name) for name in expected)
        return _adapter_problem(where, f"must be {names}, not {_type_name(error.instance)}")
    if error.validator == "enum":
        expected = ", ".join(error.validator_value)
        return _adapter_problem(where, f"{_show(error.instance)} is not valid; expected one of {expected}")
    if error.validator == "const":
        return _adapter_problem(where, f"{_show(error.instance)} is not valid; expected {_show(error.validator_value)}")
    if error.validator == "pattern" and error.schema.get("description"):
        return _adapter_problem(where, f"{_show(error.instance)} is not valid; expected {error.schema['description']}")
    return _adapter_problem(where, error.message)


def _adapter_problem(path: str, message: str) -> Problem:
    return Problem(path, message, code=ADAPTER_CODE)


def _schema_path(parts: Iterable[object]) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


def _column_size_problems(dp: object, path: str) -> list[Problem]:
    """What a schema cannot say of a column's sizes: a length or precision of at least 1, a scale between 0 and
    the precision, and no scale without a precision (``DECIMAL(12,2)``, not ``DECIMAL(,2)``)."""
    problems: list[Problem] = []
    for column_path, column in _columns(dp, path):
        sizes = {key: column.get(key) for key in _SIZE_FIELDS}
        if any(not (value is None or _is_int(value)) for value in sizes.values()):
            continue  # the schema reports the wrong type
        for key in ("dataLength", "precision"):
            if sizes[key] is not None and sizes[key] < 1:
                problems.append(_adapter_problem(f"{column_path}.{key}", f"must be at least 1, not {sizes[key]}"))
        precision, scale = sizes["precision"], sizes["scale"]
        if scale is None:
            continue
        if scale < 0:
            problems.append(_adapter_problem(f"{column_path}.scale", f"must be at least 0, not {scale}"))
        elif precision is None:
            problems.append(_adapter_problem(f"{column_path}.scale", "needs a precision (the total number of digits)"))
        elif precision >= 1 and scale > precision:
            problems.append(_adapter_problem(f"{column_path}.scale", f"{scale} is more than the precision {precision}"))
    return problems


def _columns(dp: object, path: str) -> Iterator[tuple[str, dict]]:
    """``(path, column)`` of every output port's contract column that is an object."""
    components = dp.get("components") if isinstance(dp, dict) else None
    for index, component in enumerate(components if isinstance(components, list) else []):
        contract = component.get("dataContract") if isinstance(component, dict) else None
        schema = contract.get("schema") if isinstance(contract, dict) else None
        for position, column in enumerate(schema if isinstance(schema, list) else []):
            if isinstance(column, dict):
                yield f"{_join(path, 'components')}[{index}].dataContract.schema[{position}]", column


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem_path(problem: str) -> str:
    return problem.split(": ", 1)[0]


def _path_sort_key(path: str) -> list[object]:
    """Paths in document order: ``components[10]`` after ``components[9]``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"\[(\d+)\]", path)]


def _check_data_product(problems: Problems, descriptor: object, path: str) -> set[str] | None:
    """Report the problems of a DP descriptor at ``path``; return the ids of its components (None when it has
    no list of components to look in)."""
    if not isinstance(descriptor, dict):
        problems.add(path or "descriptor", f"must be an object, not {_type_name(descriptor)}")
        return None

    def get(key: str, kind: str, **options: bool) -> object:
        return _get(problems, descriptor, path, key, kind, **options)

    dp_id = get("id", "string", required=True, non_empty=True)
    get("name", "string", required=True, non_empty=True)
    get("description", "string", required=True)
    kind = get("kind", "string", required=True, non_empty=True)
    if isinstance(kind, str) and kind.lower() != DATA_PRODUCT_KIND:
        problems.add(_join(path, "kind"), f'{_show(kind)} is not valid; expected "{DATA_PRODUCT_KIND}"')
    domain = get("domain", "string", required=True, non_empty=True)
    version = _check_version(problems, descriptor, path)
    identity = _check_dp_id(problems, path, dp_id, domain, version)
    for key in ("environment", "dataProductOwner", "ownerGroup", "devGroup"):
        get(key, "string", required=True, non_empty=True)
    # The CUE requires dataProductOwnerDisplayName, but PRODUCT §3.3's data product has none; informationSLA (a
    # string, older descriptors) and supportSLA (an object, the CUE) are two dialects, so neither is required.
    for key in (
        "fullyQualifiedName",
        "dataProductOwnerDisplayName",
        "email",
        "informationSLA",
        "useCaseTemplateId",
        "infrastructureTemplateId",
    ):
        get(key, "string", nullable=True)
    _check_choice(problems, path, descriptor, "status", ("draft", "published", "retired"))
    _check_choice(problems, path, descriptor, "maturity", ("Tactical", "Strategic"))
    get("billing", "object", nullable=True)
    support = get("supportSLA", "object", nullable=True)
    if support is not None:
        for key in ("supportHours", "responseTime", "resolutionTime", "informationTime", "endOfSupport"):
            _get(problems, support, _join(path, "supportSLA"), key, "string", nullable=True)
    _check_business_info(problems, descriptor, path)
    security = get("securityInfo", "object", nullable=True)
    if security is not None:
        security_path = _join(path, "securityInfo")
        _check_choice(
            problems,
            security_path,
            security,
            "confidentiality",
            ("Public", "Internal", "Confidential", "Restricted", "Secret"),
        )
        _check_choice(problems, security_path, security, "visibility", ("Global", "Department"))
        _check_choice(problems, security_path, security, "GDPR", ("Yes", "No"))
    contacts = get("contacts", "object", nullable=True)
    if contacts is not None:
        for key in ("ownerContact", "suportContact", "supportContact"):
            _get(problems, contacts, _join(path, "contacts"), key, "string", nullable=True)
    _check_strings(problems, descriptor, path, "targetConsumption", nullable=True)
    _check_tags(problems, descriptor, path, "tags", required=True)
    _check_tags(problems, descriptor, path, "businessConcepts")
    get("specific", "object", required=True)

    owner = _DataProductIdentity(
        domain=domain if isinstance(domain, str) else None,
        name=identity.name if identity is not None else None,
        major=_major_of(version) if version is not None else identity.major if identity is not None else None,
        id=dp_id if identity is not None else None,
    )

    components = get("components", "list", required=True)
    if components is None:
        return None
    components_path = _join(path, "components")
    if not components:
        problems.add(components_path, "must list at least one component")
    ids: dict[str, int] = {}
    depends_on: dict[int, list[tuple[int, str]]] = {}
    for index, component in enumerate(components):
        component_path = f"{components_path}[{index}]"
        component_id, targets = _check_component(problems, component, component_path, owner)
        depends_on[index] = targets
        if component_id is None:
            continue
        if component_id in ids:
            problems.add(
                _join(component_path, "id"),
                f"{_show(component_id)} is already the id of {components_path}[{ids[component_id]}]",
                code=REF_CODE,
            )
        else:
            ids[component_id] = index
    for index, targets in depends_on.items():
        for position, target in targets:
            if target not in ids:
                problems.add(
                    f"{components_path}[{index}].dependsOn[{position}]",
                    f"{_show(target)} names no component of this data product",
                    code=REF_CODE,
                )
    # Every edge of a cycle is reported: any one of them may be the one to remove.
    edges = {urn: [target for _position, target in depends_on[index]] for urn, index in ids.items()}
    for cycle in graphs.cycles(edges):
        names = " -> ".join(_component_label(urn) for urn in cycle)
        for current, following in itertools.pairwise(cycle):
            index = ids[current]
            position = next(position for position, target in depends_on[index] if target == following)
            problems.add(
                f"{components_path}[{index}].dependsOn[{position}]",
                f"{_show(following)} is part of a dependency cycle: {names}",
                code=CYCLE_CODE,
            )
    return set(ids)


@dataclass(frozen=True, slots=True)
class _DataProductIdentity:
    """What a component's id and version must agree with; a part is None when the DP's own field is broken."""

    domain: str | None
    name: str | None
    major: str | None
    id: str | None


def _check_version(problems: Problems, mapping: dict, path: str) -> str | None:
    """Report a bad ``version``; return it when it is valid."""
    field = _join(path, "version")
    if "version" not in mapping:
        problems.add(field, "is required")
        return None
    version = mapping["version"]
    if isinstance(version, int | float) and not isinstance(version, bool):
        # YAML reads `version: 1.0` as a number; the fix is quoting, so say so.
        problems.add(field, f'must be a string such as "1.0.0", not the number {version} (quote it in YAML)')
        return None
    if not isinstance(version, str):
        problems.add(field, f"must be a string, not {_type_name(version)}")
        return None
    if not (_VERSION_RE.fullmatch(version) or _DRAFT_VERSION_RE.fullmatch(version)):
        problems.add(field, f"{_show(version)} is not valid; {_VERSION_RULE}")
        return None
    return version


def _check_dp_id(
    problems: Problems, path: str, dp_id: object, domain: object, version: str | None
) -> DataProductUrn | None:
    if not isinstance(dp_id, str):
        return None  # reported as missing or of the wrong type
    field = _join(path, "id")
    identity = parse_urn(dp_id)
    if identity is None or identity.component is not None:
        problems.add(field, f"{_show(dp_id)} is not valid; {_DP_ID_RULE}")
        return None
    problems = problems.coded(REF_CODE)  # from here on: what the id must agree with
    if isinstance(domain, str) and identity.domain != domain:
        problems.add(field, f"{_show(dp_id)} has domain {_show(identity.domain)}, but domain is {_show(domain)}")
    if version is not None and identity.major != _major_of(version):
        problems.add(
            field,
            f"{_show(dp_id)} has major {identity.major}, but version {_show(version)} has major {_major_of(version)}",
        )
    return identity


def _check_business_info(problems: Problems, descriptor: dict, path: str) -> None:
    info = _get(problems, descriptor, path, "businessInfo", "object", nullable=True)
    if info is None:
        return
    info_path = _join(path, "businessInfo")
    _get(problems, info, info_path, "valueProposition", "string", nullable=True)
    _check_choice(
        problems, info_path, info, "valueGeneration", ("Foundation", "RevenueGeneration", "OperationMonitoring")
    )
    _check_choice(problems, info_path, info, "pricingType", ("PayPerUse", "Subscription"))
    _check_strings(problems, info, info_path, "strategicInitiatives", nullable=True)
    _check_strings(problems, info, info_path, "stakeholderRoles", nullable=True)
    _get(problems, info, info_path, "pricingInfo", "object", nullable=True)


# --- components --------------------------------------------------------------------------------------------


def _check_component(
    problems: Problems, component: object, path: str, owner: _DataProductIdentity
) -> tuple[str | None, list[tuple[int, str]]]:
    """Report a component's problems; return its id when it is a valid component id, and its ``dependsOn``
    entries that are valid component ids, with their positions."""
    if not isinstance(component, dict):
        problems.add(path, f"must be an object, not {_type_name(component)}")
        return None, []

    def get(key: str, kind: str, **options: bool) -> object:
        return _get(problems, component, path, key, kind, **options)

    kind = get("kind", "string", required=True, non_empty=True)
    kind_key = kind.lower() if isinstance(kind, str) else None
    if kind_key is not None and kind_key not in COMPONENT_KINDS:
        problems.add(_join(path, "kind"), f"{_show(kind)} is not valid; expected one of {', '.join(COMPONENT_KINDS)}")
        kind_key = None

    component_id = _check_component_id(problems, component, path, owner)
    get("name", "string", required=True, non_empty=True)
    get("description", "string", required=True)
    get("fullyQualifiedName", "string", required=kind_key == "observability", nullable=kind_key != "observability")
    version = _check_version(problems, component, path)
    if version is not None and owner.major is not None and _major_of(version) != owner.major:
        problems.add(
            _join(path, "version"),
            f"{_show(version)} has major {_major_of(version)}, but the data product's major is {owner.major}",
            code=REF_CODE,
        )
    get("infrastructureTemplateId", "string", required=True, non_empty=True)
    for key in ("useCaseTemplateId", "platform", "technology"):
        get(key, "string", nullable=True)

    # dependsOn is required by the CUE, but the DPS example's workload and observability have none.
    targets: list[tuple[int, str]] = []
    for item_path, position, target in _check_strings(problems, component, path, "dependsOn"):
        target_id = parse_urn(target)
        if target_id is None or target_id.component is None:
            problems.add(item_path, f"{_show(target)} is not valid; {_COMPONENT_ID_RULE}")
        else:
            targets.append((position, target))
    _check_strings(problems, component, path, "readsFrom", required=kind_key == "workload")
    # Tags are required everywhere but on observability (the CUE's #Observability has none).
    _check_tags(problems, component, path, "tags", required=kind_key in ("outputport", "workload", "storage"))
    get("specific", "object", required=True, nullable=kind_key != "outputport")

    if kind_key == "outputport":
        _check_output_port(problems, component, path)
    elif kind_key == "workload":
        get("workloadType", "string", nullable=True)
        _check_choice(problems, path, component, "connectionType", ("housekeeping", "DataPipeline"))
    elif kind_key == "storage":
        # The CUE requires owners; neither storage area in the fixtures has them.
        _check_strings(problems, component, path, "owners")
        get("storageType", "string", nullable=True)
    elif kind_key == "observability":
        _check_url(problems, component, path, "endpoint", required=True)
        for key in ("completeness", "dataProfiling", "freshness", "availability", "dataQuality"):
            get(key, "object", required=True, nullable=True)
    return component_id, targets


def _check_component_id(problems: Problems, component: dict, path: str, owner: _DataProductIdentity) -> str | None:
    component_id = _get(problems, component, path, "id", "string", required=True, non_empty=True)
    if component_id is None:
        return None
    field = _join(path, "id")
    parts = parse_urn(component_id)
    if parts is None or parts.component is None:
        problems.add(field, f"{_show(component_id)} is not valid; {_COMPONENT_ID_RULE}")
        return None
    shown = _show(component_id)
    problems = problems.coded(REF_CODE)  # from here on: what the id must agree with
    if owner.domain is not None and parts.domain != owner.domain:
        problems.add(
            field, f"{shown} has domain {_show(parts.domain)}, but the data product's domain is {_show(owner.domain)}"
        )
    if owner.name is not None and parts.name != owner.name:
        problems.add(
            field, f"{shown} names data product {_show(parts.name)}, but this data product is {_show(owner.id)}"
        )
    if owner.major is not None and parts.major != owner.major:
        problems.add(field, f"{shown} has major {parts.major}, but the data product's major is {owner.major}")
    return component_id


def _check_output_port(problems: Problems, component: dict, path: str) -> None:
    def get(key: str, kind: str, **options: bool) -> object:
        return _get(problems, component, path, key, kind, **options)

    # outputPortType is required by the CUE, but PRODUCT §3.3's output port has none.
    for key in (
        "outputPortType",
        "creationDate",
        "startDate",
        "retentionTime",
        "processDescription",
        "biTempBusinessTs",
        "biTempWriteTs",
        "sampleQuery",
    ):
        get(key, "string", nullable=True)
    contract = get("dataContract", "object", required=True)
    if contract is not None:
        contract_path = _join(path, "dataContract")
        schema = _get(problems, contract, contract_path, "schema", "list", required=True)
        if schema is not None:
            _check_columns(problems, schema, _join(contract_path, "schema"), depth=1)
        # The CUE requires SLA, and dataSharingAgreement inside dataContract; PRODUCT §3.3's port has neither and
        # older descriptors put the agreement beside the contract.
        sla = _get(problems, contract, contract_path, "SLA", "object", nullable=True)
        if sla is not None:
            for key in ("intervalOfChange", "timeliness", "upTime"):
                _get(problems, sla, _join(contract_path, "SLA"), key, "string", nullable=True)
        _check_url(problems, contract, contract_path, "endpoint")
        _get(problems, contract, contract_path, "termsAndConditions", "string", nullable=True)
        _check_sharing_agreement(problems, contract, contract_path, "dataSharingAgreement")
    # Beside the contract: the singular key in the scaffold descriptors, the plural one in the DPS example.
    _check_sharing_agreement(problems, component, path, "dataSharingAgreement")
    _check_sharing_agreement(problems, component, path, "dataSharingAgreements")
    sample = get("sampleData", "object", nullable=True)
    if sample is not None:
        # The DPS example writes `sampleData: {}`; columns and rows are checked when present.
        _check_strings(problems, sample, _join(path, "sampleData"), "columns")
        rows = _get(problems, sample, _join(path, "sampleData"), "rows", "list")
        for index, row in enumerate(rows or []):
            if not isinstance(row, list):
                problems.add(f"{path}.sampleData.rows[{index}]", f"must be a list, not {_type_name(row)}")
    if "semanticLinking" in component:
        # An object in the CUE, a list in the scaffold descriptors.
        linking = component["semanticLinking"]
        if linking is not None and not isinstance(linking, dict | list):
            problems.add(_join(path, "semanticLinking"), f"must be an object or a list, not {_type_name(linking)}")


def _check_sharing_agreement(problems: Problems, mapping: dict, path: str, key: str) -> None:
    agreement = _get(problems, mapping, path, key, "object", nullable=True)
    if agreement is None:
        return
    for field in (
        "termsAndConditions",
        "purpose",
        "billing",
        "security",
        "intendedUsage",
        "limitations",
        "lifeCycle",
        "confidentiality",
    ):
        _get(problems, agreement, _join(path, key), field, "string", nullable=True)


def _check_columns(problems: Problems, columns: list, path: str, *, depth: int) -> None:
    """``#OM_Column`` items: a name, a known data type (any case), and what that type needs."""
    if depth > _MAX_COLUMN_DEPTH:
        problems.add(path, f"nests columns deeper than {_MAX_COLUMN_DEPTH} levels")
        return
    for index, column in enumerate(columns):
        column_path = f"{path}[{index}]"
        if not isinstance(column, dict):
            problems.add(column_path, f"must be an object, not {_type_name(column)}")
            continue
        _get(problems, column, column_path, "name", "string", required=True, non_empty=True)
        data_type = _check_data_type(problems, column, column_path, "dataType", required=True)
        if data_type == "ARRAY":
            _check_data_type(problems, column, column_path, "arrayDataType", required=True)
        elif data_type in _SIZED_TYPES:
            _get(problems, column, column_path, "dataLength", "number", required=True)
        elif data_type == "JSON":
            _get(problems, column, column_path, "jsonSchema", "string", required=True)
        _check_choice(problems, column_path, column, "constraint", _CONSTRAINTS)
        for key in ("dataTypeDisplay", "description", "fullyQualifiedName"):
            _get(problems, column, column_path, key, "string", nullable=True)
        _get(problems, column, column_path, "ordinalPosition", "number", nullable=True)
        _check_tags(problems, column, column_path, "tags")
        _check_tags(problems, column, column_path, "businessTerms")
        # The CUE requires children for MAP, STRUCT and UNION; the DPS example's struct column has none.
        children = _get(problems, column, column_path, "children", "list")
        if children is not None:
            _check_columns(problems, children, _join(column_path, "children"), depth=depth + 1)


def _check_data_type(problems: Problems, column: dict, path: str, key: str, *, required: bool) -> str | None:
    """Report a bad data type; return it in upper case when it is one of ``#OM_DataType``."""
    data_type = _get(problems, column, path, key, "string", required=required, non_empty=True)
    if data_type is None:
        return None
    if data_type.upper() not in _DATA_TYPES:
        problems.add(
            _join(path, key),
            f"{_show(data_type)} is not a known data type; expected one of {', '.join(_DATA_TYPES)} (any case)",
        )
        return None
    return data_type.upper()


def _check_tags(problems: Problems, mapping: dict, path: str, key: str, *, required: bool = False) -> None:
    """A list of ``#OM_Tag``: tagFQN, source, labelType and state, the last three from fixed sets (any case)."""
    tags = _get(problems, mapping, path, key, "list", required=required)
    for index, tag in enumerate(tags or []):
        tag_path = f"{_join(path, key)}[{index}]"
        if not isinstance(tag, dict):
            problems.add(tag_path, f"must be an object with tagFQN, source, labelType and state, not {_type_name(tag)}")
            continue
        _get(problems, tag, tag_path, "tagFQN", "string", required=True, non_empty=True)
        _check_choice(problems, tag_path, tag, "source", _TAG_SOURCES, required=True)
        _check_choice(problems, tag_path, tag, "labelType", _TAG_LABEL_TYPES, required=True)
        _check_choice(problems, tag_path, tag, "state", _TAG_STATES, required=True)
        for field in ("description", "href"):
            _get(problems, tag, tag_path, field, "string", nullable=True)


def _check_url(problems: Problems, mapping: dict, path: str, key: str, *, required: bool = False) -> None:
    url = _get(problems, mapping, path, key, "string", required=required, nullable=not required)
    if url is not None and not _URL_RE.fullmatch(url):
        problems.add(_join(path, key), f"{_show(url)} is not valid; {_URL_RULE}")


def _component_label(urn: str) -> str:
    parts = parse_urn(urn)
    return parts.component if parts is not None and parts.component is not None else urn


# --- field helpers ---------------------------------------------------------------------------------------------


def _get(
    problems: Problems,
    mapping: dict,
    path: str,
    key: str,
    kind: str,
    *,
    required: bool = False,
    nullable: bool = False,
    non_empty: bool = False,
) -> object:
    """``mapping[key]`` when it is of ``kind`` (string, object, list, number); otherwise report why and return
    None. A missing key is a problem only when ``required``; null only when not ``nullable``."""
    field = _join(path, key)
    if key not in mapping:
        if required:
            problems.add(field, "is required")
        return None
    value = mapping[key]
    if value is None:
        if not nullable:
            problems.add(field, f"must be {_TYPE_NAMES[kind]}, not null")
        return None
    if not _is_kind(value, kind):
        problems.add(field, f"must be {_TYPE_NAMES[kind]}, not {_type_name(value)}")
        return None
    if non_empty and isinstance(value, str) and not value.strip():
        problems.add(field, "must not be empty")
        return None
    return value


def _is_kind(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_choice(
    problems: Problems, path: str, mapping: dict, key: str, choices: Iterable[str], *, required: bool = False
) -> None:
    """A string from ``choices``, compared case-insensitively as the CUE's ``(?i)`` patterns do; null allowed
    unless ``required``."""
    value = _get(problems, mapping, path, key, "string", required=required, nullable=not required)
    choices = tuple(choices)
    if value is not None and value.lower() not in {choice.lower() for choice in choices}:
        problems.add(_join(path, key), f"{_show(value)} is not valid; expected one of {', '.join(choices)} (any case)")


def _check_strings(
    problems: Problems, mapping: dict, path: str, key: str, *, required: bool = False, nullable: bool = False
) -> list[tuple[str, int, str]]:
    """A list of strings; returns ``(path, position, string)`` for the items that are strings."""
    items = _get(problems, mapping, path, key, "list", required=required, nullable=nullable)
    strings = []
    for position, item in enumerate(items or []):
        item_path = f"{_join(path, key)}[{position}]"
        if isinstance(item, str):
            strings.append((item_path, position, item))
        else:
            problems.add(item_path, f"must be a string, not {_type_name(item)}")
    return strings


def _major_of(version: str) -> str:
    """The major of a valid version, as written in ids (no leading zeros)."""
    return version.split(".", 1)[0].lstrip("0") or "0"


def _join(base: str, key: str) -> str:
    """A field path: ``base.key``, or ``base["key"]`` when the key is not a plain identifier."""
    if _PLAIN_KEY_RE.fullmatch(key):
        return f"{base}.{key}" if base else key
    return f"{base}[{_show(key)}]"


def _show(value: object) -> str:
    """A scalar as messages show it: JSON, so quotes and newlines are visible, long strings shortened."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 100 else value[:100] + "…", ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return _type_name(value)


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
