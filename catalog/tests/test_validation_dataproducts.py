"""Tests for the data product rules of catalog.validation (PRODUCT §3.1, §3.3): names, ids, versions and
derived fields on one entity (validate_entity), and the rules across one data product (validate_data_product).
"""

import copy
import json
from pathlib import Path

import pytest

from catalog.refs import parse_urn
from catalog.validation import (
    is_data_product,
    is_data_product_component,
    normalize_entity,
    validate_data_product,
    validate_entity,
)
from core.yaml import load_all, load_file

SOURCE = "catalog-info.yaml"
WITBOOST_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "data" / "witboost"

# PRODUCT §3.3 as written there, followed by what it mentions but does not show: the storage component
# `ledger` that daily-balances depends on, the Domain, and the team and person it names.
SECTION_3_3_EXAMPLE = """\
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: finance.cashflow.0, title: Cash flow, description: Operating cash flows, tags: [finance]}
spec:
  type: dataproduct
  lifecycle: experimental
  owner: group:finance
  domain: domain:finance
  mesh: {name: Cash flow, fullyQualifiedName: Finance - Cash flow - v0, version: 0.0.0,
         dataProductOwner: user:alice, devGroup: group:finance, maturity: Strategic, tags: [], specific: {}}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: finance.cashflow.0.daily-balances, description: Balances per account per day}
spec:
  type: outputport
  lifecycle: experimental
  owner: group:finance
  system: system:finance.cashflow.0
  mesh:
    name: Daily balances
    kind: outputport
    version: 0.0.0
    infrastructureTemplateId: urn:dmb:itm:postgres:1
    useCaseTemplateId: urn:dmb:utm:postgres-outputport:0.0.0
    dependsOn: [urn:dmb:cmp:finance:cashflow:0:ledger]   # a storage component `ledger`, not shown
    dataContract:
      schema: [{name: day, dataType: DATE, constraint: PRIMARY_KEY}, {name: balance, dataType: DECIMAL}]
      termsAndConditions: Internal use only
    readsFrom: [urn:dmb:cmp:sales:orders:1:orders-view]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: finance.cashflow.0.ledger
  description: Ledger entries, one row per posting
spec:
  type: storage
  lifecycle: experimental
  owner: group:finance
  system: system:finance.cashflow.0
  mesh:
    id: urn:dmb:cmp:finance:cashflow:0:ledger
    name: Ledger
    kind: storage
    description: Ledger entries, one row per posting
    version: 0.0.0
    infrastructureTemplateId: urn:dmb:itm:postgres:1
    useCaseTemplateId: urn:dmb:utm:postgres-storage:0.0.0
    dependsOn: []
    specific: {}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: finance}
spec: {owner: group:finance}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: finance}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [finance]}
"""


def section_3_3_documents() -> list[dict]:
    return load_all(SECTION_3_3_EXAMPLE, source="section-3.3.yaml")


def dp_system(name: str = "finance.cashflow.0", **mesh) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "System",
        "metadata": {"name": name, "description": "Operating cash flows"},
        "spec": {
            "type": "dataproduct",
            "owner": "group:finance",
            "domain": "domain:finance",
            "mesh": {"name": "Cash flow", "version": name.rsplit(".", 1)[-1] + ".0.0", **mesh},
        },
    }


def dp_component(
    short_name: str = "ledger", *, dp: str = "finance.cashflow.0", depends_on: list | None = None, **mesh
) -> dict:
    name = f"{dp}.{short_name}"
    mesh = {"name": short_name.title(), "version": dp.rsplit(".", 1)[-1] + ".0.0", **mesh}
    if depends_on is not None:
        mesh["dependsOn"] = depends_on
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "description": f"The {short_name}"},
        "spec": {
            "type": "storage",
            "lifecycle": "experimental",
            "owner": "group:finance",
            "system": f"system:{dp}",
            "mesh": mesh,
        },
    }


