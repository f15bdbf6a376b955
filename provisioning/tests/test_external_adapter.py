"""An external adapter — a stand-alone HTTP process, not Django — registered by URL: deploy and undeploy through it
with polling, and each way real Witboost adapters answer, as the coordinator meets them: every failing answer is a
failed step with its reason, dependants skipped, the unit Corrupt, and a new deployment recovers."""

from __future__ import annotations

import pytest

from provisioning import coordinator, services
from provisioning.choices import DeploymentStatus, TaskStatus, UnitStatus
from provisioning.models import Deployment, DeploymentUnit, TechAdapter
from provisioning.testing import ExternalAdapter
from provisioning.testing.builders import descriptor_make, release_make

pytestmark = pytest.mark.django_db
TEMPLATE = "urn:dmb:itm:external:1"


@pytest.fixture(scope="module")
def external():
    with ExternalAdapter(async_validate=False) as adapter:
        yield adapter


@pytest.fixture
def registered(external):
    return TechAdapter.objects.create(
        infrastructure_template_id=TEMPLATE,
        environment="development",
        url=external.url,
        request_timeout=1,
        operation_timeout=2,
        poll_interval=0.05,
        async_validation=True,  # the process answers "not yet implemented": /v1 is used and remembered
    )


def _components(**flags_of) -> list[dict]:
    names = [
        ("store", "storage", []),
        ("job", "workload", ["store"]),
        ("port", "outputport", ["job"]),
        ("side", "outputport", []),
    ]
    return [
        {
            "name": name,
            "kind": kind,
            "depends_on": depends,
            "template": TEMPLATE,
            "specific": {"adapter": flags_of[name]} if name in flags_of else {},
        }
        for name, kind, depends in names
    ]


def _run(release, actor, **kwargs) -> Deployment:
    deployment = services.deployment_request_create(
        release=release, environment="development", actor=actor, auto_start=True, **kwargs
    )
    checked = services.deployment_validate(deployment_id=deployment.pk)
    assert checked.status == DeploymentStatus.RUNNING, checked.problems
    return coordinator.deployment_run(deployment_id=deployment.pk)


def test_deploy_and_undeploy_through_an_external_adapter_with_polling(external, registered, platform_user):
    before = external.calls()
    flags = {"mode": "async", "polls": 2, "tokenFormat": "text"}
    release = release_make(descriptor_make(components=_components(store=flags, port={**flags, "tokenFormat": "json"})))
    finished = _run(release, platform_user)

    assert finished.status == DeploymentStatus.SUCCEEDED, finished.error
    tasks = {task.name: task for task in finished.tasks.all()}
    assert tasks["store"].token and tasks["port"].token  # answered 202 with a token, then polled
    assert DeploymentUnit.objects.get(product=release.product).status == UnitStatus.DEPLOYED
    registered.refresh_from_db()
    assert registered.async_validation_unsupported  # /v2/validate said "not yet implemented": remembered
    calls = external.calls()["provision"]
    for name in ("store", "job", "port", "side"):
        key = f"urn:dmb:cmp:finance:ledger:0:{name}"
        assert calls.get(key, 0) - before["provision"].get(key, 0) == 1

    undeploy = services.undeploy_request_create(
        product=release.product, environment="development", actor=platform_user, auto_start=True
    )
    services.deployment_validate(deployment_id=undeploy.pk)
    undone = coordinator.deployment_run(deployment_id=undeploy.pk)
    assert undone.status == DeploymentStatus.SUCCEEDED
    order = sorted(undone.tasks.all(), key=lambda task: task.started_at)
    assert [task.name for task in order].index("port") < [task.name for task in order].index("store")
    assert DeploymentUnit.objects.get(product=release.product).status == UnitStatus.NOT_DEPLOYED


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ({"mode": "errors400"}, "HTTP 400"),
        ({"mode": "bad400"}, "HTTP 400"),
        ({"mode": "error500json"}, "HTTP 500"),
        ({"mode": "error500text"}, "Internal Server Error"),
        ({"mode": "garbage"}, "malformed"),
        ({"mode": "badstatus"}, "DONE"),
        ({"mode": "redirect"}, "redirect"),
        ({"mode": "hang", "delay": 2}, "within 1 s"),
        ({"mode": "fail"}, "FAILED"),
        ({"mode": "never"}, "not finished within"),
    ],
    ids=lambda value: value["mode"] if isinstance(value, dict) else "",
)
def test_every_failing_answer_fails_its_step_with_the_reason_and_skips_dependants(
    registered, platform_user, flags, reason
):
    release = release_make(descriptor_make(components=_components(job=flags)))
    finished = _run(release, platform_user)

    assert finished.status == DeploymentStatus.FAILED
    tasks = {task.name: task for task in finished.tasks.all()}
    assert tasks["job"].status == TaskStatus.FAILED
    assert reason.lower() in tasks["job"].error.lower(), tasks["job"].error
    assert tasks["port"].status == TaskStatus.SKIPPED
    assert tasks["store"].status == tasks["side"].status == TaskStatus.SUCCEEDED
    assert DeploymentUnit.objects.get(product=release.product).status == UnitStatus.CORRUPT


