"""End to end with a real Celery worker process: its heartbeat, a task it runs, and ``/healthz`` around it."""

import signal
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.choices import RefreshStatus
from catalog.models import Entity, Location, RefreshRequest
from catalog.readers import validate_target
from catalog.services import location_refresh_request
from catalog.tasks import refresh_due_locations
from core.choices import ProcessRole
from core.models import ProcessHeartbeat
from core.tasks import purge_stale_heartbeats
from core.testing.factories import ProcessHeartbeatFactory
from core.testing.git import GitRepo
from core.testing.tarpit import Tarpit
from core.testing.worker import worker_start

STOP_SECONDS = 20


@pytest.fixture
def worker(transactional_db, tmp_path):
    worker = worker_start(tmp_path / "worker.log")
    try:
        yield worker
    finally:
        worker.kill()
        print(f"--- worker log ({worker.log_path}) ---\n{worker.log()}")


@pytest.mark.slow
def test_a_real_worker_beats_runs_a_task_and_turns_health_red_when_it_stops(worker, client):
    heartbeats = ProcessHeartbeat.objects.filter(role=ProcessRole.WORKER, hostname__startswith="e2e@")
    worker.wait_for(heartbeats.exists, "worker heartbeat")
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    assert response.json() == {"database": "ok", "broker": "ok", "worker": "ok"}

    ancient = ProcessHeartbeatFactory(role=ProcessRole.BEAT, hostname="ancient", stale=True)
    purge_stale_heartbeats.delay()
    worker.wait_for(lambda: not ProcessHeartbeat.objects.filter(pk=ancient.pk).exists(), "purge by the worker's task")
    assert heartbeats.exists()

    worker.process.send_signal(signal.SIGTERM)
    try:
        returncode = worker.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        pytest.fail(f"the worker ignored SIGTERM for {STOP_SECONDS} s\n{worker.log()}")
    assert returncode == 0, worker.log()
    assert not heartbeats.exists(), "a worker stopping cleanly removes its heartbeat"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == body["broker"] == "ok"
    assert body["worker"] != "ok"


@pytest.mark.slow
def test_a_real_worker_runs_the_catalog_loop_on_a_due_location(worker, tmp_path):
    repo = GitRepo(tmp_path / "git", "loop")
    repo.put(
        {
            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: looped}\n"
            "spec: {type: service, lifecycle: production, owner: group:finance}\n"
        }
    )
    location = Location.objects.create(
        type="git", target=validate_target("git", repo.target()), next_refresh_at=timezone.now()
    )

    refresh_due_locations.delay()

    worker.wait_for(lambda: Entity.objects.filter(ref="component:default/looped").exists(), "the looped entity")
    location.refresh_from_db()
    assert location.next_refresh_at > timezone.now(), "claimed and rescheduled"
    assert location.last_success_at is not None and location.errors == []


@pytest.fixture
def quick_stall_cutoff(monkeypatch):
    """The worker started after this cuts a trickling remote off after one second (set before ``worker``)."""
    monkeypatch.setenv("CATALOG_GIT_LOW_SPEED_SECONDS", "1")


@pytest.mark.slow
def test_a_real_worker_runs_a_queued_refresh_of_a_stalled_remote_and_reports_why_it_failed(
    quick_stall_cutoff, worker, carol
):
    with Tarpit(mode="trickle", interval=0.5) as tarpit:
        location = Location.objects.create(
            type="git",
            target=validate_target("git", f"{tarpit.url()}#main:catalog-info.yaml"),
            next_refresh_at=timezone.now() + timedelta(hours=1),
        )

        queued = location_refresh_request(location=location, actor=carol)

        assert queued.status == RefreshStatus.QUEUED
        finished = RefreshRequest.objects.filter(pk=queued.pk, status=RefreshStatus.FAILED)
        worker.wait_for(finished.exists, "the refresh to fail")
    location.refresh_from_db()
    assert "Operation too slow" in location.errors[0]
    assert "Operation too slow" in finished.get().errors[0]
