"""Validation of DPS descriptors (PRODUCT §4.3): the shared Witboost fixtures are valid, and each broken rule is
reported at its exact path; any input, however wrong, gives problems rather than an exception."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from core.yaml import load
from dataproducts.descriptor.validate import component_descriptor_validate, descriptor_validate

FIXTURES = Path(settings.BASE_DIR) / "tests" / "data" / "witboost"
EXAMPLE = "dps-example.yaml"  # components: [0] s3 output port, [1] impala output port, [2] workload, [3] observability
SCAFFOLD = "scaffold-data_product_valid.yaml"  # components: [0] storage, [1] output port depending on [0]
WRAPPER = "scaffold-descriptor_output_port_valid.yaml"


def fixture(name: str) -> dict:
    return load((FIXTURES / name).read_text(), source=name)


def descriptor_fixture_names() -> list[str]:
    """Every YAML fixture that is a descriptor or a wrapper: all but the OpenAPI contract (and the CUE, not YAML)."""
    names = []
    for path in sorted([*FIXTURES.glob("*.yaml"), *FIXTURES.glob("*.yml")]):
        document = load(path.read_text(), source=path.name)
        if not (isinstance(document, dict) and "openapi" in document):
            names.append(path.name)
    return names


def test_the_fixture_folder_holds_the_four_known_descriptors():
    assert descriptor_fixture_names() == [
        "dps-example.yaml",
        "scaffold-data_product_valid.yaml",
        "scaffold-descriptor_output_port_valid.yaml",
        "scaffold-descriptor_storage_valid.yaml",
    ]


@pytest.mark.parametrize("name", descriptor_fixture_names())
def test_every_descriptor_fixture_is_valid(name):
    assert component_descriptor_validate(fixture(name)) == []


@pytest.mark.parametrize("name", [EXAMPLE, SCAFFOLD])
def test_bare_descriptor_fixtures_are_valid_for_descriptor_validate_too(name):
    assert descriptor_validate(fixture(name)) == []


# --- rejected, with the failing path named ----------------------------------------------------------------------


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A mutation setting the dotted/indexed ``path`` (``components[1].id``) to ``value``."""

    def mutate(document: dict) -> None:
        *parents, last = _steps(path)
        target = document
        for step in parents:
            target = target[step]
        target[last] = value

    return mutate


def _delete(path: str) -> Callable[[dict], None]:
    def mutate(document: dict) -> None:
        *parents, last = _steps(path)
        target = document
        for step in parents:
            target = target[step]
        del target[last]

    return mutate


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, *indexes = part.replace("]", "").split("[")
        steps.append(name)
        steps.extend(int(index) for index in indexes)
    return steps


