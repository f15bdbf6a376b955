"""``supervise``: run the processes of a Procfile in the foreground (what `make run` does), each line of their
output prefixed with its name; restart a process that dies, and stop them all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PROCFILE_LINE = re.compile(r"^(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>\S.*)$")
POLL_SECONDS = 0.1
# A crash loop waits 1, 2, 4 ... up to 30 s between starts; a process that ran this long is trusted again.
FIRST_DELAY_SECONDS = 1
MAX_DELAY_SECONDS = 30
STABLE_SECONDS = 30
# honcho's and foreman's habit: the first process gets --port, the next one 100 more, and so on.
PORT_STEP = 100


def restart_delay(quick_exits: int) -> int:
    """Seconds before the next start after ``quick_exits`` exits in a row that came soon after a start."""
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** max(0, quick_exits - 1))


def read_procfile(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise CommandError(f"--procfile: cannot read {path}: {exc.strerror}") from exc
    processes: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = PROCFILE_LINE.match(line.strip())
        if match is None:
            raise CommandError(f"--procfile: {path} line {number}: expected 'name: command', got {line.strip()!r}")
        if match["name"] in processes:
            raise CommandError(f"--procfile: {path} line {number}: {match['name']!r} is defined twice")
        processes[match["name"]] = match["command"]
    if not processes:
        raise CommandError(f"--procfile: {path} names no process")
    return processes


def _describe_exit(returncode: int) -> str:
    """The exit code, naming the signal when there was one (the shell reports a killed command as 128 + n)."""
    with suppress(ValueError):
        if returncode < 0:
            return f"{returncode} ({signal.Signals(-returncode).name})"
        if returncode > 128:
            return f"{returncode} (128 + {signal.Signals(returncode - 128).name})"
    return str(returncode)


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies do not: a container's PID 1 may never reap them)."""
    import psutil

    for process in psutil.process_iter(["status"]):
        with suppress(psutil.Error, OSError):
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                return True
    return False


@dataclass
class Child:
    name: str
    command: str
    port: int
    popen: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float | None = None

    def running(self) -> bool:
        """The command's shell or anything it started: a process that ignores SIGTERM outlives its shell."""
        if self.popen is None:
            return False
        return self.popen.poll() is None or _group_alive(self.popen.pid)

    def signal_group(self, signum: int) -> None:
        # Each child leads a process group of its own: the signal reaches the shell and whatever it started.
        if self.popen is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signum)


class Supervisor:
    def __init__(self, processes: dict[str, str], *, cwd: Path, port: int, grace: float, write):
        self.children = [
            Child(name=name, command=command, port=port + PORT_STEP * index)
            for index, (name, command) in enumerate(processes.items())
        ]
        self.cwd = cwd
        self.grace = grace
        self._write = write
        self._lock = threading.Lock()
        self._width = max(len(name) for name in [*processes, "system"])
        self._stop_signal: int | None = None
        self._force = False

    def log(self, name: str, text: str) -> None:
        with self._lock:
            self._write(f"{time.strftime('%H:%M:%S')} {name:<{self._width}} | {text}")

    def _on_signal(self, signum, frame) -> None:
        if self._stop_signal is not None:
            self._force = True  # a second Ctrl-C: do not wait for the grace period
        self._stop_signal = signum

    def _pump(self, child: Child, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.log(child.name, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        stream.close()

    def start(self, child: Child) -> None:
        env = {**os.environ, "PORT": str(child.port), "PYTHONUNBUFFERED": "1"}
        child.popen = subprocess.Popen(  # noqa: S603 - the operator's own Procfile, run as a shell would
            ["/bin/sh", "-c", child.command],
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Not in our process group: Ctrl-C reaches the supervisor only, which stops the children in order.
            process_group=0,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        child.reader = threading.Thread(target=self._pump, args=(child, child.popen.stdout), daemon=True)
        child.reader.start()
        self.log("system", f"{child.name} started with pid {child.popen.pid}")

    def _reap(self, child: Child) -> None:
        """Forget a child that exited: kill what it left in its group (a port must be free for the next start),
        drain its output, and schedule the restart."""
        returncode = child.popen.returncode
        child.signal_group(signal.SIGKILL)
        child.reader.join(timeout=2)
        ran_for = time.monotonic() - child.started_at
        child.quick_exits = 0 if ran_for >= STABLE_SECONDS else child.quick_exits + 1
        delay = restart_delay(child.quick_exits)
        child.popen = None
        child.restart_at = time.monotonic() + delay
        self.log("system", f"{child.name} exited with code {_describe_exit(returncode)}; restarting in {delay} s")

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        for child in self.children:
            self.start(child)
        while self._stop_signal is None:
            now = time.monotonic()
            for child in self.children:
                if child.popen is not None and child.popen.poll() is not None:
                    self._reap(child)
                elif child.popen is None and child.restart_at is not None and now >= child.restart_at:
                    self.start(child)
            time.sleep(POLL_SECONDS)
        self.stop()
        return 0

    def stop(self) -> None:
        self.log("system", f"{signal.Signals(self._stop_signal).name} received: stopping all processes")
        running = [child for child in self.children if child.running()]
        for child in running:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while any(child.running() for child in running) and time.monotonic() < deadline and not self._force:
            time.sleep(POLL_SECONDS)
        for child in self.children:
            if child.running():
                why = "still running at the second signal" if self._force else f"did not stop within {self.grace:g} s"
                self.log("system", f"{child.name} {why}; killing it")
            # also whatever a stopped child left behind in its group
            child.signal_group(signal.SIGKILL)
            if child.popen is not None:
                child.popen.wait()
                child.reader.join(timeout=2)
                self.log("system", f"{child.name} stopped")
        self.log("system", "all processes stopped")


class Command(BaseCommand):
    help = (
        "Run the processes of a Procfile (web, worker, beat) in the foreground with prefixed output; "
        "restart one that dies, stop all on Ctrl-C or SIGTERM."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--procfile", default="Procfile", type=Path, help="Procfile to run (default: Procfile)")
        parser.add_argument(
            "--port",
            type=int,
            default=settings.PORT,
            help="PORT given to the first process; each next one gets 100 more (default: $PORT or 8000)",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=10.0,
            help="seconds the processes get to stop after SIGTERM before they are killed (default: 10)",
        )

    def handle(self, *args, procfile: Path, port: int, grace: float, **options):
        if not 1 <= port <= 65535:
            raise CommandError(f"--port: expected 1 to 65535, got {port}")
        if grace < 0:
            raise CommandError(f"--grace: expected a number of seconds >= 0, got {grace:g}")
        processes = read_procfile(procfile)

        def write(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        supervisor = Supervisor(processes, cwd=procfile.resolve().parent, port=port, grace=grace, write=write)
        supervisor.run()
