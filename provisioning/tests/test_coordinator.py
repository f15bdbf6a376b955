"""The deployment's life in-process against the built-in mock adapter over real HTTP (a live server): checks, the
preview, the run in dependsOn order with independents at once, failures skipping dependants, resumption of a run
whose coordinator died, undeploy in reverse."""

from __future__ import annotations

import pytest
from django.db import connection

from provisioning import coordinator, services
from provisioning.choices import DeploymentStatus, TaskStatus, UnitStatus
from provisioning.models import AdapterCall, Deployment, DeploymentUnit
from provisioning.testing.builders import builtin_adapters_register, descriptor_make, release_make

pytestmark = pytest.mark.django_db(transaction=True)

CHAIN = [
    {"name": "raw", "kind": "storage"},
    {"name": "settle", "kind": "workload", "depends_on": ["raw"]},
    {"name": "settled", "depends_on": ["settle"]},
    {"name": "rates"},
]


@pytest.fixture
def adapters(live_server):
    return builtin_adapters_register(live_server.url)


def _deploy(release, actor, environment="development", **kwargs) -> Deployment:
    deployment = services.deployment_request_create(release=release, environment=environment, actor=actor, **kwargs)
    return services.deployment_validate(deployment_id=deployment.pk)


def _calls(operation="provision") -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in AdapterCall.objects.filter(operation=operation):
        key = call.component_id.rsplit(":", 1)[-1]
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_a_deployment_is_checked_previewed_then_run_in_dependency_order(adapters, platform_user):
    release = release_make(descriptor_make(components=CHAIN))
    deployment = _deploy(release, platform_user)
    assert deployment.status == DeploymentStatus.READY, deployment.problems
    plan = [(task.layer, task.name) for task in deployment.tasks.order_by("layer", "name")]
    assert plan == [(0, "rates"), (0, "raw"), (1, "settle"), (2, "settled")]
    assert not AdapterCall.objects.filter(operation="provision").exists()  # the preview changes nothing

    services.deployment_confirm(deployment=deployment, actor=platform_user)
    finished = coordinator.deployment_run(deployment_id=deployment.pk)

    assert finished.status == DeploymentStatus.SUCCEEDED
    tasks = {task.name: task for task in finished.tasks.all()}
    assert {task.status for task in tasks.values()} == {TaskStatus.SUCCEEDED}
    assert tasks["raw"].finished_at <= tasks["settle"].started_at <= tasks["settle"].finished_at
    assert tasks["settle"].finished_at <= tasks["settled"].started_at
    assert _calls() == {"raw": 1, "settle": 1, "settled": 1, "rates": 1}
    unit = DeploymentUnit.objects.get(product=release.product, environment="development")
    assert unit.status == UnitStatus.DEPLOYED and unit.release == release
    info = {c["name"]: c["info"] for c in unit.enriched_descriptor["components"]}
    assert info["settled"]["publicInfo"]["endpoint"]["value"].startswith("mock://urn:dmb:cmp:finance:ledger:0:")
    assert info["settled"]["latestProvisioningOperation"] == {"operation": "Deploy", "status": "Successful"}


def test_a_failing_component_skips_its_dependants_and_leaves_the_unit_corrupt(adapters, platform_user):
    chain = [dict(part) for part in CHAIN]
    chain[1]["specific"] = {"mock": {"fail": "provision", "message": "cluster quota exceeded"}}
    release = release_make(descriptor_make(components=chain))
    deployment = _deploy(release, platform_user, auto_start=True)
    finished = coordinator.deployment_run(deployment_id=deployment.pk)

    assert finished.status == DeploymentStatus.FAILED
    tasks = {task.name: task for task in finished.tasks.all()}
    assert tasks["settle"].status == TaskStatus.FAILED
    assert "cluster quota exceeded" in tasks["settle"].error
    assert tasks["settle"].response["error"]["user_message"] == "cluster quota exceeded"
    assert tasks["settled"].status == TaskStatus.SKIPPED
    assert tasks["rates"].status == TaskStatus.SUCCEEDED  # independent of the failure
    assert "settle" in finished.error and "cluster quota exceeded" in finished.error
    assert DeploymentUnit.objects.get(product=release.product).status == UnitStatus.CORRUPT


