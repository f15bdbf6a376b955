"""The embedded PostgreSQL server that Meshforge uses when ``DATABASE_URL`` is unset.

The binaries come from the ``pgserver`` package; the server lives in ``<data dir>/postgres`` and listens
on a Unix socket only. Web, worker, beat and every ``manage.py`` share one server: the first process
that needs it starts it, under a file lock, and nobody stops it implicitly (``manage.py embedded_db
stop`` or ``make stop`` does), so it outlives Ctrl-C and a process killed with SIGKILL cannot leave it
half-owned. pgserver's own reference counting (a pid list cleaned only at normal exit) is neutralised
for that reason: we pass ``cleanup_mode=None`` and prune the list of dead pids ourselves.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import warnings
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)
# pgserver asks platformdirs for a runtime dir for its lock; the fallback it warns about is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

SERVER_DIR_NAME = "postgres"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; pgserver runs it as this system user in that case.
ROOT_RUN_AS = "pgserver"


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    socket_dir: str
    port: int
    pid: int


_started: dict[Path, EmbeddedServer] = {}


@contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    """A zombie (killed, not yet reaped: PID 1 of many containers never reaps) counts as dead."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _run_as_user() -> str | None:
    return ROOT_RUN_AS if os.geteuid() == 0 else None


def _prepare_for_user(path: Path, user: str | None) -> None:
    """Let the unprivileged server user reach ``path`` and the binaries (only needed as root)."""
    if user is None:
        return
    import pwd

    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(user)
    ensure_prefix_permissions(path)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _kill_orphaned_servers(pgdata: Path) -> None:
    """Kill servers still running for a data dir that was deleted under them (``rm -rf var`` without
    ``make stop``). Left alone, such a server notices within a minute that its lock file is gone, shuts
    down, and on the way out unlinks the socket file at the same path, which by then is the new server's.
    SIGKILL skips that clean-up; the old cluster's files are gone anyway."""
    import psutil

    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in cmdline:
            logger.warning("killing PostgreSQL pid %s left running for the deleted %s", process.pid, pgdata)
            with suppress(psutil.Error):
                process.kill()
                process.wait(5)


