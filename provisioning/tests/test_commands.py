"""The commands: ``adapter_register`` (create, update, refuse), ``deploy`` and ``undeploy`` (the request through the
services, refusals naming what is wrong, and ``--wait`` following a real worker's run to its end, exit 0 only when
deployed)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from core.testing.worker import worker_start
from provisioning.choices import DeploymentStatus, UnitStatus
from provisioning.models import Deployment, DeploymentUnit, TechAdapter
from provisioning.testing.builders import builtin_adapters_register, descriptor_make, release_make


def _call(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_adapter_register_creates_then_updates_the_row_and_audits_it():
    said = _call(
        "adapter_register",
        *("--infrastructure-template-id", "urn:dmb:itm:spark:1", "--environment", "qa"),
        *("--url", "http://adapters.example.com/spark", "--timeout", "45"),
    )
    assert "Registered urn:dmb:itm:spark:1 (qa) at http://adapters.example.com/spark" in said
    adapter = TechAdapter.objects.get()
    assert (adapter.request_timeout, adapter.operation_timeout) == (45, 600)

    said = _call(
        "adapter_register",
        *("--infrastructure-template-id", "urn:dmb:itm:spark:1", "--environment", "qa"),
        *("--url", "https://spark.example.com", "--auth-header", "Authorization", "--auth-env", "SPARK_TOKEN"),
    )
    assert said.startswith("Updated")
    adapter.refresh_from_db()
    assert (adapter.url, adapter.auth_header, adapter.auth_env) == (
        "https://spark.example.com",
        "Authorization",
        "SPARK_TOKEN",
    )
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
        "provisioning.adapter_register",
        "provisioning.adapter_update",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--environment", "staging", "--url", "http://a.example.com"), "environment"),
        (("--environment", "qa", "--url", "ftp://a.example.com"), "url"),
        (("--environment", "qa", "--url", "http://a.example.com", "--auth-header", "X-Key"), "auth_env"),
    ],
)
def test_adapter_register_refuses_bad_values_naming_the_field(args, field):
    with pytest.raises(CommandError, match=rf"{field}: "):
        _call("adapter_register", "--infrastructure-template-id", "urn:dmb:itm:spark:1", *args)
    assert not TechAdapter.objects.exists()


@pytest.mark.django_db
def test_deploy_requests_a_deployment_that_the_worker_runs_without_a_preview(
    platform_user, django_capture_on_commit_callbacks
):
    release = release_make(descriptor_make(components=[{"name": "port"}]))
    with django_capture_on_commit_callbacks() as enqueued:
        said = _call(
            "deploy", "finance.ledger.0", "--environment", "development", "--release", "0.1.0", "--user", "platform"
        )
    deployment = Deployment.objects.get()
    assert f"Deployment #{deployment.pk}: finance.ledger.0 0.1.0 to development" in said
    assert (deployment.status, deployment.auto_start, deployment.release) == (
        DeploymentStatus.VALIDATING,
        True,
        release,
    )
    assert len(enqueued) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("finance.ledger.0", "--environment", "development", "--release", "0.1.0", "--user", "nobody"), "--user"),
        (("finance.nothing.0", "--environment", "development", "--release", "0.1.0", "--user", "alice"), "name"),
        (("finance.ledger.0", "--environment", "development", "--release", "9.9.9", "--user", "alice"), "--release"),
        (("finance.ledger.0", "--environment", "staging", "--release", "0.1.0", "--user", "alice"), "environment"),
        # bob is not in finance
        (("finance.ledger.0", "--environment", "development", "--release", "0.1.0", "--user", "bob"), "owners"),
    ],
)
def test_deploy_refuses_what_is_wrong_and_makes_nothing(personas, args, message):
    release_make(descriptor_make(components=[{"name": "port"}]))
    with pytest.raises(CommandError, match=message):
        _call("deploy", *args)
    assert not Deployment.objects.exists()


@pytest.mark.django_db
def test_undeploy_of_an_environment_that_runs_nothing_is_refused(platform_user):
    release_make(descriptor_make(components=[{"name": "port"}]))
    with pytest.raises(CommandError, match="not deployed in development"):
        _call("undeploy", "finance.ledger.0", "--environment", "development", "--user", "platform")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_deploy_and_undeploy_wait_for_the_worker_and_print_each_step(live_server, platform_user, tmp_path):
    builtin_adapters_register(live_server.url)
    components = [{"name": "store", "kind": "storage"}, {"name": "port", "depends_on": ["store"]}]
    release_make(descriptor_make(components=components))
    broken = descriptor_make(name="broken", components=[{"name": "port", "specific": {"mock": {"fail": True}}}])
    release_make(broken)
    worker = worker_start(tmp_path / "worker.log")
    try:
        said = _call(
            "deploy",
            *("finance.ledger.0", "--environment", "development", "--release", "0.1.0", "--user", "platform"),
            "--wait",
        )
        assert "  Provision store [storage] succeeded" in said
        assert "  Provision port [outputport] succeeded" in said
        assert said.rstrip().endswith("Deployed finance.ledger.0 0.1.0 to development")

        with pytest.raises(CommandError, match=r"deployment #\d+ failed: port: .*asked to fail provision"):
            _call(
                "deploy",
                *("finance.broken.0", "--environment", "development", "--release", "0.1.0", "--user", "platform"),
                "--wait",
            )

        said = _call(
            "undeploy",
            "finance.ledger.0",
            "--environment",
            "development",
            "--user",
            "platform",
            "--remove-data",
            "--wait",
        )
        assert said.index("Unprovision port") < said.index("Unprovision store")
        assert DeploymentUnit.objects.get(product__entity_name="finance.ledger.0").status == UnitStatus.NOT_DEPLOYED
    finally:
        worker.kill()


@pytest.mark.django_db
def test_registering_an_adapter_again_as_it_is_changes_and_records_nothing():
    args = ("adapter_register", "--infrastructure-template-id", "urn:dmb:itm:spark:1", "--environment", "qa")
    _call(*args, "--url", "http://spark.example.com")
    said = _call(*args, "--url", "http://spark.example.com")
    assert said.startswith("Updated")
    assert AuditEvent.objects.count() == 1
