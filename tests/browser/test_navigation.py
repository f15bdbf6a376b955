"""Signing in, walking the header navigation and signing out in a real browser."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

SECTIONS = [
    ("Marketplace", "/", "Marketplace"),
    ("Builder", "/builder/", "My data products"),
    ("Catalog", "/catalog/", "Catalog"),
    ("Governance", "/governance/", "Governance"),
]


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


@pytest.fixture
def requested_urls(page):
    """Every URL the page requests during the test."""
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def test_alice_signs_in_and_walks_every_section_of_the_header(page, live_server, sign_in):
    sign_in(page, live_server, "alice")
    assert urlsplit(page.url).path == "/"
    expect(page.locator("h1")).to_have_text("Marketplace")

    for label, path, heading in SECTIONS:
        link = main_nav(page).get_by_role("link", name=label, exact=True)
        with page.expect_navigation():
            link.click()
        assert urlsplit(page.url).path == path
        expect(page.locator("h1")).to_have_text(heading)
        expect(main_nav(page).get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "page")
        expect(main_nav(page).locator("[aria-current]")).to_have_count(1)


def test_a_member_who_is_not_staff_sees_no_admin_link(page, live_server, sign_in):
    sign_in(page, live_server, "alice")
    expect(main_nav(page).get_by_role("link")).to_have_count(len(SECTIONS))
    expect(main_nav(page).get_by_role("link", name="Admin")).to_have_count(0)


def test_the_platform_team_follows_the_admin_link_to_the_django_admin(page, live_server, sign_in):
    sign_in(page, live_server, "platform")
    with page.expect_navigation():
        main_nav(page).get_by_role("link", name="Admin", exact=True).click()
    assert urlsplit(page.url).path == "/admin/"
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page).to_have_title("Site administration | Meshforge admin")


def test_signing_out_from_the_header_returns_to_the_login_page(page, live_server, sign_in):
    sign_in(page, live_server, "alice")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert urlsplit(page.url).path == "/accounts/login/"
    expect(page.locator("h1")).to_have_text("Sign in to Meshforge")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_an_anonymous_visit_to_the_catalog_lands_on_the_login_page_with_next(page, live_server, transactional_db):
    page.goto(f"{live_server.url}/catalog/")
    url = urlsplit(page.url)
    assert url.path == "/accounts/login/"
    assert parse_qs(url.query)["next"] == ["/catalog/"]
    expect(page.locator("h1")).to_have_text("Sign in to Meshforge")


def test_htmx_is_served_by_the_app_and_no_request_leaves_the_live_server(page, live_server, sign_in, requested_urls):
    sign_in(page, live_server, "alice")
    for label, _path, _heading in SECTIONS[1:]:
        with page.expect_navigation():
            main_nav(page).get_by_role("link", name=label, exact=True).click()
        page.wait_for_load_state("load")
        assert page.evaluate("typeof htmx") == "object"

    assert any(urlsplit(url).path.startswith("/static/") and "htmx" in url for url in requested_urls)
    foreign = [url for url in requested_urls if not url.startswith(f"{live_server.url}/")]
    assert not foreign, f"requests left the live server {live_server.url}: {foreign}"