def _initdb(pgdata: Path) -> None:
    """Initialise a cluster in a private staging folder and rename it into place when complete.

    A first start killed half way therefore never leaves a ``PG_VERSION`` next to a broken cluster.
    """
    from pgserver._commands import initdb

    _kill_orphaned_servers(pgdata)
    for leftover in pgdata.parent.glob(f"{pgdata.name}.initdb-*"):
        owner = leftover.name.rsplit("-", 1)[-1]
        if not owner.isdigit() or not _pid_alive(int(owner)):
            shutil.rmtree(leftover, ignore_errors=True)
    staging = pgdata.with_name(f"{pgdata.name}.initdb-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    user = _run_as_user()
    _prepare_for_user(staging, user)
    initdb(
        ["--auth=trust", "--auth-local=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", SUPERUSER],
        pgdata=staging,
        user=user,
    )
    if pgdata.exists():
        # an empty folder left by an older start; never a cluster (PG_VERSION was checked under the lock)
        shutil.rmtree(pgdata)
    staging.rename(pgdata)


def _forget_dead_handles(pgdata: Path) -> None:
    """Repair pgserver's pid list: drop pids of processes that died without cleaning up."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = [pid for pid in json.loads(handles.read_text()) if isinstance(pid, int)]
    except (ValueError, TypeError, OSError):
        pids = []
    handles.write_text(json.dumps([pid for pid in pids if _pid_alive(pid)]))


def _forget_stale_postmaster(pgdata: Path) -> None:
    """Remove a ``postmaster.pid`` whose pid now belongs to another program (pid reuse after a crash) or to
    a killed postmaster that nobody has reaped yet.

    pgserver would otherwise believe the server runs and never start it.
    """
    import psutil

    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        process = psutil.Process(pid)
        name, zombie = process.name(), process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return  # not running: pg_ctl handles a stale file itself
    if name not in {"postgres", "postmaster"}:
        pidfile.unlink(missing_ok=True)
    elif zombie and not _shared_memory_attached(lines):
        # A postmaster killed but not yet reaped still "exists": pgserver would take it for a running server
        # and PostgreSQL would refuse both lock files. Removing them skips PostgreSQL's check that no backend
        # of the dead server still uses the data dir, hence the check above.
        with suppress(IndexError, ValueError):
            (Path(lines[4].strip()) / f".s.PGSQL.{int(lines[3])}.lock").unlink(missing_ok=True)
        pidfile.unlink(missing_ok=True)


def _shared_memory_attached(pidfile_lines: list[str]) -> bool:
    """Whether a process is still attached to the shared memory named in ``postmaster.pid`` (its 7th line is
    "key shmid"). Assumed so when that cannot be told (no /proc/sysvipc)."""
    try:
        shmid = int(pidfile_lines[6].split()[1])
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except (OSError, ValueError, IndexError):
        return True
    for row in rows:
        fields = row.split()
        if int(fields[1]) == shmid:
            return int(fields[6]) > 0
    return False


def _ensure_database(server: EmbeddedServer, database: str) -> None:
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(
        host=server.socket_dir, port=server.port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            with suppress(errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def ensure_server(data_dir: Path, *, database: str | None = None) -> EmbeddedServer:
    """Start the embedded server under ``data_dir`` unless it runs already, and create ``database``."""
    data_dir = Path(data_dir).resolve()
    pgdata = data_dir / SERVER_DIR_NAME
    known = _started.get(pgdata)
    if known is not None and _pid_alive(known.pid):
        return known
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir / f"{SERVER_DIR_NAME}.lock"):
        import pgserver

        if not (pgdata / "PG_VERSION").exists():
            _initdb(pgdata)
        _forget_dead_handles(pgdata)
        _forget_stale_postmaster(pgdata)
        handle = pgserver.get_server(pgdata, cleanup_mode=None)
        # pgserver caches the handle per process and checks the server only when creating it: after the server
        # was stopped or died, this process would otherwise never start it again.
        handle.ensure_postgres_running()
        info = handle.get_postmaster_info()
        server = EmbeddedServer(pgdata=pgdata, socket_dir=str(info.socket_dir), port=info.port, pid=info.pid)
        if database:
            _ensure_database(server, database)
    _started[pgdata] = server
    return server


def server_status(data_dir: Path) -> EmbeddedServer | None:
    """The running server under ``data_dir``, or None; never starts one."""
    from pgserver.utils import PostmasterInfo

    pgdata = Path(data_dir).resolve() / SERVER_DIR_NAME
    if not (pgdata / "postmaster.pid").exists():
        return None
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):
        # PostgreSQL writes postmaster.pid in steps while it starts (socket, then status): one read half way is
        # a server not ready yet, which pgserver's reader refuses with an assertion
        return None
    if info is None or not _pid_alive(info.pid):
        return None
    return EmbeddedServer(pgdata=pgdata, socket_dir=str(info.socket_dir), port=info.port, pid=info.pid)


def stop_server(data_dir: Path) -> bool:
    """Stop the embedded server under ``data_dir`` (fast shutdown). Returns False if none was running."""
    from pgserver._commands import POSTGRES_BIN_PATH

    data_dir = Path(data_dir).resolve()
    pgdata = data_dir / SERVER_DIR_NAME
    if not data_dir.exists():
        return False
    with _locked(data_dir / f"{SERVER_DIR_NAME}.lock"):
        if server_status(data_dir) is None:
            return False
        stopped = subprocess.run(  # noqa: S603 - fixed argv of the bundled pg_ctl
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
            capture_output=True,
            text=True,
            user=_run_as_user(),
        )
        _started.pop(pgdata, None)
        # pg_ctl fails when the server went away between our look and its own (it exited on its own, or its
        # pid file was already gone): that is still a stopped server
        if stopped.returncode != 0 and server_status(data_dir) is not None:
            raise RuntimeError(f"pg_ctl could not stop the server in {pgdata}: {stopped.stderr.strip()}")
    return True
