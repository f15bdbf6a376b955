"""Backstage's own published packages judge Meshforge (issue 10): ``make test`` installs them with ``npm ci`` from
``package-lock.json`` into ``tests/interop/node_modules`` (ignored by Git); nothing from Backstage is committed.

``node_script(name, payload)`` runs ``tests/interop/<name>`` with the system Node, the payload as JSON on stdin, and
returns what it printed as JSON. Without Node or the installed packages the tests skip with a message, and fail
when ``CI=true``: in CI they must run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

INTEROP = Path(__file__).parent
INSTALLED = INTEROP / "node_modules" / ".installed"
NODE_TIMEOUT_SECONDS = 120


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed: the Backstage conformance tests need node and npm (apt-get install npm)."
    if not INSTALLED.exists():
        return "Backstage's packages are not installed: run `make test` (it runs `npm ci` in tests/interop)."
    return None


@pytest.fixture(scope="session")
def node_script():
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} The conformance tests must run in CI.", pytrace=False)
        pytest.skip(missing)

    def run(name: str, payload: object, *, env: dict[str, str] | None = None) -> object:
        result = subprocess.run(
            ["node", str(INTEROP / name)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            cwd=INTEROP,
            env={**os.environ, **(env or {})},
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"node {name} exited with {result.returncode}:\n{result.stderr[-5000:]}")
        return json.loads(result.stdout)

    return run
