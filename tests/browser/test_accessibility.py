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
