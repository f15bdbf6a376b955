"""Authentication and errors under /api/catalog/: every endpoint needs a signed-in user or a token, and every
error uses Backstage's body ``{"error": {"name", "message"}, "response": {"statusCode"}}`` (PRODUCT §3.4)."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from core.services import api_token_create

API = "/api/catalog"
ENDPOINTS = [
    ("get", "/entities/by-query"),
    ("get", "/entities/by-name/component/default/ledger"),
    ("get", "/entities/by-uid/00000000-0000-0000-0000-000000000000"),
    ("delete", "/entities/by-uid/00000000-0000-0000-0000-000000000000"),
    ("post", "/entities/by-refs"),
    ("get", "/entity-facets?facet=kind"),
    ("post", "/refresh"),
    ("post", "/validate-entity"),
    ("get", "/locations"),
    ("post", "/locations"),
    ("get", "/locations/1"),
    ("delete", "/locations/1"),
    ("post", "/locations/1/trust"),
    ("get", "/no-such-endpoint"),
]


def assert_error(response, status: int, name: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body == {"error": {"name": name, "message": body["error"]["message"]}, "response": {"statusCode": status}}
    assert body["error"]["message"]
    return body["error"]["message"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_requests_get_a_401_in_backstage_shape_with_www_authenticate(api_client, db, method, path):
    response = getattr(api_client, method)(API + path, {}, format="json")

    message = assert_error(response, 401, "AuthenticationError")
    assert message == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == 'Bearer realm="meshforge"'


@pytest.mark.parametrize("header", ["Bearer mf_not-a-real-token", "Bearer", "Token a b"])
def test_bad_tokens_get_a_401_in_backstage_shape(api_client, db, header):
    response = api_client.get(f"{API}/entities/by-query", HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "AuthenticationError")
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize("keyword", ["Bearer", "Token"])
def test_a_personal_token_works_as_a_backstage_client_sends_it(api_client, bob, keyword):
    _, key = api_token_create(user=bob, name="backstage", actor=bob)
    response = api_client.get(f"{API}/entities/by-query", HTTP_AUTHORIZATION=f"{keyword} {key}")
    assert response.status_code == 200
    assert response.json() == {"items": [], "totalItems": 0, "pageInfo": {}}


def test_token_clients_need_no_csrf_token_to_write(bob):
    _, key = api_token_create(user=bob, name="script", actor=bob)
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/entities/by-refs", {"entityRefs": []}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 200


def test_session_writes_without_the_csrf_token_are_refused_in_backstage_shape(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(f"{API}/entities/by-refs", {"entityRefs": []}, format="json")
    assert "CSRF" in assert_error(response, 403, "NotAllowedError")


def test_an_unknown_endpoint_is_a_404_in_backstage_shape(api_client, carol):
    api_client.force_login(carol)
    for path in ("/nothing", "/entities/by-query/", "/locations/1/nothing", "/entities/by-name/component/ledger"):
        assert_error(api_client.get(API + path), 404, "NotFoundError")


def test_a_method_an_endpoint_does_not_have_is_a_405_naming_the_allowed_ones(api_client, carol):
    api_client.force_login(carol)
    response = api_client.put(f"{API}/entities/by-query", {}, format="json")
    assert assert_error(response, 405, "NotAllowedError") == 'Method "PUT" not allowed.'
    assert "GET" in response["Allow"]


def test_malformed_json_is_a_400_input_error(api_client, carol):
    api_client.force_login(carol)
    for body in ("{", "nul", '{"entityRefs": [NaN]}', "[" * 100_000):
        response = api_client.post(f"{API}/entities/by-refs", body, content_type="application/json")
        assert_error(response, 400, "InputError")


def test_an_unsupported_content_type_is_an_input_error(api_client, carol):
    api_client.force_login(carol)
    response = api_client.post(f"{API}/refresh", "entityRef=x", content_type="text/plain")
    assert "text/plain" in assert_error(response, 415, "InputError")


def test_too_many_refs_are_a_400_naming_the_field(api_client, carol):
    api_client.force_login(carol)
    refs = [f"component:default/c{index}" for index in range(10_001)]
    response = api_client.post(f"{API}/entities/by-refs", {"entityRefs": refs}, format="json")
    assert assert_error(response, 400, "InputError").startswith("entityRefs: ")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/entity-facets?facet=ki%00nd", "facet"),
        ("/entity-facets?facet=", "facet"),
        ("/entities/by-query?orderField=metadata.name%00", "orderField"),
        ("/entities/by-query?fullTextFilterFields=a%00", "fullTextFilterFields"),
        ("/entities/by-query?filter=kind%3Dcomponent%00", "filter"),
        ("/entities/by-query?cursor=%00", "cursor"),
    ],
)
def test_nul_characters_and_empty_values_in_parameters_are_400s_naming_them(api_client, carol, path, param):
    api_client.force_login(carol)
    assert assert_error(api_client.get(API + path), 400, "InputError").startswith(f"{param}: ")


def test_the_rest_of_the_api_keeps_its_own_error_body(api_client, db):
    assert api_client.get("/api/me/").json() == {"detail": "Authentication credentials were not provided."}


def test_the_catalog_endpoints_are_in_the_openapi_schema_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    for path in (
        "/api/catalog/entities/by-query:",
        "/api/catalog/entities/by-name/{kind}/{namespace}/{name}:",
        "/api/catalog/entities/by-uid/{uid}:",
        "/api/catalog/entities/by-refs:",
        "/api/catalog/entity-facets:",
        "/api/catalog/refresh:",
        "/api/catalog/validate-entity:",
        "/api/catalog/locations:",
        "/api/catalog/locations/{id}:",
        "/api/catalog/locations/{id}/trust:",
    ):
        assert path in schema
    assert "no-such" not in schema and "/api/catalog/{" not in schema


@pytest.mark.parametrize("path", sorted({path for _, path in ENDPOINTS}))
def test_every_endpoint_answers_options_head_and_the_browsable_api_without_crashing(api_client, platform_user, path):
    api_client.force_login(platform_user)
    assert api_client.options(API + path).status_code < 500
    assert api_client.head(API + path).status_code < 500
    assert api_client.get(API + path, HTTP_ACCEPT="text/html").status_code < 500
