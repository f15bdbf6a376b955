"""The embedded PostgreSQL server under the real ``manage.py embedded_db`` command: concurrent starts, crashes
and interrupted initialisation, each in a fresh data dir of its own."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from core.embedded_db import SUPERUSER, server_status, stop_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEAD_PID = 999_999
# sun_path holds 108 bytes including the terminating NUL
MAX_SOCKET_PATH = 107


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "MESHFORGE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("DATABASE_URL", None)
    env.pop("MESHFORGE_TEST_OWNS_DATA_DIR", None)
    return env


def _command(data_dir: Path, action: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "embedded_db", action],
        cwd=PROJECT_ROOT,
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(data_dir: Path, action: str) -> tuple[int, str, str]:
    process = _command(data_dir, action)
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def _assert_started(returncode: int, stdout: str, stderr: str) -> None:
    assert returncode == 0, f"embedded_db start failed:\n{stdout}\n{stderr}"
    assert "PostgreSQL 16" in stdout and "running at" in stdout, stdout


def _start(data_dir: Path) -> str:
    returncode, stdout, stderr = _run(data_dir, "start")
    _assert_started(returncode, stdout, stderr)
    return stdout


def _connect(data_dir: Path) -> psycopg.Connection:
    server = server_status(data_dir)
    assert server is not None, "the embedded server is not running"
    return psycopg.connect(
        host=server.socket_dir, port=server.port, user=SUPERUSER, dbname="meshforge", autocommit=True
    )


def _start_with_a_row(data_dir: Path) -> int:
    """Start the server, write a row that must survive what the test does next, and return the server's pid."""
    _start(data_dir)
    with _connect(data_dir) as conn:
        conn.execute("CREATE TABLE kept (name text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    return server_status(data_dir).pid


def _answers(data_dir: Path) -> bool:
    with _connect(data_dir) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)


def _wait_until_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} still running after {timeout} s")


@pytest.fixture
def data_dir():
    # Not under pytest's tmp_path: the server runs as another user, and a pytest session starting meanwhile
    # resets /tmp/pytest-of-<user> to 0700, which takes the server's way into its own data dir away.
    path = Path(tempfile.mkdtemp(prefix="mf-edb-")) / "d"
    assert len(str(path / "postgres" / ".s.PGSQL.5432")) <= MAX_SOCKET_PATH, f"{path} is too long for a socket"
    try:
        yield path
    finally:
        stop_server(path)
        server = server_status(path)
        shutil.rmtree(path.parent, ignore_errors=True)
        assert server is None, f"the embedded server under {path} is still running (pid {server.pid})"


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 3])
def test_two_commands_started_together_on_an_empty_data_dir_both_succeed(data_dir, count):
    processes = [_command(data_dir, "start") for _ in range(count)]
    outputs = [process.communicate(timeout=120) for process in processes]
    results = [(process.returncode, *output) for process, output in zip(processes, outputs, strict=True)]

    for result in results:
        _assert_started(*result)
    server = server_status(data_dir)
    returncode, stdout, _ = _run(data_dir, "status")
    assert returncode == 0
    assert f"(pid {server.pid})" in stdout
    assert all(f"(pid {server.pid})" in stdout for _, stdout, _ in results)
    assert not list(data_dir.glob("postgres.initdb-*"))


@pytest.mark.slow
def test_a_process_killed_with_sigkill_does_not_break_the_next_start(data_dir):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time, django; django.setup(); from django.db import connection; connection.ensure_connection();"
            " print('connected', flush=True); time.sleep(300)",
        ],
        cwd=PROJECT_ROOT,
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "connected", holder.stderr.read()
        server_pid = server_status(data_dir).pid
        handles = data_dir / "postgres" / ".handle_pids.json"
        assert holder.pid in json.loads(handles.read_text())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=10)

    _start(data_dir)
    assert server_status(data_dir).pid == server_pid
    assert _answers(data_dir)
    assert holder.pid not in json.loads(handles.read_text())

    # pgserver's own pid list, left behind by dead processes or half written, must not stop a start either
    assert not psutil.pid_exists(DEAD_PID)
    for running in (True, False):
        if not running:
            stop_server(data_dir)
        for garbage in (json.dumps([DEAD_PID]), "{not json"):
            handles.write_text(garbage)
            _start(data_dir)
            assert _answers(data_dir)
            assert DEAD_PID not in json.loads(handles.read_text())


@pytest.mark.slow
def test_a_stale_postmaster_pid_after_a_crash_does_not_stop_the_next_start(data_dir):
    crashed_pid = _start_with_a_row(data_dir)

    os.kill(crashed_pid, signal.SIGKILL)
    _wait_until_gone(crashed_pid)
    assert (data_dir / "postgres" / "postmaster.pid").exists()

    _start(data_dir)
    assert server_status(data_dir).pid != crashed_pid
    with _connect(data_dir) as conn:
        assert conn.execute("SELECT name FROM kept").fetchall() == [("still here",)]


@pytest.mark.slow
def test_initdb_interrupted_half_way_is_redone(data_dir):
    staging = data_dir / f"postgres.initdb-{DEAD_PID}"
    (staging / "base").mkdir(parents=True)
    (staging / "PG_VERSION").write_text("16\n")
    (staging / "base" / "junk").write_bytes(b"\0" * 1024)
    (data_dir / "postgres").mkdir()
    assert not psutil.pid_exists(DEAD_PID)

    _start(data_dir)

    assert not staging.exists()
    assert not list(data_dir.glob("postgres.initdb-*"))
    assert (data_dir / "postgres" / "PG_VERSION").read_text().strip() == "16"
    assert _answers(data_dir)


@pytest.mark.slow
def test_stop_then_start_again_reuses_the_cluster(data_dir):
    first_pid = _start_with_a_row(data_dir)

    returncode, stdout, stderr = _run(data_dir, "stop")
    assert returncode == 0, stderr
    assert "Embedded PostgreSQL stopped." in stdout
    assert server_status(data_dir) is None
    assert not psutil.pid_exists(first_pid) or psutil.Process(first_pid).status() == psutil.STATUS_ZOMBIE

    _start(data_dir)
    with _connect(data_dir) as conn:
        assert conn.execute("SELECT name FROM kept").fetchall() == [("still here",)]


@pytest.mark.parametrize("lines", [7, 3, 1])
def test_a_postmaster_pid_file_read_while_the_server_writes_it_is_a_server_not_ready(tmp_path, lines):
    """PostgreSQL writes postmaster.pid in steps as it starts; /healthz or a stop reading it half way must not
    fail (pgserver's reader asserts on a short file): the server is simply not running yet."""
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    complete = [str(os.getpid()), str(pgdata), "1796324340", "5432", "/tmp", "", "  2196023     32803", "ready"]
    (pgdata / "postmaster.pid").write_text("\n".join(complete[:lines]) + "\n")

    assert server_status(tmp_path) is None
