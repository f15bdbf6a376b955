"""Staff-only catalog endpoints refuse everyone else (403) before reading the body, so a malformed body says nothing
to someone who may not act anyway (the authorization matrix found the trust endpoint answering 400 first)."""

from __future__ import annotations

import pytest

from catalog.services import location_register
from core.services import OPERATOR

pytestmark = pytest.mark.django_db

GROUP = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team}\n"

GROUP = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team}\n"


@pytest.fixture
def location(make_repo):
    repo = make_repo("services")
    repo.put({"catalog-info.yaml": GROUP})
    return location_register(type="git", target=repo.target(), actor=OPERATOR).location


@pytest.mark.parametrize("body", [{}, {"trusted": "maybe"}, {"trusted": True}])
def test_trusting_a_location_is_refused_to_people_without_staff_rights_whatever_the_body(api_client, alice, location,
                                                                                          body):  # fmt: skip
    api_client.force_authenticate(alice)
    response = api_client.post(f"/api/catalog/locations/{location.pk}/trust", body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["name"] == "NotAllowedError"


def test_staff_still_get_400_naming_the_field_for_a_bad_body(api_client, platform_user, location):
    api_client.force_authenticate(platform_user)
    response = api_client.post(f"/api/catalog/locations/{location.pk}/trust", {}, format="json")
    assert response.status_code == 400
    assert "trusted" in response.json()["error"]["message"]
