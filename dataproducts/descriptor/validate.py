"""Lenient validation of the Data Product Specification (DPS) descriptor (PRODUCT §4.3), as real platforms send
it: every problem of a bare descriptor or of a tech adapter's ``{dataProduct, componentIdToProvision}`` payload,
with a path. Pure functions: no database.

The rules port the CUE reference (``data-product-specification.cue``) and relax it where the real descriptors in
the shared Witboost fixtures differ: the fixtures win, because Meshforge must accept what real platforms send.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from catalog.refs import DataProductUrn, parse_urn
from core import graphs
from core.problems import Problem, Problems, join_path, messages, show, type_name

__all__ = [
    "COMPONENT_KINDS",
    "CYCLE_CODE",
    "DATA_PRODUCT_KIND",
    "REF_CODE",
    "SCHEMA_CODE",
    "component_descriptor_problems",
    "component_descriptor_validate",
    "descriptor_problems",
    "descriptor_validate",
    "is_wrapper",
    "join_path",
    "show",
    "type_name",
]

DATA_PRODUCT_KIND = "dataproduct"
COMPONENT_KINDS = ("outputport", "workload", "storage", "observability")

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


# --- validation ------------------------------------------------------------------------------------------------


# The rule families of the problems below (Problem.code): the DPS shape of a field, a reference between the
# descriptor's parts (ids that must agree, dependsOn and componentIdToProvision naming a component) and a
# dependency cycle. What only the tech adapters' models refuse is coded in dataproducts.descriptor.adapter.
SCHEMA_CODE = "schema"
REF_CODE = "ref"
CYCLE_CODE = "cycle"


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
    if not is_wrapper(document):
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
            "componentIdToProvision", f"{show(target)} names no component of dataProduct.components", code=REF_CODE
        )
    return list(problems)


def component_descriptor_validate(document: object) -> list[str]:
    """:func:`component_descriptor_problems` as ``"path: message"`` texts."""
    return messages(component_descriptor_problems(document))


def _check_data_product(problems: Problems, descriptor: object, path: str) -> set[str] | None:
    """Report the problems of a DP descriptor at ``path``; return the ids of its components (None when it has
    no list of components to look in)."""
    if not isinstance(descriptor, dict):
        problems.add(path or "descriptor", f"must be an object, not {type_name(descriptor)}")
        return None

    def get(key: str, kind: str, **options: bool) -> object:
        return _get(problems, descriptor, path, key, kind, **options)

    dp_id = get("id", "string", required=True, non_empty=True)
    get("name", "string", required=True, non_empty=True)
    get("description", "string", required=True)
    kind = get("kind", "string", required=True, non_empty=True)
    if isinstance(kind, str) and kind.lower() != DATA_PRODUCT_KIND:
        problems.add(join_path(path, "kind"), f'{show(kind)} is not valid; expected "{DATA_PRODUCT_KIND}"')
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
            _get(problems, support, join_path(path, "supportSLA"), key, "string", nullable=True)
    _check_business_info(problems, descriptor, path)
    security = get("securityInfo", "object", nullable=True)
    if security is not None:
        security_path = join_path(path, "securityInfo")
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
            _get(problems, contacts, join_path(path, "contacts"), key, "string", nullable=True)
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
    components_path = join_path(path, "components")
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
                join_path(component_path, "id"),
                f"{show(component_id)} is already the id of {components_path}[{ids[component_id]}]",
                code=REF_CODE,
            )
        else:
            ids[component_id] = index
    for index, targets in depends_on.items():
        for position, target in targets:
            if target not in ids:
                problems.add(
                    f"{components_path}[{index}].dependsOn[{position}]",
                    f"{show(target)} names no component of this data product",
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
                f"{show(following)} is part of a dependency cycle: {names}",
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
    field = join_path(path, "version")
    if "version" not in mapping:
        problems.add(field, "is required")
        return None
    version = mapping["version"]
    if isinstance(version, int | float) and not isinstance(version, bool):
        # YAML reads `version: 1.0` as a number; the fix is quoting, so say so.
        problems.add(field, f'must be a string such as "1.0.0", not the number {version} (quote it in YAML)')
        return None
    if not isinstance(version, str):
        problems.add(field, f"must be a string, not {type_name(version)}")
        return None
    if not (_VERSION_RE.fullmatch(version) or _DRAFT_VERSION_RE.fullmatch(version)):
        problems.add(field, f"{show(version)} is not valid; {_VERSION_RULE}")
        return None
    return version


def _check_dp_id(
    problems: Problems, path: str, dp_id: object, domain: object, version: str | None
) -> DataProductUrn | None:
    if not isinstance(dp_id, str):
        return None  # reported as missing or of the wrong type
    field = join_path(path, "id")
    identity = parse_urn(dp_id)
    if identity is None or identity.component is not None:
        problems.add(field, f"{show(dp_id)} is not valid; {_DP_ID_RULE}")
        return None
    problems = problems.coded(REF_CODE)  # from here on: what the id must agree with
    if isinstance(domain, str) and identity.domain != domain:
        problems.add(field, f"{show(dp_id)} has domain {show(identity.domain)}, but domain is {show(domain)}")
    if version is not None and identity.major != _major_of(version):
        problems.add(
            field,
            f"{show(dp_id)} has major {identity.major}, but version {show(version)} has major {_major_of(version)}",
        )
    return identity


def _check_business_info(problems: Problems, descriptor: dict, path: str) -> None:
    info = _get(problems, descriptor, path, "businessInfo", "object", nullable=True)
    if info is None:
        return
    info_path = join_path(path, "businessInfo")
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
        problems.add(path, f"must be an object, not {type_name(component)}")
        return None, []

    def get(key: str, kind: str, **options: bool) -> object:
        return _get(problems, component, path, key, kind, **options)

    kind = get("kind", "string", required=True, non_empty=True)
    kind_key = kind.lower() if isinstance(kind, str) else None
    if kind_key is not None and kind_key not in COMPONENT_KINDS:
        problems.add(
            join_path(path, "kind"), f"{show(kind)} is not valid; expected one of {', '.join(COMPONENT_KINDS)}"
        )
        kind_key = None

    component_id = _check_component_id(problems, component, path, owner)
    get("name", "string", required=True, non_empty=True)
    get("description", "string", required=True)
    get("fullyQualifiedName", "string", required=kind_key == "observability", nullable=kind_key != "observability")
    version = _check_version(problems, component, path)
    if version is not None and owner.major is not None and _major_of(version) != owner.major:
        problems.add(
            join_path(path, "version"),
            f"{show(version)} has major {_major_of(version)}, but the data product's major is {owner.major}",
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
            problems.add(item_path, f"{show(target)} is not valid; {_COMPONENT_ID_RULE}")
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
    field = join_path(path, "id")
    parts = parse_urn(component_id)
    if parts is None or parts.component is None:
        problems.add(field, f"{show(component_id)} is not valid; {_COMPONENT_ID_RULE}")
        return None
    shown = show(component_id)
    problems = problems.coded(REF_CODE)  # from here on: what the id must agree with
    if owner.domain is not None and parts.domain != owner.domain:
        problems.add(
            field, f"{shown} has domain {show(parts.domain)}, but the data product's domain is {show(owner.domain)}"
        )
    if owner.name is not None and parts.name != owner.name:
        problems.add(field, f"{shown} names data product {show(parts.name)}, but this data product is {show(owner.id)}")
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
        contract_path = join_path(path, "dataContract")
        schema = _get(problems, contract, contract_path, "schema", "list", required=True)
        if schema is not None:
            _check_columns(problems, schema, join_path(contract_path, "schema"), depth=1)
        # The CUE requires SLA, and dataSharingAgreement inside dataContract; PRODUCT §3.3's port has neither and
        # older descriptors put the agreement beside the contract.
        sla = _get(problems, contract, contract_path, "SLA", "object", nullable=True)
        if sla is not None:
            for key in ("intervalOfChange", "timeliness", "upTime"):
                _get(problems, sla, join_path(contract_path, "SLA"), key, "string", nullable=True)
        _check_url(problems, contract, contract_path, "endpoint")
        _get(problems, contract, contract_path, "termsAndConditions", "string", nullable=True)
        _check_sharing_agreement(problems, contract, contract_path, "dataSharingAgreement")
    # Beside the contract: the singular key in the scaffold descriptors, the plural one in the DPS example.
    _check_sharing_agreement(problems, component, path, "dataSharingAgreement")
    _check_sharing_agreement(problems, component, path, "dataSharingAgreements")
    sample = get("sampleData", "object", nullable=True)
    if sample is not None:
        # The DPS example writes `sampleData: {}`; columns and rows are checked when present.
        _check_strings(problems, sample, join_path(path, "sampleData"), "columns")
        rows = _get(problems, sample, join_path(path, "sampleData"), "rows", "list")
        for index, row in enumerate(rows or []):
            if not isinstance(row, list):
                problems.add(f"{path}.sampleData.rows[{index}]", f"must be a list, not {type_name(row)}")
    if "semanticLinking" in component:
        # An object in the CUE, a list in the scaffold descriptors.
        linking = component["semanticLinking"]
        if linking is not None and not isinstance(linking, dict | list):
            problems.add(join_path(path, "semanticLinking"), f"must be an object or a list, not {type_name(linking)}")


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
        _get(problems, agreement, join_path(path, key), field, "string", nullable=True)


def _check_columns(problems: Problems, columns: list, path: str, *, depth: int) -> None:
    """``#OM_Column`` items: a name, a known data type (any case), and what that type needs."""
    if depth > _MAX_COLUMN_DEPTH:
        problems.add(path, f"nests columns deeper than {_MAX_COLUMN_DEPTH} levels")
        return
    for index, column in enumerate(columns):
        column_path = f"{path}[{index}]"
        if not isinstance(column, dict):
            problems.add(column_path, f"must be an object, not {type_name(column)}")
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
            _check_columns(problems, children, join_path(column_path, "children"), depth=depth + 1)


