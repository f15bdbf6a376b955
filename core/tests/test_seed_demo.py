"""``seed_demo``: the personas with passwords generated once, kept private in the data dir, and the per-app demo
hooks the command runs in their declared order without naming any app."""

import ast
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from core.demo import banner, credentials_path, demo_hooks, demo_passwords
from core.testing.personas import PERSONAS


def test_seed_demo_creates_the_cast_with_stored_passwords(db, settings, tmp_path):
    settings.MESHFORGE_DATA_DIR = tmp_path
    call_command("seed_demo", verbosity=0)
    passwords = json.loads(credentials_path().read_text())
    assert sorted(passwords) == ["alice", "bob", "carol", "platform"]
    assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600
    for username, password in passwords.items():
        assert authenticate(username=username, password=password) is not None


def test_seed_demo_is_idempotent(db, settings, tmp_path):
    settings.MESHFORGE_DATA_DIR = tmp_path
    call_command("seed_demo", verbosity=0)
    first = credentials_path().read_text()
    alice = get_user_model().objects.get(username="alice")
    call_command("seed_demo", verbosity=0)
    assert credentials_path().read_text() == first
    assert get_user_model().objects.filter(username__in=["platform", "alice", "bob", "carol"]).count() == 4
    assert get_user_model().objects.get(username="alice").pk == alice.pk
    assert list(alice.groups.values_list("name", flat=True)) == ["finance"]


def test_the_banner_names_the_url_and_the_demo_login(db, settings, tmp_path):
    settings.MESHFORGE_DATA_DIR = tmp_path
    settings.DEMO_PASSWORD_IN_BANNER = True
    assert banner("http://127.0.0.1:8000/") == "Meshforge is running at http://127.0.0.1:8000/"
    call_command("seed_demo", verbosity=0)
    password = json.loads(credentials_path().read_text())["alice"]
    assert banner("http://127.0.0.1:8000/") == (
        f"Meshforge is running at http://127.0.0.1:8000/ — sign in as alice / {password}"
    )


def test_the_banner_shows_no_password_unless_the_settings_say_so(settings, tmp_path):
    settings.MESHFORGE_DATA_DIR = tmp_path
    password = demo_passwords()["alice"]  # the file seed_demo writes
    line = banner("https://meshforge.example.com/")
    assert password not in line
    assert line == "Meshforge is running at https://meshforge.example.com/"


@pytest.mark.parametrize(("module", "shown"), [("config.settings.dev", True), ("config.settings.prod", False)])
def test_only_the_dev_settings_put_the_demo_password_in_the_banner(module, shown):
    # gunicorn's when_ready prints the banner under whatever settings the deployment runs
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEMO_PASSWORD_IN_BANNER)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": module, "MESHFORGE_DEBUG": "false"}
    ran = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == str(shown)


