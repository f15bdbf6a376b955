"""Provisioning in a real browser with a real Celery worker (issue 13's acceptance): alice deploys a release from the
data product's Deployments tab, the worker checks it, she confirms the preview and watches the steps turn green live;
one component's adapter refuses its first provision, the page shows the adapter's message, and Retry deploys it; the
tab then says Deployed. The new pages pass axe-core."""

import pytest
from playwright.sync_api import expect

from core.testing.worker import worker_start
from provisioning.testing.builders import builtin_adapters_register, descriptor_make, release_make
from tests.browser.test_accessibility import assert_no_blocking_violations

NAME = "finance.cashflow.0"
MESSAGE = "the warehouse is busy: try again"
COMPONENTS = [
    {"name": "raw", "kind": "storage", "specific": {"mock": {"delay": 1}}},
    {"name": "settle", "kind": "workload", "depends_on": ["raw"], "specific": {"mock": {"delay": 1}}},
    {"name": "balances", "depends_on": ["settle"], "specific": {"mock": {"failTimes": 1, "message": MESSAGE}}},
    {"name": "rates", "specific": {"mock": {"async": True, "delay": 1}}},
]


@pytest.fixture
def cashflow(builder_catalog, personas, live_server, tmp_path):
    """alice's finance.cashflow.0 (made through the Builder), a release of it whose components the built-in mock
    adapter provisions, the adapters registered at the live server, and a real worker."""
    from dataproducts import selectors, services
    from dataproducts.tests.conftest import dp_values

    template = selectors.template_get(ref="template:dataproduct")
    services.dataproduct_create(template=template, values=dp_values(), actor=personas["alice"])
    builtin_adapters_register(live_server.url)
    release_make(descriptor_make(name="cashflow", components=COMPONENTS), version="0.1.0")
    worker = worker_start(tmp_path / "worker.log")
    yield
    worker.kill()


def test_alice_deploys_watches_the_steps_live_and_retries_a_failed_component(page, live_server, sign_in, cashflow):
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/dp/{NAME}/?tab=deployments")
    expect(page.locator("#dp-environment-development")).to_contain_text("Not deployed")
    assert_no_blocking_violations(page)

    page.locator("#deploy-release").select_option("0.1.0")
    page.locator("#deploy-environment").select_option("development")
    page.get_by_role("button", name="Deploy", exact=True).click()

    # the worker checks it; the page previews the operations in dependsOn order once the checks pass
    expect(page.get_by_role("heading", name="Preview")).to_be_visible(timeout=30_000)
    preview = page.locator("#deployment-preview-caption").locator("xpath=..")
    expect(preview.locator("tbody tr")).to_have_count(4)
    assert_no_blocking_violations(page)
    page.get_by_role("button", name="Confirm and deploy").click()

    # the steps turn green as the worker runs them, without a reload
    expect(page.locator(".step-running, .step-succeeded").first).to_be_visible(timeout=15_000)
    expect(page.locator(".step-succeeded")).to_have_count(3, timeout=30_000)
    expect(page.locator(".step-failed")).to_contain_text(MESSAGE)
    expect(page.locator(".deployment-status")).to_contain_text("Failed", timeout=15_000)
    expect(page.locator(".step-skipped")).to_have_count(0)  # nothing depends on the port
    assert_no_blocking_violations(page)

    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".deployment-status")).to_contain_text("Succeeded", timeout=45_000)
    expect(page.locator(".step-succeeded")).to_have_count(4)

    page.goto(f"{live_server.url}/dp/{NAME}/?tab=deployments")
    development = page.locator("#dp-environment-development")
    expect(development).to_contain_text("Deployed")
    expect(development).to_contain_text("0.1.0")

    page.goto(f"{live_server.url}/provisioning/deployments/")
    expect(page.locator("table tbody tr")).to_have_count(2)
    assert_no_blocking_violations(page)


def test_the_adapter_registry_page_passes_axe(page, live_server, sign_in, personas):
    builtin_adapters_register(live_server.url)
    sign_in(page, live_server, "platform")
    page.goto(f"{live_server.url}/provisioning/adapters/")
    expect(page.get_by_text("urn:dmb:itm:mock:1").first).to_be_visible()
    assert_no_blocking_violations(page)
