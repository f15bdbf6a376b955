"""One URL for a page and its fragment."""

from pathlib import Path

import pytest
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from core.htmx import render_page


@pytest.fixture(autouse=True)
def probe_templates(settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], Path(__file__).parent / "templates"]}
    ]


def _request(**headers):
    request = RequestFactory().get("/somewhere/", **headers)
    request.htmx = HtmxDetails(request)
    return request


def test_a_plain_request_gets_the_full_page_and_vary(db):
    response = render_page(_request(), "core/partials/htmx_probe_page.html", partial="core/partials/htmx_probe.html")
    assert response.content.decode().replace("\n", "") == "<page><fragment/></page>"
    assert "HX-Request" in response["Vary"]


def test_an_htmx_request_gets_only_the_fragment(db):
    response = render_page(
        _request(HTTP_HX_REQUEST="true"),
        "core/partials/htmx_probe_page.html",
        partial="core/partials/htmx_probe.html",
    )
    assert response.content.decode().strip() == "<fragment/>"
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_HX_BOOSTED": "true"}, {"HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}],
    ids=["boosted", "restoring history after Back"],
)
def test_boosted_and_history_restoring_requests_get_the_full_page(db, headers):
    response = render_page(
        _request(HTTP_HX_REQUEST="true", **headers),
        "core/partials/htmx_probe_page.html",
        partial="core/partials/htmx_probe.html",
    )
    assert response.content.decode().replace("\n", "") == "<page><fragment/></page>"


def test_pages_send_the_csrf_token_with_every_htmx_request(client, alice):
    client.force_login(alice)
    content = client.get("/builder/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    assert "/static/django_htmx/htmx-2.min.js" in content