def cmp(short_name: str, dp: str = "finance:cashflow:0") -> str:
    return f"urn:dmb:cmp:{dp}:{short_name}"


def key(short_name: str, dp: str = "finance.cashflow.0") -> str:
    return f"component:default/{dp}.{short_name}"


SYSTEM_KEY = "system:default/finance.cashflow.0"


def problems_of(document: dict) -> list[str]:
    return validate_entity(document, source=SOURCE)


def only_problem(document: dict) -> str:
    problems = problems_of(document)
    assert len(problems) == 1, problems
    return problems[0]


def changed(document: dict, path: str, value: object = ...) -> dict:
    """A copy of the document with the dotted path set to value, or removed when no value is given."""
    document = copy.deepcopy(document)
    *parents, last = path.split(".")
    target = document
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


# --- the §3.3 example -------------------------------------------------------------------------------------------


def test_the_section_3_3_example_documents_validate_clean():
    documents = section_3_3_documents()
    assert [document["kind"] for document in documents] == [
        "System",
        "Component",
        "Component",
        "Domain",
        "Group",
        "User",
    ]
    for document in documents:
        assert validate_entity(document, source="section-3.3.yaml") == []


def test_the_section_3_3_data_product_is_consistent():
    system, daily_balances, ledger = (normalize_entity(document) for document in section_3_3_documents()[:3])
    assert validate_data_product(system, [daily_balances, ledger]) == {}


def test_the_section_3_3_system_and_components_are_recognised_as_a_data_product():
    system, daily_balances, ledger, domain, *_people = section_3_3_documents()
    assert is_data_product(system)
    assert not is_data_product(domain)
    assert is_data_product_component(daily_balances) and is_data_product_component(ledger)
    assert not is_data_product_component(system)


def test_a_system_of_another_type_and_a_component_without_mesh_get_no_data_product_rules():
    system = changed(dp_system(name="cashflow"), "spec.type", "product")
    del system["spec"]["mesh"]
    assert problems_of(system) == []
    component = changed(dp_component(), "spec.mesh")
    component["metadata"]["name"] = "payments"
    assert problems_of(component) == []


# --- names and namespace ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["finance.cashflow.0", "my_domain.my-data_product.12", "F1.x.0"])
def test_a_data_product_named_domain_name_major_is_valid(name):
    document = dp_system(name=name)
    document["spec"]["domain"] = f"domain:{name.split('.')[0]}"
    assert problems_of(document) == []


@pytest.mark.parametrize(
    "name",
    ["finance.cashflow", "finance.cash.flow.0", "finance.cashflow.v0", "finance.cashflow.01", "finance..0", "cashflow"],
)
def test_a_data_product_name_of_another_shape_is_refused(name):
    assert problems_of(dp_system(name=name))[0] == (
        f'{SOURCE}: metadata.name "{name}" is not valid; expected a data product name <domain>.<name>.<major>, '
        "each part of [a-zA-Z0-9_-] and major a non-negative integer without leading zeros"
    )


@pytest.mark.parametrize("name", ["finance.cashflow.0", "finance.cashflow.x.ledger", "finance.cashflow.0.led.ger"])
def test_a_data_product_component_name_of_another_shape_is_refused(name):
    document = dp_component()
    document["metadata"]["name"] = name
    assert problems_of(document)[0].startswith(
        f'{SOURCE}: metadata.name "{name}" is not valid; expected a data product component name '
        "<domain>.<name>.<major>.<component>"
    )


def test_an_invalid_name_is_reported_once_not_again_as_a_data_product_name():
    document = dp_system()
    document["metadata"]["name"] = "finance.cashflow.0\n"
    problems = [problem for problem in problems_of(document) if "metadata.name" in problem.split(" ")[1]]
    assert problems == [
        f'{SOURCE}: metadata.name "finance.cashflow.0\\n" is not valid; expected sequences of [a-zA-Z0-9] '
        "separated by [-_.], at most 63 characters"
    ]


