"""Governance in a real browser (issue 12's acceptance): the platform team writes a Rego policy for production in
the admin, runs it on the test bench and sees the failing data product, enables it; alice's draft (judged for the
first environment) goes through, her promotion (judged for every environment) is refused with the policy's message
next to the action; she fixes the description through the Builder's edit page, makes a draft, promotes it and sees
the stable release with its tag. The data product pages visited pass axe-core (the
Django admin is not Meshforge's to style, as in the other browser tests)."""

import re

import git
import pytest
from playwright.sync_api import expect

from governance.models import Policy
from tests.browser.test_accessibility import assert_no_blocking_violations

NAME = "finance.cashflow.0"
POLICY = "description-length"
# conftest's convention, Rego v1: the set ``deny`` of package main holds the errors
REGO = """\
package main

deny contains msg if {
  count(input.description) < 40
  msg := "description: at least 40 characters"
}
"""
LONG_DESCRIPTION = "Operating cash flows of every account, in and out, day by day"


@pytest.fixture
def cashflow(builder_catalog, personas):
    """alice's finance.cashflow.0 with an output port, made through the Builder's services (Git, processing), its
    description (``Operating cash flows``) shorter than the policy wants."""
    from dataproducts import selectors, services
    from dataproducts.tests.conftest import dp_values, port_values

    alice = personas["alice"]
    template = selectors.template_get(ref="template:dataproduct")
    data_product = services.dataproduct_create(template=template, values=dp_values(), actor=alice)
    port = selectors.template_get(ref="template:outputport")
    services.component_create(data_product=data_product, template=port, values=port_values(), actor=alice)
    return selectors.dataproduct_get(name=data_product.name)


def admin_action(page, policy: Policy, action: str) -> None:
    """On the policy list, tick ``policy`` and run the admin action labelled ``action``."""
    page.locator(f"input[name='_selected_action'][value='{policy.pk}']").check()
    page.locator("select[name='action']").select_option(label=action)
    page.get_by_role("button", name="Go").click()


# A refused draft is answered with 400, the Releases tab with the reasons: the browser logs that status on purpose.
@pytest.mark.allow_console_errors(r"status of 400 \(Bad Request\)")
def test_a_policy_written_in_the_admin_blocks_a_release_until_the_product_is_fixed(
    page, live_server, sign_in, cashflow, settings
):
    # The platform team writes the policy in the admin, as a draft.
    sign_in(page, live_server, "platform")
    page.goto(f"{live_server.url}/admin/governance/policy/add/")
    page.locator("#id_name").fill(POLICY)
    page.locator("#id_description").fill("A data product says what it is in at least 40 characters.")
    page.locator("#id_engine").select_option("rego")
    page.locator("#id_lifecycle").select_option("draft")
    page.locator("#id_environments").fill('["production"]')
    page.locator("#id_selector").fill('{"resource": "dataproduct"}')
    page.locator("#id_timing").fill('["deployment"]')
    page.locator("#id_body").fill(REGO)
    page.locator("input[name='_save']").click()
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    policy = Policy.objects.get(name=POLICY)
    assert (policy.engine, policy.lifecycle, policy.versions.count()) == ("rego", "draft", 1)

    # The test bench: the policy against every data product, the failing one with the policy's message.
    admin_action(page, policy, "Test on all data products")
    expect(page.get_by_role("heading", name=re.compile(f"^{POLICY}"))).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("cell", name=NAME, exact=True))
    expect(row).to_contain_text("fail")
    expect(row).to_contain_text("description: at least 40 characters")
    cashflow.refresh_from_db()
    assert cashflow.description == "Operating cash flows"  # the bench changed nothing

    # Enabled: from now on its errors block.
    page.goto(f"{live_server.url}/admin/governance/policy/")
    admin_action(page, policy, "Enable")
    expect(page.locator("ul.messagelist")).to_contain_text("1 policies now enabled")
    policy.refresh_from_db()
    assert policy.lifecycle == "enabled"

    # alice's draft goes through (a draft is judged for the first environment); promoting it, judged for every
    # environment, is refused: the policy's name and message next to "Promote".
    page.context.clear_cookies()
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/dp/{NAME}/?tab=releases")
    assert_no_blocking_violations(page)
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator("#messages")).to_contain_text("Made the draft 0.0-SNAPSHOT-1")
    page.get_by_role("button", name=re.compile(r"^Promote ")).click()
    errors = page.locator("#release-promote-errors")
    expect(errors).to_contain_text(POLICY)
    expect(errors).to_contain_text("description: at least 40 characters")
    expect(page.locator("table tbody tr")).to_have_count(1)  # the draft only
    assert_no_blocking_violations(page)

    # She fixes the description through the Builder: a diff first, a commit on confirm.
    page.goto(f"{live_server.url}/dp/{NAME}/")
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_label("Description").fill(LONG_DESCRIPTION)
    page.get_by_role("button", name="Preview changes").last.click()
    expect(page.locator("#diff")).to_contain_text(LONG_DESCRIPTION)
    assert_no_blocking_violations(page)
    page.get_by_role("button", name="Confirm and commit").click()
    expect(page.locator("#messages")).to_contain_text("Committed")

    # Now the draft passes the gate, and promoting it makes the stable release, tagged in Git.
    page.goto(f"{live_server.url}/dp/{NAME}/?tab=releases")
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator("#messages")).to_contain_text(re.compile(r"Made the draft 0\.0-SNAPSHOT-\d+"))
    version = page.get_by_label("Version")
    expect(version).to_have_value("0.0.0")
    assert_no_blocking_violations(page)
    page.get_by_role("button", name=re.compile(r"^Promote ")).click()
    expect(page.locator("#messages")).to_contain_text("Made the stable release 0.0.0")
    newest = page.locator("table tbody tr").first  # newest first
    expect(newest.locator("td").first).to_contain_text(re.compile(r"^0\.0\.0 from 0\.0-SNAPSHOT-\d+$"))
    expect(newest).to_contain_text("stable")
    expect(newest).to_contain_text("tag v0.0.0")
    assert_no_blocking_violations(page)
    tags = git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git").tags
    assert [tag.name for tag in tags] == ["v0.0.0"]


