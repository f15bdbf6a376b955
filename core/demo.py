"""Demo credentials: one generated password per persona, kept in the data dir (0600), never in Git."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings

from core.testing.personas import DEMO_LOGIN, PERSONAS


def credentials_path() -> Path:
    return Path(settings.MESHFORGE_DATA_DIR) / "demo-credentials.json"


def demo_passwords() -> dict[str, str]:
    """The personas' passwords, generating the missing ones once (an existing file is kept as it is)."""
    path = credentials_path()
    passwords = json.loads(path.read_text()) if path.exists() else {}
    missing = [persona.username for persona in PERSONAS if persona.username not in passwords]
    if missing:
        passwords.update({username: secrets.token_urlsafe(12) for username in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(passwords, handle, indent=2)
        tmp.replace(path)
    return passwords


def banner(url: str) -> str:
    """The line gunicorn prints once the web server is ready; the demo login's password only where the settings
    allow it (``make run``'s dev settings), never in a deployment's log."""
    path = credentials_path()
    if not settings.DEMO_PASSWORD_IN_BANNER or not path.exists():
        return f"Meshforge is running at {url}"
    password = json.loads(path.read_text()).get(DEMO_LOGIN)
    return f"Meshforge is running at {url} — sign in as {DEMO_LOGIN} / {password}"
