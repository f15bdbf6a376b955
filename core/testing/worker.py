"""A real Celery worker process for end-to-end tests: started on the test database and data dir, in its own
session (so SIGKILL reaches everything it started), with its log kept for the failure message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.testing.database import subprocess_env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30


class Worker:
    def __init__(self, process: subprocess.Popen, log_path: Path):
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            # the worker leads its own session: this also reaches anything it started
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def wait_for(self, condition, what: str, *, seconds: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}) before {what}\n{self.log()}")
            time.sleep(0.2)
        pytest.fail(f"no {what} within {seconds:g} s\n{self.log()}")


def worker_start(log_path: Path, *, name: str = "e2e", concurrency: int = 1, env: dict | None = None) -> Worker:
    """Start a worker on every queue, on the test database (``env`` adds settings from the environment)."""
    environment = subprocess_env(**(env or {}))
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--queues",
                "default,catalog,provisioning",
                "--concurrency",
                str(concurrency),
                "--pool",
                "threads",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"{name}@%h",
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Worker(process, log_path)
