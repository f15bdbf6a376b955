"""Test helpers of provisioning: :class:`ExternalAdapter` runs ``provisioning.testing.external_adapter`` as its own
process, the way an external Witboost adapter runs beside Meshforge. Standard library only, like the adapter."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

__all__ = ["ExternalAdapter"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
READY_PREFIX = "listening on "


class ExternalAdapter:
    """A running external adapter process: ``url`` is its base URL, ``calls()`` its call counters, ``restart()``
    starts a fresh process on the same port (one that has forgotten every token), ``stop()`` ends it."""

    def __init__(self, *, async_validate: bool = True, port: int = 0, startup_timeout: float = 10.0) -> None:
        self.async_validate = async_validate
        self.startup_timeout = startup_timeout
        self.url = ""
        self._port = port
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> ExternalAdapter:
        command = [sys.executable, "-m", "provisioning.testing.external_adapter", "--port", str(self._port)]
        if not self.async_validate:
            command.append("--no-async-validate")
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )
        first_line = self._first_line(self._process)
        if not first_line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"the external adapter did not start: {first_line!r}")
        self.url = first_line.removeprefix(READY_PREFIX).strip()
        self._port = int(self.url.rsplit(":", 1)[1])
        return self

    def _first_line(self, process: subprocess.Popen[str]) -> str:
        # readline() has no time limit of its own: a process that never prints would hold the test forever
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True)
        reader.start()
        try:
            return lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            return f"nothing within {self.startup_timeout:g} s"

    @property
    def port(self) -> int:
        return self._port

    def calls(self) -> dict:
        """``{"provision": {component id: count}, "unprovision": {…}, "updateacl": {…}, "refs": {…}}``."""
        with urllib.request.urlopen(f"{self.url}/calls", timeout=5) as answer:  # noqa: S310 - our own http URL
            return json.load(answer)

    def restart(self) -> ExternalAdapter:
        self.stop()
        return self.start()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> ExternalAdapter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
