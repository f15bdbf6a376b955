"""Provisioning in the admin: the adapter registry saved and deleted through the service (validated, audited),
deployments with their steps, units and the built-in adapters' calls read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from provisioning.choices import DeploymentStatus, TaskStatus
from provisioning.models import TechAdapter
from provisioning.testing.factories import (
    AdapterCallFactory,
    DeploymentFactory,
    DeploymentTaskFactory,
    DeploymentUnitFactory,
    TechAdapterFactory,
)

pytestmark = pytest.mark.django_db


def adapter_form(**overrides) -> dict:
    return {
        "infrastructure_template_id": "urn:dmb:itm:postgres-outputport:1",
        "environment": "qa",
        "url": "http://127.0.0.1:8100",
        "description": "",
        "connect_timeout": "5",
        "request_timeout": "30",
        "operation_timeout": "600",
        "poll_interval": "2",
        "auth_header": "",
        "auth_env": "",
        **overrides,
    }


def test_staff_add_change_and_delete_an_adapter_through_the_service(client, platform_user):
    client.force_login(platform_user)

    added = client.post(reverse("admin:provisioning_techadapter_add"), adapter_form())
    adapter = TechAdapter.objects.get()
    changed = client.post(
        reverse("admin:provisioning_techadapter_change", args=[adapter.pk]), adapter_form(url="http://127.0.0.1:8200")
    )
    deleted = client.post(reverse("admin:provisioning_techadapter_delete", args=[adapter.pk]), {"post": "yes"})

    assert (added.status_code, changed.status_code, deleted.status_code) == (302, 302, 302)
    assert not TechAdapter.objects.exists()
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_name"))
    assert events == [
        ("provisioning.adapter_register", "platform"),
        ("provisioning.adapter_update", "platform"),
        ("provisioning.adapter_delete", "platform"),
    ]


def test_deleting_adapters_in_bulk_audits_each(client, platform_user):
    adapters = [TechAdapterFactory(), TechAdapterFactory()]
    client.force_login(platform_user)

    answer = client.post(
        reverse("admin:provisioning_techadapter_changelist"),
        {"action": "delete_selected", "_selected_action": [a.pk for a in adapters], "post": "yes"},
    )

    assert answer.status_code == 302 and not TechAdapter.objects.exists()
    assert AuditEvent.objects.filter(action="provisioning.adapter_delete").count() == 2


def test_a_bad_adapter_is_refused_next_to_its_field(client, platform_user):
    client.force_login(platform_user)

    answer = client.post(reverse("admin:provisioning_techadapter_add"), adapter_form(auth_header="X-Token"))

    assert answer.status_code == 200
    assert "Give both the header and its variable." in answer.content.decode()
    assert not TechAdapter.objects.exists()


def test_the_registry_list_filters_by_environment_async_validation_and_builtin(client, platform_user):
    TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:mock:0", builtin="mock", environment="qa")
    TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:external:0", async_validation=True)
    client.force_login(platform_user)
    url = reverse("admin:provisioning_techadapter_changelist")

    assert "urn:dmb:itm:external:0" not in client.get(url, {"environment": "qa"}).content.decode()
    assert "urn:dmb:itm:mock:0" not in client.get(url, {"async_validation__exact": "1"}).content.decode()
    assert "urn:dmb:itm:mock:0" in client.get(url, {"q": "mock"}).content.decode()


def test_a_deployment_is_read_only_with_its_steps(client, platform_user, release, adapter):
    deployment = DeploymentFactory(release=release, status=DeploymentStatus.FAILED, error="port: refused")
    DeploymentTaskFactory(deployment=deployment, name="ledger-port", adapter=adapter, status=TaskStatus.FAILED)
    DeploymentUnitFactory(release=release, last_deployment=deployment)
    AdapterCallFactory()
    client.force_login(platform_user)
    url = reverse("admin:provisioning_deployment_change", args=[deployment.pk])

    page = client.get(url)

    html = page.content.decode()
    assert page.status_code == 200 and "ledger-port" in html and adapter.url in html
    assert 'name="_save"' not in html
    assert client.post(url, {}).status_code == 403
    assert client.get(reverse("admin:provisioning_deployment_add")).status_code == 403
    for model in ("deployment", "deploymentunit", "adaptercall"):
        assert client.get(reverse(f"admin:provisioning_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:provisioning_{model}_add")).status_code == 403
