"""Signing in, walking the header navigation and signing out in a real browser."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

SECTIONS = [
    ("Marketplace", "/", "Marketplace"),
    ("Builder", "/builder/", "My data products"),
    ("Catalog", "/catalog/", "Catalog"),
    ("Governance", "/governance/", "Governance"),
    ("Deployments", "/provisioning/deployments/", "Deployments"),
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


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def data_product(builder_catalog, personas):
    """A data product with an output port, created through the Builder's services (not its wizard, which
    test_builder drives), so the pages of a real product can be walked."""
    from dataproducts import selectors, services
    from dataproducts.tests.conftest import dp_values, port_values

    alice = personas["alice"]
    created = services.dataproduct_create(
        template=selectors.template_get(ref="template:dataproduct"), values=dp_values(), actor=alice
    )
    services.component_create(
        data_product=selectors.dataproduct_get(name=created.name),
        template=selectors.template_get(ref="template:outputport"),
        values=port_values(
            columns=[
                {"name": "day", "dataType": "DATE", "description": "The day", "constraint": "PRIMARY_KEY"},
                {"name": "entries", "dataType": "BIGINT", "description": "Ledger entries that day"},
            ]
        ),
        actor=alice,
    )
    return selectors.dataproduct_get(name=created.name)


def test_every_main_page_fits_a_phone_and_logs_no_error(page, live_server, sign_in, data_product, personas):
    # The checks themselves live in tests/browser/conftest.py and run on every page this test loads: no
    # console error, no sideways scroll at 390 px. This test only makes sure the main pages are among them.
    from core.services import api_token_create

    api_token_create(user=personas["alice"], name="a rather long token name for a laptop", actor=personas["alice"])
    component = data_product.components.first()
    dp = f"/dp/{data_product.name}/"
    paths = [
        "/",
        "/builder/",
        "/builder/?mine=",
        "/builder/domains/",
        "/builder/templates/",
        dp,
        f"{dp}?tab=components",
        f"{dp}?tab=descriptor",
        f"{dp}c/{component.slug}/",
        "/catalog/",
        f"/catalog/entity/system/default/{data_product.name}/",
        "/catalog/locations/",
        "/catalog/register/",
        "/governance/",
        "/accounts/profile/",
    ]
    sign_in(page, live_server, "alice")
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path


def test_on_a_phone_the_header_folds_its_navigation_behind_a_menu(page, live_server, sign_in):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "alice")
    menu = page.locator("summary", has_text="Menu")

    expect(menu).to_be_visible()
    expect(main_nav(page)).to_be_hidden()
    header_height = page.locator(".site-header").bounding_box()["height"]
    assert header_height < 70, f"the folded header is {header_height} px tall"

    menu.click()
    with page.expect_navigation():
        main_nav(page).get_by_role("link", name="Catalog", exact=True).click()
    expect(page.locator("h1")).to_have_text("Catalog")
    expect(main_nav(page)).to_be_hidden()


def test_on_a_wide_screen_the_menu_stays_open_without_a_toggle(page, live_server, sign_in):
    sign_in(page, live_server, "alice")
    expect(page.locator("summary", has_text="Menu")).to_be_hidden()
    expect(main_nav(page)).to_be_visible()
