"""Guards every browser test carries without asking: the page it drives must log no console error and throw no
uncaught exception, and no page it loads may scroll sideways on a 390 px phone.

The ``page`` fixture here wraps the one of ``tests/conftest.py``, so every test that takes ``page`` is guarded.
A 4xx the app answers a page or htmx request with (a form with errors, a refusal) is content, not an error; a
test that provokes any other error on purpose says which with ``@pytest.mark.allow_console_errors(<regex>, ...)``.
"""

import re
from urllib.parse import urlsplit

import pytest

PHONE = {"width": 390, "height": 844}
# Requests whose 4xx answer is the app speaking (a page, an htmx fragment), and how Chromium logs any 4xx.
APP_ANSWERS = {"document", "xhr", "fetch"}
FAILED_LOAD = "Failed to load resource"
# Pages Meshforge does not style itself: the Django admin (out of scope) and the vendored API docs.
OVERFLOW_EXEMPT_PATHS = ("/admin/", "/api/docs/", "/api/redoc/")
SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
MEASURE = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# What sticks out: boxes reaching past the right edge, and boxes whose own content (a long word) overflows them.
WIDEST = """() => [...document.body.querySelectorAll('*')]
  .filter((node) => node.getBoundingClientRect().right > window.innerWidth + 0.5
    || (node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).overflowX === 'visible'))
  .slice(-3)
  .map((node) => {
    const classes = typeof node.className === 'string' ? node.className.trim().split(/\\s+/).filter(Boolean) : [];
    return node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') + classes.map((name) => '.' + name).join('');
  })"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_console_errors(*patterns): console errors matching one of these regexes are expected"
    )


# Each document hands a copy of itself to the check when it has loaded and after each htmx swap. The copy is taken
# in the browser at that moment: Playwright delivers events to Python only when the test next calls it, by which time
# the page may be elsewhere.
REPORT_LAYOUT = """
if (window === window.top) {
  const report = () => window.__meshforgeLayout(location.href, document.documentElement.outerHTML);
  addEventListener("load", report);
  addEventListener("htmx:afterSettle", report);
}
"""


class PhoneWidthCheck:
    """Lays out a copy of each page the test sees in a second, 390 px wide page and records any sideways scroll.

    A copy, not a second request: fetching the URL again could consume a flash message, advance a wizard or
    repeat a side effect, and resizing the test's own page would race with what the test does next. The copy
    keeps the page's DOM as rendered (htmx swaps included) and its stylesheet; its scripts are removed so the
    copy sends no request of its own.
    """

    def __init__(self, page):
        self.context = page.context
        self.phone = None
        self.problems: list[str] = []

    def check(self, url: str, html: str) -> None:
        if not url.startswith("http") or urlsplit(url).path.startswith(OVERFLOW_EXEMPT_PATHS):
            return
        if self.phone is None:
            self.phone = self.context.new_page()
            self.phone.set_viewport_size(PHONE)
        origin = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
        html = HEAD.sub(lambda match: f'{match.group(0)}<base href="{origin}">', SCRIPT.sub("", html), count=1)
        self.phone.set_content("<!doctype html>" + html, wait_until="load")
        scroll_width, inner_width = self.phone.evaluate(MEASURE)
        problem = f"{url} is {scroll_width} px wide at {inner_width} px"
        if scroll_width > inner_width and not any(seen.startswith(problem) for seen in self.problems):
            self.problems.append(f"{problem} (too wide: {', '.join(self.phone.evaluate(WIDEST))})")

    def close(self) -> None:
        if self.phone is not None:
            self.phone.close()


@pytest.fixture
def page(page, request):
    """The page of ``tests/conftest.py``, failing the test on a console error, an uncaught exception, or a page
    that scrolls sideways at 390 px."""
    marker = request.node.get_closest_marker("allow_console_errors")
    allowed = [re.compile(pattern) for pattern in (marker.args if marker else ())]
    errors: list[tuple[str, str]] = []  # (message, the URL it is about)
    answered_4xx: set[str] = set()

    def on_console(message):
        if message.type == "error" and not any(pattern.search(message.text) for pattern in allowed):
            url = message.location.get("url", "")
            errors.append((f"console error on {page.url}: {message.text} ({url})", url))

    def on_response(response):
        # A page or htmx fragment the app answers with 400/403/404 on purpose (a form with errors, a refusal) is
        # what the test looks at; Chromium still logs "Failed to load resource" for it. A failed stylesheet,
        # script or image, and any 5xx, stay errors.
        if 400 <= response.status < 500 and response.request.resource_type in APP_ANSWERS:
            answered_4xx.add(response.url)

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: errors.append((f"uncaught exception on {page.url}: {error}", "")))
    phone = PhoneWidthCheck(page)
    page.expose_binding("__meshforgeLayout", lambda _source, url, html: phone.check(url, html))
    page.add_init_script(REPORT_LAYOUT)

    yield page

    phone.close()
    unexpected = [text for text, url in errors if not (url in answered_4xx and FAILED_LOAD in text)]
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)
    assert not phone.problems, "pages scroll sideways at 390 px:\n" + "\n".join(phone.problems)


@pytest.fixture
def builder_catalog(settings, tmp_path, live_server):
    """The built-in templates and the domains registered from trusted repositories of this test: what the
    Builder needs. The live server runs in this process, so it reads the settings set here."""
    from catalog.demo import folder_publish
    from catalog.services import location_register
    from core.services import OPERATOR
    from core.testing.git import GitRepo
    from dataproducts.demo import BUILTIN_TEMPLATES
    from dataproducts.tests.conftest import DOMAINS_YAML

    settings.MESHFORGE_GIT_ROOT = tmp_path / "git"
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"
    bare = settings.MESHFORGE_GIT_ROOT / "platform" / "templates.git"
    folder_publish(BUILTIN_TEMPLATES, bare, message="Built-in templates")
    location_register(type="git", target=f"file://{bare}#main:catalog-info.yaml", actor=OPERATOR, trusted=True)
    domains = GitRepo(tmp_path / "other-git", "domains")
    domains.put({"catalog-info.yaml": DOMAINS_YAML})
    location_register(type="git", target=domains.target(), actor=OPERATOR, trusted=True)