def test_seed_demo_needs_no_test_only_packages():
    # `make run` installs requirements.txt only: the personas module must not pull in factory_boy
    code = (
        "import sys, django; django.setup(); import core.management.commands.seed_demo; "
        "sys.exit('factory' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# Per-app demo hooks (issue 11 item 3): seed_demo loops over the installed apps' hooks and names none of them.

CALLS: list[str] = []


def _recorder(label: str):
    def seed(*, report) -> None:
        CALLS.append(label)
        report(f"{label} seeded")

    return seed


fake_core_seed = _recorder("core")
fake_catalog_seed = _recorder("catalog")
fake_dataproducts_seed = _recorder("dataproducts")
fake_governance_seed = _recorder("governance")
fake_provisioning_seed = _recorder("provisioning")
fake_marketplace_seed = _recorder("marketplace")


def hook(monkeypatch, label: str, *, after: tuple[str, ...] | None = None, path: str | None = None) -> None:
    """Give the installed app ``label`` a demo hook (a recorder of this module unless ``path``), as its AppConfig
    would declare it."""
    config = apps.get_app_config(label)
    monkeypatch.setattr(config, "demo_seed", path or f"{__name__}.fake_{label}_seed", raising=False)
    if after is not None:
        monkeypatch.setattr(config, "demo_seed_after", after, raising=False)


@pytest.fixture
def fake_hooks(monkeypatch, settings, tmp_path):
    """The apps' real hooks replaced by recorders, so the command's loop is seen without seeding anything."""
    settings.MESHFORGE_DATA_DIR = tmp_path
    CALLS.clear()
    for label in ("core", "catalog", "dataproducts", "governance", "provisioning"):
        hook(monkeypatch, label)
    return CALLS


def test_the_apps_declare_their_demo_hooks_personas_first_then_catalog_then_builder():
    hooks = demo_hooks()
    assert [hook.app_label for hook in hooks] == ["core", "catalog", "dataproducts", "governance", "provisioning"]
    assert [(hook.seed.__module__, hook.seed.__name__) for hook in hooks] == [
        ("core.demo", "demo_seed"),
        ("catalog.demo", "demo_seed"),
        ("dataproducts.demo", "demo_seed"),
        ("governance.demo", "demo_seed"),
        ("provisioning.demo", "demo_seed"),
    ]


def test_seed_demo_runs_each_hook_in_order_and_skips_apps_without_one(fake_hooks):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert fake_hooks == ["core", "catalog", "dataproducts", "governance", "provisioning"]  # marketplace… have none
    lines = out.getvalue().splitlines()
    assert lines[:5] == [f"{label} seeded" for label in fake_hooks]
    assert [line.split()[:2] for line in lines[5:]] == [[persona.username, "********"] for persona in PERSONAS]


def test_show_passwords_prints_each_personas_stored_password_after_the_hooks(fake_hooks):
    out = io.StringIO()
    call_command("seed_demo", "--show-passwords", stdout=out)
    passwords = json.loads(credentials_path().read_text())
    assert [line.split()[:2] for line in out.getvalue().splitlines()[5:]] == [
        [persona.username, passwords[persona.username]] for persona in PERSONAS
    ]


def test_a_new_app_joins_the_demo_with_its_own_hook_alone(fake_hooks, monkeypatch):
    hook(monkeypatch, "marketplace", after=("provisioning",))
    call_command("seed_demo", stdout=io.StringIO())
    assert fake_hooks == ["core", "catalog", "dataproducts", "governance", "provisioning", "marketplace"]


def test_the_declared_order_wins_over_the_order_of_installed_apps(fake_hooks, monkeypatch):
    hook(monkeypatch, "catalog", after=("dataproducts",))
    hook(monkeypatch, "dataproducts", after=("core",))
    assert [hook.app_label for hook in demo_hooks()] == [
        "core",
        "dataproducts",
        "catalog",
        "governance",
        "provisioning",
    ]


def test_a_dependency_on_an_app_without_a_hook_is_refused_naming_both(fake_hooks, monkeypatch):
    hook(monkeypatch, "dataproducts", after=("catalog", "marketplace"))
    with pytest.raises(ImproperlyConfigured, match=r"^dataproducts\.demo_seed_after names marketplace: "):
        demo_hooks()


def test_a_dependency_written_as_a_string_is_refused(fake_hooks, monkeypatch):
    hook(monkeypatch, "catalog", after="core")
    with pytest.raises(ImproperlyConfigured, match=r"catalog\.demo_seed_after must be a tuple"):
        demo_hooks()


def test_hooks_that_wait_for_each_other_are_refused_before_anything_is_seeded(fake_hooks, monkeypatch):
    hook(monkeypatch, "core", after=("dataproducts",))
    with pytest.raises(ImproperlyConfigured, match="catalog → core → dataproducts → catalog"):
        call_command("seed_demo", stdout=io.StringIO())
    assert fake_hooks == []


def test_a_hook_that_cannot_be_imported_is_refused_naming_its_app(fake_hooks, monkeypatch):
    hook(monkeypatch, "catalog", path="catalog.demo.no_such_seed")
    with pytest.raises(ImproperlyConfigured, match=r"^catalog\.demo_seed: .*no_such_seed"):
        demo_hooks()


def test_seed_demo_imports_no_app_by_name():
    import core.management.commands.seed_demo as command

    tree = ast.parse(Path(command.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} <= {"__future__", "django", "core"}
    other_apps = {config.label for config in apps.get_app_configs()} - {"core"}
    assert not [name for name in imported if name.split(".")[0] in other_apps]
