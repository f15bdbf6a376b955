"""Another team's member is refused (403) by the Builder's API before the body of a write is read, as by its pages:
a malformed body says nothing to someone who may not write anyway (the authorization matrix found these)."""

from __future__ import annotations

import pytest

from dataproducts.tests.conftest import port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture
def cashflow(build_dp, alice):
    return build_dp(alice)


@pytest.mark.parametrize("path", ["components/", "edit/"])
def test_another_teams_member_is_refused_before_the_body_is_read(api_client, bob, cashflow, path):
    api_client.force_authenticate(bob)
    response = api_client.post(f"/api/dataproducts/data-products/{cashflow.name}/{path}", {}, format="json")
    assert response.status_code == 403, response.json()
    assert "finance" in response.json()["detail"]


def test_the_owner_team_still_gets_400_for_an_empty_body(api_client, alice, cashflow):
    api_client.force_authenticate(alice)
    response = api_client.post(f"/api/dataproducts/data-products/{cashflow.name}/components/", {}, format="json")
    assert response.status_code == 400
    assert "template" in response.json()["errors"]


def test_a_component_edit_by_another_team_is_refused_before_the_body_is_read(api_client, alice, bob, cashflow,
                                                                             build_component):  # fmt: skip
    component = build_component(cashflow, alice, **port_values())
    api_client.force_authenticate(bob)
    response = api_client.post(f"/api/dataproducts/components/{component.name}/edit/", {}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), [("post", ""), ("patch", "finance/")])
def test_people_without_staff_rights_may_not_write_domains_whatever_the_body(
    api_client, alice, file_domains, method, path
):
    api_client.force_authenticate(alice)
    response = getattr(api_client, method)(f"/api/dataproducts/domains/{path}", {}, format="json")
    assert response.status_code == 403
    assert "staff" in response.json()["detail"]
