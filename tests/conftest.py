"""Fixtures of the cross-app tests: the system Chromium driven by Playwright for the browser tests, signing in through
the login form, and the world of the authorization matrix and the API fuzzing."""

import os
from pathlib import Path

import pytest

from core.testing.personas import TEST_PASSWORD

# The sync Playwright API runs an event loop in the test thread, and Django refuses ORM calls from a thread
# with a running loop unless told it is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

BROWSER_TESTS = Path(__file__).parent / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Fail fast: a missing element is a failed assertion, not a reason to wait Playwright's default 30 s.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str:
    return os.environ.get("MESHFORGE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """The system Chromium, headless; Playwright never downloads a browser of its own."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        message = f"Chromium not found at {path}: install it (apt-get install chromium) or set MESHFORGE_CHROMIUM."
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} Browser tests must run in CI.", pytrace=False)
        pytest.skip(message)

    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def world(db, settings, tmp_path):
    """The world of ``tests/world.py``, its Git repositories under ``tmp_path / "world"``."""
    from tests.world import world_build

    settings.MESHFORGE_GIT_ROOT = tmp_path / "world" / "git"
    settings.CATALOG_MIRROR_DIR = tmp_path / "world" / "mirrors"
    return world_build(tmp_path / "world")


@pytest.fixture
def page(browser):
    """A page in a fresh browser context, so no cookies or storage leak from one test to the next."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def sign_in(live_server, personas):
    """``sign_in(page, live_server, username)`` signs a persona in through the login form, as a person would.

    Requesting ``live_server`` makes the personas' database access transactional, so the server thread sees them.
    """

    def _sign_in(page, server, username, password=TEST_PASSWORD):
        page.goto(f"{server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        return page

    return _sign_in
