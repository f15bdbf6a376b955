"""End to end with a real Celery worker and the built-in postgres adapter over HTTP (a live server): a 4-component
product deployed to ``development``, its schema, tables and views read back from the target database, access granted
and revoked through ``updateacl`` and checked with ``SET ROLE``, then undeployed without and with removeData."""

from __future__ import annotations

import secrets

import pytest
from psycopg import errors, sql

from core.testing.worker import worker_start
from provisioning import services
from provisioning.adapters.postgres import ADAPTER_SCHEMA, GRANTS_TABLE, role_name, target_connection
from provisioning.choices import DeploymentStatus, UnitStatus
from provisioning.client import provisioning_request
from provisioning.models import Deployment, DeploymentUnit
from provisioning.testing.builders import POSTGRES_TEMPLATE, builtin_adapters_register, descriptor_make, release_make

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Roles are cluster-wide and the target database outlives the test's transactions: this test's own names.
PREFIX = f"e{secrets.token_hex(3)}_"
DOMAIN = f"pge{secrets.token_hex(3)}"
SCHEMA = f"{DOMAIN}_ledger_0"
RATES_COLUMNS = [
    {"name": "currency", "dataType": "CHAR", "dataLength": 3, "constraint": "PRIMARY_KEY"},
    {"name": "rate", "dataType": "DOUBLE"},
    {"name": "day", "dataType": "DATE"},
]
# storage → workload → output port, and an output port with nothing behind it (the two conventions of tables
# nobody declared: the storage keeps settled_data, the independent port its own rates_data)
COMPONENTS = [
    {"name": "landing", "kind": "storage", "template": POSTGRES_TEMPLATE},
    {"name": "settle", "kind": "workload", "depends_on": ["landing"], "template": POSTGRES_TEMPLATE},
    {"name": "settled", "depends_on": ["settle"], "template": POSTGRES_TEMPLATE},
    {"name": "rates", "template": POSTGRES_TEMPLATE, "columns": RATES_COLUMNS},
]
CAROL, FINANCE = role_name("user:carol", PREFIX), role_name("group:finance", PREFIX)


@pytest.fixture
def worker(tmp_path, settings):
    settings.PROVISIONING_POSTGRES_ROLE_PREFIX = PREFIX  # the adapter runs in the live server, in this process
    started = worker_start(tmp_path / "worker.log", env={"PROVISIONING_POSTGRES_ROLE_PREFIX": PREFIX})
    yield started
    started.kill()
    print(f"--- worker log ---\n{started.log()}")


@pytest.fixture
def target_cleaned():
    yield
    with target_connection() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        if conn.execute("SELECT to_regclass(%s)", [f"{ADAPTER_SCHEMA}.{GRANTS_TABLE}"]).fetchone()[0]:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE schema_name = %s").format(sql.Identifier(ADAPTER_SCHEMA, GRANTS_TABLE)),
                [SCHEMA],
            )
        for (role,) in conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", [PREFIX]).fetchall():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def query(statement, params=()) -> list[tuple]:
    with target_connection() as conn:
        return conn.execute(statement, params).fetchall()


def relations() -> dict[str, str]:
    return dict(query("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s", [SCHEMA]))


def columns(name: str) -> list[tuple[str, str]]:
    return query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        [SCHEMA, name],
    )


def grantees(view: str) -> set[str]:
    rows = query(
        "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = %s AND table_name = %s "
        "AND privilege_type = 'SELECT' AND starts_with(grantee, %s)",
        [SCHEMA, view, PREFIX],
    )
    return {grantee for (grantee,) in rows}


def select_as(role: str, view: str) -> list[tuple]:
    """What a member of ``role`` reads from the view, on a real connection after SET ROLE."""
    with target_connection() as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        return conn.execute(sql.SQL("SELECT id, amount FROM {}").format(sql.Identifier(SCHEMA, view))).fetchall()


