"""Settings from the environment: strict parsing, and bad values stopping start-up in one line."""

import os
import secrets
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    check_broker_url,
    env_bool,
    env_int,
    env_list,
    env_path,
    parse_database_url,
    read_or_create_secret,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("0", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("MESHFORGE_DEBUG", raw)
    assert env_bool("MESHFORGE_DEBUG") is expected


def test_an_unset_or_blank_boolean_takes_the_default(monkeypatch):
    monkeypatch.delenv("MESHFORGE_DEBUG", raising=False)
    assert env_bool("MESHFORGE_DEBUG", default=True) is True
    monkeypatch.setenv("MESHFORGE_DEBUG", "  ")
    assert env_bool("MESHFORGE_DEBUG") is False


def test_a_nonsense_boolean_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("MESHFORGE_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"^MESHFORGE_DEBUG: expected a boolean .*'maybe'"):
        env_bool("MESHFORGE_DEBUG")


@pytest.mark.parametrize("raw", ["80a", "1.5", "", "0", "70000"])
def test_ports_must_be_integers_in_range(monkeypatch, raw):
    monkeypatch.setenv("PORT", raw)
    if raw == "":
        assert env_int("PORT", 8000, minimum=1, maximum=65535) == 8000
        return
    with pytest.raises(ImproperlyConfigured, match=r"^PORT: "):
        env_int("PORT", 8000, minimum=1, maximum=65535)


def test_lists_are_comma_separated_without_empty_items(monkeypatch):
    monkeypatch.setenv("MESHFORGE_ALLOWED_HOSTS", "meshforge.example.com, 10.0.0.1")
    assert env_list("MESHFORGE_ALLOWED_HOSTS", []) == ["meshforge.example.com", "10.0.0.1"]
    monkeypatch.setenv("MESHFORGE_ALLOWED_HOSTS", "a,,b")
    with pytest.raises(ImproperlyConfigured, match="MESHFORGE_ALLOWED_HOSTS"):
        env_list("MESHFORGE_ALLOWED_HOSTS", [])


def test_the_data_dir_must_not_be_a_file(monkeypatch, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    monkeypatch.setenv("MESHFORGE_DATA_DIR", str(target))
    with pytest.raises(ImproperlyConfigured, match="MESHFORGE_DATA_DIR"):
        env_path("MESHFORGE_DATA_DIR", tmp_path)


def test_a_database_url_becomes_a_postgresql_connection():
    database = parse_database_url(
        "DATABASE_URL", "postgresql://mesh:s%40cret@db.example.com:6432/meshforge?sslmode=require"
    )
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.example.com", "6432", "meshforge")
    assert (database["USER"], database["PASSWORD"]) == ("mesh", "s@cret")
    assert database["OPTIONS"] == {"sslmode": "require"}


def test_a_database_url_may_name_a_socket_directory():
    database = parse_database_url("DATABASE_URL", "postgresql://postgres@/test_meshforge?host=/tmp/pg&port=5433")
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("/tmp/pg", "5433", "test_meshforge")


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("sqlite:///db.sqlite3", "PostgreSQL only"),
        ("mysql://root@localhost/meshforge", "PostgreSQL only"),
        ("postgresql://localhost", "must name one database"),
        ("postgresql:///meshforge", "must give a host"),
        ("postgresql://localhost:notaport/meshforge", "not a valid URL"),
        ("postgresql://localhost/meshforge?conn_max_age=soon", "conn_max_age"),
    ],
)
def test_a_malformed_database_url_is_refused(url, complaint):
    with pytest.raises(ImproperlyConfigured, match=complaint) as error:
        parse_database_url("DATABASE_URL", url)
    assert str(error.value).startswith("DATABASE_URL: ")


def test_broker_urls_must_use_a_known_transport():
    assert check_broker_url("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    assert check_broker_url("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(ImproperlyConfigured, match=r"^CELERY_BROKER_URL: "):
        check_broker_url("CELERY_BROKER_URL", "kafka://broker:9092")


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    path = tmp_path / "secret_key"
    first = read_or_create_secret(path)
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create_secret(path) == first


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    path = tmp_path / "secret_key"
    secrets_seen = []
    threads = [threading.Thread(target=lambda: secrets_seen.append(read_or_create_secret(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(secrets_seen)) == 1
    assert list(tmp_path.iterdir()) == [path]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env}
    environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests; check --deploy rightly refuses it
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MESHFORGE_DEBUG", "maybe"),
        ("DATABASE_URL", "postgresql://localhost:port/meshforge"),
        ("PORT", "eighty"),
        ("MESHFORGE_HTTPS", "sometimes"),
        ("CELERY_BROKER_URL", "carrier-pigeon://coop"),
        ("CATALOG_URL_ALLOWED_HOSTS", "https://git.example.com/org"),
        ("CATALOG_URL_ALLOWED_HOSTS", "git.example.com:99999"),
        ("GOVERNANCE_REMOTE_ALLOWED_HOSTS", "https://policies.example.com"),
        ("GOVERNANCE_REMOTE_ALLOWED_HOSTS", "policies.example.com:0"),
        ("GOVERNANCE_REMOTE_ALLOWED_HOSTS", "policies.example.com/check"),
        ("PROVISIONING_POSTGRES_URL", "mysql://db.example.com/data"),
        ("PROVISIONING_POSTGRES_URL", "postgresql://db.example.com/data?sslmod=require"),
        ("PROVISIONING_POSTGRES_ROLE_PREFIX", "Meshforge-"),
    ],
)
def test_bad_settings_stop_start_up_with_one_line_naming_the_variable(variable, value):
    result = _manage("check", **{variable: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"meshforge: configuration error: {variable}: ")


def test_production_settings_pass_the_deployment_checks_when_https_is_on():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        MESHFORGE_HTTPS="true",
        MESHFORGE_SECRET_KEY=secrets.token_urlsafe(50),
        MESHFORGE_ALLOWED_HOSTS="meshforge.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