REJECTIONS = [
    # (case, fixture, mutation, expected "path: message" start)
    ("a dp id of the wrong shape", EXAMPLE, _set("id", "dp:my_domain:my_data_product:1"), 'id: "dp:my_domain:'),
    (
        "a dp id of another domain",
        EXAMPLE,
        _set("id", "urn:dmb:dp:other:my_data_product:1"),
        'id: "urn:dmb:dp:other:my_data_product:1" has domain "other", but domain is "my_domain"',
    ),
    (
        "a dp id whose major is not the version's",
        EXAMPLE,
        _set("id", "urn:dmb:dp:my_domain:my_data_product:2"),
        'id: "urn:dmb:dp:my_domain:my_data_product:2" has major 2, but version "1.0.0" has major 1',
    ),
    (
        "a component id of the wrong shape",
        EXAMPLE,
        _set("components[0].id", "my_raw_s3_port"),
        'components[0].id: "my_raw_s3_port" is not valid; expected urn:dmb:cmp:',
    ),
    (
        "a component major different from the dp's",
        EXAMPLE,
        _set("components[1].id", "urn:dmb:cmp:my_domain:my_data_product:2:my_view_impala_port"),
        'components[1].id: "urn:dmb:cmp:my_domain:my_data_product:2:my_view_impala_port" has major 2, '
        "but the data product's major is 1",
    ),
    (
        "a component id of another data product",
        SCAFFOLD,
        _set("components[0].id", "urn:dmb:cmp:healthcare:hospitals:0:snowflake-storage"),
        'components[0].id: "urn:dmb:cmp:healthcare:hospitals:0:snowflake-storage" names data product "hospitals"',
    ),
    (
        "a component version of another major",
        SCAFFOLD,
        _set("components[0].version", "1.0.0"),
        'components[0].version: "1.0.0" has major 1, but the data product\'s major is 0',
    ),
    ("a version 1.0", EXAMPLE, _set("version", "1.0"), 'version: "1.0" is not valid; expected <major>.<minor>.<patch>'),
    ("an unquoted version", EXAMPLE, _set("version", 1.0), "version: must be a string such as"),
    (
        "an unknown component kind",
        EXAMPLE,
        _set("components[2].kind", "dashboard"),
        'components[2].kind: "dashboard" is not valid; expected one of outputport, workload, storage, observability',
    ),
    ("a dp kind that is not dataproduct", EXAMPLE, _set("kind", "dataset"), 'kind: "dataset" is not valid'),
    (
        "a dependsOn naming an unknown component",
        EXAMPLE,
        _set("components[1].dependsOn", ["urn:dmb:cmp:my_domain:my_data_product:1:nowhere"]),
        'components[1].dependsOn[0]: "urn:dmb:cmp:my_domain:my_data_product:1:nowhere" names no component of this '
        "data product",
    ),
    (
        "a dependsOn entry that is not a component id",
        EXAMPLE,
        _set("components[1].dependsOn", ["my_raw_s3_port"]),
        'components[1].dependsOn[0]: "my_raw_s3_port" is not valid; expected urn:dmb:cmp:',
    ),
    (
        "a dependsOn that is a string rather than a list",
        EXAMPLE,
        _set("components[1].dependsOn", "urn:dmb:cmp:my_domain:my_data_product:1:my_raw_s3_port"),
        "components[1].dependsOn: must be a list, not a string",
    ),
    (
        "a dependency cycle, at the edge added",
        SCAFFOLD,
        _set("components[0].dependsOn", ["urn:dmb:cmp:healthcare:vaccinations:0:snowflake-output-port"]),
        'components[0].dependsOn[0]: "urn:dmb:cmp:healthcare:vaccinations:0:snowflake-output-port" is part of a '
        "dependency cycle: snowflake-output-port -> snowflake-storage -> snowflake-output-port",
    ),
    (
        "a dependency cycle, at the edge that was there",
        SCAFFOLD,
        _set("components[0].dependsOn", ["urn:dmb:cmp:healthcare:vaccinations:0:snowflake-output-port"]),
        'components[1].dependsOn[0]: "urn:dmb:cmp:healthcare:vaccinations:0:snowflake-storage" is part of a '
        "dependency cycle: snowflake-output-port -> snowflake-storage -> snowflake-output-port",
    ),
    (
        "a component depending on itself",
        SCAFFOLD,
        _set("components[0].dependsOn", ["urn:dmb:cmp:healthcare:vaccinations:0:snowflake-storage"]),
        'components[0].dependsOn[0]: "urn:dmb:cmp:healthcare:vaccinations:0:snowflake-storage" is part of a '
        "dependency cycle: snowflake-storage -> snowflake-storage",
    ),
    (
        "two components with one id",
        EXAMPLE,
        _set("components[3].id", "urn:dmb:cmp:my_domain:my_data_product:1:my_raw_s3_port"),
        'components[3].id: "urn:dmb:cmp:my_domain:my_data_product:1:my_raw_s3_port" is already the id of components[0]',
    ),
    (
        "an unknown column data type",
        EXAMPLE,
        _set("components[1].dataContract.schema[3].dataType", "VARCHAR2"),
        'components[1].dataContract.schema[3].dataType: "VARCHAR2" is not a known data type',
    ),
    (
        "a column without a name",
        EXAMPLE,
        _delete("components[1].dataContract.schema[0].name"),
        "components[1].dataContract.schema[0].name: is required",
    ),
    (
        "an array column without its item type",
        EXAMPLE,
        _set("components[1].dataContract.schema[0].dataType", "array"),
        "components[1].dataContract.schema[0].arrayDataType: is required",
    ),
    (
        "a varchar column without a length",
        EXAMPLE,
        _set("components[1].dataContract.schema[0].dataType", "VARCHAR"),
        "components[1].dataContract.schema[0].dataLength: is required",
    ),
    (
        "an unknown column constraint",
        EXAMPLE,
        _set("components[1].dataContract.schema[0].constraint", "FOREIGN_KEY"),
        'components[1].dataContract.schema[0].constraint: "FOREIGN_KEY" is not valid; expected one of NULL, NOT_NULL',
    ),
    (
        "a tag of an unknown source",
        EXAMPLE,
        _set("components[0].tags[0].source", "Hashtag"),
        'components[0].tags[0].source: "Hashtag" is not valid; expected one of Tag, Glossary, Classification',
    ),
    ("a dp without a domain", EXAMPLE, _delete("domain"), "domain: is required"),
    ("a dp without components", EXAMPLE, _set("components", []), "components: must list at least one component"),
    (
        "an output port without a data contract",
        EXAMPLE,
        _delete("components[0].dataContract"),
        "components[0].dataContract: is required",
    ),
    (
        "a data contract schema that is not a list",
        EXAMPLE,
        _set("components[0].dataContract.schema", {"name": "x"}),
        "components[0].dataContract.schema: must be a list, not an object",
    ),
    (
        "an observability endpoint that is not a URL",
        EXAMPLE,
        _set("components[3].endpoint", "ftp://develop/obs"),
        'components[3].endpoint: "ftp://develop/obs" is not valid; expected an http(s) URL',
    ),
    ("an unknown maturity", EXAMPLE, _set("maturity", "Legendary"), 'maturity: "Legendary" is not valid'),
    (
        "sample data rows that are not lists",
        EXAMPLE,
        _set("components[1].sampleData.rows", [["Jace", "Beleren"], "Gideon"]),
        "components[1].sampleData.rows[1]: must be a list, not a string",
    ),
    (
        "a workload without readsFrom",
        EXAMPLE,
        _delete("components[2].readsFrom"),
        "components[2].readsFrom: is required",
    ),
]


