"""``/healthz``: 200 only when database, broker and a live worker are all ok; 503 naming the failing part."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core import selectors
from core.models import ProcessHeartbeat
from core.testing.factories import ProcessHeartbeatFactory


def _worker_heartbeat(*, started_ago=timedelta(seconds=5), beat_ago=timedelta(seconds=1)) -> ProcessHeartbeat:
    now = timezone.now()
    return ProcessHeartbeatFactory(started_at=now - started_ago, last_beat_at=now - beat_ago)


def test_health_is_ok_when_database_broker_and_worker_are_alive(client, db):
    _worker_heartbeat()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "worker": "ok"}


def test_health_needs_no_sign_in_and_is_never_cached(client, db):
    _worker_heartbeat()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_health_reports_a_missing_worker(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == body["broker"] == "ok"
    assert body["worker"].startswith("error: no worker heartbeat")


def test_a_heartbeat_older_than_a_minute_does_not_count(client, db):
    _worker_heartbeat(started_ago=timedelta(minutes=10), beat_ago=timedelta(seconds=61))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["worker"] != "ok"


def test_a_worker_that_started_long_ago_counts_while_it_keeps_beating(client, db):
    # e.g. a worker that outlived a restart of the database server: its start time says nothing about its liveness
    _worker_heartbeat(started_ago=timedelta(days=3), beat_ago=timedelta(seconds=2))
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["worker"] == "ok"


def test_a_slow_heartbeat_interval_widens_the_allowed_age():
    # a worker beating once a minute must not turn health red between two beats
    code = "import django; django.setup(); from django.conf import settings; print(settings.HEARTBEAT_MAX_AGE_SECONDS)"
    env = {**os.environ, "MESHFORGE_HEARTBEAT_SECONDS": "60", "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    ran = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "180"


def test_health_reports_an_unreachable_database(client, db, monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "_ping_database", refuse)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "error: OperationalError: connection refused"
    assert body["broker"] == "ok"
    assert body["worker"] != "ok"


def test_health_reports_a_missing_broker_folder(client, db, settings, tmp_path):
    _worker_heartbeat()
    settings.CELERY_EMBEDDED_BROKER = True
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error: broker folder")
    assert response.json()["database"] == response.json()["worker"] == "ok"


def test_health_reports_an_unreachable_network_broker(client, db, monkeypatch):
    _worker_heartbeat()
    from config.celery import app

    dead_broker = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1
    previous = app.conf.broker_url
    monkeypatch.setenv("CELERY_BROKER_URL", dead_broker)  # Celery prefers the variable to its configuration
    with override_settings(CELERY_EMBEDDED_BROKER=False):
        app.conf.broker_url = dead_broker
        try:
            response = client.get(reverse("healthz"))
        finally:
            app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error: ")


@pytest.mark.skipif(not django_settings.CELERY_EMBEDDED_BROKER, reason="CELERY_BROKER_URL names a network broker")
def test_the_embedded_broker_folders_exist_once_django_is_ready(settings):
    for key in ("data_folder_in", "control_folder", "processed_folder"):
        assert Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).is_dir()