@pytest.mark.parametrize("document", [dp_system(), dp_component()])
def test_a_data_product_lives_in_the_default_namespace(document):
    assert problems_of(changed(document, "metadata.namespace", "default")) == []
    assert only_problem(changed(document, "metadata.namespace", "finance")) == (
        f'{SOURCE}: metadata.namespace "finance" is not allowed for a data product; expected "default", '
        "since its id has no namespace"
    )


# --- spec.mesh and its version ------------------------------------------------------------------------------------


def test_a_data_product_system_needs_a_mesh_object():
    assert only_problem(changed(dp_system(), "spec.mesh")) == f"{SOURCE}: spec.mesh is required for a data product"
    assert only_problem(changed(dp_system(), "spec.mesh", [])) == f"{SOURCE}: spec.mesh must be an object, not a list"


def test_a_data_product_component_mesh_must_be_an_object():
    assert (
        only_problem(changed(dp_component(), "spec.mesh", None)) == f"{SOURCE}: spec.mesh must be an object, not null"
    )


@pytest.mark.parametrize("version", ["0.0.0", "0.1.0", "0.10.3", "0.0.0-rc.1", "0.0.0+build5", "0.3-SNAPSHOT-2"])
@pytest.mark.parametrize("make", [dp_system, dp_component])
def test_a_version_major_dot_minor_dot_something_or_a_draft_is_valid(make, version):
    assert problems_of(changed(make(), "spec.mesh.version", version)) == []


@pytest.mark.parametrize("version", ["0", "0.0", "0.0.", "v0.0.0", "0.0.0\n", "0.a.0", "0.1-SNAPSHOT", " 0.0.0"])
@pytest.mark.parametrize("make", [dp_system, dp_component])
def test_a_version_of_another_shape_is_refused(make, version):
    assert only_problem(changed(make(), "spec.mesh.version", version)).startswith(
        f"{SOURCE}: spec.mesh.version {json.dumps(version)} is not valid; expected <major>.<minor>.<patch>"
    )


@pytest.mark.parametrize("make", [dp_system, dp_component])
def test_a_version_is_required_and_a_string(make):
    assert only_problem(changed(make(), "spec.mesh.version")) == f"{SOURCE}: spec.mesh.version is required"
    assert only_problem(changed(make(), "spec.mesh.version", 1.0)) == (
        f"{SOURCE}: spec.mesh.version must be a string, not a number"
    )


def test_a_version_whose_major_differs_from_the_name_is_refused_naming_both():
    assert only_problem(changed(dp_system(), "spec.mesh.version", "1.0.0")) == (
        f'{SOURCE}: spec.mesh.version "1.0.0" has major 1, but metadata.name "finance.cashflow.0" has major 0'
    )
    assert only_problem(changed(dp_component(), "spec.mesh.version", "2.1-SNAPSHOT-3")) == (
        f'{SOURCE}: spec.mesh.version "2.1-SNAPSHOT-3" has major 2, but metadata.name "finance.cashflow.0.ledger" '
        "has major 0"
    )


def test_a_version_major_with_leading_zeros_is_the_same_major():
    assert problems_of(changed(dp_system(name="finance.cashflow.1"), "spec.mesh.version", "01.0.0")) == []


# --- derived fields ---------------------------------------------------------------------------------------------

SYSTEM_DERIVED = [
    ("id", "urn:dmb:dp:finance:cashflow:0", "urn:dmb:dp:finance:cashflow:1", "metadata.name"),
    ("kind", "dataproduct", "outputport", "spec.type"),
    ("domain", "finance", "sales", "metadata.name"),
    ("ownerGroup", "finance", "group:finance", "spec.owner"),
    ("description", "Operating cash flows", "Cash flows", "metadata.description"),
]
COMPONENT_DERIVED = [
    ("id", "urn:dmb:cmp:finance:cashflow:0:ledger", "urn:dmb:cmp:finance:cashflow:0:journal", "metadata.name"),
    ("kind", "storage", "outputport", "spec.type"),
    ("description", "The ledger", "The journal", "metadata.description"),
]


