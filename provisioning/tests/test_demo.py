"""The demo deploys: ``seed_demo`` run for real (templates, Builder, Git, releases, enqueued deployments), then each
demo deployment checked and run in-process against the built-in postgres adapter at a live server, as the worker
would run them after ``make run``."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from psycopg import sql

from dataproducts.demo import DEMO_DATA_PRODUCTS
from provisioning import coordinator, services
from provisioning.adapters.postgres import target_connection
from provisioning.choices import DeploymentStatus, UnitStatus
from provisioning.models import Deployment, DeploymentUnit

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEMO_SCHEMAS = [
    f"{spec['values']['domain'].removeprefix('domain:')}_{spec['values']['name']}_0" for spec in DEMO_DATA_PRODUCTS
]


def relations(schema: str) -> dict[str, str]:
    """Table or view name → its kind, in ``schema`` of the first environment's database."""
    with target_connection() as conn:
        rows = conn.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s", [schema]
        ).fetchall()
    return dict(rows)


@pytest.fixture
def demo_schemas_dropped():
    yield
    with target_connection() as conn:
        for schema in DEMO_SCHEMAS:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_the_seeded_demo_deploys_every_product_through_the_postgres_adapter(
    live_server, settings, tmp_path, monkeypatch, demo_schemas_dropped
):
    # the data dir stays (the embedded server lives there): only the demo's passwords and Git go elsewhere
    monkeypatch.setattr("core.demo.credentials_path", lambda: tmp_path / "demo-credentials.json")
    settings.MESHFORGE_GIT_ROOT = tmp_path / "git"
    settings.MESHFORGE_INTERNAL_URL = live_server.url
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    assert f"Built-in tech adapters registered at {live_server.url}/tech-adapters/: 6 new" in out.getvalue()
    environment = settings.MESHFORGE_ENVIRONMENTS[0]
    deployments = list(Deployment.objects.order_by("pk"))
    assert [d.product.entity_name for d in deployments] == [
        "finance.payments.0",
        "finance.invoices.0",
        "marketing.campaigns.0",
    ], out.getvalue()

    for deployment in deployments:
        checked = services.deployment_validate(deployment_id=deployment.pk)
        assert checked.status == DeploymentStatus.RUNNING, (deployment.product.entity_name, checked.problems)
        finished = coordinator.deployment_run(deployment_id=deployment.pk)
        assert finished.status == DeploymentStatus.SUCCEEDED, (
            deployment.product.entity_name,
            list(finished.tasks.values_list("name", "error")),
        )
        unit = DeploymentUnit.objects.get(product=deployment.product, environment=environment)
        assert unit.status == UnitStatus.DEPLOYED

    assert relations("finance_payments_0") == {
        "settled_payments_data": "BASE TABLE",  # kept by the raw-payments storage, which declares no tables
        "settled_payments": "VIEW",
    }
    assert relations("finance_invoices_0") == {"open_invoices_data": "BASE TABLE", "open_invoices": "VIEW"}
    assert relations("marketing_campaigns_0") == {"daily_performance_data": "BASE TABLE", "daily_performance": "VIEW"}
