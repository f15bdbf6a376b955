"""The rego engine on real descriptors: a conftest policy runs unchanged (deny, violation, warn, any package), Rego
v0 and modules that do not compile are refused at save time with the line and column, and the child process that
runs them sees no environment and is stopped past its time and memory limits, as an ERROR, never a PASS."""

import copy
from pathlib import Path

import pytest

from core import yaml as core_yaml
from core.problems import Severity
from governance.engines import Outcome
from governance.engines import rego as rego_module
from governance.engines.rego import RegoEngine

DATA = Path(__file__).resolve().parent / "data"
WITBOOST = Path(__file__).resolve().parents[2] / "tests" / "data" / "witboost"
engine = RegoEngine()

CPU_LOOP = """package main

deny contains "never" if {
	input.loop
	some x in numbers.range(1, 100000)
	some y in numbers.range(1, 100000)
	x * y == -1
}

deny contains "checked" if not input.loop
"""


@pytest.fixture
def descriptor():
    return core_yaml.load_file(WITBOOST / "dps-example.yaml")


@pytest.fixture
def conftest_policy():
    return (DATA / "conftest_descriptor.rego").read_text()


def test_a_conftest_policy_runs_unchanged_with_deny_and_warn(descriptor, conftest_policy):
    assert engine.check(conftest_policy) == []

    passing = engine.evaluate(conftest_policy, descriptor)
    descriptor["version"] = "2.0.0"
    descriptor["description"] = "too short"
    failing = engine.evaluate(conftest_policy, descriptor)

    assert passing.outcome == Outcome.PASS  # a warning does not fail
    assert [(f.path, f.message, f.severity) for f in passing.findings] == [
        ("components[0].dataContract.schema", "declares no data contract schema", Severity.WARNING),
    ]
    assert failing.outcome == Outcome.FAIL
    errors = sorted((f.path, f.message) for f in failing.findings if f.severity == Severity.ERROR)
    assert errors[0] == (
        "",
        "urn:dmb:dp:my_domain:my_data_product:1 is strategic: its description needs at least 30 characters",
    )
    assert [path for path, _message in errors[1:]] == [f"components[{i}].version" for i in range(4)]
    assert errors[1][1] == "urn:dmb:cmp:my_domain:my_data_product:1:my_raw_s3_port has version 1.0.1, outside major 2"


def test_the_policy_runs_on_another_real_descriptor(conftest_policy):
    descriptor = core_yaml.load_file(WITBOOST / "scaffold-data_product_valid.yaml")

    assert engine.evaluate(conftest_policy, descriptor).findings == ()
    descriptor["version"] = "1.0.0"
    result = engine.evaluate(conftest_policy, descriptor)
    assert result.outcome == Outcome.FAIL
    assert {finding.path for finding in result.findings} == {"components[0].version", "components[1].version"}


def test_violation_objects_are_errors_with_their_details():
    body = """package main

violation contains {"msg": "owner missing", "details": {"field": "dataProductOwner"}} if not input.dataProductOwner
"""
    result = engine.evaluate(body, {"id": "x"})

    assert result.outcome == Outcome.FAIL
    assert result.messages == [': owner missing ({"field": "dataProductOwner"})']


def test_a_policy_may_name_another_package(descriptor):
    body = """package meshforge.checks

deny contains sprintf("%d components", [count(input.components)]) if true

warn contains "main is not queried" if false
"""
    assert engine.check(body) == []
    assert engine.evaluate(body, descriptor).messages == [": 4 components"]


def test_a_rule_that_is_true_rather_than_a_set_is_one_finding(descriptor):
    body = 'package main\n\ndeny if input.maturity == "Strategic"\n'

    assert engine.evaluate(body, descriptor).messages == [": the rule is true"]


def test_a_rego_v0_module_is_refused_with_a_hint_to_write_v1():
    v0 = """package main

deny[msg] {
	input.kind != "dataproduct"
	msg := "not a data product"
}

allow {
	true
}
"""
    problems = engine.check(v0)

    assert [problem.path for problem in problems] == ["body", "body"]
    assert problems[0].message.startswith("line 3: 'deny[msg] {' is Rego v0, which this engine does not run")
    assert "deny contains msg if { … }" in problems[0].message
    assert problems[1].message.startswith("line 8: 'allow {' is Rego v0")
    assert engine.evaluate(v0, {"kind": "x"}).outcome == Outcome.ERROR


def test_v1_rules_with_bodies_and_object_literals_are_not_taken_for_v0():
    body = """package main

limits := {
	"a": 1,
}

allowed_kinds := {"outputport", "workload"}

deny contains msg if {
	not input.kind in allowed_kinds
	msg := sprintf("kind %v", [input.kind])
}
"""
    assert engine.check(body) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "package main\n\ndeny contains msg if {\n  input.kind != \n}\n",
            "line 4, column 14: Invalid boolean operator",
        ),
        ('deny contains "a" if true\n', "the module has no package line"),
        (
            "package main\n\ndeny contains msg if {\n  msg := nope.fn(1)\n}\n",
            "the module fails: Function not found: nope.fn",
        ),
        ("package main\n\ndeny contains msg if {\n  some msg in deny\n}\n", "Recursion detected in rule body"),
        ("", "the body is empty"),
    ],
)
def test_a_module_that_does_not_compile_is_refused_with_where(body, message):
    problems = engine.check(body)

    assert len(problems) == 1
    assert problems[0].path == "body"
    assert message in problems[0].message


