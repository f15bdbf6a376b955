"""The provisioning API: the adapter registry (everyone signed in reads, staff write through the service), deploy
and undeploy requests (400 naming the field, 403, 409 naming the active deployment, nothing made on a refusal),
a deployment with its steps, confirm, cancel and retry, and what each environment runs."""

from __future__ import annotations

import pytest

from core.models import AuditEvent
from provisioning import tasks
from provisioning.choices import DeploymentStatus, TaskStatus, UnitStatus
from provisioning.models import Deployment, TechAdapter
from provisioning.testing.factories import (
    DeploymentFactory,
    DeploymentTaskFactory,
    DeploymentUnitFactory,
    TechAdapterFactory,
    product_release_make,
)

pytestmark = pytest.mark.django_db

ADAPTERS = "/api/provisioning/adapters/"
DEPLOYMENTS = "/api/provisioning/deployments/"
UNITS = "/api/provisioning/units/"


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    for name in ("deployment_validate", "deployment_run"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda pk, name=name: sent.append((name, pk)))
    return sent


def adapter_body(**overrides) -> dict:
    return {
        "infrastructure_template_id": "urn:dmb:itm:postgres-outputport:1",
        "environment": "qa",
        "url": "http://127.0.0.1:8100",
        **overrides,
    }


# --- the adapter registry ------------------------------------------------------------------------------------------


def test_everyone_signed_in_reads_the_registry_with_its_filters(api_client, carol):
    TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:mock:0", environment="qa", builtin="mock")
    TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:other:0", environment="development")
    api_client.force_authenticate(carol)

    everything = api_client.get(ADAPTERS).json()
    builtin = api_client.get(ADAPTERS, {"is_builtin": "true"}).json()
    in_qa = api_client.get(ADAPTERS, {"environment": "qa"}).json()

    assert everything["count"] == 2
    assert [row["builtin"] for row in builtin["results"]] == ["mock"]
    assert [row["infrastructure_template_id"] for row in in_qa["results"]] == ["urn:dmb:itm:mock:0"]
    assert {"connect_timeout", "request_timeout", "operation_timeout", "poll_interval", "async_validation"} <= set(
        everything["results"][0]
    )


def test_staff_register_an_adapter_through_the_service_and_it_is_audited(api_client, platform_user):
    api_client.force_authenticate(platform_user)

    answer = api_client.post(ADAPTERS, adapter_body(request_timeout=12, async_validation=True), format="json")

    assert answer.status_code == 201, answer.json()
    adapter = TechAdapter.objects.get()
    assert (adapter.request_timeout, adapter.async_validation, answer.json()["id"]) == (12.0, True, adapter.pk)
    assert AuditEvent.objects.filter(action="provisioning.adapter_register", actor=platform_user).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (adapter_body(url="ftp://nowhere"), "url"),
        (adapter_body(environment="staging"), "environment"),
        (adapter_body(auth_header="Authorization"), "auth_env"),
        (adapter_body(request_timeout=60, operation_timeout=30), "operation_timeout"),
    ],
)
def test_a_bad_adapter_is_a_400_naming_the_field(api_client, platform_user, body, field):
    api_client.force_authenticate(platform_user)

    answer = api_client.post(ADAPTERS, body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not TechAdapter.objects.exists()


def test_a_second_adapter_for_a_template_and_environment_is_a_400(api_client, platform_user):
    TechAdapterFactory(**adapter_body())
    api_client.force_authenticate(platform_user)

    answer = api_client.post(ADAPTERS, adapter_body(url="http://127.0.0.1:8200"), format="json")

    assert answer.status_code == 400
    assert "already registered for this template and environment" in answer.json()["detail"]


def test_staff_change_and_delete_an_adapter_and_others_may_not(api_client, alice, platform_user):
    adapter = TechAdapterFactory(**adapter_body())
    url = f"{ADAPTERS}{adapter.pk}/"
    api_client.force_authenticate(alice)
    assert api_client.patch(url, {"url": "http://127.0.0.1:1"}, format="json").status_code == 403
    assert api_client.delete(url).status_code == 403
    assert api_client.post(ADAPTERS, adapter_body(environment="production"), format="json").status_code == 403

    api_client.force_authenticate(platform_user)
    changed = api_client.patch(url, {"url": "http://127.0.0.1:8200", "poll_interval": 0.5}, format="json")
    assert changed.status_code == 200 and changed.json()["url"] == "http://127.0.0.1:8200"
    assert api_client.delete(url).status_code == 204
    assert not TechAdapter.objects.exists()
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "provisioning.adapter_update",
        "provisioning.adapter_delete",
    }


