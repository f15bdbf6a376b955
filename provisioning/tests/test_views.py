"""The provisioning pages: the data product page's Deployments tab (environments with their status, Deploy and
Undeploy for the product's owners), the deployment page in each state (the checks, the preview with Confirm and
Cancel, the live steps polled until the run ends, Retry), the deployments list and the adapter registry, each at a
constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from provisioning import tasks
from provisioning.choices import DeploymentOperation, DeploymentStatus, TaskStatus, UnitStatus
from provisioning.models import Deployment, TechAdapter
from provisioning.testing.factories import (
    DeploymentFactory,
    DeploymentTaskFactory,
    DeploymentUnitFactory,
    TechAdapterFactory,
    product_release_make,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
POLLING = 'hx-trigger="load delay:500ms, every 2s"'


def tab_url(data_product) -> str:
    return reverse("dp:dataproduct_detail", args=[data_product.name]) + "?tab=deployments"


def detail_url(deployment) -> str:
    return reverse("provisioning:deployment_detail", args=[deployment.pk])


def html_of(client, url: str, status: int = 200, **headers) -> str:
    answer = client.get(url, **headers)
    assert answer.status_code == status, answer.content.decode()[:800]
    return answer.content.decode()


def queries(client, url: str, **headers) -> int:
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **headers).status_code in (200, 286)
    return len(captured)


def buttons(html: str) -> set[str]:
    return {
        label.strip() for label in re.findall(r'<button type="submit" class="button(?: button-[\w-]+)?">([^<]+)', html)
    }


@pytest.fixture
def enqueued(monkeypatch):
    """The Celery tasks the services enqueue, recorded by their ``delay`` instead of sent to a broker."""
    sent = []
    for name in ("deployment_validate", "deployment_run"):
        task = getattr(tasks, name)
        monkeypatch.setattr(task, "delay", lambda pk, name=name: sent.append((name, pk)))
    return sent


# --- the Deployments tab -------------------------------------------------------------------------------------------


def test_the_tab_shows_every_environment_in_order_with_its_status_release_and_last_deployment(
    client, alice, cashflow, release
):
    deployment = DeploymentFactory(release=release, status=DeploymentStatus.SUCCEEDED, created_by=alice)
    DeploymentUnitFactory(release=release, last_deployment=deployment)
    DeploymentUnitFactory(release=release, environment="qa", status=UnitStatus.CORRUPT, deployed_at=None)
    client.force_login(alice)

    html = html_of(client, tab_url(cashflow), **HTMX)

    rows = re.findall(r'<tr id="dp-environment-([\w-]+)">', html)
    assert rows == ["development", "qa", "production"]
    development = html[html.index('id="dp-environment-development"') : html.index('id="dp-environment-qa"')]
    assert '<span class="badge badge-unit-deployed">Deployed</span>' in development
    assert "0.1.0" in development and f">#{deployment.pk}</a>" in development
    qa = html[html.index('id="dp-environment-qa"') : html.index('id="dp-environment-production"')]
    assert '<span class="badge badge-unit-corrupt">Corrupt</span>' in qa
    assert (
        '<span class="badge badge-unit-not_deployed">Not deployed</span>' in html[html.index("dp-environment-prod") :]
    )
    assert "<h1" not in html  # htmx swaps the tabs alone


@pytest.mark.parametrize(
    ("persona", "may_run"), [("alice", True), ("platform", True), ("bob", False), ("carol", False)]
)
def test_deploy_and_undeploy_are_offered_only_to_the_owners_and_staff(
    client, personas, cashflow, release, persona, may_run
):
    product_release_make(cashflow, "0.2.0")
    DeploymentUnitFactory(release=release)
    client.force_login(personas[persona])

    html = html_of(client, tab_url(cashflow))

    assert ('id="deploy-release"' in html) is may_run
    assert ('name="remove_data"' in html) is may_run
    assert "Recent deployments" in html
    # each component's reverse provisioning, for those who may change the product
    links = [
        reverse("provisioning-reverse:reverse_provisioning_component", args=[c.name]) for c in cashflow.components.all()
    ]
    assert links and all((f'href="{link}"' in html) is may_run for link in links)


def test_the_deploy_form_offers_the_products_releases_newest_first_and_every_environment(
    client, alice, cashflow, release
):
    product_release_make(cashflow, "0.2-SNAPSHOT-1")
    product_release_make(cashflow, "0.2.0")
    client.force_login(alice)

    html = html_of(client, tab_url(cashflow))

    select = html[html.index('id="deploy-release"') : html.index("</select>", html.index('id="deploy-release"'))]
    assert re.findall(r'<option value="([^"]+)"', select) == ["0.2.0", "0.2-SNAPSHOT-1", "0.1.0"]
    environments = html[html.index('id="deploy-environment"') :]
    assert re.findall(r'<option value="([^"]+)"', environments[: environments.index("</select>")]) == [
        "development",
        "qa",
        "production",
    ]


def test_the_undeploy_form_is_offered_for_each_deployed_environment_only(client, alice, cashflow, release):
    DeploymentUnitFactory(release=release, environment="qa")
    client.force_login(alice)

    html = html_of(client, tab_url(cashflow))

    assert re.findall(r'name="environment" value="([\w-]+)"', html) == ["qa"]
    assert 'id="undeploy-remove-data-qa"' in html


def test_the_tab_costs_the_same_queries_for_2_and_20_deployments(client, alice, build_dp):
    small, large = build_dp(alice, name="small"), build_dp(alice, name="large")
    for data_product, count in ((small, 2), (large, 20)):
        release = product_release_make(data_product, "0.1.0")
        product_release_make(data_product, "0.2.0")
        for index in range(count):
            DeploymentFactory(
                release=release,
                environment=("development", "qa")[index % 2],
                status=DeploymentStatus.FAILED,
                created_by=alice,
            )
        last = DeploymentFactory(release=release, status=DeploymentStatus.SUCCEEDED, created_by=alice)
        DeploymentUnitFactory(release=release, last_deployment=last)
        DeploymentFactory(release=release, environment="qa", status=DeploymentStatus.RUNNING, created_by=alice)
    client.force_login(alice)

    assert queries(client, tab_url(small)) == queries(client, tab_url(large))
    assert queries(client, tab_url(small), **HTMX) == queries(client, tab_url(large), **HTMX)


# --- deploy and undeploy requests ----------------------------------------------------------------------------------


def deploy(client, data_product, **fields):
    return client.post(reverse("provisioning:dataproduct_deploy", args=[data_product.name]), fields)


def test_the_deploy_form_makes_a_validating_deployment_and_enqueues_its_checks_on_commit(
    client, alice, cashflow, release, enqueued, django_capture_on_commit_callbacks
):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = deploy(client, cashflow, release="0.1.0", environment="qa")

    deployment = Deployment.objects.get()
    assert answer.status_code == 302 and answer["Location"] == detail_url(deployment)
    assert (deployment.status, deployment.operation, deployment.environment) == ("validating", "deploy", "qa")
    assert deployment.release == release and deployment.created_by == alice and not deployment.auto_start
    assert deployment.descriptor["version"] == "0.1.0"
    assert len(callbacks) == 1 and enqueued == [("deployment_validate", deployment.pk)]


def test_a_second_request_for_the_same_environment_is_refused_with_409_naming_the_active_one(
    client, alice, cashflow, release
):
    running = DeploymentFactory(release=release, status=DeploymentStatus.RUNNING, created_by=alice)
    client.force_login(alice)

    answer = deploy(client, cashflow, release="0.1.0", environment="development")

    assert answer.status_code == 409
    html = answer.content.decode()
    assert f"deployment #{running.pk} (running) of this data product to this environment is still active" in html
    assert f'href="{detail_url(running)}"' in html
    assert 'id="deploy-release"' in html  # the form again, to ask for another environment
    assert Deployment.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"release": "0.1.0", "environment": "staging"}, "environment: unknown environment &#x27;staging&#x27;"),
        ({"release": "9.9.9", "environment": "qa"}, "release: finance.cashflow.0 has no release &#x27;9.9.9&#x27;"),
        ({"environment": "qa"}, "release: This field is required."),
    ],
)
def test_an_unknown_environment_or_release_is_a_400_naming_the_field_and_nothing_is_made(
    client, alice, cashflow, release, fields, message
):
    client.force_login(alice)

    answer = deploy(client, cashflow, **fields)

    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("persona", ["bob", "carol"])
def test_another_teams_member_is_refused_with_403_and_nothing_is_made(client, personas, cashflow, release, persona):
    DeploymentUnitFactory(release=release)
    client.force_login(personas[persona])

    deployed = deploy(client, cashflow, release="0.1.0", environment="qa")
    undeployed = client.post(
        reverse("provisioning:dataproduct_undeploy", args=[cashflow.name]), {"environment": "development"}
    )

    assert (deployed.status_code, undeployed.status_code) == (403, 403)
    assert not Deployment.objects.exists()


def test_undeploy_asks_to_remove_the_data_when_ticked(client, alice, cashflow, release, enqueued):
    DeploymentUnitFactory(release=release)
    client.force_login(alice)

    answer = client.post(
        reverse("provisioning:dataproduct_undeploy", args=[cashflow.name]),
        {"environment": "development", "remove_data": "true"},
    )

    deployment = Deployment.objects.get()
    assert answer.status_code == 302 and answer["Location"] == detail_url(deployment)
    assert (deployment.operation, deployment.remove_data, deployment.status) == ("undeploy", True, "validating")


def test_undeploying_an_environment_that_runs_nothing_is_a_400_naming_the_environment(client, alice, cashflow):
    client.force_login(alice)

    answer = client.post(reverse("provisioning:dataproduct_undeploy", args=[cashflow.name]), {"environment": "qa"})

    assert answer.status_code == 400
    assert "environment: finance.cashflow.0 is not deployed in qa" in answer.content.decode()
    assert not Deployment.objects.exists()


# --- the deployment page in each state -----------------------------------------------------------------------------


@pytest.fixture
def make_deployment(release, alice, adapter):
    """A deployment of 0.1.0 in ``status``, with a storage step and the port that depends on it."""

    def make(status: str, *, tasks: tuple[str, str] | None = None, **fields):
        deployment = DeploymentFactory(release=release, status=status, created_by=alice, **fields)
        if tasks is not None:
            storage = DeploymentTaskFactory(
                deployment=deployment, name="ledger-store", kind="storage", adapter=adapter, status=tasks[0]
            )
            DeploymentTaskFactory(
                deployment=deployment,
                name="daily-balances",
                layer=1,
                depends_on=[storage.component_id],
                adapter=adapter,
                status=tasks[1],
            )
        return deployment

    return make


def test_a_validating_deployment_says_so_and_polls_until_the_checks_end(client, alice, make_deployment):
    deployment = make_deployment(DeploymentStatus.VALIDATING)
    client.force_login(alice)

    html = html_of(client, detail_url(deployment))
    fragment = client.get(detail_url(deployment), **HTMX)

    assert "Validating…" in html and POLLING in html and f'hx-get="{detail_url(deployment)}"' in html
    assert "finance.cashflow.0" in html and "0.1.0" in html and "development" in html and "alice" in html
    assert buttons(html) == {"Cancel"}
    assert fragment.status_code == 200 and POLLING in fragment.content.decode()
    assert "<h1" not in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]


def test_a_refused_deployment_lists_every_problem_and_offers_a_retry(client, alice, make_deployment):
    deployment = make_deployment(
        DeploymentStatus.INVALID,
        problems=[
            {"source": "governance", "path": "", "message": "owners: names no owner"},
            {"source": "plan", "path": "components[0].infrastructureTemplateId", "message": "no adapter in qa"},
        ],
    )
    client.force_login(alice)

    html = html_of(client, detail_url(deployment))

    assert "Refused: nothing was changed" in html
    assert "<td>governance</td>" in html and "owners: names no owner" in html
    assert "components[0].infrastructureTemplateId" in html and "no adapter in qa" in html
    assert POLLING not in html
    assert buttons(html) == {"Retry"}


def test_a_ready_deployment_previews_the_operations_in_order_with_warnings_confirm_and_cancel(
    client, alice, make_deployment, adapter
):
    deployment = make_deployment(
        DeploymentStatus.READY, tasks=("pending", "pending"), warnings=["ports: a description is missing"]
    )
    client.force_login(alice)

    html = html_of(client, detail_url(deployment))

    preview = html[html.index("Preview") :]
    assert preview.index("ledger-store") < preview.index("daily-balances")
    assert "<td>1</td>" in preview and "<td>2</td>" in preview and "<td>storage</td>" in preview
    assert preview.count(adapter.url) == 2
    assert "ports: a description is missing" in html
    assert buttons(html) == {"Confirm and deploy", "Cancel"}
    assert POLLING not in html


@pytest.mark.parametrize("persona", ["bob", "carol"])
def test_people_who_may_not_run_it_see_the_page_read_only(client, personas, make_deployment, persona):
    ready = make_deployment(DeploymentStatus.READY, tasks=("pending", "pending"))
    client.force_login(personas[persona])

    assert buttons(html_of(client, detail_url(ready))) == set()
    ready.status = DeploymentStatus.FAILED
    ready.save()
    assert buttons(html_of(client, detail_url(ready))) == set()


def test_a_running_deployment_shows_each_step_live_and_keeps_polling(client, alice, make_deployment):
    deployment = make_deployment(DeploymentStatus.RUNNING, tasks=("succeeded", "running"))
    client.force_login(alice)

    fragment = client.get(detail_url(deployment), **HTMX)

    html = fragment.content.decode()
    assert fragment.status_code == 200 and POLLING in html
    assert '<span class="badge badge-run-succeeded">Succeeded</span>' in html
    assert '<span class="badge badge-run-running">Running</span>' in html
    assert "1 running, 1 succeeded" in html or "1 succeeded, 1 running" in html
    assert buttons(html) == set()  # a run is neither cancelled nor confirmed


def test_a_finished_deployment_stops_the_polling_with_286(client, alice, make_deployment):
    deployment = make_deployment(DeploymentStatus.SUCCEEDED, tasks=("succeeded", "succeeded"))
    client.force_login(alice)

    fragment = client.get(detail_url(deployment), **HTMX)
    page = client.get(detail_url(deployment))

    assert fragment.status_code == 286  # htmx stops polling
    assert "HX-Request" in fragment["Vary"]
    assert POLLING not in fragment.content.decode()
    assert '<span class="badge badge-run-succeeded">Succeeded</span>' in fragment.content.decode()
    assert page.status_code == 200 and POLLING not in page.content.decode()


def test_a_failed_step_shows_the_adapters_message_verbatim_with_its_logs_and_a_retry(client, alice, make_deployment):
    deployment = make_deployment(DeploymentStatus.FAILED, error="daily-balances: HTTP 400 from /v1/provision")
    DeploymentTaskFactory(deployment=deployment, name="ledger-store", status=TaskStatus.SUCCEEDED, attempts=1)
    DeploymentTaskFactory(
        deployment=deployment,
        name="daily-balances",
        layer=1,
        status=TaskStatus.FAILED,
        attempts=2,
        error="HTTP 400 from /v1/provision",
        response={
            "state": "failed",
            "error": {
                "kind": "http",
                "reason": "HTTP 400 from /v1/provision",
                "status_code": 400,
                "user_message": "The view <balances> needs column 'day'",
                "errors": ["column day missing"],
                "input": "dataProduct.components[0]",
                "input_error_field": "dataContract.schema",
                "problems": ["the storage has no column day"],
                "solutions": ["add day to the storage's schema"],
                "body": '{"userMessage": "The view <balances> needs column \'day\'"}',
            },
        },
        logs=[{"timestamp": "2026-01-01T10:00:00Z", "level": "ERROR", "message": "refused the view", "phase": "x"}],
    )
    DeploymentTaskFactory(
        deployment=deployment, name="consumer", layer=2, status=TaskStatus.SKIPPED, error="skipped: daily-balances"
    )
    client.force_login(alice)

    fragment = client.get(detail_url(deployment), **HTMX)

    html = fragment.content.decode()
    assert fragment.status_code == 286
    assert "Failed: daily-balances: HTTP 400 from /v1/provision" in html
    assert "The view &lt;balances&gt; needs column &#x27;day&#x27;" in html  # verbatim, escaped
    for said in ("column day missing", "dataContract.schema", "the storage has no column day", "add day to the"):
        assert said in html
    assert "<summary>Logs (1)</summary>" in html and "ERROR [x] refused the view" in html
    assert "attempts: 2" in html
    assert "The adapter's answer (HTTP 400)" in html and "{&quot;userMessage&quot;: " in html
    assert '<span class="badge badge-run-skipped">Skipped</span>' in html and "skipped: daily-balances" in html
    assert buttons(html) == {"Retry"}


def test_the_deployment_page_costs_the_same_queries_for_2_and_20_steps(client, alice, release, adapter):
    small = DeploymentFactory(release=release, status=DeploymentStatus.FAILED, created_by=alice)
    large = DeploymentFactory(release=release, status=DeploymentStatus.FAILED, created_by=alice, environment="qa")
    for deployment, count in ((small, 2), (large, 20)):
        for index in range(count):
            DeploymentTaskFactory(deployment=deployment, adapter=adapter, layer=index, status=TaskStatus.SUCCEEDED)
    client.force_login(alice)

    assert queries(client, detail_url(small)) == queries(client, detail_url(large))
    assert queries(client, detail_url(small), **HTMX) == queries(client, detail_url(large), **HTMX)


# --- confirm, cancel, retry ----------------------------------------------------------------------------------------


def test_confirm_starts_the_run_and_enqueues_it_on_commit(
    client, alice, make_deployment, enqueued, django_capture_on_commit_callbacks
):
    deployment = make_deployment(DeploymentStatus.READY, tasks=("pending", "pending"))
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("provisioning:deployment_confirm", args=[deployment.pk]))

    deployment.refresh_from_db()
    assert answer.status_code == 302 and answer["Location"] == detail_url(deployment)
    assert deployment.status == DeploymentStatus.RUNNING and deployment.started_at is not None
    assert enqueued == [("deployment_run", deployment.pk)]


def test_cancel_drops_a_deployment_that_has_not_started(client, alice, make_deployment):
    deployment = make_deployment(DeploymentStatus.READY, tasks=("pending", "pending"))
    client.force_login(alice)

    answer = client.post(reverse("provisioning:deployment_cancel", args=[deployment.pk]))

    deployment.refresh_from_db()
    assert answer.status_code == 302
    assert deployment.status == DeploymentStatus.CANCELLED
    assert "Cancelled" in html_of(client, detail_url(deployment))


def test_retry_makes_a_new_deployment_that_starts_once_checked(client, alice, make_deployment, enqueued):
    failed = make_deployment(DeploymentStatus.FAILED, tasks=("succeeded", "failed"))
    client.force_login(alice)

    answer = client.post(reverse("provisioning:deployment_retry", args=[failed.pk]))

    retry = Deployment.objects.exclude(pk=failed.pk).get()
    assert answer.status_code == 302 and answer["Location"] == detail_url(retry)
    assert (retry.retry_of, retry.auto_start, retry.status) == (failed, True, DeploymentStatus.VALIDATING)
    assert f'href="{detail_url(failed)}">#{failed.pk}</a>' in html_of(client, detail_url(retry))


def test_confirming_a_finished_deployment_is_a_409_said_on_its_page(client, alice, make_deployment):
    done = make_deployment(DeploymentStatus.SUCCEEDED, tasks=("succeeded", "succeeded"))
    client.force_login(alice)

    answer = client.post(reverse("provisioning:deployment_confirm", args=[done.pk]))

    assert answer.status_code == 409
    assert f"deployment #{done.pk} is succeeded" in answer.content.decode()


def test_another_team_may_not_confirm_cancel_or_retry(client, bob, make_deployment):
    ready = make_deployment(DeploymentStatus.READY, tasks=("pending", "pending"))
    client.force_login(bob)

    for action in ("confirm", "cancel", "retry"):
        assert client.post(reverse(f"provisioning:deployment_{action}", args=[ready.pk])).status_code == 403
    ready.refresh_from_db()
    assert ready.status == DeploymentStatus.READY and Deployment.objects.count() == 1


# --- the deployments list ------------------------------------------------------------------------------------------


LIST = "/provisioning/deployments/"


def test_the_list_shows_every_deployment_newest_first_and_filters_with_the_filterset(
    client, carol, alice, bob, build_dp, release
):
    campaigns = build_dp(bob, name="campaigns", domain="domain:marketing", owner="group:marketing")
    other = product_release_make(campaigns, "1.0.0")
    first = DeploymentFactory(release=release, status=DeploymentStatus.SUCCEEDED, created_by=alice)
    second = DeploymentFactory(release=other, status=DeploymentStatus.FAILED, created_by=bob, environment="qa")
    third = DeploymentFactory(
        release=release, status=DeploymentStatus.RUNNING, created_by=alice, operation=DeploymentOperation.UNDEPLOY
    )
    client.force_login(carol)

    def listed(query: str = "") -> list[int]:
        return [
            int(pk)
            for pk in re.findall(
                r'<th scope="row"><a href="/provisioning/deployments/(\d+)/">', html_of(client, LIST + query)
            )
        ]

    assert listed() == [third.pk, second.pk, first.pk]
    assert listed("?product=finance.cashflow.0") == [third.pk, first.pk]
    assert listed("?status=failed") == [second.pk]
    assert listed("?environment=qa") == [second.pk]
    assert listed("?operation=undeploy") == [third.pk]
    assert listed("?created_by=BOB") == [second.pk]
    fragment = html_of(client, LIST + "?status=running", **HTMX)
    assert "<h1" not in fragment and f"/provisioning/deployments/{third.pk}/" in fragment


def test_a_bad_filter_is_a_400_naming_it(client, carol):
    client.force_login(carol)

    html = html_of(client, LIST + "?status=exploded", status=400)

    assert "status: Select a valid choice. exploded is not one of the available choices." in html


def test_the_list_pages_by_25_and_costs_the_same_queries_for_2_and_30_deployments(client, carol, alice, release):
    client.force_login(carol)
    for _ in range(2):
        DeploymentFactory(release=release, status=DeploymentStatus.SUCCEEDED, created_by=alice)
    few = queries(client, LIST)
    for _ in range(28):
        DeploymentFactory(release=release, status=DeploymentStatus.FAILED, created_by=alice)

    assert queries(client, LIST) == few
    assert "Page 1 of 2" in html_of(client, LIST)
    assert "Page 2 of 2" in html_of(client, LIST + "?page=2")


def test_the_site_navigation_links_the_deployments(client, carol):
    client.force_login(carol)

    html = html_of(client, LIST)

    assert '<a href="/provisioning/deployments/" aria-current="page">Deployments</a>' in html


# --- the adapter registry ------------------------------------------------------------------------------------------


ADAPTERS = "/provisioning/adapters/"


def adapter_form(**overrides) -> dict:
    return {
        "infrastructure_template_id": "urn:dmb:itm:postgres-outputport:1",
        "environment": "qa",
        "url": "http://127.0.0.1:8100/",
        "description": "",
        "connect_timeout": "5",
        "request_timeout": "30",
        "operation_timeout": "600",
        "poll_interval": "2",
        "auth_header": "",
        "auth_env": "",
        **overrides,
    }


def test_the_registry_lists_each_adapter_with_its_limits_and_offers_the_form_to_staff_only(
    client, alice, platform_user
):
    TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:mock:0", request_timeout=12.5, builtin="mock")
    client.force_login(alice)

    html = html_of(client, ADAPTERS)

    assert "urn:dmb:itm:mock:0" in html and "12.5 s" in html and "<td>mock</td>" in html
    assert "Register an adapter" not in html
    client.force_login(platform_user)
    assert "Register an adapter" in html_of(client, ADAPTERS)


def test_staff_register_an_adapter_through_the_service_and_it_is_audited(client, platform_user):
    client.force_login(platform_user)

    answer = client.post(ADAPTERS, adapter_form(async_validation="on"))

    assert answer.status_code == 302
    adapter = TechAdapter.objects.get()
    assert (adapter.environment, adapter.url, adapter.async_validation) == ("qa", "http://127.0.0.1:8100/", True)
    event = AuditEvent.objects.get(action="provisioning.adapter_register")
    assert event.actor == platform_user and event.after["url"] == "http://127.0.0.1:8100/"


def test_a_bad_field_is_shown_next_to_it_and_nothing_is_saved(client, platform_user):
    client.force_login(platform_user)

    answer = client.post(ADAPTERS, adapter_form(url="ftp://nowhere", auth_header="Authorization"))

    html = answer.content.decode()
    assert answer.status_code == 400
    url_field = html[html.index('for="id_url"') : html.index('for="id_description"')]
    assert "Enter a valid URL." in url_field
    auth_field = html[html.index('for="id_auth_env"') :]
    assert "Give both the header and its variable." in auth_field
    assert not TechAdapter.objects.exists()


def test_a_second_adapter_for_the_same_template_and_environment_is_refused(client, platform_user):
    TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:postgres-outputport:1", environment="qa")
    client.force_login(platform_user)

    answer = client.post(ADAPTERS, adapter_form())

    assert answer.status_code == 400
    assert "An adapter is already registered for this template and environment." in answer.content.decode()
    assert TechAdapter.objects.count() == 1


def test_staff_edit_and_remove_an_adapter(client, platform_user):
    adapter = TechAdapterFactory(infrastructure_template_id="urn:dmb:itm:postgres-outputport:1", environment="qa")
    client.force_login(platform_user)
    url = reverse("provisioning:adapter_detail", args=[adapter.pk])

    assert client.post(url, adapter_form(url="http://127.0.0.1:8200/")).status_code == 302
    adapter.refresh_from_db()
    assert adapter.url == "http://127.0.0.1:8200/"
    assert client.post(reverse("provisioning:adapter_delete", args=[adapter.pk])).status_code == 302
    assert not TechAdapter.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="provisioning.adapter").values_list("action", flat=True)
    ) == ["provisioning.adapter_delete", "provisioning.adapter_update"]


def test_people_without_staff_rights_read_an_adapter_but_may_not_change_it(client, alice):
    adapter = TechAdapterFactory()
    client.force_login(alice)
    url = reverse("provisioning:adapter_detail", args=[adapter.pk])

    html = html_of(client, url)

    assert adapter.url in html and '<form method="post"' not in html.split("</header>", 1)[1]
    assert client.post(url, adapter_form()).status_code == 403
    assert client.post(ADAPTERS, adapter_form()).status_code == 403
    assert TechAdapter.objects.count() == 1
