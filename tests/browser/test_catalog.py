"""The catalog in a real browser: registering a Git location through the UI, searching, and watching an entity's
error badge come and go as its file breaks and is fixed in Git. Every page visited passes axe-core."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from playwright.sync_api import expect

from catalog.models import Entity, Location
from catalog.services import location_register
from core.testing.git import GitRepo
from tests.browser.test_accessibility import assert_no_blocking_violations


def component(name: str, title: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "title": title, "tags": ["finance"]},
            "spec": {"type": "service", "lifecycle": "production", "owner": "group:finance"},
        },
        sort_keys=False,
    )


@pytest.fixture(autouse=True)
def mirrors(settings, tmp_path):
    # The live server runs in this process: it reads the settings the test sets.
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"


@pytest.fixture
def repo(tmp_path):
    repo = GitRepo(tmp_path / "git", "finance", "main")
    repo.put({"catalog-info.yaml": component("ledger", "General ledger")})
    return repo


def path_of(page) -> str:
    return urlsplit(page.url).path


def test_the_platform_team_registers_a_git_location_through_the_ui_and_watches_an_error_come_and_go(
    page, live_server, sign_in, repo
):
    sign_in(page, live_server, "platform")

    # Register: paste the target, analyze, read the preview, import.
    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("navigation", name="Catalog sections").get_by_role("link", name="Register existing entity").click()
    expect(page.locator("h1")).to_have_text("Register existing entity")
    page.get_by_label("Target").fill(repo.target())
    page.get_by_role("button", name="Analyze").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("Importing would add 1 entity")
    expect(preview.get_by_role("cell", name="ledger", exact=True)).to_be_visible()
    assert not Location.objects.exists()
    assert_no_blocking_violations(page)
    with page.expect_navigation():
        preview.get_by_role("button", name="Import").click()
    assert path_of(page) == "/catalog/locations/"
    expect(page.locator("#messages")).to_contain_text("Registered git:")
    expect(page.locator("#location-results td .target")).to_have_text(re.compile(r"finance\.git#main$"))
    assert_no_blocking_violations(page)

    # Find it: search as you type, the URL follows.
    page.get_by_role("navigation", name="Catalog sections").get_by_role("link", name="Entities").click()
    page.get_by_label("Search entities").press_sequentially("ledg")
    expect(page.locator("#entity-count")).to_have_text("1 entity")
    expect(page).to_have_url(re.compile(r"q=ledg"))
    assert parse_qs(urlsplit(page.url).query)["q"] == ["ledg"]
    page.get_by_role("link", name="ledger", exact=True).click()
    expect(page.locator("h1")).to_contain_text("General ledger")
    entity_path = path_of(page)
    assert entity_path == "/catalog/entity/component/default/ledger/"
    expect(page.locator("#entity-detail .badge-error")).to_have_count(0)
    assert_no_blocking_violations(page)

    # Break the file in Git and refresh: the error badge appears in place, the page stays.
    repo.put({"catalog-info.yaml": component("ledger", "General ledger") + "  bad: [unclosed\n"}, "Break it")
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("status").filter(has_text="Refreshed from its location")).to_be_visible()
    expect(page.locator("h1 .badge-error")).to_have_text("error")
    expect(page.get_by_role("region", name="Errors", exact=True)).to_contain_text("catalog-info.yaml")
    assert path_of(page) == entity_path
    assert Entity.objects.get(name="ledger").has_errors
    assert_no_blocking_violations(page)

    # Fix it and refresh: the badge goes, the new title shows.
    repo.put({"catalog-info.yaml": component("ledger", "Ledger, fixed")}, "Fix it")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("h1")).to_contain_text("Ledger, fixed")
    expect(page.locator("#entity-detail .badge-error")).to_have_count(0)
    expect(page.get_by_role("region", name="Errors", exact=True)).to_have_count(0)


def test_a_bad_target_is_explained_next_to_the_field(page, live_server, sign_in):
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/catalog/register/")

    page.get_by_label("Target").fill("not a url")
    with page.expect_navigation():
        page.get_by_role("button", name="Analyze").click()

    expect(page.locator(".field-invalid .field-errors")).to_contain_text("not a URL")
    expect(page.get_by_label("Target")).to_have_attribute("aria-invalid", "true")
    assert not Location.objects.exists()
    assert_no_blocking_violations(page)


def test_the_catalog_pages_with_errors_and_an_unregister_step_have_no_serious_accessibility_violations(
    page, live_server, sign_in, repo, platform_user
):
    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location
    Entity.objects.filter(name="ledger").update(has_errors=True, orphan=True, errors=["catalog-info.yaml: broken"])
    Location.objects.filter(pk=location.pk).update(errors=["catalog-info.yaml: could not be parsed"])
    sign_in(page, live_server, "platform")

    for path in ["/catalog/", "/catalog/?has_errors=true", "/catalog/locations/", "/catalog/register/"]:
        page.goto(f"{live_server.url}{path}")
        assert_no_blocking_violations(page)

    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("link", name=re.compile("1 entity with errors")).click()
    expect(page.locator("#entity-count")).to_have_text("1 entity")
    expect(page.get_by_role("cell", name="error orphan")).to_be_visible()

    page.goto(f"{live_server.url}/catalog/locations/")
    page.get_by_role("button", name=re.compile("^Untrust")).click()
    expect(page.locator("#messages")).to_contain_text("no longer trusted")
    expect(page.get_by_role("button", name=re.compile("^Trust "))).to_be_visible()
    page.get_by_role("link", name=re.compile("^Unregister")).click()
    expect(page.locator("h1")).to_have_text("Unregister this location?")
    assert_no_blocking_violations(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Unregister").click()
    expect(page.locator("#messages")).to_contain_text("Unregistered")
    assert not Location.objects.exists()


@pytest.mark.parametrize(
    ("path", "select"),
    [
        ("/catalog/", "#entity-has-errors"),
        ("/catalog/locations/", "#location-has-errors"),
        ("/builder/", "#dp-has-errors"),
        ("/builder/templates/", "#template-type"),
    ],
)
def test_changing_a_filter_of_a_list_updates_it_in_place(page, live_server, sign_in, path, select):
    # htmx reads the form's trigger ("change from:(<selector>)") only when a select changes: a malformed one
    # logs htmx:syntax:error, which the console check of tests/browser/conftest.py turns into a failure.
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{path}")
    field = page.locator(select)
    values = field.locator("option").evaluate_all("(options) => options.map((option) => option.value)")
    other = next(value for value in values if value != field.input_value())

    field.select_option(other)

    expect(page).to_have_url(re.compile(rf"[?&]{field.get_attribute('name')}={other}"))
    assert path_of(page) == path