def test_a_refusal_keeps_what_the_adapter_said_verbatim(registered, platform_user):
    release = release_make(descriptor_make(components=_components(job={"mode": "bad400"})))
    task = _run(release, platform_user).tasks.get(name="job")
    error = task.response["error"]
    assert error["status_code"] == 400
    assert error["user_message"] and error["problems"] and error["solutions"]


def test_a_new_deployment_recovers_a_corrupt_unit(registered, platform_user):
    broken = release_make(descriptor_make(components=_components(job={"mode": "error500json"})), version="0.1.0")
    assert _run(broken, platform_user).status == DeploymentStatus.FAILED
    fixed = release_make(descriptor_make(components=_components()), version="0.1.1")
    assert _run(fixed, platform_user).status == DeploymentStatus.SUCCEEDED
    unit = DeploymentUnit.objects.get(product=fixed.product)
    assert unit.status == UnitStatus.DEPLOYED and unit.release == fixed


def test_a_validate_refusal_starts_nothing(external, registered, platform_user):
    before = external.calls()["provision"]
    release = release_make(descriptor_make(components=_components(side={"validateMode": "invalid"})))
    deployment = services.deployment_request_create(release=release, environment="development", actor=platform_user)
    checked = services.deployment_validate(deployment_id=deployment.pk)
    assert checked.status == DeploymentStatus.INVALID
    assert any(problem["path"].endswith(":side") for problem in checked.problems), checked.problems
    assert external.calls()["provision"] == before


def test_an_adapter_restart_forgets_the_token_and_the_step_is_sent_again(external, registered, platform_user):
    release = release_make(descriptor_make(components=_components(store={"mode": "async", "delay": 0.5})))
    deployment = services.deployment_request_create(
        release=release, environment="development", actor=platform_user, auto_start=True
    )
    services.deployment_validate(deployment_id=deployment.pk)
    run = coordinator.Coordinator(deployment.pk)
    assert run.claim()
    run.deployment, run.enriched = Deployment.objects.get(pk=deployment.pk), None
    store = deployment.tasks.get(name="store")
    assert run._start(store)
    sent = services.adapter_client(registered).provision(run._request(store))
    store.__class__.objects.filter(pk=store.pk).update(token=sent.token)
    Deployment.objects.filter(pk=deployment.pk).update(heartbeat_at=None)  # that coordinator died…
    external.restart()  # …and the adapter restarted, forgetting the token

    finished = coordinator.deployment_run(deployment_id=deployment.pk)
    assert finished.status == DeploymentStatus.SUCCEEDED, finished.error
    assert finished.tasks.get(name="store").attempts == 2
