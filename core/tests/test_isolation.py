"""A test run keeps to a data dir of its own, so a `make run` on the same machine is never touched."""

import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

PROJECT_VAR = Path(settings.BASE_DIR) / "var"


def test_the_data_dir_is_a_temporary_one_holding_broker_git_root_and_static_files():
    data_dir = Path(settings.MESHFORGE_DATA_DIR)
    assert data_dir != PROJECT_VAR
    assert data_dir.is_relative_to(tempfile.gettempdir()) or not data_dir.is_relative_to(settings.BASE_DIR)
    for path in (settings.MESHFORGE_GIT_ROOT, settings.BROKER_DIR, settings.STATIC_ROOT):
        assert Path(path).is_relative_to(data_dir), path


def test_the_embedded_database_lives_in_the_test_data_dir(db):
    if not settings.EMBEDDED_DATABASE:
        pytest.skip("DATABASE_URL names a server of the user's choosing; pytest-django gives it a test_ database")

    connection.ensure_connection()
    assert Path(connection.settings_dict["HOST"]).is_relative_to(settings.MESHFORGE_DATA_DIR)