@pytest.mark.parametrize(
    ("fixture_name", "mutate", "expected"), [case[1:] for case in REJECTIONS], ids=[case[0] for case in REJECTIONS]
)
def test_a_broken_rule_is_reported_at_its_path(fixture_name, mutate, expected):
    document = fixture(fixture_name)
    mutate(document)
    problems = descriptor_validate(document)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_broken_rule_in_a_wrapper_is_reported_below_data_product():
    document = fixture(WRAPPER)
    document["dataProduct"]["version"] = "1.0"
    document["dataProduct"]["components"][1]["dataContract"]["schema"][0]["dataType"] = "DATETIME2"
    problems = component_descriptor_validate(document)
    assert problems == [
        'dataProduct.version: "1.0" is not valid; expected <major>.<minor>.<patch> such as 1.2.0, '
        "or a draft <major>.<minor>-SNAPSHOT-<n>",
        'dataProduct.components[1].dataContract.schema[0].dataType: "DATETIME2" is not a known data type; expected '
        "one of NUMBER, TINYINT, SMALLINT, INT, BIGINT, BYTEINT, BYTES, FLOAT, DOUBLE, DECIMAL, NUMERIC, TIMESTAMP, "
        "TIME, DATE, DATETIME, INTERVAL, STRING, MEDIUMTEXT, TEXT, CHAR, VARCHAR, BOOLEAN, BINARY, VARBINARY, ARRAY, "
        "BLOB, LONGBLOB, MEDIUMBLOB, MAP, STRUCT, UNION, SET, GEOGRAPHY, ENUM, JSON (any case)",
    ]


