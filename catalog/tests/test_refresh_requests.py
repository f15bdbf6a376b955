"""Manual refreshes (issue 9, item 1; PRODUCT §3.2): a remote location is queued for the worker and the request
answered at once, the page shows the outcome through htmx when it lands, a location on this disk is read in the
request, and people without staff rights are rate-limited per person and per location, counted in the database
and answered 429 with ``Retry-After``."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.choices import RefreshStatus
from catalog.models import Entity, Location, RefreshRequest
from catalog.readers import validate_target
from catalog.services import location_register, refresh_request_run, refresh_requests_purge
from core.testing.tarpit import Tarpit

pytestmark = pytest.mark.django_db

API = "/api/catalog"
HTMX = {"HTTP_HX_REQUEST": "true"}
COMPONENT = (
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ledger}\n"
    "spec: {type: service, lifecycle: production, owner: group:finance}\n"
)
POLLING = 'hx-trigger="load delay:2s"'


@pytest.fixture
def local(make_repo, platform_user) -> Entity:
    """An entity read from a Git repository on this disk (read at once when refreshed)."""
    repo = make_repo("local")
    repo.put({"catalog-info.yaml": COMPONENT})
    location_register(type="git", target=repo.target(), actor=platform_user)
    return Entity.objects.get(ref="component:default/ledger")


@pytest.fixture
def tarpit(settings):
    settings.CATALOG_GIT_LOW_SPEED_SECONDS = 1
    with Tarpit(mode="trickle", interval=0.5) as server:
        yield server


@pytest.fixture
def remote(local, tarpit) -> Entity:
    """The same entity, as if its location's remote (now a tarpit on 127.0.0.1) had stalled."""
    Location.objects.filter(pk=local.location_id).update(
        target=validate_target("git", f"{tarpit.url()}#main:catalog-info.yaml")
    )
    return Entity.objects.select_related("location").get(pk=local.pk)


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def refresh(client, entity: Entity):
    return client.post(f"{API}/refresh", {"entityRef": entity.ref}, format="json")


def entity_page(entity: Entity) -> str:
    return reverse("catalog:entity_detail", kwargs={"kind": "component", "namespace": "default", "name": entity.name})


# --- queued refreshes of remote locations ---------------------------------------------------------------------


