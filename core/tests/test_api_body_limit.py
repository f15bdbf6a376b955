"""A request body over Django's size limits (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS) gets a
400 in the API's own error body naming the body and the limit (Backstage's body under /api/catalog/); pages keep
their HTML 400."""

import json

import pytest

from core.services import api_token_create

LIMIT = 1000
TOO_BIG = json.dumps({"entityRefs": ["component:default/ledger"] * 100})


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10


@pytest.fixture
def token(alice):
    return api_token_create(user=alice, name="script", actor=alice)[1]


def test_an_oversized_json_body_gets_the_api_error_body(api_client, token):
    response = api_client.post(
        "/api/dataproducts/data-products/",
        TOO_BIG,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": f"Request body too large: {len(TOO_BIG)} bytes, the limit is {LIMIT} bytes.",
    }


def test_an_oversized_body_under_a_session_gets_json_too(api_client, alice):
    api_client.force_login(alice)

    response = api_client.post("/api/dataproducts/data-products/", TOO_BIG, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Request body too large")


def test_an_oversized_body_in_the_catalog_api_gets_backstage_errors(api_client, token):
    response = api_client.post(
        "/api/catalog/entities/by-refs", TOO_BIG, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "name": "InputError",
            "message": f"Request body too large: {len(TOO_BIG)} bytes, the limit is {LIMIT} bytes.",
        },
        "response": {"statusCode": 400},
    }


def test_a_form_body_with_too_many_fields_gets_json_naming_the_limit(api_client, token):
    response = api_client.post(
        "/api/dataproducts/data-products/",
        "&".join(f"f{index}=x" for index in range(20)),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Request body has too many fields: the limit is 10."}


def test_pages_keep_an_html_400(client, alice):
    client.force_login(alice)

    response = client.post("/accounts/profile/", {"name": "x" * 2 * LIMIT})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
