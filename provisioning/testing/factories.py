"""factory_boy factories of provisioning's rows, for the tests of its pages, API and admin: registry rows, releases
of a product made by the Builder's fast builders, deployments in any state with their steps, environments' units.
Rows are written directly (the services and the worker are not under test where these are used)."""

from __future__ import annotations

import re
from datetime import timedelta

import factory
from django.conf import settings
from django.utils import timezone

from dataproducts.choices import ReleaseKind
from dataproducts.models import DataProductIdentity, Release
from dataproducts.selectors import dataproduct_descriptor
from provisioning.choices import DeploymentOperation, DeploymentStatus, TaskOperation, TaskStatus, UnitStatus
from provisioning.models import AdapterCall, Deployment, DeploymentTask, DeploymentUnit, TechAdapter


class TechAdapterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TechAdapter

    infrastructure_template_id = factory.Sequence(lambda n: f"urn:dmb:itm:test-adapter-{n}:0")
    environment = "development"
    url = factory.Sequence(lambda n: f"http://127.0.0.1:9/adapter-{n}")
    description = "A test adapter"


def identity_of(data_product) -> DataProductIdentity:
    return DataProductIdentity.objects.get(dp_id=data_product.dp_id)


def product_release_make(data_product, version: str = "0.1.0", *, descriptors: dict | None = None) -> Release:
    """A release of a catalog ``data_product`` (one of the Builder's fast builders) freezing its descriptor of every
    environment: a row, as ``tests/world.py`` makes one, since the release service needs the product's Git.
    (``provisioning.testing.builders.release_make`` makes one of a bare descriptor, without the catalog.)"""
    if descriptors is None:
        descriptors = {
            environment: dataproduct_descriptor(data_product=data_product, environment=environment).descriptor
            for environment in settings.MESHFORGE_ENVIRONMENTS
        }
    major, minor, patch, snapshot = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+)|-SNAPSHOT-(\d+))", version).groups()
    return Release.objects.create(
        product=identity_of(data_product),
        version=version,
        kind=ReleaseKind.STABLE if patch is not None else ReleaseKind.DRAFT,
        major=int(major),
        minor=int(minor),
        patch=None if patch is None else int(patch),
        snapshot=None if snapshot is None else int(snapshot),
        descriptors=descriptors,
        commit="0" * 40,
    )


class DeploymentFactory(factory.django.DjangoModelFactory):
    """A deploy of ``release`` (required) to development, ``validating``; give ``status`` for another state
    (its timestamps follow)."""

    class Meta:
        model = Deployment

    release = None
    product = factory.LazyAttribute(lambda o: o.release.product)
    version = factory.LazyAttribute(lambda o: o.release.version if o.release else "")
    environment = "development"
    operation = DeploymentOperation.DEPLOY
    status = DeploymentStatus.VALIDATING
    descriptor = factory.LazyAttribute(lambda o: (o.release.descriptors.get(o.environment) or {}) if o.release else {})
    created_by = None
    created_by_name = factory.LazyAttribute(lambda o: o.created_by.get_username() if o.created_by else "system")
    validated_at = factory.LazyAttribute(
        lambda o: None if o.status == DeploymentStatus.VALIDATING else timezone.now() - timedelta(seconds=30)
    )
    started_at = factory.LazyAttribute(
        lambda o: (
            timezone.now() - timedelta(seconds=20)
            if o.status in (DeploymentStatus.RUNNING, DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED)
            else None
        )
    )
    finished_at = factory.LazyAttribute(
        lambda o: (
            timezone.now()
            if o.status not in (DeploymentStatus.VALIDATING, DeploymentStatus.READY, DeploymentStatus.RUNNING)
            else None
        )
    )


class DeploymentTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeploymentTask

    deployment = None
    component_id = factory.Sequence(lambda n: f"urn:dmb:cmp:finance:cashflow:0:part-{n}")
    name = factory.LazyAttribute(lambda o: o.component_id.rsplit(":", 1)[-1])
    kind = "outputport"
    operation = TaskOperation.PROVISION
    layer = 0
    adapter = None
    adapter_url = factory.LazyAttribute(lambda o: o.adapter.url if o.adapter else "http://127.0.0.1:9/adapter")
    status = TaskStatus.PENDING


class DeploymentUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeploymentUnit

    release = None
    product = factory.LazyAttribute(lambda o: o.release.product)
    environment = "development"
    status = UnitStatus.DEPLOYED
    deployed_at = factory.LazyFunction(timezone.now)


class AdapterCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdapterCall

    adapter = "mock"
    operation = "provision"
    component_id = "urn:dmb:cmp:finance:cashflow:0:part"
