"""The Problem variants of catalog.validation (core.problems): they find what the string functions report, word
for word and in the same order, with the source, severity and code that governance reads."""

import pytest

from catalog.tests.test_validation import component, entity
from catalog.tests.test_validation_dataproducts import (
    SYSTEM_KEY,
    cmp,
    dp_component,
    dp_system,
    key,
    section_3_3_documents,
)
from catalog.validation import (
    CYCLE_CODE,
    DATA_PRODUCT_CODE,
    REF_CODE,
    SCHEMA_CODE,
    validate_data_product,
    validate_data_product_problems,
    validate_entity,
    validate_entity_problems,
)
from core.problems import Severity, messages

SOURCE = "catalog-info.yaml"


def broken_documents() -> list[object]:
    """Documents that break rules of every family, one or several at once."""
    no_kind = entity()
    del no_kind["kind"]
    odd_version = dp_component("ledger")
    odd_version["spec"]["mesh"]["version"] = "1.0.0"
    return [
        "not an entity",
        no_kind,
        entity(name="-payments-", title=""),
        component(owner="group:", system=7),
        component(dependsOn=["ledger", "resource:db"]),
        dp_system(version="x"),
        odd_version,
        dp_component("view", depends_on=[cmp("x", dp="sales:orders:1"), "nope"]),
        *section_3_3_documents(),
    ]


@pytest.mark.parametrize("document", broken_documents())
def test_entity_problems_read_as_the_messages_of_validate_entity(document):
    problems = validate_entity_problems(document, source=SOURCE)

    assert messages(problems) == validate_entity(document, source=SOURCE)


def test_every_entity_problem_is_an_error_from_its_source():
    problems = [
        problem for document in broken_documents() for problem in validate_entity_problems(document, source=SOURCE)
    ]

    assert problems
    assert {(problem.severity, problem.source) for problem in problems} == {(Severity.ERROR, SOURCE)}
    assert {problem.code for problem in problems} == {SCHEMA_CODE, REF_CODE, DATA_PRODUCT_CODE}


def test_a_missing_envelope_field_is_a_schema_problem():
    document = entity()
    del document["kind"]

    (problem,) = validate_entity_problems(document, source=SOURCE)

    assert (problem.path, problem.message, problem.code) == ("kind", "is required", SCHEMA_CODE)


def test_a_reference_that_does_not_parse_is_a_ref_problem_but_a_list_of_the_wrong_type_is_a_schema_one():
    (bad_ref,) = validate_entity_problems(component(dependsOn=["ledger"]), source=SOURCE)
    (not_a_list,) = validate_entity_problems(component(dependsOn="component:ledger"), source=SOURCE)

    assert (bad_ref.path, bad_ref.code) == ("spec.dependsOn[0]", REF_CODE)
    assert (not_a_list.path, not_a_list.code) == ("spec.dependsOn", SCHEMA_CODE)


def test_a_data_product_rule_is_a_dataproduct_problem():
    document = dp_component("ledger")
    document["spec"]["mesh"]["version"] = "1.0.0"

    (problem,) = validate_entity_problems(document, source=SOURCE)

    assert (problem.path, problem.code) == ("spec.mesh.version", DATA_PRODUCT_CODE)


def test_data_product_problems_read_as_the_messages_of_validate_data_product():
    a = dp_component("a", depends_on=[cmp("b")])
    b = dp_component("b", depends_on=[cmp("c"), cmp("a")])
    view = dp_component("view", depends_on=[cmp("journal")])
    odd = dp_component("ledger", dp="finance.cashflow.1")
    sources = {key("a"): "a.yaml", SYSTEM_KEY: SOURCE}
    arguments = (dp_system(), [a, b, dp_component("c"), view, odd])

    found = validate_data_product_problems(*arguments, sources=sources)

    assert {ref: messages(problems) for ref, problems in found.items()} == validate_data_product(
        *arguments, sources=sources
    )


def test_cycles_are_cycle_problems_and_missing_members_dataproduct_problems():
    a = dp_component("a", depends_on=[cmp("b")])
    b = dp_component("b", depends_on=[cmp("a"), cmp("journal")])

    found = validate_data_product_problems(dp_system(), [a, b], sources={key("a"): "a.yaml"})

    assert [(p.path, p.code, p.source) for p in found[key("a")]] == [("spec.mesh.dependsOn[0]", CYCLE_CODE, "a.yaml")]
    assert [(p.path, p.code) for p in found[key("b")]] == [
        ("spec.mesh.dependsOn[1]", DATA_PRODUCT_CODE),
        ("spec.mesh.dependsOn[0]", CYCLE_CODE),
    ]
    assert [(p.path, p.code, p.source) for p in found[SYSTEM_KEY]][-1] == ("components", CYCLE_CODE, SYSTEM_KEY)
    assert all(p.severity == Severity.ERROR for problems in found.values() for p in problems)
