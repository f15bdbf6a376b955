"""The Problem variants of the descriptor's validators (core.problems): they find what the string functions report,
word for word and in the same order, with the severity and code that governance and the deploy gate read."""

import copy

import pytest

from core.problems import Severity, messages
from dataproducts.descriptor.adapter import ADAPTER_CODE, descriptor_adapter_problems, descriptor_adapter_ready_problems
from dataproducts.descriptor.validate import (
    CYCLE_CODE,
    REF_CODE,
    SCHEMA_CODE,
    component_descriptor_problems,
    component_descriptor_validate,
    descriptor_problems,
    descriptor_validate,
)
from dataproducts.tests.test_descriptor_validate import EXAMPLE, NONSENSE, SCAFFOLD, WRAPPER, fixture

PREFIX = "urn:dmb:cmp:my_domain:my_data_product:1"


def broken_example() -> dict:
    """The DPS example with a fault of every family: a bad version, an unknown kind, a missing dependency, a
    duplicate id, a cycle, a VARCHAR without a length, and what only the adapters refuse (the example's output
    ports have no semanticLinking list)."""
    document = fixture(EXAMPLE)
    document["version"] = "1.0"
    components = document["components"]
    components[2]["kind"] = "dashboard"
    components[0]["dependsOn"] = [f"{PREFIX}:my_observability"]
    components[3]["dependsOn"] = [f"{PREFIX}:my_raw_s3_port", f"{PREFIX}:nowhere"]
    components.append(copy.deepcopy(components[3]))
    components[1]["dataContract"]["schema"].append({"name": "code", "dataType": "VARCHAR"})
    return document


def documents() -> list[object]:
    wrapper = fixture(WRAPPER)
    wrapper["componentIdToProvision"] = f"{PREFIX}:elsewhere"
    return [broken_example(), fixture(EXAMPLE), fixture(SCAFFOLD), fixture(WRAPPER), wrapper, *NONSENSE]


@pytest.mark.parametrize("document", documents(), ids=lambda document: repr(document)[:40])
def test_each_problem_variant_reads_as_its_string_function(document):
    assert messages(descriptor_problems(document)) == descriptor_validate(document)
    assert messages(component_descriptor_problems(document)) == component_descriptor_validate(document)
    assert messages(descriptor_adapter_ready_problems(document)) == descriptor_adapter_problems(document)


def test_every_descriptor_problem_is_an_error_of_a_known_family():
    problems = [
        problem
        for document in documents()
        for validate in (component_descriptor_problems, descriptor_adapter_ready_problems)
        for problem in validate(document)
    ]

    assert {problem.severity for problem in problems} == {Severity.ERROR}
    assert {problem.code for problem in problems} == {SCHEMA_CODE, REF_CODE, CYCLE_CODE, ADAPTER_CODE}
    assert all(problem.source is None for problem in problems)


def codes(problems) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for problem in problems:
        found.setdefault(problem.path, set()).add(problem.code)
    return found


def test_the_lenient_rules_are_coded_by_family():
    found = codes(descriptor_problems(broken_example()))

    assert found["version"] == {SCHEMA_CODE}
    assert found["components[2].kind"] == {SCHEMA_CODE}
    assert found["components[3].dependsOn[1]"] == {REF_CODE}  # names no component
    assert found["components[4].id"] == {REF_CODE}  # the id of another component
    assert found["components[0].dependsOn[0]"] == {CYCLE_CODE}


def test_a_target_that_is_no_component_is_a_ref_problem():
    wrapper = fixture(WRAPPER)
    wrapper["componentIdToProvision"] = f"{PREFIX}:elsewhere"

    [problem] = component_descriptor_problems(wrapper)

    assert (problem.path, problem.code) == ("componentIdToProvision", REF_CODE)


def test_what_only_the_adapters_refuse_is_an_adapter_problem_and_the_dps_rules_keep_their_codes():
    found = codes(descriptor_adapter_ready_problems(broken_example()))

    assert found["components[0].semanticLinking"] == {ADAPTER_CODE}
    assert found["components[0].dependsOn[0]"] == {CYCLE_CODE}
