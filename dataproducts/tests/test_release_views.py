"""The Releases tab of the data product page: the releases newest first with their kind, commit, author and notes;
"Create draft" and "Promote" for the owners only, refusals shown next to the action (a breaking change with its
list), a diff of two releases' descriptors; the same number of queries for 2 releases as for 10."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dataproducts.models import DataProductIdentity, Release
from dataproducts.tests.conftest import dataproduct_create_shared, port_values
from dataproducts.tests.test_views_pages import HTMX

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]

NAME = "finance.cashflow.0"
TAB = f"/dp/{NAME}/?tab=releases"


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    return templates_location_shared


@pytest.fixture(scope="module", autouse=True)
def product(shared_git):
    return dataproduct_create_shared(shared_git, components=[port_values()])


def _rows(count: int, *, descriptor=None) -> list[Release]:
    """``count`` releases as rows (no Git): stable 0.0.0, then drafts 0.1-SNAPSHOT-1…"""
    identity = DataProductIdentity.objects.get(entity_name=NAME)
    made = []
    for index in range(count):
        common = {"product": identity, "major": 0, "commit": f"{index:040x}", "created_by_name": "alice"}
        descriptors = {"development": descriptor or {"id": "urn:dmb:dp:finance:cashflow:0", "n": index}}
        if index == 0:
            made.append(
                Release.objects.create(
                    **common, version="0.0.0", kind="stable", minor=0, patch=0, descriptors=descriptors
                )
            )
        else:
            made.append(
                Release.objects.create(
                    **common,
                    version=f"0.1-SNAPSHOT-{index}",
                    kind="draft",
                    minor=1,
                    snapshot=index,
                    descriptors=descriptors,
                )
            )
    return made


def test_the_owner_creates_a_draft_and_promotes_it_from_the_tab(client, alice):
    client.force_login(alice)
    empty = client.get(TAB)
    assert empty.status_code == 200 and "No releases yet" in empty.content.decode()

    response = client.post(reverse("dp:release_draft_create", args=[NAME]), {"notes": "First cut"}, follow=True)
    page = response.content.decode()
    assert "Made the draft 0.0-SNAPSHOT-1" in page
    assert "0.0-SNAPSHOT-1" in page and "First cut" in page and 'value="0.0.0"' in page  # the suggestion

    response = client.post(reverse("dp:release_promote", args=[NAME]), {"version": "0.0.0"}, follow=True)
    page = response.content.decode()
    assert "Made the stable release 0.0.0" in page and "badge-ok" in page
    assert Release.objects.get(kind="stable").promoted_from.version == "0.0-SNAPSHOT-1"


def test_a_refused_promotion_is_a_400_with_the_reason_next_to_the_action(client, alice):
    client.force_login(alice)
    client.post(reverse("dp:release_draft_create", args=[NAME]))

    response = client.post(reverse("dp:release_promote", args=[NAME]), {"version": "1.0.0"})

    assert response.status_code == 400
    assert "version: 1.0.0 changes the major from 0" in response.content.decode()
    assert not Release.objects.filter(kind="stable").exists()


def test_a_stable_release_is_never_promoted_or_changed_again(client, alice):
    client.force_login(alice)
    stable = _rows(1)[0]

    response = client.post(reverse("dp:release_promote", args=[NAME]), {"draft": "0.0.0", "version": "0.0.1"})

    assert response.status_code == 400 and "0.0.0 is not a draft release" in response.content.decode()
    assert Release.objects.get() == stable and Release.objects.get().notes == ""


def test_a_breaking_change_is_refused_with_its_list_and_the_next_major(client, alice):
    client.force_login(alice)
    identity = DataProductIdentity.objects.get(entity_name=NAME)
    port = {"id": "urn:dmb:cmp:finance:cashflow:0:daily-balances", "kind": "outputport"}
    common = {"product": identity, "major": 0, "commit": "0" * 40}
    Release.objects.create(
        **common, version="0.0.0", kind="stable", minor=0, patch=0, descriptors={"qa": {"components": [port]}}
    )
    Release.objects.create(
        **common, version="0.1-SNAPSHOT-1", kind="draft", minor=1, snapshot=1, descriptors={"qa": {}}
    )

    warned = client.get(TAB).content.decode()
    assert "A breaking change needs a new major version (1)" in warned

    response = client.post(reverse("dp:release_promote", args=[NAME]), {"version": "0.1.0"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Promotion refused: 1 breaking change against 0.0.0" in page
    assert "qa: components[0]: the output port urn:dmb:cmp:finance:cashflow:0:daily-balances was removed" in page
    assert "new major version 1" in page


def test_other_teams_see_the_releases_but_no_actions_and_cannot_post(client, bob):
    _rows(2)
    client.force_login(bob)
    page = client.get(TAB).content.decode()
    assert "0.1-SNAPSHOT-1" in page and "Create draft" not in page and "Promote" not in page
    assert client.post(reverse("dp:release_draft_create", args=[NAME])).status_code == 403
    assert client.post(reverse("dp:release_promote", args=[NAME])).status_code == 403
    assert Release.objects.count() == 2


def test_two_releases_compare_as_a_yaml_diff(client, alice):
    _rows(3)
    client.force_login(alice)

    response = client.get(f"{TAB}&from=0.0.0&to=0.1-SNAPSHOT-2&env=development", **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert "-n: 0" in page and "+n: 2" in page
    bad = client.get(f"{TAB}&from=0.0.0&to=9.9.9&env=nowhere")
    assert bad.status_code == 400 and "to: no release &#x27;9.9.9&#x27;" in bad.content.decode()


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_tab_costs_the_same_queries_for_2_releases_as_for_10(client, alice):
    client.force_login(alice)
    _rows(2)
    two = _queries(client, TAB), _queries(client, f"{TAB}&from=0.0.0&to=0.1-SNAPSHOT-1")
    identity = DataProductIdentity.objects.get(entity_name=NAME)
    for index in range(2, 10):
        Release.objects.create(
            product=identity,
            version=f"0.1-SNAPSHOT-{index}",
            kind="draft",
            major=0,
            minor=1,
            snapshot=index,
            descriptors={},
            commit="f" * 40,
        )
    ten = _queries(client, TAB), _queries(client, f"{TAB}&from=0.0.0&to=0.1-SNAPSHOT-1")
    assert Release.objects.count() == 10
    assert ten == two