def test_a_retry_runs_again_and_recovers(adapters, platform_user):
    chain = [dict(part) for part in CHAIN]
    chain[0]["specific"] = {"mock": {"failTimes": 1}}
    release = release_make(descriptor_make(components=chain))
    failed = coordinator.deployment_run(deployment_id=_deploy(release, platform_user, auto_start=True).pk)
    assert failed.status == DeploymentStatus.FAILED

    retry = services.deployment_retry(deployment=failed, actor=platform_user)
    retry = services.deployment_validate(deployment_id=retry.pk)
    assert retry.status == DeploymentStatus.RUNNING  # a retry starts as soon as its checks pass
    finished = coordinator.deployment_run(deployment_id=retry.pk)
    assert finished.status == DeploymentStatus.SUCCEEDED
    assert DeploymentUnit.objects.get(product=release.product).status == UnitStatus.DEPLOYED


def test_validation_failure_starts_nothing_and_names_the_component(adapters, platform_user):
    chain = [dict(part) for part in CHAIN]
    chain[3]["specific"] = {"mock": {"fail": "validate", "message": "rates needs a partition key"}}
    chain.append({"name": "orphan", "template": "urn:dmb:itm:nowhere:1"})
    release = release_make(descriptor_make(components=chain))
    deployment = _deploy(release, platform_user)

    assert deployment.status == DeploymentStatus.INVALID
    messages = [(problem["source"], problem["path"], problem["message"]) for problem in deployment.problems]
    assert ("plan", "components[4].infrastructureTemplateId", messages[0][2]) in messages
    assert "urn:dmb:itm:nowhere:1" in messages[0][2]
    assert not deployment.tasks.exists()
    assert not AdapterCall.objects.filter(operation="provision").exists()


def test_a_second_request_while_one_is_active_is_refused(adapters, platform_user):
    release = release_make(descriptor_make(components=CHAIN))
    first = _deploy(release, platform_user, auto_start=True)
    with pytest.raises(services.DeploymentConflict) as refused:
        services.deployment_request_create(release=release, environment="development", actor=platform_user)
    assert refused.value.active.pk == first.pk
    assert str(first.pk) in str(refused.value)


def test_a_run_whose_coordinator_died_resumes_without_provisioning_twice(adapters, platform_user):
    chain = [dict(part) for part in CHAIN]
    chain[3]["specific"] = {"mock": {"async": True, "delay": 0.5}}
    release = release_make(descriptor_make(components=chain))
    deployment = _deploy(release, platform_user, auto_start=True)
    # a coordinator that got as far as "raw" done and "rates" sent (its token saved), then died
    first = coordinator.Coordinator(deployment.pk)
    assert first.claim()
    tasks = {task.name: task for task in deployment.tasks.all()}
    coordinator_run_one(first, tasks["raw"])
    sent = services.adapter_client(tasks["rates"].adapter).provision(first._request(tasks["rates"]))
    assert sent.state == "running"
    Deployment.objects.filter(pk=deployment.pk).update(heartbeat_at=None)
    type(tasks["rates"]).objects.filter(pk=tasks["rates"].pk).update(status=TaskStatus.RUNNING, token=sent.token)

    finished = coordinator.deployment_run(deployment_id=deployment.pk)

    assert finished.status == DeploymentStatus.SUCCEEDED
    assert _calls() == {"raw": 1, "settle": 1, "settled": 1, "rates": 1}
    assert AdapterCall.objects.filter(operation="provision-async").count() == 1


def coordinator_run_one(run: coordinator.Coordinator, task) -> None:
    """Carry one step through a coordinator's own moves (start, call, record), as a run in progress would."""
    from concurrent.futures import Future

    run.deployment = Deployment.objects.get(pk=task.deployment_id)
    run.enriched = None
    assert run._start(task)
    reply = services.adapter_client(task.adapter).provision(run._request(task))
    future: Future = Future()
    future.set_result(reply)
    run._record(task.pk, future)


