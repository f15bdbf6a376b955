"""The jsonschema engine on real descriptors: Draft 2020-12 with formats, findings at the path at fault, and every
body that cannot be used refused at save time with the line and column or the place in the schema."""

import copy
import json
from pathlib import Path

import pytest

from core import yaml as core_yaml
from core.problems import Severity
from governance.engines import Outcome
from governance.engines.jsonschema import JsonSchemaEngine

DATA = Path(__file__).resolve().parent / "data"
WITBOOST = Path(__file__).resolve().parents[2] / "tests" / "data" / "witboost"
engine = JsonSchemaEngine()


@pytest.fixture
def descriptor():
    return core_yaml.load_file(WITBOOST / "dps-example.yaml")


@pytest.fixture
def policy():
    return (DATA / "output_ports.schema.yaml").read_text()


def test_a_policy_reports_each_violation_at_its_json_path(descriptor, policy):
    assert engine.check(policy) == []

    result = engine.evaluate(policy, descriptor)

    assert result.outcome == Outcome.FAIL
    assert [(finding.path, finding.message) for finding in result.findings] == [
        ("components[0].creationDate", '"05-04-2022T16:53:00.000Z" is not a valid date-time'),
        ("components[0].dataContract.schema", "[] should be non-empty"),
        ("components[1].creationDate", '"05-04-2022T17:00:00.000Z" is not a valid date-time'),
    ]
    assert {finding.severity for finding in result.findings} == {Severity.ERROR}
    assert {finding.code for finding in result.findings} == {"jsonschema"}


def test_a_descriptor_that_satisfies_the_policy_passes(descriptor, policy):
    fixed = copy.deepcopy(descriptor)
    for component in fixed["components"]:
        if "creationDate" in component:
            component["creationDate"] = "2022-04-05T16:53:00.000Z"
    fixed["components"][0]["dataContract"]["schema"] = [{"name": "id", "dataType": "string"}]

    result = engine.evaluate(policy, fixed)

    assert result.outcome == Outcome.PASS
    assert result.findings == ()


def test_another_real_descriptor_passes(policy):
    assert engine.evaluate(policy, core_yaml.load_file(WITBOOST / "scaffold-data_product_valid.yaml")).outcome == (
        Outcome.PASS
    )


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ("date-time", "2024-02-29T10:00:00Z", True),
        ("date-time", "2024-02-30T10:00:00Z", False),
        ("date-time", "2024-02-01 10:00", False),
        ("time", "10:00:00+02:00", True),
        ("time", "25:00:00Z", False),
        ("uri", "https://example.com/a", True),
        ("uri", "not a uri", False),
        ("email", "nobody", False),
        ("uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("ipv4", "999.1.1.1", False),
    ],
)
def test_formats_are_checked(schema, value, valid):
    body = f"properties:\n  value: {{type: string, format: {schema}}}\n"

    assert (engine.evaluate(body, {"value": value}).outcome == Outcome.PASS) is valid


def test_a_required_property_type_and_enum_read_as_sentences():
    body = "required: [owner]\nproperties:\n  size: {type: integer}\n  kind: {enum: [a, b]}\n"

    result = engine.evaluate(body, {"size": "big", "kind": "c"})

    assert result.messages == [
        ": 'owner' is a required property",
        'kind: "c" is not allowed; expected one of "a", "b"',
        "size: must be a whole number, not a string",
    ]


def test_a_json_body_is_read_as_well(descriptor):
    body = '{"type": "object", "required": ["nope"]}'

    assert engine.check(body) == []
    assert engine.evaluate(body, descriptor).messages == [": 'nope' is a required property"]


def test_evaluate_many_compiles_once_and_answers_in_order(descriptor, policy):
    fixed = copy.deepcopy(descriptor)
    fixed["components"] = []

    results = engine.evaluate_many(policy, [(descriptor, None, None), (fixed, None, None), ({}, None, None)])

    assert [result.outcome for result in results] == [Outcome.FAIL, Outcome.PASS, Outcome.FAIL]
    assert results[2].messages == [
        ": 'id' is a required property",
        ": 'dataProductOwner' is a required property",
        ": 'components' is a required property",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("type: object\nproperties: [a\n  b: c\n", "line 3, column 4: not valid YAML"),
        ('{"type": "object",\n "required": [1,}', "line 2, column 17: not valid JSON: Expecting value"),
        (
            "properties:\n  owner:\n    type: strin\n",
            "not a valid JSON Schema at properties.owner.type: 'strin' is not one of",
        ),
        ("minLength: -1\n", "not a valid JSON Schema at minLength: -1 is less than the minimum of 0"),
        ("- type\n", "a JSON Schema is an object (or true or false), not a list"),
        ("  \n", "the body is empty"),
        ("$schema: http://json-schema.org/draft-07/schema#\n", "this engine checks Draft 2020-12"),
    ],
)
def test_a_body_that_is_not_a_schema_is_refused_with_where(body, message):
    problems = engine.check(body)

    assert len(problems) == 1
    assert problems[0].path == "body"
    assert message in problems[0].message


def test_evaluate_answers_error_rather_than_raising():
    assert engine.evaluate("type: [", {}).outcome == Outcome.ERROR
    unresolvable = engine.evaluate("$ref: '#/$defs/missing'\n", {})
    assert unresolvable.outcome == Outcome.ERROR
    assert "could not be applied" in unresolvable.messages[0]


@pytest.mark.parametrize(
    "reference",
    ["https://example.com/elsewhere.json", "http://127.0.0.1:9/x.json", "file:///etc/passwd", "other.json#/x"],
)
def test_a_reference_outside_the_policy_is_refused_and_never_fetched(reference, monkeypatch):
    """The jsonschema library fetches an unknown $ref itself (urllib, any host, file:// too) unless told not to:
    that would let any policy author reach what GOVERNANCE_REMOTE_ALLOWED_HOSTS keeps the remote engine from."""
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("the engine fetched a reference")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    body = f"properties:\n  owner:\n    $ref: '{reference}'\n"

    assert [problem.message for problem in engine.check(body)] == [
        f'properties.owner["$ref"]: "{reference}" points outside the policy; only references inside it (#/...) are'
        " allowed, the engine fetches nothing"
    ]
    assert engine.evaluate(body, {"owner": 1}).outcome == Outcome.ERROR
    nested = {"$defs": {"x": {"$dynamicRef": reference}}, "$ref": "#/$defs/x"}
    assert engine.check(json.dumps(nested))


def test_a_reference_inside_the_policy_is_followed():
    body = "$defs:\n  id: {type: string, pattern: '^urn:'}\nproperties:\n  id: {$ref: '#/$defs/id'}\n"

    assert engine.check(body) == []
    assert engine.evaluate(body, {"id": "urn:dmb:dp:x"}).outcome == Outcome.PASS
    assert engine.evaluate(body, {"id": "x"}).outcome == Outcome.FAIL


def test_check_never_raises():
    assert engine.check(None)[0].message == "the body must be text, not NoneType"
