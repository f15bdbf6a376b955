"""One small world in which every URL parameter names a real object, for the authorization matrix: the personas,
the built-in templates and the finance and marketing domains from trusted repositories, a data product of finance
with an output port (created through the Builder, so its pages read a real repository) and a reverse provisioning of
it awaiting review, a location alice registered with a live and an orphaned entity, a token of alice, a manual
refresh and a worker heartbeat.

Built once per test, in one to three seconds: the Builder's path through Git is the slow part, and the matrix and
the fuzzing need it for the edit endpoints, which read the product's repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.choices import RefreshStatus
from catalog.demo import folder_publish
from catalog.models import Entity, Location, RefreshRequest
from catalog.services import location_refresh, location_register
from core.models import ApiToken, ProcessHeartbeat
from core.services import OPERATOR, api_token_create
from core.testing.factories import ProcessHeartbeatFactory
from core.testing.git import GitRepo
from core.testing.personas import create_personas
from dataproducts import selectors, services
from dataproducts.demo import BUILTIN_TEMPLATES
from dataproducts.models import Component, DataProduct, DataProductIdentity, Domain, Release
from dataproducts.tests.conftest import DOMAINS_YAML, dp_values, port_values
from governance.models import POLICY_FIELDS, Evaluation, Policy, PolicyVersion, Waiver
from provisioning.choices import ReverseProvisioningStatus
from provisioning.models import Deployment, ReverseProvisioning, TechAdapter
from provisioning.testing.factories import (
    AdapterCallFactory,
    DeploymentFactory,
    DeploymentTaskFactory,
    DeploymentUnitFactory,
    TechAdapterFactory,
)

ALICE_COMPONENTS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger-service}
spec: {type: service, lifecycle: production, owner: group:finance}
"""
ALICE_OLD_COMPONENT = """\
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: old-service}
spec: {type: service, lifecycle: deprecated, owner: group:finance}
"""


@dataclass
class World:
    personas: dict
    data_product: DataProduct
    component: Component
    domain: Domain
    entity: Entity
    orphan: Entity
    location: Location
    token: ApiToken
    refresh: RefreshRequest
    heartbeat: ProcessHeartbeat
    policy: Policy
    evaluation: Evaluation
    adapter: TechAdapter
    deployment: Deployment
    reverse_provisioning: ReverseProvisioning

    def first_pk(self, model) -> str:
        """The primary key of a row of ``model`` in the world, for the admin's object pages."""
        row = model._default_manager.order_by("pk").first()
        assert row is not None, f"the world has no {model._meta.label} row: add one to tests/world.py"
        return str(row.pk)


