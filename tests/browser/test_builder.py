"""The Builder in a real browser: alice creates a data product through the wizard (the name suggested from the
title, a validation error said in words on the way), adds an output port with VARCHAR(64), DECIMAL(12,2) and
TIMESTAMP columns, sees a valid descriptor, edits one column and sees a one-line diff, and edits the description
through the diff-and-confirm flow. Every page visited passes axe-core."""

import re

import git
import pytest
from playwright.sync_api import expect

from dataproducts.models import DataProduct
from tests.browser.test_accessibility import assert_no_blocking_violations


def next_step(page) -> None:
    """Press the visible Next (or Review, on the last step) button of the wizard."""
    page.get_by_role("button", name=re.compile(r"^(Next|Review)$")).last.click()


@pytest.fixture
def builder(builder_catalog, personas):
    return builder_catalog


# The wizard answers a step with errors with 400 (swapped in by htmx): the browser logs that status on purpose.
@pytest.mark.allow_console_errors(r"status of 400 \(Bad Request\)")
def test_alice_creates_a_data_product_adds_an_output_port_and_sees_a_valid_descriptor(
    page, live_server, sign_in, builder, settings
):
    sign_in(page, live_server, "alice")

    # Pick the data product template.
    page.goto(f"{live_server.url}/builder/")
    page.get_by_role("link", name="New data product").click()
    page.get_by_role("link", name=re.compile(r"^Create a data product")).first.click()
    expect(page.locator("h1")).to_contain_text("Data product")
    assert_no_blocking_violations(page)

    # The name is suggested from the title as it is typed.
    page.get_by_label("Title").press_sequentially("Cash flow")
    expect(page.get_by_label("Name", exact=False).first).to_have_value("cash-flow")

    # Step 1, with a name that breaks the pattern: the error shows next to the field in words, no reload.
    page.get_by_label("Name", exact=False).first.fill("Cash Flow!")
    page.get_by_label("Description").fill("Operating cash flows: in {{ 7*7 }} and out")
    page.get_by_label("Domain").select_option("domain:finance")
    page.get_by_label("Owner group").select_option("group:finance")
    next_step(page)
    name_field = page.locator("[aria-invalid='true']").first
    expect(name_field).to_be_visible()
    expect(page.locator(".field-errors").first).to_contain_text("lower-case letters, digits and hyphens")
    expect(page.locator(".field-errors").first).not_to_contain_text("^[a-z]")
    assert_no_blocking_violations(page)

    # Fix it and go on.
    name_field.fill("cashflow")
    next_step(page)
    expect(page.get_by_role("heading", name=re.compile("Details"))).to_be_visible()
    page.get_by_label("Maturity").select_option("Strategic")
    next_step(page)

    # Review: the values and the files, then create.
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    expect(page.get_by_text("catalog-info.yaml", exact=True)).to_be_visible()
    assert_no_blocking_violations(page)
    page.get_by_role("button", name="Create data product").click()
    expect(page).to_have_url(re.compile(r"/dp/finance\.cashflow\.0/"))
    expect(page.locator("h1")).to_contain_text("Cash flow")
    expect(page.get_by_text("urn:dmb:dp:finance:cashflow:0").first).to_be_visible()
    data_product = DataProduct.objects.get(name="finance.cashflow.0")
    assert data_product.description == "Operating cash flows: in {{ 7*7 }} and out"
    commits = list(git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git").iter_commits("main"))
    assert [commit.author.email for commit in commits] == ["alice@example.com"]
    assert_no_blocking_violations(page)

    # Add an output port: Length shows for VARCHAR, Precision and Scale for DECIMAL, neither for TIMESTAMP.
    page.get_by_role("link", name="Components").click()
    page.get_by_role("link", name=re.compile(r"^Add .*output port", re.IGNORECASE)).click()
    page.get_by_label("Name").first.fill("daily-balances")
    page.get_by_label("Title").fill("Daily balances")
    page.get_by_label("Description").fill("Balances per account per day")
    next_step(page)
    expect(page.get_by_role("heading", name=re.compile("Data contract"))).to_be_visible()
    expect(page.get_by_label("Row 1, Column name")).to_be_visible()
    for row in (2, 3):
        page.get_by_role("button", name=re.compile(r"^Add row")).click()
        expect(page.get_by_label(f"Row {row}, Column name")).to_be_visible()
    expect(page.get_by_label("Row 4, Column name")).to_have_count(0)
    page.get_by_label("Row 1, Column name").fill("account")
    page.get_by_label("Row 1, Data type").select_option("VARCHAR")
    expect(page.get_by_label("Row 1, Precision")).to_be_hidden()
    page.get_by_label("Row 1, Length").fill("64")
    page.get_by_label("Row 2, Column name").fill("balance")
    page.get_by_label("Row 2, Data type").select_option("DECIMAL")
    expect(page.get_by_label("Row 2, Length")).to_be_hidden()
    page.get_by_label("Row 2, Precision").fill("12")
    page.get_by_label("Row 2, Scale").fill("2")
    page.get_by_label("Row 3, Column name").fill("seen_at")
    page.get_by_label("Row 3, Data type").select_option("TIMESTAMP")
    expect(page.get_by_label("Row 3, Length")).to_be_hidden()
    expect(page.get_by_label("Row 3, Precision")).to_be_hidden()
    assert_no_blocking_violations(page)
    next_step(page)
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    page.get_by_role("button", name="Add component").click()
    expect(page).to_have_url(re.compile(r"/dp/finance\.cashflow\.0/\?tab=components"))
    expect(page.get_by_role("link", name="Daily balances").first).to_be_visible()
    expect(page.locator("svg")).to_have_count(1)
    assert_no_blocking_violations(page)

    # The descriptor tab: the DPS YAML, valid, with the sizes the contract needs.
    page.get_by_role("link", name="Descriptor").click()
    expect(page.get_by_text("Valid for development")).to_be_visible()
    expect(page.locator("pre")).to_contain_text("urn:dmb:cmp:finance:cashflow:0:daily-balances")
    expect(page.locator("pre")).to_contain_text("dataLength: 64")
    expect(page.locator("pre")).to_contain_text("precision: 12")
    assert_no_blocking_violations(page)

    # Edit one column of the contract: the diff, at the top of the answer, is one line.
    page.get_by_role("link", name="Components").click()
    page.get_by_role("link", name="Daily balances").first.click()
    page.get_by_role("link", name=re.compile(r"^Edit")).first.click()
    page.get_by_label("Row 1, Length").fill("128")
    page.get_by_role("button", name="Preview changes").last.click()
    diff = page.locator("#diff")
    expect(diff).to_be_in_viewport()
    expect(diff.locator("tr.diff-replace")).to_have_count(1)
    expect(diff.locator("tr.diff-insert, tr.diff-delete")).to_have_count(0)
    expect(diff.locator("tr.diff-replace ins")).to_contain_text('"dataLength": 128')
    assert_no_blocking_violations(page)
    page.get_by_role("button", name="Confirm and commit").click()
    expect(page.locator("#messages")).to_contain_text("Committed")
    page.goto(f"{live_server.url}/dp/finance.cashflow.0/")

    # Edit the description: a diff first, a commit only on confirm.
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_label("Description").fill("Cash in and out, every day")
    page.get_by_role("button", name="Preview changes").last.click()
    diff = page.locator("#diff")
    expect(diff).to_contain_text("Cash in and out, every day")
    assert len(list(git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git").iter_commits("main"))) == 3
    assert_no_blocking_violations(page)
    page.get_by_role("button", name="Confirm and commit").click()
    expect(page.locator("#messages")).to_contain_text("Committed")
    data_product.refresh_from_db()
    assert data_product.description == "Cash in and out, every day"


@pytest.mark.allow_console_errors(r"status of 403 \(Forbidden\)")  # the edit page refused on purpose
def test_bob_sees_a_finance_data_product_read_only(page, live_server, sign_in, builder, alice):
    from dataproducts import selectors, services
    from dataproducts.tests.conftest import dp_values

    template = selectors.template_get(ref="template:dataproduct")
    services.dataproduct_create(template=template, values=dp_values(), actor=alice)
    sign_in(page, live_server, "bob")

    page.goto(f"{live_server.url}/dp/finance.cashflow.0/")
    expect(page.locator("h1")).to_contain_text("Cash flow")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    response = page.goto(f"{live_server.url}/dp/finance.cashflow.0/edit/")
    assert response.status == 403