def _check_data_type(problems: Problems, column: dict, path: str, key: str, *, required: bool) -> str | None:
    """Report a bad data type; return it in upper case when it is one of ``#OM_DataType``."""
    data_type = _get(problems, column, path, key, "string", required=required, non_empty=True)
    if data_type is None:
        return None
    if data_type.upper() not in _DATA_TYPES:
        problems.add(
            join_path(path, key),
            f"{show(data_type)} is not a known data type; expected one of {', '.join(_DATA_TYPES)} (any case)",
        )
        return None
    return data_type.upper()


def _check_tags(problems: Problems, mapping: dict, path: str, key: str, *, required: bool = False) -> None:
    """A list of ``#OM_Tag``: tagFQN, source, labelType and state, the last three from fixed sets (any case)."""
    tags = _get(problems, mapping, path, key, "list", required=required)
    for index, tag in enumerate(tags or []):
        tag_path = f"{join_path(path, key)}[{index}]"
        if not isinstance(tag, dict):
            problems.add(tag_path, f"must be an object with tagFQN, source, labelType and state, not {type_name(tag)}")
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
        problems.add(join_path(path, key), f"{show(url)} is not valid; {_URL_RULE}")


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
    field = join_path(path, key)
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
        problems.add(field, f"must be {_TYPE_NAMES[kind]}, not {type_name(value)}")
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
        problems.add(
            join_path(path, key), f"{show(value)} is not valid; expected one of {', '.join(choices)} (any case)"
        )


def _check_strings(
    problems: Problems, mapping: dict, path: str, key: str, *, required: bool = False, nullable: bool = False
) -> list[tuple[str, int, str]]:
    """A list of strings; returns ``(path, position, string)`` for the items that are strings."""
    items = _get(problems, mapping, path, key, "list", required=required, nullable=nullable)
    strings = []
    for position, item in enumerate(items or []):
        item_path = f"{join_path(path, key)}[{position}]"
        if isinstance(item, str):
            strings.append((item_path, position, item))
        else:
            problems.add(item_path, f"must be a string, not {type_name(item)}")
    return strings


def _major_of(version: str) -> str:
    """The major of a valid version, as written in ids (no leading zeros)."""
    return version.split(".", 1)[0].lstrip("0") or "0"


def is_wrapper(document: object) -> bool:
    """Whether ``document`` is the wrapper ``{dataProduct, componentIdToProvision}`` rather than a bare descriptor."""
    return isinstance(document, dict) and ("dataProduct" in document or "componentIdToProvision" in document)
