"""End to end with real Celery workers: a deployment checked and run by the worker against the built-in mock adapter
over HTTP; a worker SIGKILLed mid-deployment, a fresh one started, the sweeper (as beat sends it) resuming the run —
and the mock's counter proving nothing was provisioned twice beyond the call in flight."""

from __future__ import annotations

import signal
import time

import pytest

from core.testing.worker import worker_start
from provisioning import services
from provisioning.choices import DeploymentStatus, UnitStatus
from provisioning.models import AdapterCall, Deployment, DeploymentTask, DeploymentUnit
from provisioning.tasks import deployments_sweep
from provisioning.testing.builders import builtin_adapters_register, descriptor_make, release_make

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
STALE_SECONDS = 3
WORKER_ENV = {"PROVISIONING_STALE_SECONDS": str(STALE_SECONDS), "PROVISIONING_HEARTBEAT_SECONDS": "1"}


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(name: str):
        worker = worker_start(tmp_path / f"{name}.log", name=name, env=WORKER_ENV)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
        print(f"--- {worker.log_path.name} ---\n{worker.log()}")


def _provisions(component: str) -> int:
    return AdapterCall.objects.filter(operation="provision", component_id__endswith=f":{component}").count()


def test_a_worker_killed_mid_deployment_is_replaced_and_the_run_completes_once(
    live_server, workers, platform_user, settings
):
    settings.PROVISIONING_STALE_SECONDS = STALE_SECONDS
    builtin_adapters_register(live_server.url)
    components = [
        {"name": "raw", "kind": "storage", "specific": {"mock": {"delay": 3}}},
        {"name": "settle", "kind": "workload", "depends_on": ["raw"]},
        {"name": "settled", "depends_on": ["settle"]},
        {"name": "rates", "specific": {"mock": {"async": True, "delay": 6}}},
    ]
    release = release_make(descriptor_make(components=components))
    first = workers("first")
    deployment = services.deployment_request_create(
        release=release, environment="development", actor=platform_user, auto_start=True
    )
    tasks = DeploymentTask.objects.filter(deployment=deployment)
    # "rates" was sent and answered with a token; "raw" is in flight (its adapter takes 3 s)
    first.wait_for(
        lambda: tasks.filter(name="rates").exclude(token="").exists() and tasks.filter(name="raw", status="running"),
        "both first steps under way",
    )
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    assert Deployment.objects.get(pk=deployment.pk).status == DeploymentStatus.RUNNING
    assert DeploymentUnit.objects.get(product=release.product).status == UnitStatus.PARTIAL

    second = workers("second")
    time.sleep(STALE_SECONDS + 0.5)  # the dead worker's heartbeat goes stale
    deployments_sweep.delay()  # as beat sends it every PROVISIONING_SWEEP_SECONDS
    second.wait_for(lambda: Deployment.objects.get(pk=deployment.pk).finished, "the run's end", seconds=60)

    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.SUCCEEDED, (deployment.error, list(tasks.values("name", "error")))
    assert _provisions("raw") <= 2  # the call in flight when the worker died, and its one re-send
    assert _provisions("settle") == _provisions("settled") == 1
    assert AdapterCall.objects.filter(operation="provision-async").count() == 1  # the saved token was polled
    raw = tasks.get(name="raw")
    assert raw.attempts == _provisions("raw")
    assert DeploymentUnit.objects.get(product=release.product).status == UnitStatus.DEPLOYED
