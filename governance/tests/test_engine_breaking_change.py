"""The breaking_change engine on a real descriptor: each breaking kind is a finding at its path, additions and
descriptions pass, nothing to compare passes, and its options body is checked."""

import copy
from pathlib import Path

import pytest

from core import yaml as core_yaml
from core.problems import Severity
from governance.engines import Outcome
from governance.engines.breaking_change import BreakingChangeEngine

WITBOOST = Path(__file__).resolve().parents[2] / "tests" / "data" / "witboost"
engine = BreakingChangeEngine()


@pytest.fixture
def previous():
    """The example descriptor with its ports' kind written as the engine's comparison reads it (lower case)."""
    descriptor = core_yaml.load_file(WITBOOST / "dps-example.yaml")
    descriptor["components"][1]["kind"] = "outputport"
    return descriptor


@pytest.fixture
def current(previous):
    return copy.deepcopy(previous)


def columns(descriptor):
    return descriptor["components"][1]["dataContract"]["schema"]


def test_without_a_previous_release_there_is_nothing_to_compare(current):
    assert engine.evaluate("", current, None) == engine.evaluate("", current)
    assert engine.evaluate("", current).outcome == Outcome.PASS


def test_an_unchanged_descriptor_passes(previous, current):
    current["version"] = "1.1.0"  # versions change with every release

    assert engine.evaluate("", current, previous).outcome == Outcome.PASS


def test_an_output_port_removed_is_breaking(previous, current):
    del current["components"][0]

    result = engine.evaluate("", current, previous)

    assert result.outcome == Outcome.FAIL
    assert [(f.path, f.message) for f in result.findings] == [
        ("components[0]", "the output port urn:dmb:cmp:my_domain:my_data_product:1:my_raw_s3_port was removed")
    ]
    assert result.findings[0].severity == Severity.ERROR
    assert result.findings[0].code == "breaking_change"


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda d: columns(d).pop(1),
            "components[1].dataContract.schema[1]",
            "the column first_name was removed or renamed",
        ),
        (
            lambda d: columns(d)[2].update(name="surname"),
            "components[1].dataContract.schema[2]",
            "the column last_name was removed or renamed",
        ),
        (
            lambda d: columns(d)[3].update(dataType="string"),
            "components[1].dataContract.schema[3].dataType",
            "the column birthdate was retyped from date to string",
        ),
        (
            lambda d: columns(d)[8].update(constraint="NOT_NULL"),
            "components[1].dataContract.schema[8].constraint",
            "the column last_update gained the constraint NOT_NULL",
        ),
        (
            lambda d: d["components"][1].update(outputPortType="Files"),
            "components[1].outputPortType",
            "the output port type changed from 'SQL' to 'Files'",
        ),
    ],
    ids=["column removed", "column renamed", "column retyped", "constraint added", "port type changed"],
)
def test_each_breaking_change_is_a_finding_at_its_path(previous, current, change, path, message):
    change(current)

    result = engine.evaluate("", current, previous)

    assert result.outcome == Outcome.FAIL
    assert (path, message) in [(f.path, f.message) for f in result.findings]


def test_a_narrowed_length_is_breaking_and_a_widened_one_is_not(previous, current):
    columns(previous)[0]["dataLength"] = 64
    columns(current)[0]["dataLength"] = 32
    assert engine.evaluate("", current, previous).messages == [
        "components[1].dataContract.schema[0].dataLength: dataLength of employeeId changed from 64 to 32"
    ]

    columns(current)[0]["dataLength"] = 128
    assert engine.evaluate("", current, previous).outcome == Outcome.PASS


@pytest.mark.parametrize(
    "change",
    [
        lambda d: columns(d).append({"name": "email", "dataType": "string"}),
        lambda d: columns(d)[0].update(description="another description"),
        lambda d: d["components"].append({"id": "urn:dmb:cmp:my_domain:my_data_product:1:new", "kind": "workload"}),
        lambda d: d.update(description="a data product about employees, described again"),
        lambda d: columns(d)[1].update(constraint=None),
        lambda d: d["components"].pop(2),  # a workload, not an output port
    ],
    ids=["column added", "description", "component added", "dp description", "constraint dropped", "workload removed"],
)
def test_changes_that_break_no_consumer_pass(previous, current, change):
    change(current)

    assert engine.evaluate("", current, previous).outcome == Outcome.PASS


def test_an_output_port_written_outputPort_is_compared_too():
    previous = core_yaml.load_file(WITBOOST / "dps-example.yaml")  # its second port is kind: outputPort
    current = copy.deepcopy(previous)
    columns(current).pop(0)

    result = engine.evaluate("", current, previous)

    assert result.outcome == Outcome.FAIL


def test_a_component_resource_compares_the_data_products(previous, current):
    del current["components"][0]
    resource = {"dataProduct": current, "component": current["components"][0]}

    result = engine.evaluate("", resource, {"dataProduct": previous, "component": previous["components"][1]})

    assert [f.path for f in result.findings] == ["dataProduct.components[0]"]
    assert engine.evaluate("", resource, previous).outcome == Outcome.FAIL  # the previous descriptor itself


def test_ignored_paths_are_accepted(previous, current):
    current["components"][0]["outputPortType"] = "SQL"
    columns(current).pop(1)
    body = "ignore:\n  - components[0]\n"

    assert engine.check(body) == []
    assert [f.path for f in engine.evaluate(body, current, previous).findings] == [
        "components[1].dataContract.schema[1]"
    ]
    assert engine.evaluate("ignore: ['components[0]', 'components[1]']", current, previous).outcome == Outcome.PASS


def test_evaluate_many_answers_in_order(previous, current):
    del current["components"][0]

    results = engine.evaluate_many("", [(current, previous, None), (previous, previous, None), (current, None, None)])

    assert [result.outcome for result in results] == [Outcome.FAIL, Outcome.PASS, Outcome.PASS]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("- components[0]\n", "the options are a mapping (ignore: [paths]), or nothing"),
        ("ignore: [a]\nstrict: true\n", "unknown option strict; known: ignore"),
        ("ignore: components[0]\n", "ignore is a list of descriptor paths"),
        ("ignore: [a\n", "line 2, column 1: not valid YAML"),
    ],
)
def test_a_body_other_than_known_options_is_refused(body, message):
    problems = engine.check(body)

    assert [problem.path for problem in problems] == ["body"]
    assert message in problems[0].message


def test_an_empty_body_is_allowed_and_nothing_raises(previous):
    assert engine.check("") == []
    assert engine.check("# no options\n") == []
    assert engine.check(None)[0].message == "the body must be text, not NoneType"
    assert engine.evaluate("strict: true", previous, previous).outcome == Outcome.ERROR
    assert engine.evaluate("", "not a descriptor", previous).outcome == Outcome.ERROR