# --- deploy and undeploy requests ----------------------------------------------------------------------------------


def test_a_deploy_request_makes_a_validating_deployment_and_enqueues_its_checks(
    api_client, alice, cashflow, release, enqueued, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(alice)

    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(
            DEPLOYMENTS,
            {"data_product": cashflow.name, "environment": "qa", "release": "0.1.0"},
            format="json",
        )

    assert answer.status_code == 201, answer.json()
    deployment = Deployment.objects.get()
    body = answer.json()
    assert body["id"] == deployment.pk and body["status"] == "validating" and body["operation"] == "deploy"
    assert (body["data_product"], body["version"], body["environment"]) == ("finance.cashflow.0", "0.1.0", "qa")
    assert body["auto_start"] is False and body["created_by"] == "alice"
    assert enqueued == [("deployment_validate", deployment.pk)]


def test_auto_start_is_kept_for_the_worker(api_client, alice, cashflow, release):
    api_client.force_authenticate(alice)

    body = {"data_product": cashflow.name, "environment": "qa", "release": "0.1.0", "auto_start": True}
    assert api_client.post(DEPLOYMENTS, body, format="json").status_code == 201

    assert Deployment.objects.get().auto_start is True


def test_a_second_request_is_a_409_naming_the_active_deployment(api_client, alice, cashflow, release):
    ready = DeploymentFactory(release=release, status=DeploymentStatus.READY, environment="qa", created_by=alice)
    running = DeploymentFactory(release=release, status=DeploymentStatus.RUNNING, created_by=alice)
    api_client.force_authenticate(alice)

    answer = api_client.post(
        DEPLOYMENTS, {"data_product": cashflow.name, "environment": "development", "release": "0.1.0"}, format="json"
    )
    # a preview nobody confirmed gives way to a newer request (the service's rule)
    replaced = api_client.post(
        DEPLOYMENTS, {"data_product": cashflow.name, "environment": "qa", "release": "0.1.0"}, format="json"
    )

    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        f"deployment #{running.pk} (running) of this data product to this environment is still active"
    )
    assert replaced.status_code == 201
    ready.refresh_from_db()
    assert ready.status == DeploymentStatus.CANCELLED
    assert Deployment.objects.filter(environment="development").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data_product": "finance.nothing.0", "environment": "qa", "release": "0.1.0"}, "data_product"),
        ({"data_product": "finance.cashflow.0", "environment": "qa", "release": "9.9.9"}, "release"),
        ({"data_product": "finance.cashflow.0", "environment": "staging", "release": "0.1.0"}, "environment"),
        ({"data_product": "finance.cashflow.0", "environment": "qa"}, "release"),
        (
            {"data_product": "finance.cashflow.0", "environment": "qa", "release": "0.1.0", "remove_data": True},
            "remove_data",
        ),
        ({"data_product": "finance.cashflow.0", "environment": "qa", "operation": "undeploy"}, "environment"),
        ({"data_product": "finance.cashflow.0", "environment": "qa", "operation": "explode"}, "operation"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field_and_nothing_is_made(api_client, alice, cashflow, release, body, field):
    api_client.force_authenticate(alice)

    answer = api_client.post(DEPLOYMENTS, body, format="json")

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == [field]
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("persona", ["bob", "carol"])
def test_another_teams_member_gets_403_and_nothing_is_made(api_client, personas, cashflow, release, persona):
    DeploymentUnitFactory(release=release)
    api_client.force_authenticate(personas[persona])

    deploy = api_client.post(
        DEPLOYMENTS, {"data_product": cashflow.name, "environment": "qa", "release": "0.1.0"}, format="json"
    )
    undeploy = api_client.post(
        DEPLOYMENTS,
        {"data_product": cashflow.name, "environment": "development", "operation": "undeploy"},
        format="json",
    )

    assert (deploy.status_code, undeploy.status_code) == (403, 403)
    assert not Deployment.objects.exists()


def test_an_undeploy_request_takes_what_the_environment_runs_and_may_remove_the_data(
    api_client, alice, cashflow, release
):
    DeploymentUnitFactory(release=release)
    api_client.force_authenticate(alice)

    answer = api_client.post(
        DEPLOYMENTS,
        {"data_product": cashflow.name, "environment": "development", "operation": "undeploy", "remove_data": True},
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    assert (answer.json()["operation"], answer.json()["version"], answer.json()["remove_data"]) == (
        "undeploy",
        "0.1.0",
        True,
    )


# --- a deployment, its steps and its actions ----------------------------------------------------------------------


def test_a_deployment_is_read_with_its_steps_and_what_the_adapter_said(api_client, carol, alice, release, adapter):
    deployment = DeploymentFactory(release=release, status=DeploymentStatus.FAILED, created_by=alice, error="boom")
    DeploymentTaskFactory(
        deployment=deployment,
        adapter=adapter,
        status=TaskStatus.SUCCEEDED,
        response={
            "state": "completed",
            "info": {"publicInfo": {"view": {"type": "string", "label": "View", "value": "v"}}},
        },
    )
    DeploymentTaskFactory(
        deployment=deployment,
        adapter=adapter,
        layer=1,
        status=TaskStatus.FAILED,
        error="HTTP 500 from /v1/provision",
        response={
            "state": "failed",
            "error": {
                "kind": "http",
                "reason": "HTTP 500 from /v1/provision",
                "status_code": 500,
                "user_message": "The database is read-only",
                "errors": [],
                "input": None,
                "input_error_field": None,
                "problems": ["read-only"],
                "solutions": ["ask the DBA"],
                "body": "{}",
            },
        },
        logs=[{"timestamp": "2026-01-01T00:00:00Z", "level": "ERROR", "message": "read-only"}],
    )
    api_client.force_authenticate(carol)

    body = api_client.get(f"{DEPLOYMENTS}{deployment.pk}/").json()

    assert body["status"] == "failed" and body["error"] == "boom" and body["descriptor"]["id"] == release.product.dp_id
    done, failed = body["tasks"]
    assert done["status"] == "succeeded" and done["adapter_error"] is None and done["info"]["publicInfo"]["view"]
    assert failed["adapter_error"]["user_message"] == "The database is read-only"
    assert failed["adapter_error"]["solutions"] == ["ask the DBA"] and failed["logs"][0]["message"] == "read-only"
    assert failed["adapter_url"] == adapter.url and failed["layer"] == 1


def test_the_list_is_newest_first_and_filters_with_the_filterset(api_client, carol, alice, cashflow, release):
    old = DeploymentFactory(release=release, status=DeploymentStatus.SUCCEEDED, created_by=alice)
    new = DeploymentFactory(release=release, status=DeploymentStatus.FAILED, created_by=alice, environment="qa")
    api_client.force_authenticate(carol)

    def ids(**query) -> list[int]:
        answer = api_client.get(DEPLOYMENTS, query)
        assert answer.status_code == 200, answer.json()
        return [row["id"] for row in answer.json()["results"]]

    assert ids() == [new.pk, old.pk]
    assert ids(status="failed") == [new.pk]
    assert ids(status=["failed", "succeeded"]) == [new.pk, old.pk]
    assert ids(product="urn:dmb:dp:finance:cashflow:0", environment="development") == [old.pk]
    assert ids(active="true") == []
    bad = api_client.get(DEPLOYMENTS, {"environment": "staging"})
    assert bad.status_code == 400 and "environment" in bad.json()["errors"]


def test_confirm_starts_a_previewed_deployment_and_cancel_drops_one(api_client, alice, release, enqueued):
    ready = DeploymentFactory(release=release, status=DeploymentStatus.READY, created_by=alice)
    api_client.force_authenticate(alice)

    confirmed = api_client.post(f"{DEPLOYMENTS}{ready.pk}/confirm/")
    again = api_client.post(f"{DEPLOYMENTS}{ready.pk}/confirm/")
    cancelled = api_client.post(f"{DEPLOYMENTS}{ready.pk}/cancel/")

    assert confirmed.status_code == 200 and confirmed.json()["status"] == "running"
    assert again.status_code == 409 and again.json()["detail"] == f"deployment #{ready.pk} is running"
    assert cancelled.status_code == 409 and "cannot be cancelled" in cancelled.json()["detail"]


def test_retry_answers_the_new_deployment(api_client, alice, release):
    failed = DeploymentFactory(release=release, status=DeploymentStatus.FAILED, created_by=alice)
    api_client.force_authenticate(alice)

    answer = api_client.post(f"{DEPLOYMENTS}{failed.pk}/retry/")

    assert answer.status_code == 201
    retry = Deployment.objects.get(pk=answer.json()["id"])
    assert (retry.retry_of, retry.auto_start, answer.json()["retry_of"]) == (failed, True, failed.pk)


def test_another_team_may_not_confirm_cancel_or_retry(api_client, bob, release, alice):
    ready = DeploymentFactory(release=release, status=DeploymentStatus.READY, created_by=alice)
    api_client.force_authenticate(bob)

    for action in ("confirm", "cancel", "retry"):
        assert api_client.post(f"{DEPLOYMENTS}{ready.pk}/{action}/").status_code == 403
    ready.refresh_from_db()
    assert ready.status == DeploymentStatus.READY and Deployment.objects.count() == 1


# --- units ---------------------------------------------------------------------------------------------------------


def test_the_units_of_a_product_cover_every_environment_in_order(api_client, carol, cashflow, release):
    DeploymentUnitFactory(release=release, environment="qa")
    api_client.force_authenticate(carol)

    rows = api_client.get(UNITS, {"data_product": cashflow.name}).json()["results"]
    corrupt = api_client.get(UNITS, {"data_product": cashflow.name, "status": "corrupt"}).json()["results"]
    never = api_client.get(UNITS, {"data_product": cashflow.name, "status": "not_deployed"}).json()["results"]

    assert [(row["environment"], row["status"], row["release"]) for row in rows] == [
        ("development", UnitStatus.NOT_DEPLOYED, None),
        ("qa", UnitStatus.DEPLOYED, "0.1.0"),
        ("production", UnitStatus.NOT_DEPLOYED, None),
    ]
    assert {row["data_product"] for row in rows} == {"finance.cashflow.0"}
    assert corrupt == []
    assert [row["environment"] for row in never] == ["development", "production"]


def test_without_a_product_the_units_are_every_stored_one(api_client, carol, build_dp, alice, cashflow, release):
    other = product_release_make(build_dp(alice, name="ledger"), "1.0.0")
    DeploymentUnitFactory(release=release)
    DeploymentUnitFactory(release=other, status=UnitStatus.CORRUPT)
    api_client.force_authenticate(carol)

    rows = api_client.get(UNITS).json()["results"]
    corrupt = api_client.get(UNITS, {"status": "corrupt"}).json()["results"]

    assert sorted(row["data_product"] for row in rows) == ["finance.cashflow.0", "finance.ledger.0"]
    assert [row["data_product"] for row in corrupt] == ["finance.ledger.0"]