@pytest.mark.parametrize(
    ("make", "field", "derived"),
    [(dp_system, f, d) for f, d, _w, _o in SYSTEM_DERIVED]
    + [(dp_component, f, d) for f, d, _w, _o in COMPONENT_DERIVED],
)
def test_a_derived_field_equal_to_its_derived_value_is_accepted(make, field, derived):
    assert problems_of(changed(make(), f"spec.mesh.{field}", derived)) == []


@pytest.mark.parametrize(
    ("make", "field", "derived", "written", "origin"),
    [(dp_system, *case) for case in SYSTEM_DERIVED] + [(dp_component, *case) for case in COMPONENT_DERIVED],
)
def test_a_derived_field_that_differs_is_refused_naming_both_values(make, field, derived, written, origin):
    assert only_problem(changed(make(), f"spec.mesh.{field}", written)) == (
        f'{SOURCE}: spec.mesh.{field} "{written}" does not equal "{derived}", the value derived from {origin}'
    )


def test_a_derived_field_of_the_wrong_type_is_refused_naming_both_values():
    assert only_problem(changed(dp_system(), "spec.mesh.kind", None)) == (
        f'{SOURCE}: spec.mesh.kind null does not equal "dataproduct", the value derived from spec.type'
    )


def test_the_owner_group_is_derived_from_the_owner_name_whatever_its_kind_and_namespace():
    system = changed(dp_system(ownerGroup="name.surname_email.com"), "spec.owner", "ops/name.surname_email.com")
    assert problems_of(system) == []


def test_the_description_is_free_when_metadata_has_none():
    system = dp_system(description="Anything")
    del system["metadata"]["description"]
    assert problems_of(system) == []


@pytest.mark.parametrize("make", [dp_system, dp_component])
def test_the_environment_is_never_allowed_in_a_file(make):
    assert only_problem(make(environment="development")) == (
        f"{SOURCE}: spec.mesh.environment is not allowed in a file; Meshforge sets it for each environment it "
        "deploys to"
    )


# --- references of a data product ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "system", ["system:finance.cashflow.0", "finance.cashflow.0", "System:Default/Finance.Cashflow.0"]
)
def test_a_component_naming_its_own_data_product_as_system_is_valid(system):
    assert problems_of(changed(dp_component(), "spec.system", system)) == []


def test_a_component_naming_another_system_is_refused_naming_both():
    assert only_problem(changed(dp_component(), "spec.system", "system:finance.cashflow.1")) == (
        f'{SOURCE}: spec.system "system:finance.cashflow.1" is not the data product of this component; '
        'expected "system:finance.cashflow.0"'
    )


def test_a_data_product_component_needs_a_system():
    assert only_problem(changed(dp_component(), "spec.system")) == (
        f'{SOURCE}: spec.system is required for a data product component; expected "system:finance.cashflow.0"'
    )


def test_a_component_system_that_does_not_parse_is_reported_once():
    assert only_problem(changed(dp_component(), "spec.system", "system:")).startswith(
        f'{SOURCE}: spec.system "system:" is not a valid entity reference'
    )


@pytest.mark.parametrize("domain", ["domain:finance", "finance", "Domain:default/Finance"])
def test_a_data_product_in_its_own_domain_is_valid(domain):
    assert problems_of(changed(dp_system(), "spec.domain", domain)) == []


def test_a_data_product_may_leave_out_its_domain():
    assert problems_of(changed(dp_system(), "spec.domain")) == []


def test_a_data_product_in_another_domain_is_refused_naming_both():
    assert only_problem(changed(dp_system(), "spec.domain", "domain:sales")) == (
        f'{SOURCE}: spec.domain "domain:sales" is not the domain of this data product; expected "domain:finance"'
    )