def test_a_wrapper_whose_target_is_no_component_is_rejected():
    document = fixture(WRAPPER)
    document["componentIdToProvision"] = "urn:dmb:cmp:healthcare:vaccinations:0:missing-port"
    assert component_descriptor_validate(document) == [
        'componentIdToProvision: "urn:dmb:cmp:healthcare:vaccinations:0:missing-port" names no component of '
        "dataProduct.components"
    ]


def test_a_wrapper_without_a_target_is_rejected():
    document = fixture(WRAPPER)
    del document["componentIdToProvision"]
    assert component_descriptor_validate(document) == ["componentIdToProvision: is required"]


def test_a_wrapper_without_its_data_product_is_rejected():
    document = {"componentIdToProvision": "urn:dmb:cmp:healthcare:vaccinations:0:snowflake-storage"}
    assert component_descriptor_validate(document) == ["dataProduct: is required"]


def test_a_valid_descriptor_is_told_apart_from_a_wrapper_by_its_keys():
    # A bare descriptor goes through the same function; a bare one never needs componentIdToProvision.
    assert component_descriptor_validate(fixture(SCAFFOLD)) == []
    assert descriptor_validate(fixture(WRAPPER)) != []  # a wrapper is not a data product descriptor


def test_a_broken_data_product_reports_every_problem_at_once():
    document = fixture(EXAMPLE)
    document["version"] = "1.0"
    document["components"][2]["kind"] = "dashboard"
    document["components"][1]["dependsOn"] = ["urn:dmb:cmp:my_domain:my_data_product:1:nowhere"]
    paths = [problem.split(": ", 1)[0] for problem in descriptor_validate(document)]
    assert paths == ["version", "components[2].kind", "components[1].dependsOn[0]"]


def test_a_cycle_through_three_components_is_reported_once_on_each_of_its_edges():
    document = fixture(EXAMPLE)
    document["components"][0]["dependsOn"] = ["urn:dmb:cmp:my_domain:my_data_product:1:my_observability"]
    document["components"][3]["dependsOn"] = ["urn:dmb:cmp:my_domain:my_data_product:1:my_view_impala_port"]
    cycle = "my_observability -> my_view_impala_port -> my_raw_s3_port -> my_observability"
    prefix = "urn:dmb:cmp:my_domain:my_data_product:1"
    assert descriptor_validate(document) == [
        f'components[3].dependsOn[0]: "{prefix}:my_view_impala_port" is part of a dependency cycle: {cycle}',
        f'components[1].dependsOn[0]: "{prefix}:my_raw_s3_port" is part of a dependency cycle: {cycle}',
        f'components[0].dependsOn[0]: "{prefix}:my_observability" is part of a dependency cycle: {cycle}',
    ]


def test_a_long_dependency_chain_is_no_cycle():
    document = fixture(EXAMPLE)
    template = document["components"][2]  # the workload
    chain = []
    for index in range(2000):
        link = copy.deepcopy(template)
        link["id"] = f"urn:dmb:cmp:my_domain:my_data_product:1:step{index}"
        link["dependsOn"] = [f"urn:dmb:cmp:my_domain:my_data_product:1:step{index - 1}"] if index else []
        chain.append(link)
    document["components"] = chain
    assert descriptor_validate(document) == []


# --- accepted dialects (PRODUCT §4.3: where the CUE is stricter than real descriptors, they win) --------------


@pytest.mark.parametrize("source", ["Tag", "Glossary", "Classification", "classification", "TAG"])
def test_tag_sources_of_both_dialects_are_accepted_in_any_case(source):
    document = fixture(EXAMPLE)
    document["components"][0]["tags"][0]["source"] = source
    assert descriptor_validate(document) == []


@pytest.mark.parametrize("placement", ["beside", "inside", "plural beside"])
def test_the_data_sharing_agreement_may_sit_beside_or_inside_the_contract(placement):
    document = fixture(SCAFFOLD)
    port = document["components"][1]
    agreement = port.pop("dataSharingAgreement")
    key = "dataSharingAgreements" if placement == "plural beside" else "dataSharingAgreement"
    (port["dataContract"] if placement == "inside" else port)[key] = agreement
    assert descriptor_validate(document) == []


