"""OpenAPI: generated without warnings, served with docs that work offline."""

import re

from django.core.management import call_command


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning into a non-zero exit (SystemExit)
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/me/:" in schema
    assert "scheme: bearer" in schema


def test_the_schema_is_served_to_signed_in_users(api_client, alice):
    api_client.force_login(alice)
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/me/" in response.json()["paths"]


def test_the_schema_is_not_served_anonymously(api_client, db):
    assert api_client.get("/api/schema/").status_code == 401


def test_the_api_docs_load_only_local_assets(client, alice):
    client.force_login(alice)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.content.decode())
    assert sources
    assert all(source.startswith("/") for source in sources), sources


def test_anonymous_visitors_of_the_docs_are_sent_to_the_login_page(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