def test_the_process_environment_is_not_visible(monkeypatch):
    monkeypatch.setenv("MESHFORGE_SECRET_FOR_TEST", "s3cr3t")
    body = "package main\n\ndeny contains json.marshal(opa.runtime().env) if true\n"

    result = engine.evaluate(body, {})

    assert result.messages == [": {}"]


def test_a_module_that_loops_is_stopped_as_an_error(settings):
    settings.GOVERNANCE_REGO_TIMEOUT_SECONDS = 1

    result = engine.evaluate(CPU_LOOP, {"loop": True})

    assert result.outcome == Outcome.ERROR
    assert result.messages[0].startswith(": the policy did not finish within 1 s")
    assert engine.check(CPU_LOOP.replace("input.loop\n", "true\n")) != []  # refused at save time too


def test_a_module_that_eats_memory_is_stopped_as_an_error(settings):
    settings.GOVERNANCE_REGO_MEMORY_MB = 64
    body = 'package main\n\ndeny contains sprintf("%d", [count([x | some x in numbers.range(1, 100000000)])]) if true\n'

    result = engine.evaluate(body, {})

    assert result.outcome == Outcome.ERROR
    assert result.messages == [": the policy used more than 64 MB of memory"]


def test_evaluate_many_uses_one_process_and_stops_only_what_loops(settings, monkeypatch):
    settings.GOVERNANCE_REGO_TIMEOUT_SECONDS = 1
    started = []
    run = rego_module._run

    def counting_run(*args, **kwargs):  # each run has a process of its own
        started.append(args)
        return run(*args, **kwargs)

    monkeypatch.setattr(rego_module, "_run", counting_run)
    quick = engine.evaluate_many(CPU_LOOP, [({"loop": False}, None, None)] * 50)
    assert len(started) == 1
    assert [result.messages for result in quick] == [[": checked"]] * 50

    results = engine.evaluate_many(
        CPU_LOOP, [({"loop": False}, None, None), ({"loop": True}, None, None), ({}, None, None)]
    )

    assert [result.outcome for result in results] == [Outcome.FAIL, Outcome.ERROR, Outcome.FAIL]
    assert len(started) == 3  # the one that looped was killed; a new process took the rest


@pytest.mark.parametrize(
    ("worker", "reason"),
    [
        ("garbage_worker.py", "the Rego process gave an answer that is not JSON"),
        ("crashing_worker.py", "the Rego process was stopped by signal SIGABRT"),
    ],
)
def test_a_worker_that_crashes_or_answers_garbage_is_an_error(monkeypatch, worker, reason):
    monkeypatch.setattr(rego_module, "WORKER", DATA / worker)

    result = engine.evaluate("package main\n\ndeny contains 1 if true\n", {})

    assert result.outcome == Outcome.ERROR
    assert result.messages == [f": {reason}"]
    assert engine.check("package main\n\ndeny contains 1 if true\n")[0].message.endswith(
        reason.removeprefix("the Rego process ")
    )


def test_evaluate_never_raises_on_what_it_is_given():
    assert engine.evaluate(None, {}).outcome == Outcome.ERROR
    unserialisable = engine.evaluate("package main\n\ndeny contains 1 if true\n", {"when": object()})
    assert unserialisable.outcome == Outcome.FAIL  # what JSON cannot carry is sent as text


def test_a_component_resource_is_the_input_as_it_is(descriptor):
    body = 'package main\n\ndeny contains input.component.id if input.component.kind == "workload"\n'
    resource = {"dataProduct": descriptor, "component": copy.deepcopy(descriptor["components"][2])}

    assert engine.evaluate(body, resource).messages == [": urn:dmb:cmp:my_domain:my_data_product:1:my_spark_workload"]


def test_each_run_takes_a_spare_started_ahead_and_never_a_process_used_before(settings, monkeypatch):
    """Starting Python and loading regopy is most of a small run: a spare worker is started after each run for the
    next one. Each run still has a process of its own, and a spare made for other limits is not used."""
    policy = 'package main\n\ndeny contains msg if {\n  input.bad\n  msg := "bad"\n}\n'
    engine.evaluate(policy, {})
    spare = rego_module._spare
    assert spare is not None and spare.process.poll() is None  # waiting for its request

    taken = []
    spawn = rego_module._spawn
    monkeypatch.setattr(rego_module, "_spawn", lambda timeout: taken.append(timeout) or spawn(timeout))
    assert engine.evaluate(policy, {"bad": True}).outcome == Outcome.FAIL
    assert spare.process.poll() is not None  # the spare ran that one and is gone
    assert len(taken) == 1  # only the next spare was started

    settings.GOVERNANCE_REGO_TIMEOUT_SECONDS = 2
    assert engine.evaluate(policy, {}).outcome == Outcome.PASS
    assert taken[1:] == [2, 2]  # the spare for the old limit was discarded: one for this run, one spare
