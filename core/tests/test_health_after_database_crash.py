"""``/healthz`` across a crash of the embedded PostgreSQL: a dedicated server in a data dir of its own, a real
Celery worker beating against it, the postmaster killed with SIGKILL and brought back by the worker's next
connection. The worker carries on, so health must say it is alive."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import pytest

from core.embedded_db import SUPERUSER, server_status, stop_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30
HEALTH_CODE = (
    "import django, json; django.setup(); from core.selectors import system_health; print(json.dumps(system_health()))"
)
WORKER = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--queues", "default"]
WORKER_OPTIONS = ["--pool", "threads", "--concurrency", "1", "--without-mingle", "--without-gossip", "-n", "crash@%h"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MESHFORGE_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "MESHFORGE_HEARTBEAT_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    # the embedded server of this data dir, never the suite's database
    env.pop("DATABASE_URL", None)
    env.pop("MESHFORGE_TEST_OWNS_DATA_DIR", None)
    return env


@pytest.fixture
def data_dir():
    # Short and outside pytest's tmp_path, as in test_embedded_db: the socket path must fit in sun_path, and
    # the server (run as another user under root) must keep its way into the folder.
    path = Path(tempfile.mkdtemp(prefix="mf-hz-")) / "d"
    try:
        yield path
    finally:
        stop_server(path)
        server = server_status(path)
        shutil.rmtree(path.parent, ignore_errors=True)
        assert server is None, f"the embedded server under {path} is still running (pid {server.pid})"


@pytest.fixture
def worker(data_dir, tmp_path):
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "core", "--noinput"],
        cwd=PROJECT_ROOT,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*WORKER, *WORKER_OPTIONS],
            cwd=PROJECT_ROOT,
            env=_env(data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        print(f"--- worker log ---\n{log_path.read_text(errors='replace')}")


def _last_beat(data_dir: Path) -> datetime | None:
    """The worker's last heartbeat, read straight from the server; None while the server is down."""
    server = server_status(data_dir)
    if server is None:
        return None
    try:
        with psycopg.connect(
            host=server.socket_dir, port=server.port, user=SUPERUSER, dbname="meshforge", connect_timeout=2
        ) as conn:
            row = conn.execute(
                "SELECT max(last_beat_at) FROM core_processheartbeat WHERE role = 'worker' AND hostname LIKE 'crash@%%'"
            ).fetchone()
    except psycopg.Error:
        return None  # starting up or shutting down
    return row[0]


def _wait_for_beat_after(data_dir: Path, moment: datetime, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        beat = _last_beat(data_dir)
        if beat is not None and beat > moment:
            return
        assert process.poll() is None, f"the worker exited ({process.returncode})\n{log_path.read_text()}"
        time.sleep(0.2)
    pytest.fail(f"no worker heartbeat after {moment} within {WAIT_SECONDS} s\n{log_path.read_text()}")


def _kill_postmaster(data_dir: Path) -> int:
    pid = server_status(data_dir).pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    return pid


@pytest.mark.slow
def test_a_worker_that_keeps_beating_across_a_database_crash_is_healthy(data_dir, worker):
    process, log_path = worker
    _wait_for_beat_after(data_dir, datetime(2000, 1, 1, tzinfo=UTC), process, log_path)

    killed_at = datetime.now(UTC)
    killed_pid = _kill_postmaster(data_dir)
    # nobody but the worker connects meanwhile: its next beat brings the server back
    _wait_for_beat_after(data_dir, killed_at, process, log_path)
    assert server_status(data_dir).pid != killed_pid

    health = subprocess.run(
        [sys.executable, "-c", HEALTH_CODE], cwd=PROJECT_ROOT, env=_env(data_dir), capture_output=True, text=True
    )
    assert health.returncode == 0, health.stderr
    assert json.loads(health.stdout) == {"database": "ok", "broker": "ok", "worker": "ok"}
