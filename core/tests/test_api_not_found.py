"""Every path under /api/ answers JSON, a path that names no endpoint too (the API fuzzing found HTML 404 pages for
paths that matched no pattern: a domain name with a dot, a newline in a catalog path)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/no-such-endpoint",
        "/api/dataproducts/domains/a.b/",  # dotted names reach the view (and its JSON 404)
        "/api/dataproducts/nothing/here/",
        "/api/dataproducts/domains/%0Afinance/",
    ],
)
def test_a_path_that_names_nothing_is_a_json_404(api_client, carol, path):
    api_client.force_authenticate(carol)
    response = api_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_a_catalog_path_with_a_newline_is_backstages_404(api_client, carol):
    api_client.force_authenticate(carol)
    response = api_client.get("/api/catalog/locations/%0A1")
    assert response.status_code == 404
    assert response.json()["error"]["name"] == "NotFoundError"


def test_a_missing_trailing_slash_is_named(api_client, carol):
    api_client.force_authenticate(carol)
    response = api_client.get("/api/me")
    assert response.status_code == 404
    assert "did you mean /api/me/" in response.json()["detail"]


def test_anonymous_requests_for_unknown_paths_get_401_as_everywhere_in_the_api(api_client):
    response = api_client.get("/api/no-such-endpoint")
    assert response.status_code == 401
    assert response["WWW-Authenticate"]
