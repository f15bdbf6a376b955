"""Provisioning on the data product page, through the door of :mod:`core.extensions` (registered in
``ProvisioningConfig.ready()``, so ``dataproducts`` never imports provisioning): the Deployments tab — what each
environment runs, the Deploy and Undeploy forms for those who may run them, and the recent deployments."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from core.extensions import DataProductExtension, Tab
from dataproducts.selectors import release_list
from provisioning import selectors
from provisioning.choices import UnitStatus
from provisioning.services import deployment_may_run

RECENT_DEPLOYMENTS = 10


def deployments_context(request: HttpRequest, data_product) -> dict:
    """One row per environment (in ``MESHFORGE_ENVIRONMENTS`` order) with its unit and active deployment, the
    releases to deploy (newest first) and the recent deployments: the same queries for 2 deployments or 200."""
    product = selectors.product_get(name=data_product.name)
    units = selectors.units_of(dp_id=data_product.dp_id)
    active = selectors.deployments_active_of(dp_id=data_product.dp_id)
    may_run = product is not None and deployment_may_run(product=product, user=request.user)
    rows = [
        {
            "environment": unit.environment,
            "unit": unit,
            "deployed": unit.status != UnitStatus.NOT_DEPLOYED and unit.release_id is not None,
            "active": active.get(unit.environment),
        }
        for unit in units
    ]
    return {
        "provisioning": {
            "rows": rows,
            "releases": list(release_list(data_product=data_product)) if may_run else [],
            "environments": list(settings.MESHFORGE_ENVIRONMENTS),
            "deployments": selectors.deployments_of(dp_id=data_product.dp_id, limit=RECENT_DEPLOYMENTS),
            "may_run": may_run,
            "deploy_url": reverse("provisioning:dataproduct_deploy", args=[data_product.name]),
            "undeploy_url": reverse("provisioning:dataproduct_undeploy", args=[data_product.name]),
            "list_url": reverse("provisioning:deployment_list") + f"?product={data_product.name}",
            # reverse provisioning reads what a component's platform has into its catalog-info.yaml (owners only)
            "reverse": [
                (
                    component,
                    reverse("provisioning-reverse:reverse_provisioning_component", args=[component.name]),
                )
                for component in data_product.components.all()
            ]
            if may_run
            else [],
        }
    }


EXTENSION = DataProductExtension(
    name="provisioning",
    tab=Tab(
        key="deployments",
        label="Deployments",
        template="provisioning/partials/dataproduct_tab.html",
        context=deployments_context,
    ),
)