def test_undeploy_runs_in_reverse_and_clears_the_unit(adapters, platform_user):
    release = release_make(descriptor_make(components=CHAIN))
    coordinator.deployment_run(deployment_id=_deploy(release, platform_user, auto_start=True).pk)

    undeploy = services.undeploy_request_create(
        product=release.product, environment="development", actor=platform_user, remove_data=True
    )
    undeploy = services.deployment_validate(deployment_id=undeploy.pk)
    assert [(task.layer, task.name) for task in undeploy.tasks.order_by("layer", "name")] == [
        (0, "settled"),
        (1, "settle"),
        (2, "rates"),
        (2, "raw"),
    ]
    services.deployment_confirm(deployment=undeploy, actor=platform_user)
    finished = coordinator.deployment_run(deployment_id=undeploy.pk)
    assert finished.status == DeploymentStatus.SUCCEEDED
    tasks = {task.name: task for task in finished.tasks.all()}
    assert tasks["settled"].finished_at <= tasks["settle"].started_at
    assert tasks["settle"].finished_at <= tasks["raw"].started_at
    assert '"removeData": true' in str(tasks["raw"].request).replace("'", '"').replace("True", "true")
    unit = DeploymentUnit.objects.get(product=release.product)
    assert unit.status == UnitStatus.NOT_DEPLOYED and unit.release is None
    assert connection.in_atomic_block is False


def test_a_data_product_level_adapter_goes_first_on_deploy_and_last_on_undeploy(adapters, platform_user):
    from provisioning.models import TechAdapter

    descriptor = descriptor_make(components=CHAIN)
    mock = adapters[("mock", "development")]
    TechAdapter.objects.create(
        infrastructure_template_id=descriptor["infrastructureTemplateId"],
        environment="development",
        url=mock.url,
        auth_header=mock.auth_header,
        auth_env=mock.auth_env,
    )
    release = release_make(descriptor)
    deployment = _deploy(release, platform_user, auto_start=True)
    plan = {task.name: (task.layer, task.depends_on) for task in deployment.tasks.all()}
    assert plan["ledger"] == (0, [])  # the data product's own step, named after it
    assert plan["raw"] == (1, [""]) and plan["settled"][0] == 3

    finished = coordinator.deployment_run(deployment_id=deployment.pk)
    assert finished.status == DeploymentStatus.SUCCEEDED
    tasks = {task.name: task for task in finished.tasks.all()}
    assert all(tasks["ledger"].finished_at <= task.started_at for name, task in tasks.items() if name != "ledger")
    assert AdapterCall.objects.filter(operation="provision", component_id="").count() == 1

    undeploy = services.undeploy_request_create(
        product=release.product, environment="development", actor=platform_user, auto_start=True
    )
    undone = coordinator.deployment_run(deployment_id=services.deployment_validate(deployment_id=undeploy.pk).pk)
    tasks = {task.name: task for task in undone.tasks.all()}
    assert all(task.finished_at <= tasks["ledger"].started_at for name, task in tasks.items() if name != "ledger")


def test_the_next_deployment_sends_back_the_enriched_descriptor_of_the_last(adapters, platform_user):
    from core import yaml

    release = release_make(descriptor_make(components=CHAIN))
    coordinator.deployment_run(deployment_id=_deploy(release, platform_user, auto_start=True).pk)
    again = coordinator.deployment_run(deployment_id=_deploy(release, platform_user, auto_start=True).pk)

    request = again.tasks.get(name="settled").request
    latest = yaml.load(request["latestEnrichedDescriptor"])
    settled = next(c for c in latest["components"] if c["name"] == "settled")
    assert settled["info"]["publicInfo"]["endpoint"]["value"].endswith(":settled")
    assert settled["info"]["latestProvisioningOperation"] == {"operation": "Deploy", "status": "Successful"}