def run(worker, deployment: Deployment) -> Deployment:
    """Wait for the worker to check and run the deployment to its end."""
    worker.wait_for(lambda: Deployment.objects.get(pk=deployment.pk).finished, f"the end of #{deployment.pk}")
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.SUCCEEDED, (
        deployment.error,
        deployment.problems,
        list(deployment.tasks.values_list("name", "error")),
    )
    return deployment


def test_a_product_deploys_through_the_postgres_adapter_grants_revokes_and_undeploys_with_a_real_worker(
    live_server, worker, target_cleaned, platform_user
):
    adapters = builtin_adapters_register(live_server.url)
    release = release_make(descriptor_make(domain=DOMAIN, components=COMPONENTS))
    unit = DeploymentUnit.objects.filter(product=release.product, environment="development")

    deployed = run(
        worker,
        services.deployment_request_create(
            release=release, environment="development", actor=platform_user, auto_start=True
        ),
    )

    assert unit.get().status == UnitStatus.DEPLOYED
    assert relations() == {
        "settled_data": "BASE TABLE",
        "settled": "VIEW",
        "rates_data": "BASE TABLE",
        "rates": "VIEW",
    }
    assert columns("settled") == columns("settled_data") == [("id", "character varying"), ("amount", "numeric")]
    assert columns("rates") == [("currency", "character"), ("rate", "double precision"), ("day", "date")]
    info = {c["name"]: c.get("info", {}) for c in unit.get().enriched_descriptor["components"]}
    for port in ("settled", "rates"):
        public = {key: value["value"] for key, value in info[port]["publicInfo"].items()}
        assert (public["database"], public["schema"], public["view"]) == ("meshforge_data", SCHEMA, port)
        assert info[port]["latestProvisioningOperation"] == {"operation": "Deploy", "status": "Successful"}
    assert info["landing"]["publicInfo"]["tables"]["value"] == "settled_data"

    # access, as the marketplace will ask for it: the port's adapter, its request as provisionInfo
    settled_id = f"urn:dmb:cmp:{DOMAIN}:ledger:0:settled"
    provision_info = {
        "request": provisioning_request(descriptor=deployed.descriptor, component_id=settled_id)["descriptor"],
        "result": deployed.tasks.get(name="settled").response["result"],
    }
    with target_connection() as conn:
        conn.execute(sql.SQL("INSERT INTO {} VALUES ('p-1', 12.50)").format(sql.Identifier(SCHEMA, "settled_data")))
    with services.adapter_client(adapters[("postgres", "development")]) as client:
        granted = client.update_acl(["user:carol", "group:finance"], provision_info)
        assert granted.state == "completed", granted.error
        assert grantees("settled") == {CAROL, FINANCE}
        assert select_as(CAROL, "settled") == select_as(FINANCE, "settled") == [("p-1", 12.5)]

        revoked = client.update_acl(["group:finance"], provision_info)
        assert revoked.state == "completed", revoked.error
    assert grantees("settled") == {FINANCE}
    with pytest.raises(errors.InsufficientPrivilege):
        select_as(CAROL, "settled")
    assert grantees("rates") == set()

    # undeploy keeping the data, deploy again, undeploy removing it
    kept = run(
        worker,
        services.undeploy_request_create(
            product=release.product, environment="development", actor=platform_user, auto_start=True
        ),
    )
    assert kept.remove_data is False
    assert unit.get().status == UnitStatus.NOT_DEPLOYED
    assert set(relations()) == {"settled_data", "settled", "rates_data", "rates"}
    assert query(sql.SQL("SELECT id FROM {}").format(sql.Identifier(SCHEMA, "settled_data"))) == [("p-1",)]

    run(
        worker,
        services.deployment_request_create(
            release=release, environment="development", actor=platform_user, auto_start=True
        ),
    )
    assert unit.get().status == UnitStatus.DEPLOYED
    assert grantees("settled") == {FINANCE}  # the desired refs, applied again by the provision

    run(
        worker,
        services.undeploy_request_create(
            product=release.product, environment="development", actor=platform_user, remove_data=True, auto_start=True
        ),
    )
    assert unit.get().status == UnitStatus.NOT_DEPLOYED
    assert relations() == {}
    assert query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA]) == []