def test_depends_on_components_of_the_same_data_product_is_valid():
    assert problems_of(dp_component("view", depends_on=[cmp("ledger"), cmp("journal")])) == []
    assert problems_of(dp_component("view", depends_on=[])) == []


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (
            cmp("orders", dp="sales:orders:1"),
            "is not a component of this data product; expected urn:dmb:cmp:finance:cashflow:0:<component>",
        ),
        (
            cmp("ledger", dp="finance:cashflow:1"),
            "is not a component of this data product; expected urn:dmb:cmp:finance:cashflow:0:<component>",
        ),
        (
            "urn:dmb:dp:finance:cashflow:0",
            "is not valid; expected a component id urn:dmb:cmp:<domain>:<name>:<major>:<component>",
        ),
        ("ledger", "is not valid; expected a component id urn:dmb:cmp:<domain>:<name>:<major>:<component>"),
        ("component:finance.cashflow.0.ledger", "is not valid; expected a component id"),
        (cmp("ledger") + "\n", "is not valid; expected a component id"),
    ],
)
def test_depends_on_anything_but_a_component_of_the_same_data_product_is_refused(target, problem):
    document = dp_component("view", depends_on=[cmp("ledger"), target])
    assert only_problem(document).startswith(f"{SOURCE}: spec.mesh.dependsOn[1] {json.dumps(target)} {problem}")


def test_depends_on_must_be_a_list_of_strings():
    assert only_problem(dp_component(depends_on="x")) == f"{SOURCE}: spec.mesh.dependsOn must be a list, not a string"
    assert (
        only_problem(dp_component(depends_on=[1])) == f"{SOURCE}: spec.mesh.dependsOn[0] must be a string, not a number"
    )


@pytest.mark.parametrize("field", ["readsFrom", "logicallyReadsFrom"])
def test_lineage_may_name_components_data_products_and_external_sources(field):
    sources = [cmp("orders-view", dp="sales:orders:1"), "urn:dmb:dp:sales:orders:1", "urn:dmb:ex:mainframe_db2"]
    assert problems_of(dp_component(**{field: sources})) == []


@pytest.mark.parametrize("field", ["readsFrom", "logicallyReadsFrom"])
@pytest.mark.parametrize("source", ["orders", "urn:dmb:dp:sales:orders", "https://example.com", "urn:dmb:ex:", ""])
def test_lineage_naming_anything_else_is_refused(field, source):
    assert only_problem(dp_component(**{field: [source]})).startswith(
        f"{SOURCE}: spec.mesh.{field}[0] {json.dumps(source)} is not valid; expected a component id"
    )


def test_lineage_must_be_a_list():
    assert only_problem(dp_component(readsFrom="urn:dmb:dp:sales:orders:1")) == (
        f"{SOURCE}: spec.mesh.readsFrom must be a list, not a string"
    )


# --- across one data product ---------------------------------------------------------------------------------------


def test_a_consistent_data_product_has_no_problems():
    components = [dp_component("ledger"), dp_component("view", depends_on=[cmp("ledger")])]
    assert validate_data_product(dp_system(), components) == {}


def test_a_component_whose_major_differs_from_its_data_product_is_reported_on_both():
    odd = dp_component("ledger", dp="finance.cashflow.1")
    odd["spec"]["system"] = "system:finance.cashflow.0"
    sources = {key("ledger", dp="finance.cashflow.1"): "ledger/catalog-info.yaml"}
    message = (
        'ledger/catalog-info.yaml: metadata.name "finance.cashflow.1.ledger" has major 1, but its data product '
        "system:default/finance.cashflow.0 has major 0"
    )
    assert validate_data_product(dp_system(), [odd], sources=sources) == {
        key("ledger", dp="finance.cashflow.1"): [message],
        SYSTEM_KEY: [message],
    }


