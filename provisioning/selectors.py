"""Reads of provisioning: the adapter registry, deployments and their steps, and what each environment runs."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from dataproducts.models import DataProductIdentity, Release
from provisioning.choices import UnitStatus
from provisioning.models import Deployment, DeploymentTask, DeploymentUnit, TechAdapter


def adapter_list(*, filters: dict | None = None) -> QuerySet[TechAdapter]:
    from provisioning.filtersets import TechAdapterFilterSet

    queryset = TechAdapter.objects.all()
    return TechAdapterFilterSet(filters or {}, queryset=queryset).qs if filters else queryset


def adapters_for(*, templates: Iterable[str], environment: str) -> dict[tuple[str, str], TechAdapter]:
    """The registered adapters of ``templates`` in ``environment``, keyed (template id, environment)."""
    rows = TechAdapter.objects.filter(infrastructure_template_id__in=set(templates), environment=environment)
    return {(row.infrastructure_template_id, row.environment): row for row in rows}


def deployment_get(*, pk: int) -> Deployment | None:
    return (
        Deployment.objects.select_related("product", "release", "created_by")
        .prefetch_related(Prefetch("tasks", queryset=DeploymentTask.objects.select_related("adapter")))
        .filter(pk=pk)
        .first()
    )


def deployment_list(*, filters: dict | None = None) -> QuerySet[Deployment]:
    from provisioning.filtersets import DeploymentFilterSet

    queryset = Deployment.objects.select_related("product", "release", "created_by")
    return DeploymentFilterSet(filters or {}, queryset=queryset).qs if filters else queryset


def deployments_of(*, dp_id: str, limit: int = 20) -> list[Deployment]:
    return list(Deployment.objects.filter(product__dp_id=dp_id).select_related("release", "created_by")[:limit])


def deployment_active(*, dp_id: str, environment: str) -> Deployment | None:
    from provisioning.choices import ACTIVE_STATUSES

    return (
        Deployment.objects.filter(product__dp_id=dp_id, environment=environment, status__in=ACTIVE_STATUSES)
        .order_by("-pk")
        .first()
    )


def deployments_active_of(*, dp_id: str) -> dict[str, Deployment]:
    """The active deployment of each environment where one is (at most one each: the partial unique constraint)."""
    from provisioning.choices import ACTIVE_STATUSES

    return {
        deployment.environment: deployment
        for deployment in Deployment.objects.filter(product__dp_id=dp_id, status__in=ACTIVE_STATUSES)
    }


def units_of(*, dp_id: str) -> list[DeploymentUnit]:
    """One unit per environment in ``MESHFORGE_ENVIRONMENTS`` order (unsaved ``Not deployed`` ones where the
    product never went)."""
    found = {
        unit.environment: unit
        for unit in DeploymentUnit.objects.filter(product__dp_id=dp_id).select_related("release", "last_deployment")
    }
    return [
        found.get(environment) or DeploymentUnit(environment=environment)
        for environment in settings.MESHFORGE_ENVIRONMENTS
    ]


def deployed_releases() -> dict[tuple[int, str], object]:
    """What each environment runs: (product identity id, environment) → the release deployed there."""
    units = DeploymentUnit.objects.filter(status=UnitStatus.DEPLOYED, release__isnull=False).select_related(
        "release__product"
    )
    return {(unit.product_id, unit.environment): unit.release for unit in units}


def unit_get(*, product, environment: str) -> DeploymentUnit | None:
    return DeploymentUnit.objects.filter(product=product, environment=environment).select_related("release").first()


def product_get(*, name: str) -> DataProductIdentity | None:
    """A data product's durable identity by entity name (``finance.cashflow.0``): what deployments belong to, still
    there when the product has left the catalog."""
    if "\x00" in name:
        return None
    return DataProductIdentity.objects.filter(entity_name=name).order_by("-pk").first()


def release_of(*, product: DataProductIdentity, version: str) -> Release | None:
    if "\x00" in version:
        return None
    return Release.objects.filter(product=product, version=version).first()


def unit_list() -> QuerySet[DeploymentUnit]:
    return DeploymentUnit.objects.select_related("product", "release", "last_deployment")