def test_a_compliant_product_shows_the_green_badge(page, live_server, sign_in, cashflow, personas):
    """A product whose latest evaluations have no blocking failure wears ``Compliant`` in its page's header and in
    the "My data products" list (governance/partials/compliance_badge.html); made here through the services: an enabled
    policy it passes, and a draft release that records the passing evaluation."""
    from dataproducts import selectors
    from dataproducts.services import release_draft_create
    from governance.services import policy_save

    policy_save(
        policy=Policy(name=POLICY, engine="rego", body=REGO.replace("< 40", "< 5"), lifecycle="enabled"),
        actor=None,
    )
    release_draft_create(data_product=selectors.dataproduct_get(name=NAME), actor=personas["alice"], notes="")
    sign_in(page, live_server, "alice")

    # badge: rendered by the governance pages
    page.goto(f"{live_server.url}/dp/{NAME}/")
    expect(page.locator("header.entity-head .badge.badge-compliant")).to_have_text("Compliant")
    expect(page.locator(".badge.badge-failing")).to_have_count(0)
    assert_no_blocking_violations(page)
    page.goto(f"{live_server.url}/builder/")
    row = page.locator("#dp-results tr, #dp-results li", has=page.get_by_role("link", name="Cash flow")).first
    expect(row.locator(".badge.badge-compliant")).to_have_text("Compliant")


def test_the_governance_pages_serve_the_platform_team_and_pass_axe(page, live_server, sign_in, cashflow, personas):
    """/governance/ (policies and the compliance matrix), a policy's page with its test bench run from the browser,
    and the data product's Governance tab: readable by axe, at 390 px too (the conftest's guards watch every page)."""
    from dataproducts import selectors
    from dataproducts.services import release_draft_create
    from governance.services import policy_save

    policy_save(policy=Policy(name=POLICY, engine="rego", body=REGO, lifecycle="grace"), actor=None)
    release_draft_create(data_product=selectors.dataproduct_get(name=NAME), actor=personas["alice"], notes="")
    sign_in(page, live_server, "platform")

    page.goto(f"{live_server.url}/governance/")
    expect(page.get_by_role("link", name=POLICY).first).to_be_visible()
    assert_no_blocking_violations(page)

    page.goto(f"{live_server.url}/governance/policies/{POLICY}/")
    page.get_by_role("button", name="Run the bench").click()
    expect(page.locator("#bench-results")).to_contain_text(NAME)
    expect(page.locator("#bench-results")).to_contain_text("description: at least 40 characters")
    assert_no_blocking_violations(page)

    page.goto(f"{live_server.url}/dp/{NAME}/?tab=governance")
    expect(page.locator("main")).to_contain_text(POLICY)
    assert_no_blocking_violations(page)
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/governance/", f"/governance/policies/{POLICY}/", f"/dp/{NAME}/?tab=governance"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
