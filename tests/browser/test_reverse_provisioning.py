"""Reverse provisioning in a real browser: alice runs her output port's adapter (the external adapter process) from
the component's reverse provisioning page, reads the YAML diff of its catalog-info.yaml, confirms and sees the
commit; a refusing adapter's message is shown as it said it. Every page visited passes axe-core."""

import git
import pytest
from playwright.sync_api import expect

from provisioning.models import TechAdapter
from provisioning.testing import ExternalAdapter
from tests.browser.test_accessibility import assert_no_blocking_violations

PORT = "finance.cashflow.0.daily-balances"
PARAMS = """\
updates:
  spec.mesh.dataContract.schema:
    - {name: day, dataType: DATE, description: The day, constraint: PRIMARY_KEY}
    - {name: balance, dataType: DECIMAL, precision: 14, scale: 2, description: End of day balance}
"""


@pytest.fixture
def port(builder_catalog, personas):
    """finance.cashflow.0 with its output port, made through the Builder's services, and the external adapter
    registered for the port's infrastructure template in development."""
    from dataproducts import selectors, services
    from dataproducts.tests.conftest import dp_values, port_values

    alice = personas["alice"]
    created = services.dataproduct_create(
        template=selectors.template_get(ref="template:dataproduct"), values=dp_values(), actor=alice
    )
    services.component_create(
        data_product=selectors.dataproduct_get(name=created.name),
        template=selectors.template_get(ref="template:outputport"),
        values=port_values(),
        actor=alice,
    )
    with ExternalAdapter() as adapter:
        TechAdapter.objects.create(
            infrastructure_template_id="urn:dmb:itm:postgres:1", environment="development", url=adapter.url
        )
        yield PORT


def test_alice_reviews_the_adapters_updates_as_a_diff_and_commits_them(page, live_server, sign_in, port, settings):
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/provisioning/reverse/components/{port}/")
    expect(page.locator("h1")).to_contain_text("Reverse provisioning of")
    assert_no_blocking_violations(page)

    page.get_by_label("Environment").select_option("development")
    page.get_by_label("Parameters").fill(PARAMS)
    page.get_by_role("button", name="Run reverse provisioning").click()

    expect(page.get_by_role("heading", name="Changes to catalog-info.yaml")).to_be_visible()
    diff = page.locator("table.diff")
    expect(diff.locator("ins")).to_contain_text('"precision": 14')
    expect(page.get_by_role("cell", name="reverse provisioning done")).to_be_visible()
    assert_no_blocking_violations(page)

    page.get_by_role("button", name="Confirm and commit").click()
    head = git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git").commit("main")
    expect(page.locator(".messages")).to_contain_text(f"Committed {head.hexsha[:7]}")
    expect(page.locator("h1")).to_contain_text("Applied")
    assert head.message.strip() == "Reverse provisioning from urn:dmb:itm:postgres:1 (development)"


def test_a_refusing_adapter_is_shown_as_it_said_it(page, live_server, sign_in, port):
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/provisioning/reverse/components/{port}/")
    page.get_by_label("Parameters").fill("mode: bad400")
    page.get_by_role("button", name="Run reverse provisioning").click()

    expect(page.get_by_role("heading", name="The adapter failed")).to_be_visible()
    expect(page.locator(".card-error")).to_contain_text("The request is not valid for this adapter")
    expect(page.locator(".card-error")).to_contain_text("Add a database")
    expect(page.get_by_role("button", name="Confirm and commit")).to_have_count(0)
    assert_no_blocking_violations(page)