def test_depends_on_a_missing_component_is_reported_on_the_component_and_the_data_product():
    view = dp_component("view", depends_on=[cmp("ledger"), cmp("journal")])
    message = (
        f'{key("view")}: spec.mesh.dependsOn[1] "urn:dmb:cmp:finance:cashflow:0:journal" names a component that '
        "is not part of data product system:default/finance.cashflow.0"
    )
    assert validate_data_product(dp_system(), [dp_component("ledger"), view]) == {
        key("view"): [message],
        SYSTEM_KEY: [message],
    }


def test_depends_on_another_data_product_is_left_to_entity_validation():
    view = dp_component("view", depends_on=[cmp("orders", dp="sales:orders:1")])
    assert validate_data_product(dp_system(), [view]) == {}


def test_a_depends_on_cycle_is_reported_naming_the_cycle():
    a = dp_component("a", depends_on=[cmp("b")])
    b = dp_component("b", depends_on=[cmp("c"), cmp("a")])
    c = dp_component("c")
    sources = {key("a"): "a.yaml", key("b"): "b.yaml", SYSTEM_KEY: "catalog-info.yaml"}
    assert validate_data_product(dp_system(), [a, b, c], sources=sources) == {
        key("a"): [f'a.yaml: spec.mesh.dependsOn[0] "{cmp("b")}" is part of a dependency cycle: a -> b -> a'],
        key("b"): [f'b.yaml: spec.mesh.dependsOn[1] "{cmp("a")}" is part of a dependency cycle: a -> b -> a'],
        SYSTEM_KEY: ["catalog-info.yaml: components form a spec.mesh.dependsOn cycle: a -> b -> a"],
    }


def test_a_longer_cycle_is_named_from_its_smallest_component_in_order():
    components = [
        dp_component("c", depends_on=[cmp("a")]),
        dp_component("b", depends_on=[cmp("c")]),
        dp_component("a", depends_on=[cmp("b")]),
        dp_component("d", depends_on=[cmp("a")]),
    ]
    problems = validate_data_product(dp_system(), components)
    assert sorted(problems) == sorted([key("a"), key("b"), key("c"), SYSTEM_KEY])
    assert problems[SYSTEM_KEY] == [f"{SYSTEM_KEY}: components form a spec.mesh.dependsOn cycle: a -> b -> c -> a"]


def test_a_component_depending_on_itself_is_a_cycle():
    problems = validate_data_product(dp_system(), [dp_component("a", depends_on=[cmp("a")])])
    assert problems[key("a")] == [
        f'{key("a")}: spec.mesh.dependsOn[0] "urn:dmb:cmp:finance:cashflow:0:a" is part of a dependency cycle: a -> a'
    ]


def test_two_separate_cycles_are_both_reported():
    components = [
        dp_component("a", depends_on=[cmp("b")]),
        dp_component("b", depends_on=[cmp("a")]),
        dp_component("x", depends_on=[cmp("y")]),
        dp_component("y", depends_on=[cmp("x")]),
    ]
    assert validate_data_product(dp_system(), components)[SYSTEM_KEY] == [
        f"{SYSTEM_KEY}: components form a spec.mesh.dependsOn cycle: a -> b -> a",
        f"{SYSTEM_KEY}: components form a spec.mesh.dependsOn cycle: x -> y -> x",
    ]


def test_a_diamond_of_dependencies_is_not_a_cycle():
    components = [
        dp_component("top", depends_on=[cmp("left"), cmp("right")]),
        dp_component("left", depends_on=[cmp("bottom")]),
        dp_component("right", depends_on=[cmp("bottom")]),
        dp_component("bottom"),
    ]
    assert validate_data_product(dp_system(), components) == {}


def test_a_long_chain_of_dependencies_is_checked_without_recursion():
    components = [dp_component(f"c{i}", depends_on=[cmp(f"c{i + 1}")]) for i in range(3000)] + [dp_component("c3000")]
    assert validate_data_product(dp_system(), components) == {}


