"""Provisioning's part of ``seed_demo`` (see ``core.demo``): the built-in adapters registered for every environment
at this server's own address, a stable release of each demo data product that has none, and a deployment of it to
the first environment, enqueued for the worker, which runs it once the web server is up. Idempotent."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from core.demo import Report
from core.errors import ServiceError
from core.services import OPERATOR
from dataproducts import selectors as dp_selectors
from dataproducts import services as dp_services
from dataproducts.demo import DEMO_DATA_PRODUCTS
from dataproducts.models import Release
from provisioning import selectors, services
from provisioning.adapters.views import SECRET_HEADER
from provisioning.choices import UnitStatus

# infrastructureTemplateId → built-in adapter: the built-in templates provision on the postgres adapter
BUILTIN_TEMPLATES = {"urn:dmb:itm:postgres:1": "postgres", "urn:dmb:itm:mock:1": "mock"}


def builtin_adapters_seed() -> int:
    """Register (or point again at this server) the built-in adapters in every environment."""
    created = 0
    for template, name in BUILTIN_TEMPLATES.items():
        for environment in settings.MESHFORGE_ENVIRONMENTS:
            _, new = services.adapter_register(
                infrastructure_template_id=template,
                environment=environment,
                url=f"{settings.MESHFORGE_INTERNAL_URL}/tech-adapters/{name}",
                actor=OPERATOR,
                builtin=name,
                description=f"Built into Meshforge ({name})",
                auth_header=SECRET_HEADER,
                auth_env="MESHFORGE_ADAPTER_SECRET",
            )
            created += new
    return created


def _stable_release(name: str, actor) -> Release | str:
    """The product's newest stable release, made (draft, then promoted) when it has none; or why not."""
    data_product = dp_selectors.dataproduct_get(name=name)
    if data_product is None:
        return f"{name} is not in the catalog"
    stable = Release.objects.filter(product__dp_id=data_product.dp_id, kind="stable").order_by("-created_at").first()
    if stable is not None:
        return stable
    try:
        dp_services.release_draft_create(data_product=data_product, actor=actor, notes="Demo release")
        return dp_services.release_promote(data_product=data_product, actor=actor, notes="Demo release")
    except (ValidationError, ServiceError, PermissionDenied) as exc:
        return f"{name}: no release ({exc})"


def demo_deployments_seed(report: Report) -> None:
    environment = settings.MESHFORGE_ENVIRONMENTS[0]
    users = get_user_model().objects.in_bulk([spec["user"] for spec in DEMO_DATA_PRODUCTS], field_name="username")
    for spec in DEMO_DATA_PRODUCTS:
        values = spec["values"]
        name = f"{values['domain'].removeprefix('domain:')}.{values['name']}.0"
        release = _stable_release(name, users[spec["user"]])
        if isinstance(release, str):
            report(f"Demo deployment skipped: {release}")
            continue
        unit = selectors.unit_get(product=release.product, environment=environment)
        if (unit is not None and unit.status != UnitStatus.NOT_DEPLOYED) or selectors.deployment_active(
            dp_id=release.product.dp_id, environment=environment
        ):
            continue
        deployment = services.deployment_request_create(
            release=release, environment=environment, actor=users[spec["user"]], auto_start=True
        )
        report(f"Demo deployment #{deployment.pk} enqueued: {name} {release.version} to {environment}")


def demo_seed(*, report: Report) -> None:
    created = builtin_adapters_seed()
    report(f"Built-in tech adapters registered at {settings.MESHFORGE_INTERNAL_URL}/tech-adapters/: {created} new")
    demo_deployments_seed(report)