def world_build(root: Path) -> World:
    """Build the world; Git repositories live under ``root`` (settings.MESHFORGE_GIT_ROOT should too)."""
    personas = create_personas()

    templates = settings.MESHFORGE_GIT_ROOT / "platform" / "templates.git"
    folder_publish(BUILTIN_TEMPLATES, templates, message="Built-in templates")
    location_register(type="git", target=f"file://{templates}#main:catalog-info.yaml", actor=OPERATOR, trusted=True)
    domains = GitRepo(settings.MESHFORGE_GIT_ROOT / "platform", "domains")
    domains.put({"catalog-info.yaml": DOMAINS_YAML})
    location_register(type="git", target=domains.target(), actor=OPERATOR, trusted=True)

    alice = personas["alice"]
    template = selectors.template_get(ref="template:dataproduct")
    data_product = services.dataproduct_create(template=template, values=dp_values(name="ledger"), actor=alice)
    port = selectors.template_get(ref="template:outputport")
    data_product = selectors.dataproduct_get(name=data_product.name)
    component = services.component_create(data_product=data_product, template=port, values=port_values(), actor=alice)

    # A location alice registered: non-staff may register only remote hosts, so staff register this local one
    # and it is recorded as hers. Its old-service is dropped from the file, which leaves it an orphan.
    repo = GitRepo(root / "alice-git", "alice-services")
    repo.put({"catalog-info.yaml": ALICE_COMPONENTS + ALICE_OLD_COMPONENT})
    location = location_register(type="git", target=repo.target(), actor=OPERATOR).location
    Location.objects.filter(pk=location.pk).update(registered_by=alice)
    repo.put({"catalog-info.yaml": ALICE_COMPONENTS})
    location.refresh_from_db()
    location_refresh(location=location, actor=OPERATOR)

    token, _ = api_token_create(user=alice, name="matrix", actor=alice)
    refresh = RefreshRequest.objects.create(
        location=location,
        requested_by=alice,
        requested_at=timezone.now(),
        status=RefreshStatus.DONE,
        finished_at=timezone.now(),
    )
    # governance: a policy that judged alice's product once (rows, not policy_save: no engine needed) and a waiver
    policy = Policy.objects.create(name="typed-ports", engine="jsonschema", body="{}", lifecycle="enabled")
    version = PolicyVersion.objects.create(
        policy=policy, number=1, **{name: getattr(policy, name) for name in POLICY_FIELDS}
    )
    identity = DataProductIdentity.objects.get(dp_id=data_product.dp_id)
    evaluation = Evaluation.objects.create(
        policy_version=version,
        product=identity,
        environment="development",
        resource_id=identity.dp_id,
        outcome="pass",
        severity="error",
    )
    Waiver.objects.create(
        policy=policy, product=identity, reason="the world's", expires_at=timezone.now() + timedelta(days=1)
    )
    # a stable release of it (a row: the release service needs the product's Git, which this world's has not)
    release = Release.objects.create(
        product=identity, version="0.1.0", kind="stable", major=0, minor=1, patch=0, commit="0" * 40
    )
    # provisioning: an adapter for the output port in development, a deployment of 0.1.0 there that succeeded (rows:
    # no worker runs here), the unit it left, and a call the built-in mock adapter received
    adapter = TechAdapterFactory(
        infrastructure_template_id=component.infrastructure_template_id or "urn:dmb:itm:world:0",
        environment="development",
    )
    deployment = DeploymentFactory(release=release, status="succeeded", created_by=alice)
    DeploymentTaskFactory(
        deployment=deployment, component_id=component.component_id, adapter=adapter, status="succeeded", attempts=1
    )
    DeploymentUnitFactory(release=release, last_deployment=deployment)
    AdapterCallFactory(component_id=component.component_id)
    # a reverse provisioning of the output port awaiting review (a row: no adapter answers here)
    reverse_provisioning = ReverseProvisioning.objects.create(
        component_ref=component.entity.ref,
        component_name=component.name,
        product=identity,
        environment="development",
        status=ReverseProvisioningStatus.READY,
        updates_text='{"spec.mesh.dataContract.termsAndConditions": "Read back from the platform"}',
        logs=[{"timestamp": "2026-01-01T00:00:00Z", "level": "INFO", "message": "read back", "phase": "REVERSE"}],
        base_revision=selectors.entity_file(entity=component.entity).revision,
        created_by=alice,
        created_by_name=alice.username,
    )
    world = World(
        personas=personas,
        data_product=selectors.dataproduct_get(name=data_product.name),
        component=Component.objects.get(pk=component.pk),
        domain=Domain.objects.get(name="finance"),
        entity=Entity.objects.get(ref="component:default/ledger-service"),
        orphan=Entity.objects.get(ref="component:default/old-service", orphan=True),
        location=Location.objects.get(pk=location.pk),
        token=token,
        refresh=refresh,
        heartbeat=ProcessHeartbeatFactory(),
        policy=policy,
        evaluation=evaluation,
        adapter=adapter,
        deployment=deployment,
        reverse_provisioning=reverse_provisioning,
    )
    # a failed sign-in, as the login page records one
    Client().post(reverse("login"), {"username": "carol", "password": "not carol's"})
    # every model the admin shows has a row, so that each admin object page is reached
    for model in admin.site._registry:
        world.first_pk(model)
    return world