def test_a_refresh_of_a_remote_location_is_queued_and_answered_at_once(
    remote, carol, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks() as callbacks:
        response = refresh(api_as(carol), remote)

    assert time.monotonic() - started < 1
    assert response.status_code == 200, response.json()  # Backstage's client requires 200
    body = response.json()
    assert body["status"] == "queued" and body["location"].startswith("git:http://127.0.0.1:")
    queued = RefreshRequest.objects.get(pk=body["id"])
    assert (queued.status, queued.requested_by) == (RefreshStatus.QUEUED, carol)
    assert len(callbacks) == 1, "the worker's task is sent when the request commits"


def test_the_worker_kills_the_stalled_fetch_and_reports_it_on_the_request_and_the_location(remote, carol):
    queued = refresh(api_as(carol), remote).json()

    done = refresh_request_run(refresh_id=queued["id"])

    assert done.status == RefreshStatus.FAILED
    assert "Operation too slow" in done.errors[0]
    location = Location.objects.get(pk=remote.location_id)
    assert "Operation too slow" in location.errors[0]
    answer = api_as(carol).get(f"{API}/refresh-requests/{queued['id']}").json()
    assert answer["status"] == "failed" and answer["errors"] == done.errors
    assert refresh_request_run(refresh_id=queued["id"]) is None, "a redelivered task does nothing"


def test_asking_again_while_a_refresh_waits_in_the_queue_answers_with_that_one(remote, carol, bob):
    first = refresh(api_as(carol), remote).json()
    second = refresh(api_as(bob), remote).json()

    assert first["id"] == second["id"]
    assert RefreshRequest.objects.count() == 1


def test_a_refresh_left_in_the_queue_by_a_dead_worker_is_shown_as_lost_and_does_not_block_a_new_one(
    remote, carol, settings
):
    lost = RefreshRequest.objects.get(pk=refresh(api_as(carol), remote).json()["id"])
    RefreshRequest.objects.filter(pk=lost.pk).update(
        requested_at=timezone.now() - timedelta(seconds=settings.CATALOG_REFRESH_QUEUED_STALE_SECONDS + 1)
    )
    lost.refresh_from_db()
    assert lost.lost

    assert refresh(api_as(carol), remote).json()["id"] != lost.pk


def test_the_refresh_button_queues_and_the_entity_page_polls_until_the_result_lands(remote, client, carol):
    client.force_login(carol)
    url = reverse("catalog:entity_refresh", kwargs={"kind": "component", "namespace": "default", "name": "ledger"})

    response = client.post(url, **HTMX)

    assert response.status_code == 202
    queued = RefreshRequest.objects.get()
    content = response.content.decode()
    assert f'hx-get="{entity_page(remote)}?refresh={queued.pk}"' in content and POLLING in content
    assert "Refresh queued" in content

    still = client.get(f"{entity_page(remote)}?refresh={queued.pk}", **HTMX).content.decode()
    assert POLLING in still, "it keeps polling while the worker has not finished"

    refresh_request_run(refresh_id=queued.pk)
    landed = client.get(f"{entity_page(remote)}?refresh={queued.pk}", **HTMX).content.decode()
    assert POLLING not in landed, "polling stops once the result is shown"
    assert "Refreshed from its location, with errors" in landed and "Operation too slow" in landed


def test_a_plain_refresh_post_redirects_to_the_page_which_shows_the_queued_refresh(remote, client, carol):
    client.force_login(carol)
    url = reverse("catalog:entity_refresh", kwargs={"kind": "component", "namespace": "default", "name": "ledger"})

    response = client.post(url, follow=True)

    content = response.content.decode()
    assert response.redirect_chain[-1][0] == entity_page(remote)
    assert "queued: this page shows the result when it lands" in content and POLLING in content


def test_the_location_row_queues_a_remote_refresh_and_polls_its_row(remote, client, carol):
    client.force_login(carol)
    pk = remote.location_id

    response = client.post(reverse("catalog:location_refresh", args=[pk]), **HTMX)

    assert response.status_code == 202
    queued = RefreshRequest.objects.get()
    row_url = reverse("catalog:location_detail", args=[pk])
    assert f'hx-get="{row_url}?refresh={queued.pk}"' in response.content.decode()
    refresh_request_run(refresh_id=queued.pk)
    row = client.get(f"{row_url}?refresh={queued.pk}", **HTMX)
    assert row.status_code == 200 and row.content.decode().lstrip().startswith(f'<tr id="location-{pk}"')
    assert POLLING not in row.content.decode() and "Operation too slow" in row.content.decode()
    page = client.get(row_url).content.decode()
    assert "Recent manual refreshes" in page and "carol" in page


def test_the_location_list_shows_a_queued_refresh_opened_meanwhile(remote, client, carol, bob):
    refresh(api_as(bob), remote)
    client.force_login(carol)

    content = client.get(reverse("catalog:location_list")).content.decode()

    assert "Refresh queued" in content and POLLING in content


# --- locations on this disk are read in the request -----------------------------------------------------------


def test_a_refresh_of_a_local_location_is_read_in_the_request(local, carol):
    response = refresh(api_as(carol), local)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done" and body["unchanged"] == 1 and body["finishedAt"]


# --- rate limits ----------------------------------------------------------------------------------------------


def test_refreshes_by_a_person_without_staff_rights_are_limited_per_person(local, carol, settings):
    settings.CATALOG_REFRESH_RATE_PER_USER = 3
    client = api_as(carol)
    assert [refresh(client, local).status_code for _ in range(3)] == [200, 200, 200]

    refused = refresh(client, local)

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= settings.CATALOG_REFRESH_RATE_WINDOW_SECONDS
    body = refused.json()
    assert body["error"]["name"] == "TooManyRequestsError"
    assert "3 refreshes in the last 60 s" in body["error"]["message"]
    assert RefreshRequest.objects.count() == 3, "a refused refresh changes nothing"


def test_a_location_is_limited_across_people(local, carol, bob, alice, settings):
    settings.CATALOG_REFRESH_RATE_PER_LOCATION = 2
    assert refresh(api_as(carol), local).status_code == 200
    assert refresh(api_as(bob), local).status_code == 200

    refused = refresh(api_as(alice), local)

    assert refused.status_code == 429
    assert "this location was asked to refresh 2 times" in refused.json()["error"]["message"]


def test_staff_are_not_rate_limited(local, platform_user, settings):
    settings.CATALOG_REFRESH_RATE_PER_USER = settings.CATALOG_REFRESH_RATE_PER_LOCATION = 1

    assert [refresh(api_as(platform_user), local).status_code for _ in range(3)] == [200, 200, 200]


def test_the_limit_is_counted_in_the_database_over_a_sliding_window(local, carol, settings):
    settings.CATALOG_REFRESH_RATE_PER_USER = 1
    assert refresh(api_as(carol), local).status_code == 200
    assert refresh(api_as(carol), local).status_code == 429, "another client (process) sees the same count"

    RefreshRequest.objects.update(requested_at=timezone.now() - timedelta(seconds=61))

    assert refresh(api_as(carol), local).status_code == 200


def test_a_refused_refresh_on_the_page_says_why_with_retry_after(local, client, carol, settings):
    settings.CATALOG_REFRESH_RATE_PER_USER = 1
    client.force_login(carol)
    url = reverse("catalog:entity_refresh", kwargs={"kind": "component", "namespace": "default", "name": "ledger"})
    assert client.post(url, **HTMX).status_code == 200

    refused = client.post(url, **HTMX)

    assert refused.status_code == 429 and refused["Retry-After"]
    assert "you have asked for 1 refreshes in the last 60 s" in refused.content.decode()
    assert client.post(reverse("catalog:location_refresh", args=[local.location_id]), **HTMX).status_code == 429


def test_old_refresh_requests_are_purged(local, carol):
    refresh(api_as(carol), local)
    RefreshRequest.objects.update(requested_at=timezone.now() - timedelta(days=2))

    assert refresh_requests_purge(older_than=timedelta(hours=24)) == 1
    assert not RefreshRequest.objects.exists()


def test_an_unknown_refresh_request_is_a_404(carol):
    response = api_as(carol).get(f"{API}/refresh-requests/999999")

    assert response.status_code == 404 and response.json()["error"]["name"] == "NotFoundError"