def test_a_support_sla_object_may_replace_the_information_sla_string():
    document = fixture(SCAFFOLD)
    del document["informationSLA"]
    document["supportSLA"] = {"supportHours": "9-17", "responseTime": "4h", "resolutionTime": None}
    assert descriptor_validate(document) == []


def test_a_draft_version_is_accepted():
    document = fixture(SCAFFOLD)
    document["version"] = "0.2-SNAPSHOT-3"
    assert descriptor_validate(document) == []


@pytest.mark.parametrize("data_type", ["string", "Decimal", "TIMESTAMP", "struct"])
def test_column_data_types_compare_case_insensitively(data_type):
    document = fixture(EXAMPLE)
    document["components"][1]["dataContract"]["schema"][0]["dataType"] = data_type
    assert descriptor_validate(document) == []


def test_nested_columns_are_checked_at_their_own_path():
    document = fixture(EXAMPLE)
    column = document["components"][1]["dataContract"]["schema"][5]  # residential_address, a struct
    column["children"] = [{"name": "street", "dataType": "STRING"}, {"name": "zip", "dataType": "ZIPCODE"}]
    assert descriptor_validate(document) == [
        'components[1].dataContract.schema[5].children[1].dataType: "ZIPCODE" is not a known data type; expected '
        "one of NUMBER, TINYINT, SMALLINT, INT, BIGINT, BYTEINT, BYTES, FLOAT, DOUBLE, DECIMAL, NUMERIC, TIMESTAMP, "
        "TIME, DATE, DATETIME, INTERVAL, STRING, MEDIUMTEXT, TEXT, CHAR, VARCHAR, BOOLEAN, BINARY, VARBINARY, ARRAY, "
        "BLOB, LONGBLOB, MEDIUMBLOB, MAP, STRUCT, UNION, SET, GEOGRAPHY, ENUM, JSON (any case)"
    ]


# --- any input ----------------------------------------------------------------------------------------------


def _deeply_nested_columns(depth: int) -> dict:
    document = fixture(EXAMPLE)
    column: dict = {"name": "leaf", "dataType": "STRING"}
    for level in range(depth):
        column = {"name": f"level{level}", "dataType": "STRUCT", "children": [column]}
    document["components"][1]["dataContract"]["schema"] = [column]
    return document


NONSENSE = [
    None,
    [],
    "descriptor",
    42,
    True,
    {},
    {"components": "abc"},
    {"components": [None, 3, "x", [], {"kind": 7, "id": ["a"], "dependsOn": {"a": 1}}]},
    {"dataProduct": []},
    {"dataProduct": {"components": [{"id": None}]}, "componentIdToProvision": {"x": 1}},
    {1: 2, None: "x"},
]


@pytest.mark.parametrize("document", NONSENSE, ids=[repr(item)[:40] for item in NONSENSE])
def test_nonsense_gives_problems_and_never_raises(document):
    problems = component_descriptor_validate(document)
    assert problems
    assert all(isinstance(problem, str) and ": " in problem for problem in problems)


def test_columns_nested_absurdly_deep_are_a_problem_not_a_crash():
    problems = descriptor_validate(_deeply_nested_columns(5000))
    assert len(problems) == 1
    assert problems[0].endswith("nests columns deeper than 32 levels")


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    """Every path into a document, containers included."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@pytest.mark.parametrize("name", [EXAMPLE, WRAPPER])
def test_any_field_replaced_by_any_type_never_raises(name):
    original = fixture(name)
    replacements = [None, "x", -1, 2.5, False, [], {}, [None], {"": None}]
    for path in _paths(original):
        for replacement in replacements:
            document = copy.deepcopy(original)
            target = document
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = replacement
            problems = component_descriptor_validate(document)
            assert all(isinstance(problem, str) for problem in problems), (path, replacement)
