"""Releases through the API (``/api/dataproducts/data-products/<name>/releases/``): listed newest first, a draft made
by ``POST {kind: draft}``, promoted by ``POST …/promote/``; 400 naming ``version`` or listing the breaking changes,
403 for another team, and no release ever changed or deleted (400)."""

from __future__ import annotations

import pytest

from dataproducts.models import DataProductIdentity, Release
from dataproducts.tests.conftest import dataproduct_create_shared, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]

URL = "/api/dataproducts/data-products/finance.cashflow.0/releases/"


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    return templates_location_shared


@pytest.fixture(scope="module", autouse=True)
def product(shared_git):
    return dataproduct_create_shared(shared_git, components=[port_values()])


@pytest.fixture
def as_alice(api_client, alice):
    api_client.force_authenticate(alice)
    return api_client


def test_a_draft_then_a_promotion_then_the_list_newest_first(as_alice):
    draft = as_alice.post(URL, {"kind": "draft", "notes": "First cut"}, format="json")
    assert draft.status_code == 201, draft.json()
    assert draft.json()["version"] == "0.0-SNAPSHOT-1" and draft.json()["kind"] == "draft"
    assert set(draft.json()["descriptors"]) == {"development", "qa", "production"}

    stable = as_alice.post(f"{URL}promote/", {}, format="json")
    assert stable.status_code == 201, stable.json()
    assert stable.json()["version"] == "0.0.0" and stable.json()["tag"] == "v0.0.0"
    assert stable.json()["promoted_from"] == "0.0-SNAPSHOT-1" and stable.json()["notes"] == "First cut"

    listed = as_alice.get(URL).json()
    assert listed["count"] == 2
    assert [(item["version"], item["kind"]) for item in listed["results"]] == [
        ("0.0.0", "stable"),
        ("0.0-SNAPSHOT-1", "draft"),
    ]
    assert listed["results"][0]["created_by"] == "alice"
    assert as_alice.get(f"{URL}0.0.0/").json()["descriptors"]["qa"]["version"] == "0.0.0"


def test_a_bad_version_is_a_400_naming_the_field(as_alice):
    assert as_alice.post(URL, {"kind": "draft"}, format="json").status_code == 201

    response = as_alice.post(f"{URL}promote/", {"version": "1.0.0"}, format="json")

    assert response.status_code == 400
    assert "changes the major from 0" in response.json()["errors"]["version"][0]
    assert not Release.objects.filter(kind="stable").exists()


def test_a_breaking_change_is_a_400_listing_each_difference(as_alice, product):
    identity = DataProductIdentity.objects.get(entity_name=product)
    port = {"id": "urn:dmb:cmp:finance:cashflow:0:daily-balances", "kind": "outputport"}
    common = {"product": identity, "major": 0, "commit": "0" * 40}
    Release.objects.create(
        **common, version="0.0.0", kind="stable", minor=0, patch=0, descriptors={"qa": {"components": [port]}}
    )
    Release.objects.create(
        **common, version="0.1-SNAPSHOT-1", kind="draft", minor=1, snapshot=1, descriptors={"qa": {"components": []}}
    )

    response = as_alice.post(f"{URL}promote/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["breaking_changes"] == [
        "qa: components[0]: the output port urn:dmb:cmp:finance:cashflow:0:daily-balances was removed"
    ]


def test_another_team_gets_403_and_a_stable_release_is_never_changed(api_client, as_alice, bob):
    as_alice.post(URL, {"kind": "draft"}, format="json")
    as_alice.post(f"{URL}promote/", {}, format="json")
    stable = Release.objects.get(kind="stable")

    for method in ("put", "patch", "delete"):
        response = getattr(as_alice, method)(f"{URL}0.0.0/", {"notes": "rewritten"}, format="json")
        assert response.status_code == 400
        assert "stable release is immutable" in response.json()["errors"]["version"][0]
    assert as_alice.delete(f"{URL}0.0-SNAPSHOT-1/").status_code == 400
    stable.refresh_from_db()
    assert stable.notes == "" and Release.objects.count() == 2

    api_client.force_authenticate(bob)
    assert api_client.post(URL, {"kind": "draft"}, format="json").status_code == 403
    assert api_client.post(f"{URL}promote/", {}, format="json").status_code == 403
    assert api_client.get(URL).status_code == 200


def test_a_stable_kind_is_made_by_promotion_only(as_alice):
    response = as_alice.post(URL, {"kind": "stable"}, format="json")
    assert response.status_code == 400 and "promoting a draft" in response.json()["errors"]["kind"][0]
