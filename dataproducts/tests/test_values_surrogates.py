"""A lone surrogate (JSON ``"\\ud800"``) is not Unicode text: PostgreSQL cannot store it and Git files cannot hold
it. It is refused as a problem of the field that holds it, by ``values_validate`` (wizard, API and command alike)
and by the API's JSON parser for every body, never reported as a template error or answered with a 500."""

from __future__ import annotations

import json

import pytest

from dataproducts import selectors
from dataproducts.models import DataProduct
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.scaffold.values import values_validate
from dataproducts.tests.conftest import dp_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_templates")]

URL = "/api/dataproducts/data-products/"
LONE = "\ud800"


def post_json(client, url: str, payload: object):
    # json.dumps writes a lone surrogate as the escape \ud800, as a hostile client would send it
    return client.post(url, json.dumps(payload), content_type="application/json")


@pytest.fixture
def parameters(file_templates, file_domains):
    return selectors.template_get(ref="template:dataproduct").spec["parameters"]


def test_values_validate_names_the_field_holding_a_lone_surrogate(parameters, alice):
    errors = values_validate(parameters, dp_values(description=f"a{LONE}b"), context=PickerContext(user=alice))

    assert errors == {"description": ["must not contain surrogate characters (U+D800 is not valid Unicode text)"]}


def test_values_validate_names_list_items_and_skips_catalog_lookups_of_such_values(parameters, alice):
    values = dp_values(tags=["finance", LONE], domain=f"domain:{LONE}")

    errors = values_validate(parameters, values, context=PickerContext(user=alice))

    assert "must not contain surrogate characters (U+D800 is not valid Unicode text)" in errors["tags[1]"]
    assert errors["domain"] == ["must not contain surrogate characters (U+D800 is not valid Unicode text)"]


def test_values_validate_shows_an_unknown_key_with_a_lone_surrogate_escaped(parameters, alice):
    errors = values_validate(parameters, dp_values() | {f"x{LONE}": "y"}, context=PickerContext(user=alice))

    assert errors == {"x\\ud800": ["is not a parameter of this template"]}
    json.dumps(errors, ensure_ascii=False).encode()  # printable and encodable: no surrogate left in it


@pytest.mark.parametrize("field", ["description", "title", "owner", "domain"])
def test_the_api_refuses_a_lone_surrogate_in_a_value_naming_the_field(
    api_client, alice, file_templates, file_domains, field
):
    api_client.force_authenticate(alice)

    response = post_json(api_client, URL, {"template": "template:dataproduct", "values": dp_values(**{field: LONE})})

    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [f"values.{field}"], body
    assert body["errors"][f"values.{field}"] == ["Surrogate characters are not allowed: U+D800."]
    assert "render" not in body["detail"] and "template" not in body["errors"]
    assert not DataProduct.objects.exists()


def test_a_lone_surrogate_in_a_key_is_refused_with_the_key_escaped(api_client, alice, file_templates, file_domains):
    api_client.force_authenticate(alice)

    response = post_json(api_client, URL, {"template": "template:dataproduct", "values": {LONE: "x"}})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["values.\\ud800"]


def test_the_catalog_api_refuses_a_lone_surrogate_in_an_entity_with_backstage_errors(api_client, alice, db):
    api_client.force_authenticate(alice)
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "ledger", "description": LONE},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:finance"},
    }

    response = post_json(api_client, "/api/catalog/validate-entity", {"entity": entity, "location": "url:x"})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "name": "InputError",
            "message": "entity.metadata.description: Surrogate characters are not allowed: U+D800.",
        },
        "response": {"statusCode": 400},
    }


def test_the_descriptor_check_refuses_a_lone_surrogate(api_client, alice, db):
    api_client.force_authenticate(alice)

    response = post_json(
        api_client, "/api/dataproducts/validate-descriptor", {"descriptor": {"id": "urn:dmb:dp:a", "name": LONE}}
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["descriptor.name"]