def test_without_its_system_only_the_components_get_the_problems():
    view = dp_component("view", depends_on=[cmp("journal")])
    assert validate_data_product(None, [view]) == {
        key("view"): [
            f'{key("view")}: spec.mesh.dependsOn[0] "urn:dmb:cmp:finance:cashflow:0:journal" names a component '
            "that is not part of data product system:default/finance.cashflow.0"
        ]
    }


def test_the_problems_clear_once_the_data_product_is_consistent_again():
    view = dp_component("view", depends_on=[cmp("ledger")])
    assert validate_data_product(dp_system(), [view]) != {}
    assert validate_data_product(dp_system(), [view, dp_component("ledger")]) == {}


def test_components_with_names_of_another_shape_are_left_to_entity_validation():
    odd = dp_component()
    odd["metadata"]["name"] = "ledger"
    assert validate_data_product(dp_system(), [odd, {"kind": "Component"}]) == {}


# --- the Witboost fixtures -----------------------------------------------------------------------------------------

# tests/data/witboost holds no catalog entities: the .yaml files are DPS descriptors as a platform sends them to
# a tech adapter (bare, or wrapped as {dataProduct, componentIdToProvision}), tech-adapter-api-2.2.0.yml is an
# OpenAPI contract and the .cue file a schema. What they show is what spec.mesh holds, so each descriptor is
# split into the System and Components that would produce it (§3.3), and those must validate clean.
DESCRIPTORS = [
    "dps-example.yaml",
    "scaffold-data_product_valid.yaml",
    "scaffold-descriptor_output_port_valid.yaml",
    "scaffold-descriptor_storage_valid.yaml",
]


def entities_from_descriptor(descriptor: dict) -> tuple[dict, list[dict]]:
    """The System and Components of a descriptor; ``environment`` is dropped (Meshforge sets it per environment)."""
    descriptor = descriptor.get("dataProduct", descriptor)
    dp = parse_urn(descriptor["id"])
    owner = f"group:{descriptor['ownerGroup']}"
    system = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "System",
        "metadata": {"name": dp.entity_name, "description": descriptor["description"]},
        "spec": {
            "type": "dataproduct",
            "lifecycle": "experimental",
            "owner": owner,
            "domain": f"domain:{dp.domain}",
            "mesh": {k: v for k, v in descriptor.items() if k not in ("components", "environment")},
        },
    }
    components = []
    for part in descriptor["components"]:
        components.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": parse_urn(part["id"]).entity_name, "description": part["description"]},
                "spec": {
                    "type": part["kind"],
                    "lifecycle": "experimental",
                    "owner": owner,
                    "system": f"system:{dp.entity_name}",
                    "mesh": {k: v for k, v in part.items() if k != "environment"},
                },
            }
        )
    return system, components


@pytest.mark.parametrize("filename", DESCRIPTORS)
def test_a_witboost_descriptor_is_not_itself_a_catalog_entity(filename):
    problems = validate_entity(load_file(WITBOOST_FIXTURES / filename), source=filename)
    assert f"{filename}: apiVersion is required" in problems


@pytest.mark.parametrize("filename", DESCRIPTORS)
def test_the_entities_behind_a_witboost_descriptor_validate_clean(filename):
    system, components = entities_from_descriptor(load_file(WITBOOST_FIXTURES / filename))
    for document in [system, *components]:
        assert validate_entity(document, source=filename) == []
    processed = [normalize_entity(document) for document in components]
    assert validate_data_product(normalize_entity(system), processed) == {}


def test_a_witboost_descriptor_with_its_environment_is_refused_as_an_entity():
    system, _components = entities_from_descriptor(load_file(WITBOOST_FIXTURES / "scaffold-data_product_valid.yaml"))
    system["spec"]["mesh"]["environment"] = "development"
    assert only_problem(system).startswith(f"{SOURCE}: spec.mesh.environment is not allowed in a file")
