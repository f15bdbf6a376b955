"""``seed_demo``: the personas with passwords generated once, kept private in the data dir."""

import json
import os
import stat
import subprocess
import sys

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from core.demo import banner, credentials_path, demo_passwords


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
