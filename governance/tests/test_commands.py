"""``governance_evaluate`` (a CI pipeline's gate: exit 1 only for an applicable enabled error failure, policy files
read without the database), ``governance_import`` (upsert by name, all or nothing) and ``governance_export``, and
the starter policies of the demo."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from core.yaml import dump
from governance.demo import demo_seed, starter_policies
from governance.engines import engine_get
from governance.models import Policy
from governance.policyfiles import PolicyFileError, policies_dump, policies_read

DESCRIPTOR = {
    "id": "urn:dmb:dp:finance:cashflow:0",
    "version": "1.0-SNAPSHOT-1",
    "maturity": "Strategic",
    "components": [{"id": "c:port", "kind": "outputport", "version": "1.0.0"}],
}


def policy_doc(name: str, **fields) -> dict:
    return {"name": name, "engine": "scripted", "body": "pass", "lifecycle": "enabled", **fields}


def write(path: Path, *documents) -> str:
    path.write_text("".join("---\n" + dump(document) for document in documents), encoding="utf-8")
    return str(path)


def evaluate(tmp_path, *policies, environment="development", descriptor=DESCRIPTOR):
    descriptor_file = write(tmp_path / "descriptor.yaml", descriptor)
    arguments = [descriptor_file, "--environment", environment]
    if policies:
        arguments += ["--policy", write(tmp_path / "policies.yaml", *policies)]
    out = StringIO()
    try:
        call_command("governance_evaluate", *arguments, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_policy_files_are_evaluated_without_the_database(tmp_path, django_assert_num_queries, db):
    with django_assert_num_queries(0):
        out, error = evaluate(
            tmp_path,
            policy_doc("passes"),
            policy_doc("advises", body="fail", severity="warning"),
            policy_doc("graceful", body="fail", lifecycle="grace"),
            policy_doc("drafty", body="fail", lifecycle="draft"),
            policy_doc("prod", body="fail", environments=["production"]),
            policy_doc("ports", body="fail", selector={"resource": "storage"}),
        )
    assert error is None
    assert "PASS passes (development) [enabled, error]" in out
    assert "FAIL advises (development) [enabled, warning]\n    warning: id: urn:dmb:dp:finance:cashflow:0 failed" in out
    assert "FAIL graceful (development) [grace, warning]" in out
    assert "drafty" not in out and "prod" not in out and "ports" not in out


def test_an_enabled_error_failure_exits_1_with_its_messages(tmp_path, db):
    out, error = evaluate(tmp_path, policy_doc("strict", body="fail", selector={"resource": "outputport"}))

    assert "BLOCKS strict (development, c:port) [enabled, error]\n    error: id: c:port failed" in out
    assert error.returncode == 1 and str(error) == "1 enabled error policy failed: strict"


def test_the_stored_policies_run_without_policy_files(tmp_path, make_policy):
    make_policy("stored", body="fail")

    out, error = evaluate(tmp_path)

    assert "BLOCKS stored (development)" in out and error.returncode == 1


def test_a_schema_policy_file_judges_the_descriptor(tmp_path, db):
    schema = {"properties": {"version": {"not": {"pattern": "SNAPSHOT"}}}}
    snapshot = policy_doc("no-snapshot", engine="jsonschema", body=json.dumps(schema))

    out, error = evaluate(tmp_path, snapshot)

    assert "BLOCKS no-snapshot (development)" in out and "version: " in out and error.returncode == 1


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([policy_doc("bad", engine="jsonschema", body="{")], "document 1 (bad): body: line 1, column 2:"),
        ([policy_doc("ok"), policy_doc("bad", colour="red")], "document 2 (bad): unknown field colour"),
        ([policy_doc("bad", selector={"resource": "x"})], "document 1 (bad): selector: resource must be one of"),
        (["just text"], "document 1: a policy is a mapping"),
        ([policy_doc("twice"), policy_doc("twice")], "name: twice given more than once"),
    ],
)
def test_a_bad_policy_file_is_refused_naming_the_document_and_field(tmp_path, db, documents, message):
    _, error = evaluate(tmp_path, *documents)

    assert error is not None and message in str(error) and "policies.yaml" in str(error)


def test_a_descriptor_that_is_not_yaml_is_refused_naming_the_file(tmp_path, db):
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")

    with pytest.raises(CommandError, match=r"FILE .*broken\.yaml: "):
        call_command("governance_evaluate", str(tmp_path / "broken.yaml"), "--environment", "qa")
    with pytest.raises(CommandError, match="--environment: 'staging' is not an environment"):
        call_command("governance_evaluate", str(tmp_path / "broken.yaml"), "--environment", "staging")


def test_import_upserts_by_name_with_one_version_per_changed_policy(tmp_path, make_policy):
    make_policy("kept", body="pass")
    make_policy("edited", body="pass")
    kept = policy_doc("kept")
    path = write(tmp_path / "p.yaml", kept, policy_doc("edited", body="fail"), policy_doc("new", body="warn"))

    call_command("governance_import", path, stdout=StringIO())

    assert {p.name: (p.body, p.versions.count()) for p in Policy.objects.all()} == {
        "kept": ("pass", 1),
        "edited": ("fail", 2),
        "new": ("warn", 1),
    }
    assert AuditEvent.objects.filter(action__startswith="policy.").count() == 2 + 2


def test_an_invalid_import_saves_nothing(tmp_path, db):
    path = write(tmp_path / "p.yaml", policy_doc("good"), policy_doc("bad", timing=[]))

    with pytest.raises(CommandError, match=r"document 2 \(bad\): timing: must be a non-empty list"):
        call_command("governance_import", path)
    assert not Policy.objects.exists()


def test_export_writes_what_import_reads_back(tmp_path, make_policy):
    make_policy("multi", engine="jsonschema", body='{\n  "type": "object"\n}\n', environments=["qa"])
    make_policy("plain", description="One line", timing=["deployment", "runtime"])

    call_command("governance_export", "--output", str(tmp_path / "out.yaml"), stdout=StringIO())

    text = (tmp_path / "out.yaml").read_text(encoding="utf-8")
    assert 'body: |\n  {\n    "type": "object"\n  }\n' in text
    read = policies_read(text, source="out.yaml")
    assert [policy.snapshot() for policy in read] == [policy.snapshot() for policy in Policy.objects.order_by("name")]


def test_the_starter_policies_are_seeded_once_through_the_service(db):
    lines = []

    demo_seed(report=lines.append)
    demo_seed(report=lines.append)

    policies = {policy.name: policy for policy in Policy.objects.all()}
    assert len(policies) == 5
    assert lines == [
        "Starter governance policies loaded: 5 new (4 enabled, 1 grace)",
        "Starter governance policies loaded: 0 new",
    ]
    assert {policy.lifecycle for policy in policies.values()} <= {"enabled", "grace"}
    assert {policy.engine for policy in policies.values()} == {"jsonschema", "rego", "breaking_change"}
    assert policies["output-port-data-contract"].selector == {"resource": "outputport"}
    assert policies["no-snapshot-in-production"].environments == ["production"]
    assert all(policy.versions.count() == 1 for policy in policies.values())
    assert all("deny contains msg if {" in policies[name].body for name in policies if policies[name].engine == "rego")


def test_the_starter_schema_policies_judge_as_intended(db):
    starters = {policy.name: policy for policy in starter_policies()}
    port = starters["output-port-data-contract"]
    snapshot = starters["no-snapshot-in-production"]
    schema = engine_get("jsonschema")
    typed = {"component": {"dataContract": {"schema": [{"name": "day", "dataType": "DATE"}]}}}
    assert schema.evaluate(port.body, typed).outcome == "pass"
    assert schema.evaluate(port.body, {"component": {"dataContract": {"schema": []}}}).outcome == "fail"
    assert schema.evaluate(snapshot.body, {"version": "1.2.0", "components": [{"version": "1.0.0"}]}).outcome == "pass"
    assert schema.evaluate(snapshot.body, {"version": "1.2-SNAPSHOT-3"}).outcome == "fail"
    assert schema.evaluate(
        snapshot.body, {"version": "1.2.0", "components": [{"version": "1.0-SNAPSHOT"}]}
    ).outcome == ("fail")


def test_a_policy_file_that_is_not_yaml_names_its_place():
    with pytest.raises(PolicyFileError, match=r"^f\.yaml:"):
        policies_read("name: [", source="f.yaml")
    assert policies_dump([]) == ""


def test_the_starter_rego_policies_judge_as_intended(db):
    starters = {policy.name: policy for policy in starter_policies()}
    rego = engine_get("rego")
    assert all(rego.check(policy.body) == [] for policy in starters.values() if policy.engine == "rego")
    strategic, majors = (
        starters["strategic-owner-and-description"].body,
        starters["component-major-matches-product"].body,
    )
    described = {"dataProductOwner": "user:alice", "description": "Operating cash flows of the finance team, daily"}

    assert rego.evaluate(strategic, described).outcome == "pass"
    found = rego.evaluate(strategic, {"dataProductOwner": " ", "description": "Short"})
    assert found.outcome == "fail"
    assert sorted(finding.message for finding in found.findings) == [
        "dataProductOwner: a strategic data product names its owner",
        "description: a strategic data product is described in at least 30 characters (it has 5)",
    ]
    assert rego.evaluate(majors, {"version": "1.2.0", "components": [{"version": "1.0.0"}]}).outcome == "pass"
    mixed = rego.evaluate(majors, {"version": "1.2.0", "components": [{"version": "1.0.0"}, {"version": "2.0.0"}]})
    assert [finding.message for finding in mixed.findings] == [
        "components[1].version: 2.0.0 has major 2, the data product's is 1"
    ]
