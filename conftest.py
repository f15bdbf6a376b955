"""Project-wide pytest fixtures: the personas, API clients, and the clean-up of the test data dir."""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.test import APIClient

from core.testing.personas import PERSONAS, create_personas


def pytest_unconfigure(config):
    """Stop the embedded server of a data dir that the test settings created, and remove the folder."""
    owned = os.environ.get("MESHFORGE_TEST_OWNS_DATA_DIR")
    if owned and Path(owned).exists():
        from core.embedded_db import stop_server

        stop_server(Path(owned))
        shutil.rmtree(owned, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_setup(django_db_setup, django_db_blocker):
    """For a module whose tests only read what they share: a transaction open for the whole module and rolled back
    at its end, as Django's ``setUpTestData``, with the personas created in it. Each test runs in a savepoint
    inside it, so what a test writes is still undone after it. A module opts in with
    ``pytestmark = pytest.mark.usefixtures("shared_setup")`` (or a fixture built on it, such as the Builder's
    ``shared_catalog``); not for modules with tests that commit or flush (``transactional_db``, ``live_server``),
    which would see the module's rows or empty the database under it."""
    with django_db_blocker.unblock(), transaction.atomic():
        create_personas()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def personas(request, db):
    """The fixed cast: ``platform`` (staff), ``alice`` (finance), ``bob`` (marketing), ``carol`` (no team). In a
    module that shares its set-up, the module's cast, read again for each test (a test may change its users)."""
    if "shared_setup" in request.fixturenames:
        users = get_user_model().objects.in_bulk([persona.username for persona in PERSONAS], field_name="username")
        return {persona.username: users[persona.username] for persona in PERSONAS}
    return create_personas()


@pytest.fixture
def alice(personas):
    return personas["alice"]


@pytest.fixture
def bob(personas):
    return personas["bob"]


@pytest.fixture
def carol(personas):
    return personas["carol"]


@pytest.fixture
def platform_user(personas):
    return personas["platform"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture(scope="session", autouse=True)
def _test_database_released(django_db_setup, django_db_blocker):
    """Before the test database is dropped: wait for the sessions of processes the tests started (workers, commands,
    adapters) to end — a killed process's backend exits a moment after it — and end any that linger, so the drop
    is not refused with "being accessed by other users"."""
    yield
    import time

    from django.db import connection

    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        deadline = time.monotonic() + 5
        cursor.execute(f"SELECT count(*) {others}")
        while cursor.fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.1)
            cursor.execute(f"SELECT count(*) {others}")
        cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
