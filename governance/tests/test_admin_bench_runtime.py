"""The admin (body checked on save, versions with diffs, lifecycle actions, the test bench), the test bench's
service on real data products, and the runtime schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from dataproducts.models import DataProductIdentity, Release
from governance.models import Evaluation, Policy
from governance.services import bench_run, runtime_evaluate, waiver_create
from governance.tasks import runtime_evaluate as runtime_task

pytestmark = pytest.mark.django_db

FORM = {
    "name": "ports",
    "description": "",
    "engine": "jsonschema",
    "severity": "error",
    "lifecycle": "draft",
    "environments": "[]",
    "selector": '{"resource": "dataproduct"}',
    "timing": '["deployment"]',
    "body": '{"required": ["id"]}',
    "versions-TOTAL_FORMS": "0",
    "versions-INITIAL_FORMS": "0",
}


@pytest.fixture
def admin_client(platform_user):
    client = Client()
    client.force_login(platform_user)
    return client


def test_the_admin_shows_a_body_that_does_not_compile_on_the_body_field(admin_client):
    answer = admin_client.post("/admin/governance/policy/add/", {**FORM, "body": '{"required": '})

    assert answer.status_code == 200
    assert answer.context["adminform"].form.errors["body"][0].startswith("line 1, column ")
    assert not Policy.objects.exists()


def test_the_admin_saves_through_the_service_and_shows_the_history_with_diffs(admin_client):
    assert admin_client.post("/admin/governance/policy/add/", FORM).status_code == 302
    policy = Policy.objects.get()
    changed = admin_client.post(
        f"/admin/governance/policy/{policy.pk}/change/", {**FORM, "body": '{"required": ["id", "name"]}'}
    )
    assert changed.status_code == 302

    assert list(policy.versions.values_list("number", flat=True)) == [2, 1]
    assert AuditEvent.objects.filter(action__startswith="policy.").count() == 2
    page = admin_client.get(f"/admin/governance/policy/{policy.pk}/change/").content.decode()
    assert "+{&quot;required&quot;: [&quot;id&quot;, &quot;name&quot;]}" in page
    assert "-{&quot;required&quot;: [&quot;id&quot;]}" in page


@pytest.mark.parametrize(
    ("action", "lifecycle"), [("move_to_grace", "grace"), ("enable", "enabled"), ("deprecate", "deprecated")]
)
def test_the_lifecycle_actions_make_versions(admin_client, make_policy, action, lifecycle):
    policy = make_policy("moving", lifecycle="draft")

    admin_client.post("/admin/governance/policy/", {"action": action, "_selected_action": [policy.pk]})

    policy.refresh_from_db()
    assert policy.lifecycle == lifecycle
    assert policy.versions.first().lifecycle == lifecycle and policy.versions.count() == 2


def test_a_policy_its_engine_no_longer_accepts_is_named_not_a_500(admin_client, make_policy, settings):
    broken = make_policy("broken", lifecycle="enabled")
    fine = make_policy("fine", lifecycle="enabled")
    Policy.objects.filter(pk=broken.pk).update(engine="gone")  # its engine was removed from GOVERNANCE_ENGINES

    response = admin_client.post(
        "/admin/governance/policy/", {"action": "deprecate", "_selected_action": [broken.pk, fine.pk]}, follow=True
    )

    assert response.status_code == 200
    texts = [str(message) for message in response.context["messages"]]
    assert any(text.startswith("broken was not moved: engine:") for text in texts), texts
    assert "1 policies now deprecated." in texts
    assert Policy.objects.get(pk=broken.pk).lifecycle == "enabled"
    assert Policy.objects.get(pk=fine.pk).lifecycle == "deprecated"


def test_the_bench_judges_every_data_product_and_changes_nothing(admin_client, make_policy, build_dp, alice):
    build_dp(alice)
    build_dp(alice, name="ledger", maturity="Tactical")
    policy = make_policy(
        "strategic-described",
        engine="jsonschema",
        body='{"properties": {"description": {"minLength": 30}}}',
        selector={"resource": "dataproduct", "maturity": "Strategic"},
        lifecycle="draft",
    )

    rows = {row.product: row for row in bench_run(policy=policy)}
    assert {name: row.outcome for name, row in rows.items()} == {
        "finance.cashflow.0": "fail",
        "finance.ledger.0": "n/a",
    }
    assert rows["finance.cashflow.0"].messages == [
        "strategic-described (development) description: 'Operating cash flows' is too short"
    ]

    answer = admin_client.post(
        "/admin/governance/policy/", {"action": "test_on_all_data_products", "_selected_action": [policy.pk]}
    )
    assert answer.status_code == 200
    assert "is too short" in answer.content.decode() and "not applicable" in answer.content.decode()
    assert not Evaluation.objects.exists() and policy.versions.count() == 1


def test_an_unsaved_policy_runs_on_the_bench(build_dp, alice):
    build_dp(alice)

    [row] = bench_run(policy=Policy(name="try", engine="scripted", body="fail", lifecycle="draft"))

    assert row.outcome == "fail"


def test_evaluations_are_read_only_in_the_admin(admin_client, make_policy):
    policy = make_policy("p")
    product = DataProductIdentity.objects.create(dp_id="urn:dmb:dp:a:b:0", entity_name="a.b.0")
    evaluation = Evaluation.objects.create(
        policy_version=policy.versions.get(),
        product=product,
        environment="qa",
        resource_id="x",
        outcome="fail",
        severity="error",
    )

    assert admin_client.get("/admin/governance/evaluation/?outcome=fail&environment=qa").status_code == 200
    assert admin_client.post(f"/admin/governance/evaluation/{evaluation.pk}/change/", {}).status_code == 403
    assert admin_client.get("/admin/governance/evaluation/add/").status_code == 403


def test_the_runtime_schedule_records_runtime_policies_against_the_latest_stable_release(
    make_policy, descriptors, identity
):
    make_policy("at-runtime", body="fail", timing=["runtime"])
    make_policy("at-deployment", body="fail")
    for version, patch in (("0.1.0", 0), ("0.1.1", 1)):
        Release.objects.create(
            product=identity,
            version=version,
            kind="stable",
            major=0,
            minor=1,
            patch=patch,
            descriptors=descriptors,
            commit="0" * 40,
        )

    assert runtime_task() == 3

    evaluations = Evaluation.objects.all()
    assert {(e.policy_version.name, e.release.version, e.timing, e.blocking) for e in evaluations} == {
        ("at-runtime", "0.1.1", "runtime", False)
    }
    assert sorted(e.environment for e in evaluations) == ["development", "production", "qa"]
    assert runtime_evaluate() == 3


def test_once_deployed_the_runtime_schedule_judges_what_each_environment_runs(make_policy, descriptors, identity):
    from provisioning.choices import UnitStatus
    from provisioning.models import DeploymentUnit

    make_policy("at-runtime", body="fail", timing=["runtime"])
    older, _newer = (
        Release.objects.create(
            product=identity,
            version=f"0.1.{patch}",
            kind="stable",
            major=0,
            minor=1,
            patch=patch,
            descriptors=descriptors,
            commit="0" * 40,
        )
        for patch in (0, 1)
    )
    # development runs the older release; nothing runs in qa and production
    DeploymentUnit.objects.create(
        product=identity, environment="development", status=UnitStatus.DEPLOYED, release=older
    )
    DeploymentUnit.objects.create(product=identity, environment="qa", status=UnitStatus.NOT_DEPLOYED)

    assert runtime_task() == 1
    [evaluation] = Evaluation.objects.all()
    assert (evaluation.environment, evaluation.release, evaluation.version) == ("development", older, "0.1.0")


@pytest.mark.django_db(transaction=True)
def test_a_runtime_run_while_the_previous_one_still_goes_does_nothing(monkeypatch):
    """Beat sends a run every GOVERNANCE_RUNTIME_SECONDS; one still going (its advisory lock held by another
    session) makes the next a no-op rather than a second pass over every product."""
    import psycopg
    from django.db import connection

    from governance import tasks

    monkeypatch.setattr(tasks.services, "runtime_evaluate", lambda: pytest.fail("ran beside the previous run"))
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [tasks.RUNTIME_LOCK])
        assert runtime_task() == 0
        # released now: a closed connection's backend lets go of its locks only when it has exited, a moment later
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [tasks.RUNTIME_LOCK])
    monkeypatch.setattr(tasks.services, "runtime_evaluate", lambda: 7)
    assert runtime_task() == 7  # the lock is free again, and released after the run
    assert runtime_task() == 7


def test_a_bench_too_large_for_a_request_is_queued_from_the_admin_too(
    admin_client, make_policy, build_dp, alice, monkeypatch, django_capture_on_commit_callbacks
):
    from governance import admin as governance_admin
    from governance.models import BenchRun

    policy = make_policy("queued", body="pass")
    build_dp(alice)
    monkeypatch.setattr(governance_admin, "BENCH_AT_ONCE", 0)

    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(
            "/admin/governance/policy/",
            {"action": "test_on_all_data_products", "_selected_action": [policy.pk]},
            follow=True,
        )

    run = BenchRun.objects.get()
    assert (run.policy, run.total, run.finished) == (policy, 1, False) and len(queued) == 1
    texts = [str(message) for message in response.context["messages"]]
    assert any(f'href="/governance/bench/{run.pk}/"' in text for text in texts), texts
    assert not Evaluation.objects.exists()


def test_the_runtime_pass_costs_the_same_queries_and_engine_calls_for_2_and_6_products(
    make_policy, build_dp, alice, descriptors, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dataproducts.models import DataProductIdentity
    from governance.tests import fake_engines

    make_policy("at-runtime", body="pass", timing=["runtime"])
    waived = make_policy("waived-one", body="fail", timing=["runtime"])

    def products(names):
        for name in names:
            identity = DataProductIdentity.objects.get(dp_id=build_dp(alice, name=name).dp_id)
            Release.objects.create(
                product=identity, version="0.1.0", kind="stable", major=0, minor=1, patch=0,
                descriptors=descriptors, commit="0" * 40,
            )  # fmt: skip
            yield identity

    def measured() -> tuple[int, int]:
        fake_engines.ScriptedEngine.calls.clear()
        with CaptureQueriesContext(connection) as queries:
            runtime_evaluate()
        return len(queries.captured_queries), len(fake_engines.ScriptedEngine.calls)

    first = list(products(["alpha", "beta"]))
    small = measured()
    list(products(["gamma", "delta", "epsilon", "zeta"]))
    waiver_create(policy=waived, product=first[0], reason="known", expires_at=timezone.now() + timedelta(days=1),
                  actor=None)  # fmt: skip
    large = measured()

    assert small[0] == large[0]  # queries
    # resources judged: 2 policies, each product, 3 environments, less the waived product's 3
    assert (small[1], large[1]) == (12, 33)
