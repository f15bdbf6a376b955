"""Every landing page passes axe-core (vendored, see vendor/README.md) without serious or critical violations."""

from pathlib import Path
from textwrap import indent

import pytest

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
SIGNED_IN_PAGES = ["/", "/builder/", "/catalog/", "/governance/", "/accounts/profile/"]


def axe_violations(page):
    # Evaluated through the DevTools protocol: a <script> tag with the code inline would be refused by the
    # Content-Security-Policy, as it should be.
    page.evaluate(AXE.read_text())
    return page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")["violations"]


def describe(violation):
    """The rule, its impact and help, then each offending node's target and axe's summary of how to fix it."""
    lines = [f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]"]
    for node in violation["nodes"]:
        lines.append(f"    {node['target']}: {indent(node['failureSummary'], 6 * ' ').strip()}")
    return "\n".join(lines)


def assert_no_blocking_violations(page):
    blocking = [violation for violation in axe_violations(page) if violation["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(describe(violation) for violation in blocking)
    assert not blocking, f"axe found serious or critical violations on {page.url}:\n{report}"


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_a_signed_in_page_has_no_serious_accessibility_violations(page, live_server, sign_in, path):
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{path}")
    assert_no_blocking_violations(page)


def test_the_login_page_has_no_serious_accessibility_violations(page, live_server, transactional_db):
    page.goto(f"{live_server.url}/accounts/login/")
    assert_no_blocking_violations(page)


BUTTON_VARIANTS = ["button", "button button-secondary", "button button-danger", "button button-small button-secondary"]
# WCAG 2 contrast of an element's text against its own background, from their computed rgb() colours.
CONTRAST = """(node) => {
  const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = (value) => {
    const linear = (c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
    const [r, g, b] = rgb(value).map(linear);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const style = getComputedStyle(node);
  const [light, dark] = [luminance(style.color), luminance(style.backgroundColor)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}"""


@pytest.mark.parametrize("variant", BUTTON_VARIANTS)
@pytest.mark.parametrize("element", ["a", "button"])
def test_every_button_variant_is_readable_on_links_and_buttons_at_rest_and_on_hover(
    page, live_server, transactional_db, element, variant
):
    # Links and buttons share the classes (a secondary link-button once rendered white on white).
    page.goto(f"{live_server.url}/accounts/login/")
    href = ' href="#"' if element == "a" else ""
    page.evaluate(
        "([element, variant, href]) => { document.querySelector('main').insertAdjacentHTML('beforeend',"
        " `<p><${element} id='probe' class='${variant}'${href}>Probe</${element}></p>`); }",
        [element, variant, href],
    )
    probe = page.locator("#probe")

    at_rest = probe.evaluate(CONTRAST)
    probe.hover()
    on_hover = probe.evaluate(CONTRAST)

    assert at_rest >= 4.5, f"<{element} class='{variant}'> has a contrast of {at_rest:.2f}"
    assert on_hover >= 4.5, f"<{element} class='{variant}'> has a contrast of {on_hover:.2f} on hover"
