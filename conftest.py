"""Project-wide pytest fixtures: the personas, API clients, and the clean-up of the test data dir."""

import os
import shutil
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from core.testing.personas import create_personas


def pytest_unconfigure(config):
    """Stop the embedded server of a data dir that the test settings created, and remove the folder."""
    owned = os.environ.get("MESHFORGE_TEST_OWNS_DATA_DIR")
    if owned and Path(owned).exists():
        from core.embedded_db import stop_server

        stop_server(Path(owned))
        shutil.rmtree(owned, ignore_errors=True)


@pytest.fixture
def personas(db):
    """The fixed cast: ``platform`` (staff), ``alice`` (finance), ``bob`` (marketing), ``carol`` (no team)."""
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
