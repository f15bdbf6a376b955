"""The demo of ``seed_demo``: the per-app demo hooks and the order they run in, core's own part (the personas),
and the demo credentials (one generated password per persona, kept in the data dir with mode 0600, never in Git).

An app takes part in the demo from its AppConfig, as NetBox plugins and Nautobot apps declare their resources:

* ``demo_seed``: the dotted path of a function ``(*, report) -> None`` that brings the app's demo data up to date
  (running it again changes nothing) and passes each line it has to say to ``report``. It is imported only when
  the demo is seeded, because an ``apps.py`` must not import models.
* ``demo_seed_after``: the labels of the apps whose demo data it builds on (default: none).

So ``seed_demo`` names no app, and a new app joins the demo by declaring its own hook."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.module_loading import import_string

from core import graphs
from core.services import audit_record
from core.testing.personas import DEMO_LOGIN, PERSONAS, create_personas

Report = Callable[[str], None]


class DemoSeed(Protocol):
    """What an AppConfig's ``demo_seed`` path names."""

    def __call__(self, *, report: Report) -> None: ...


@dataclass(frozen=True)
class DemoHook:
    """One installed app's part of the demo."""

    app_label: str
    seed: DemoSeed


def demo_hooks() -> list[DemoHook]:
    """The demo hooks of the installed apps, each after the hooks of the apps it names in ``demo_seed_after``
    (dependency layers, as a deployment walks them; within a layer, ``INSTALLED_APPS`` order). Apps without a
    ``demo_seed`` take no part. A wrong declaration fails here, before anything is seeded, naming the app."""
    configs = {config.label: config for config in apps.get_app_configs() if getattr(config, "demo_seed", None)}
    after = {label: _demo_seed_after(config) for label, config in configs.items()}
    for label, labels in after.items():
        if unknown := [name for name in labels if name not in configs]:
            raise ImproperlyConfigured(
                f"{label}.demo_seed_after names {', '.join(unknown)}: not an installed app with a demo_seed hook"
            )
    if loops := graphs.cycles(after):
        raise ImproperlyConfigured(
            "demo_seed_after goes round in a circle: " + "; ".join(" → ".join(loop) for loop in loops)
        )
    order = [label for group in graphs.layer_groups(keys=list(configs), depends_on=after) for label in group]
    return [DemoHook(app_label=label, seed=_demo_seed_function(configs[label])) for label in order]


def _demo_seed_function(config: AppConfig) -> DemoSeed:
    try:
        return import_string(config.demo_seed)
    except ImportError as error:
        raise ImproperlyConfigured(f"{config.label}.demo_seed: {error}") from error


def _demo_seed_after(config: AppConfig) -> tuple[str, ...]:
    labels = getattr(config, "demo_seed_after", ())
    if isinstance(labels, str):  # ("core") for ("core",) would otherwise read as the apps c, o, r and e
        raise ImproperlyConfigured(f"{config.label}.demo_seed_after must be a tuple of app labels, not a string")
    return tuple(labels)


def demo_seed(*, report: Report) -> None:
    """Core's part of the demo, first of all since every other part acts as one of them: the personas and their
    teams, with the passwords of the credentials file (generated on the first run, kept after)."""
    passwords = demo_passwords()
    with transaction.atomic():
        users = create_personas(passwords=passwords)
        audit_record(actor=None, action="demo.seed", after={"personas": sorted(users)})
    report(f"Demo personas ready; passwords are kept in {credentials_path()}")


def credentials_lines(*, show_passwords: bool) -> list[str]:
    """One line per persona for the end of ``seed_demo``: the login, the password or stars, who it is."""
    passwords = demo_passwords()
    lines = []
    for persona in PERSONAS:
        secret = passwords[persona.username] if show_passwords else "********"
        lines.append(f"  {persona.username:<9} {secret:<18} {persona.description}")
    return lines


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
