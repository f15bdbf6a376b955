"""The Builder's REST API: creating data products and components from templates, editing, descriptors and
domains, with the same rules as the UI (400 naming the field, 403 for other teams, 409 on conflicts)."""

from __future__ import annotations

import pytest

from dataproducts import selectors
from dataproducts.models import DataProduct, DataProductReservation
from dataproducts.tests.conftest import dp_values, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike: the tests that only read them get the same entities as those that render them."""
    return templates_location_shared


URL = "/api/dataproducts/data-products/"

# Tests that create through the API render the built-in templates from Git (templates_location); the domains they
# need are read from a file (file_domains), as where the domains live plays no part in creation.


@pytest.fixture
def as_alice(api_client, alice):
    api_client.force_authenticate(alice)
    return api_client


def test_anonymous_requests_get_401(api_client, templates_location, file_domains):
    assert api_client.get(URL).status_code == 401
    assert (
        api_client.post(URL, {"template": "template:dataproduct", "values": dp_values()}, format="json").status_code
        == 401
    )


def test_post_creates_a_data_product_from_a_template(as_alice, templates_location, file_domains):
    response = as_alice.post(URL, {"template": "template:dataproduct", "values": dp_values()}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "finance.cashflow.0" and body["id"] == "urn:dmb:dp:finance:cashflow:0"
    assert body["version"] == "0.0.0" and body["owner_team"] == "finance"
    assert as_alice.get(f"{URL}finance.cashflow.0/").json()["title"] == "Cash flow"
    assert [item["name"] for item in as_alice.get(URL).json()["results"]] == ["finance.cashflow.0"]


def test_a_dry_run_returns_the_files_and_writes_nothing(as_alice, templates_location, file_domains):
    response = as_alice.post(
        URL, {"template": "template:dataproduct", "values": dp_values(), "dry_run": True}, format="json"
    )
    assert response.status_code == 200
    assert "catalog-info.yaml" in response.json()["files"]
    assert not DataProduct.objects.exists() and not DataProductReservation.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"template": "template:dataproduct", "values": dp_values(name="Bad Name")}, "values.name"),
        ({"template": "template:dataproduct", "values": dp_values(maturity=3)}, "values.maturity"),
        ({"template": "template:nothing", "values": dp_values()}, "template"),
        ({"template": "template:dataproduct"}, "values"),
        ({"template": "template:outputport", "values": port_values()}, "template"),
        ({"template": "template:dataproduct", "values": ["not", "an", "object"]}, "values"),
    ],
)
def test_bad_input_gets_400_naming_the_field(as_alice, templates_location, file_domains, payload, field):
    response = as_alice.post(URL, payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not DataProduct.objects.exists()


def test_creating_under_another_team_gets_403(api_client, templates_location, file_domains, bob):
    api_client.force_authenticate(bob)
    response = api_client.post(URL, {"template": "template:dataproduct", "values": dp_values()}, format="json")
    assert response.status_code == 403
    assert not DataProduct.objects.exists()


def test_creating_twice_gets_409(as_alice, templates_location, file_domains):
    payload = {"template": "template:dataproduct", "values": dp_values()}
    assert as_alice.post(URL, payload, format="json").status_code == 201
    response = as_alice.post(URL, payload, format="json")
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_components_are_added_and_removed_through_the_api(as_alice, templates_location, file_domains):
    as_alice.post(URL, {"template": "template:dataproduct", "values": dp_values()}, format="json")

    response = as_alice.post(
        f"{URL}finance.cashflow.0/components/",
        {"template": "template:outputport", "values": port_values()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == "urn:dmb:cmp:finance:cashflow:0:daily-balances"
    descriptor = as_alice.get(f"{URL}finance.cashflow.0/descriptor/?environment=qa").json()
    assert descriptor["valid"] is True, descriptor["errors"]
    assert descriptor["descriptor"]["environment"] == "qa"

    assert as_alice.delete("/api/dataproducts/components/finance.cashflow.0.daily-balances/").status_code == 204
    assert as_alice.get(f"{URL}finance.cashflow.0/").json()["components"] == []


def test_an_unknown_environment_gets_400(as_alice, build_dp, alice):
    build_dp(alice)
    response = as_alice.get(f"{URL}finance.cashflow.0/descriptor/?environment=moon")
    assert response.status_code == 400 and "environment" in response.json()["errors"]


def test_editing_through_the_api_previews_then_commits(as_alice, templates_location, file_domains):
    as_alice.post(URL, {"template": "template:dataproduct", "values": dp_values()}, format="json")
    editable = as_alice.get(f"{URL}finance.cashflow.0/edit/").json()
    values = {**editable["values"], "description": "Edited through the API"}

    preview = as_alice.post(
        f"{URL}finance.cashflow.0/edit/",
        {"values": values, "base_revision": editable["base_revision"], "dry_run": True},
        format="json",
    ).json()
    assert preview["changed"] is True and preview["commit"] == ""
    assert '-  description: "Operating cash flows"' in preview["diff"]

    done = as_alice.post(
        f"{URL}finance.cashflow.0/edit/", {"values": values, "base_revision": editable["base_revision"]}, format="json"
    )
    assert done.status_code == 200 and len(done.json()["commit"]) == 40
    assert selectors.dataproduct_get(name="finance.cashflow.0").description == "Edited through the API"

    stale = as_alice.post(
        f"{URL}finance.cashflow.0/edit/", {"values": values, "base_revision": editable["base_revision"]}, format="json"
    )
    assert stale.status_code == 409 and "changed in Git" in stale.json()["detail"]


def test_bob_gets_403_on_every_write_to_a_finance_data_product(api_client, templates_location, build_dp, alice, bob):
    build_dp(alice, components=[port_values()])
    api_client.force_authenticate(bob)

    # a well-formed edit: refused for who asks, whatever it would change
    edit = api_client.post(
        f"{URL}finance.cashflow.0/edit/",
        {"values": {**dp_values(), "description": "bob"}, "base_revision": "0" * 40},
        format="json",
    )
    add = api_client.post(
        f"{URL}finance.cashflow.0/components/",
        {"template": "template:outputport", "values": port_values(name="other-port")},
        format="json",
    )
    remove = api_client.delete("/api/dataproducts/components/finance.cashflow.0.daily-balances/")
    assert (edit.status_code, add.status_code, remove.status_code) == (403, 403, 403)
    assert api_client.get(f"{URL}finance.cashflow.0/").status_code == 200  # read-only, not hidden


def test_templates_are_listed_by_type(as_alice, templates_location):
    names = [t["name"] for t in as_alice.get("/api/dataproducts/templates/?type=outputport").json()]
    assert names == ["outputport"]


def test_staff_create_domains_and_members_get_403(api_client, builder, platform_user, alice):
    api_client.force_authenticate(alice)
    payload = {"name": "sales", "title": "Sales", "owner_ref": "group:finance"}
    assert api_client.post("/api/dataproducts/domains/", payload, format="json").status_code == 403
    api_client.force_authenticate(platform_user)
    response = api_client.post("/api/dataproducts/domains/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["title"] == "Sales"
    renamed = api_client.patch("/api/dataproducts/domains/sales/", {"title": "Sales and orders"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "Sales and orders"
    bad = api_client.post("/api/dataproducts/domains/", {**payload, "name": "Bad!"}, format="json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
