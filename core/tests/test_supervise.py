"""``manage.py supervise`` (what `make run` runs) on a throwaway Procfile of tiny Python processes: a process
that dies is restarted and logged while the others keep running, a crash loop backs off, and SIGTERM to
the supervisor stops everything, killing what ignores SIGTERM after the grace period."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from django.core.management import CommandError

from core.management.commands.supervise import read_procfile, restart_delay

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 15
SLEEPER = "import os, time; print('pid', os.getpid(), 'port', os.environ['PORT'], flush=True); time.sleep(600)"
STUBBORN = (
    "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " print('pid', os.getpid(), 'port', os.environ['PORT'], flush=True); time.sleep(600)"
)
CRASHING = "import sys; print('crashing', flush=True); sys.exit(3)"


class Output:
    """The supervisor's output, read on a thread so that a test can wait for a line without blocking forever."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match:
        regex = re.compile(pattern)
        for line in self.lines:
            if match := regex.search(line):
                return match
        deadline = time.monotonic() + WAIT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.lines.append(line)
            if match := regex.search(line):
                return match
        pytest.fail(f"no line matching {pattern!r} within {WAIT_SECONDS} s:\n" + "\n".join(self.lines))

    def pids(self, name: str) -> list[int]:
        return [int(m[1]) for line in self.lines if (m := re.search(rf" {name} +\| pid (\d+)", line))]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def supervise(tmp_path):
    """``supervise(procfile_text, *options)`` starts the supervisor; anything left running is killed afterwards."""
    started: list[tuple[subprocess.Popen, Output]] = []

    def _supervise(text: str, *options: str) -> tuple[subprocess.Popen, Output]:
        procfile = tmp_path / "Procfile"
        procfile.write_text(text)
        process = subprocess.Popen(
            [sys.executable, "manage.py", "supervise", "--procfile", str(procfile), *options],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append((process, Output(process.stdout)))
        return started[-1]

    try:
        yield _supervise
    finally:
        for process, output in started:
            if process.poll() is None:
                leftovers = psutil.Process(process.pid).children(recursive=True)
                process.kill()
                process.wait(10)
                for child in leftovers:
                    child.kill()
            print("\n".join(output.lines))


@pytest.mark.slow
def test_a_dead_process_is_restarted_and_sigterm_stops_them_all(supervise):
    process, output = supervise(
        "# a throwaway Procfile\n"
        f'steady: {sys.executable} -c "{SLEEPER}"\n'
        f'victim: {sys.executable} -c "{SLEEPER}"\n'
        f'stubborn: {sys.executable} -c "{STUBBORN}"\n'
        f'crashing: {sys.executable} -c "{CRASHING}"\n',
        *("--port", "9100", "--grace", "1"),
    )
    steady = int(output.wait_for(r" steady +\| pid (\d+) port 9100$")[1])
    victim = int(output.wait_for(r" victim +\| pid (\d+) port 9200$")[1])
    stubborn = int(output.wait_for(r" stubborn +\| pid (\d+) port 9300$")[1])

    os.kill(victim, signal.SIGKILL)
    output.wait_for(r" system +\| victim exited with code 137 \(128 \+ SIGKILL\); restarting in 1 s$")
    restarted = int(output.wait_for(rf" victim +\| pid (?!{victim}\b)(\d+) port 9200$")[1])
    assert not _gone(restarted)
    # the others kept running, untouched
    assert output.pids("steady") == [steady] and not _gone(steady)
    assert output.pids("stubborn") == [stubborn] and not _gone(stubborn)
    # a process that keeps dying is restarted ever more slowly
    output.wait_for(r" system +\| crashing exited with code 3; restarting in 1 s$")
    output.wait_for(r" system +\| crashing exited with code 3; restarting in 2 s$")

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    output.wait_for(r" system +\| stubborn did not stop within 1 s; killing it$")
    output.wait_for(r" system +\| all processes stopped$")
    for pid in (steady, restarted, stubborn):
        assert _gone(pid), f"pid {pid} outlived the supervisor"


@pytest.mark.slow
def test_a_second_sigterm_kills_at_once_without_waiting_for_the_grace_period(supervise):
    process, output = supervise(f'stubborn: {sys.executable} -c "{STUBBORN}"\n', "--grace", "60")
    stubborn = int(output.wait_for(r" stubborn +\| pid (\d+) ")[1])

    process.send_signal(signal.SIGTERM)
    output.wait_for(r"SIGTERM received: stopping all processes$")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    output.wait_for(r" system +\| stubborn still running at the second signal; killing it$")
    assert _gone(stubborn)


def test_restarts_back_off_from_one_second_to_at_most_thirty():
    assert [restart_delay(exits) for exits in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_procfile_line_without_a_name_is_refused_with_its_line_number(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: gunicorn config.wsgi\n\n# comment\njust a command\n")
    with pytest.raises(CommandError, match=r"line 4: expected 'name: command'"):
        read_procfile(procfile)


def test_the_projects_procfile_runs_web_worker_and_beat():
    assert list(read_procfile(PROJECT_ROOT / "Procfile")) == ["web", "worker", "beat"]
