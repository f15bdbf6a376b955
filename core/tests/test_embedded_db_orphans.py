"""A data dir deleted under a running embedded server (``rm -rf var`` without ``make stop``)."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from core.embedded_db import server_status, stop_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _start(data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MESHFORGE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("DATABASE_URL", None)
    env.pop("MESHFORGE_TEST_OWNS_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "manage.py", "embedded_db", "start"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_a_server_left_running_for_a_deleted_data_dir_is_killed_before_the_new_one_starts():
    # not under tmp_path: see the data_dir fixture of test_embedded_db
    data_dir = Path(tempfile.mkdtemp(prefix="mf-edb-")) / "d"
    try:
        assert _start(data_dir).returncode == 0
        orphan_pid = server_status(data_dir).pid
        shutil.rmtree(data_dir / "postgres")

        result = _start(data_dir)
        assert result.returncode == 0, result.stderr
        # Left alive, the orphan would unlink the new server's socket (same path) when it notices its lock
        # file is gone, about a minute later.
        assert not psutil.pid_exists(orphan_pid) or psutil.Process(orphan_pid).status() == psutil.STATUS_ZOMBIE
        server = server_status(data_dir)
        assert server.pid != orphan_pid
        assert (Path(server.socket_dir) / f".s.PGSQL.{server.port}").is_socket()
    finally:
        stop_server(data_dir)
        shutil.rmtree(data_dir.parent, ignore_errors=True)
