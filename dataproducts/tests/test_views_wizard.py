"""The template list and the creation wizard through the Django test client: the built-in templates and the
kitchen-sink test template (every widget) registered from trusted locations, domains in the catalog, and the
services doing the real work. Steps are checked on every POST, the review shows the files, Create redirects, and
refusals answer with their status and a clear message. What renders or creates (the review, Create, adding a
component) reads the templates from real Git; the steps, the lists and the refusals read them from trusted files,
which is the same catalog entity in milliseconds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from catalog.demo import folder_publish
from catalog.models import Entity
from catalog.services import location_register
from dataproducts.exceptions import CreationFailed, DataProductConflict, TemplateError, ValuesInvalid
from dataproducts.models import Component, DataProduct
from dataproducts.views import wizard

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike: the tests that only read them get the same entities as those that render them."""
    return templates_location_shared


# How the patterns of the kitchen sink read in messages: words, never a regular expression.
NAME_RULE = (
    "use at least 2 lower-case letters, digits and hyphens, starting with a lower-case letter and ending "
    "with a lower-case letter or a digit"
)

HTMX = {"HTTP_HX_REQUEST": "true"}
KITCHEN_SINK = Path(__file__).resolve().parent / "data" / "templates" / "kitchen-sink"
SINK_URL = "/builder/create/kitchen-sink/"
HOSTILE = "Sums: in, out\n# not a comment\n{{ 7*7 }} 'quoted' \"double\""

STEP_0 = {
    "s0-_seen": "1",
    "s0-name": "sink",
    "s0-title": "Kitchen sink",
    "s0-description": HOSTILE,
    "s0-domain": "domain:finance",
    "s0-owner": "group:finance",
}
STEP_1 = {
    "s1-_seen": "1",
    "s1-maturity": "Strategic",
    "s1-retentionDays": "30",
    "s1-published": "on",
    "s1-apiToken": "s3cret-token",
}
STEP_2 = {
    "s2-_seen": "1",
    "s2-tags": "finance\ndaily",
    "s2-environments": ["production"],
    "s2-columns-rows": "1",
    "s2-columns-0-name": "day",
    "s2-columns-0-dataType": "DATE",
    "s2-contact.email": "ops@example.com",
}
ALL_STEPS = STEP_0 | STEP_1 | STEP_2


@pytest.fixture
def kitchen_sink(builder, platform_user, settings):
    """The kitchen-sink template in a trusted repository, next to the built-in ones and the domains."""
    bare = settings.MESHFORGE_GIT_ROOT / "platform" / "kitchen-sink.git"
    folder_publish(KITCHEN_SINK, bare, message="Kitchen sink")
    result = location_register(
        type="git", target=f"file://{bare}#main:template.yaml", actor=platform_user, trusted=True
    )
    assert not result.errors, result.errors
    return result.location


@pytest.fixture
def kitchen_sink_file(file_domains, catalog_files, platform_user):
    """The kitchen-sink template from a trusted file location, next to the domains: enough for the steps, which
    only read its parameters (nothing renders it)."""
    folder = catalog_files / "kitchen-sink"
    shutil.copytree(KITCHEN_SINK, folder)
    result = location_register(type="file", target=str(folder / "template.yaml"), actor=platform_user, trusted=True)
    assert not result.errors, result.errors
    return result.location


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def as_bob(client, bob):
    client.force_login(bob)
    return client


def post(client, url: str, data: dict, *, step: int, action: str = "next", htmx: bool = True):
    return client.post(url, {**data, "_step": str(step), "_action": action}, **(HTMX if htmx else {}))


# --- the template list -----------------------------------------------------------------------------------------


def test_the_template_list_shows_each_template_as_a_card_linking_to_its_wizard(as_alice, templates_location):
    response = as_alice.get(reverse("dataproducts:template_list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/builder/create/dataproduct/">Data product</a>' in page
    assert '<span class="badge badge-type">Output port</span>' in page
    assert "PostgreSQL output port" in page and "Add from a data product page." in page
    assert "/add/outputport/" not in page


def test_the_template_list_filters_by_type_and_answers_htmx_with_its_results_only(as_alice, templates_location):
    response = as_alice.get(reverse("dataproducts:template_list"), {"type": "outputport"}, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and '<div id="template-results">' in page
    assert "PostgreSQL output port" in page and "/builder/create/dataproduct/" not in page
    assert "HX-Request" in response["Vary"]


def test_the_template_list_searches_as_you_type(as_alice, templates_location):
    page = as_alice.get(reverse("dataproducts:template_list"), {"q": "data contract"}, **HTMX).content.decode()

    assert "PostgreSQL output port" in page and "/builder/create/dataproduct/" not in page
    assert "PostgreSQL workload" not in page and "1 template<" in page


def test_with_a_data_product_component_templates_link_to_its_add_wizard(
    client, templates_location, build_dp, alice, bob
):
    build_dp(alice)

    client.force_login(alice)
    page = client.get(reverse("dataproducts:template_list"), {"dp": "finance.cashflow.0"}).content.decode()
    assert 'href="/dp/finance.cashflow.0/add/outputport/"' in page
    assert '<input type="hidden" name="dp" value="finance.cashflow.0">' in page

    client.force_login(bob)
    page = client.get(reverse("dataproducts:template_list"), {"dp": "finance.cashflow.0"}).content.decode()
    assert "/add/outputport/" not in page and "Only members of finance may add components." in page


# --- the steps ---------------------------------------------------------------------------------------------------


def test_the_wizard_starts_at_the_first_step_with_the_step_indicator(as_alice, kitchen_sink_file):
    response = as_alice.get(SINK_URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert '<li class="wizard-step wizard-step-current" aria-current="step">' in page
    assert "Data product <span" in page and "(step 1 of 4)" in page and ">Review</span>" in page
    assert '<input type="text" id="id_s0-name" name="s0-name" value=""' in page
    assert f'hx-post="{SINK_URL}" hx-target="#wizard-body"' in page
    assert '<input type="hidden" name="s0-_seen" value="1">' in page


def test_the_fields_come_in_the_order_the_template_writes_them(as_alice, kitchen_sink_file):
    page = as_alice.get(SINK_URL).content.decode()

    positions = [page.index(f'id="id_s0-{name}"') for name in ("name", "title", "description", "domain", "owner")]
    assert positions == sorted(positions)


def test_next_with_an_invalid_step_shows_errors_next_to_the_fields_then_the_fix_moves_on(as_alice, kitchen_sink_file):
    response = post(as_alice, SINK_URL, STEP_0 | {"s0-name": "Bad Name", "s0-owner": "group:marketing"}, step=0)

    page = response.content.decode()
    assert response.status_code == 400
    assert "<html" not in page
    assert '<ul class="field-errors" id="id_s0-name_errors"><li>' + NAME_RULE + "</li></ul>" in page
    assert '<ul class="field-errors" id="id_s0-owner_errors"><li>must be one of: group:finance</li></ul>' in page
    assert "(step 1 of 4)" in page

    response = post(as_alice, SINK_URL, STEP_0, step=0)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Details <span" in page and "(step 2 of 4)" in page
    assert '<input type="hidden" name="s0-name" value="sink">' in page  # carried to the next POST
    assert '<option value="Tactical" selected>Tactical</option>' in page  # the next step starts from its defaults


def test_the_values_of_earlier_steps_are_checked_again_on_every_post(as_alice, kitchen_sink_file):
    response = post(as_alice, SINK_URL, STEP_0 | {"s0-name": "Bad Name"} | STEP_1, step=1)

    page = response.content.decode()
    assert response.status_code == 400
    assert "(step 1 of 4)" in page and "use at least 2 lower-case letters" in page


def test_back_returns_to_the_previous_step_as_it_was_left(as_alice, kitchen_sink_file):
    response = post(as_alice, SINK_URL, STEP_0 | STEP_1 | {"s1-maturity": "Nonsense"}, step=1, action="back")

    page = response.content.decode()
    assert response.status_code == 200
    assert "(step 1 of 4)" in page and 'name="s0-name" value="sink"' in page
    assert '<input type="hidden" name="s1-maturity" value="Nonsense">' in page  # kept for later, not judged yet
    assert "field-errors" not in page


def test_add_row_adds_a_table_row_without_judging_the_step(as_alice, kitchen_sink_file):
    response = post(as_alice, SINK_URL, STEP_0 | STEP_1 | STEP_2, step=2, action="add:s2-columns")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_s2-columns-1-name" name="s2-columns-1-name" value=""' in page
    assert 'name="s2-columns-0-name" value="day"' in page and "field-errors" not in page


def test_a_table_cell_error_is_shown_in_its_cell(as_alice, kitchen_sink_file):
    data = ALL_STEPS | {"s2-columns-rows": "2", "s2-columns-1-name": "amount", "s2-columns-1-dataType": "MONEY"}

    page = post(as_alice, SINK_URL, data, step=2).content.decode()

    assert '<span class="visually-hidden">Row 2, Data type: </span>must be one of:' in page


def test_the_review_lists_the_values_and_the_files_to_be_written(as_alice, kitchen_sink):
    response = post(as_alice, SINK_URL, ALL_STEPS, step=2)

    page = response.content.decode()
    assert response.status_code == 200, page
    assert 'id="wizard-step-title" tabindex="-1" data-wizard-focus>Review</h2>' in page
    assert "<dt>Title</dt>" in page and "Kitchen sink" in page
    assert "<dt>API token</dt>" in page and "s3cret-token" not in page.split("</dl>")[1]
    assert '<summary class="mono">catalog-info.yaml</summary>' in page
    assert "name: finance.sink.0" in page
    assert 'name="_action" value="create"' in page
    assert not DataProduct.objects.exists()  # the review writes nothing


def test_create_makes_the_data_product_and_redirects_to_its_page(as_alice, kitchen_sink):
    response = post(as_alice, SINK_URL, ALL_STEPS, step=3, action="create", htmx=False)

    assert response.status_code == 302
    assert response["Location"] == "/dp/finance.sink.0/"
    data_product = DataProduct.objects.get(name="finance.sink.0")
    assert data_product.owner_team == "finance" and data_product.maturity == "Strategic"
    entity = Entity.objects.get(ref="system:default/finance.sink.0")
    assert entity.metadata["description"] == HOSTILE  # user text is committed as data
    assert entity.spec["mesh"]["specific"]["columns"] == [{"name": "day", "dataType": "DATE"}]
    assert entity.spec["mesh"]["specific"]["retentionDays"] == 30
    messages = [str(message) for message in response.wsgi_request._messages]
    assert messages == ["Created the data product finance.sink.0."]


def test_create_answers_htmx_with_a_client_redirect(as_alice, kitchen_sink):
    response = post(as_alice, SINK_URL, ALL_STEPS, step=3, action="create")

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/dp/finance.sink.0/"


def test_creating_an_existing_data_product_answers_409_with_a_clear_message(as_alice, create_dp, alice):
    create_dp(alice)
    data = {
        "s0-_seen": "1",
        "s0-name": "cashflow",
        "s0-title": "Cash flow again",
        "s0-description": "Once more",
        "s0-domain": "domain:finance",
        "s0-owner": "group:finance",
        "s1-_seen": "1",
        "s1-maturity": "Tactical",
    }

    response = post(as_alice, "/builder/create/dataproduct/", data, step=2, action="create")

    page = response.content.decode()
    assert response.status_code == 409
    assert "Nothing was created" in page and "urn:dmb:dp:finance:cashflow:0 already exists" in page
    assert DataProduct.objects.count() == 1


@pytest.mark.parametrize(
    ("refusal", "status", "message"),
    [
        (CreationFailed("repository", "the disk is full"), 503, "Creating failed at the repository step (repository: "),
        (TemplateError("template kitchen-sink: README.md fails to render"), 400, "The template cannot be used: "),
        (PermissionDenied("you may create data products only for your own teams"), 403, "You may not do this: "),
        (DataProductConflict("data product urn:dmb:dp:finance:sink:0 already exists"), 409, "Choose another name"),
    ],
)
def test_a_refusal_of_the_service_answers_its_status_with_a_clear_message(
    as_alice, kitchen_sink_file, monkeypatch, refusal, status, message
):
    def refuse(**kwargs):
        raise refusal

    monkeypatch.setattr(wizard.services, "dataproduct_create", refuse)

    response = post(as_alice, SINK_URL, ALL_STEPS, step=3, action="create")

    page = response.content.decode()
    assert response.status_code == status
    assert '<h2 tabindex="-1" data-wizard-focus>Nothing was created</h2>' in page
    assert message in page and str(refusal).split(": ")[-1] in page
    assert "<dt>Title</dt>" in page  # still the review, so the user can go back and change something


def test_values_the_service_refuses_send_the_user_back_to_their_step(as_alice, kitchen_sink_file, monkeypatch):
    def refuse(**kwargs):
        raise ValuesInvalid({"retentionDays": ["is longer than the platform keeps data"], "": ["check the form"]})

    monkeypatch.setattr(wizard.services, "dataproduct_preview", refuse)

    response = post(as_alice, SINK_URL, ALL_STEPS, step=2)

    page = response.content.decode()
    assert response.status_code == 400
    assert "(step 2 of 4)" in page
    assert '<ul class="field-errors" id="id_s1-retentionDays_errors"><li>is longer than the platform keeps data' in page
    assert '<ul class="form-errors" role="alert"><li>check the form</li></ul>' in page


def test_an_unknown_action_is_refused_and_create_only_works_from_the_review(as_alice, kitchen_sink_file):
    assert post(as_alice, SINK_URL, STEP_0, step=0, action="jump").status_code == 400
    assert post(as_alice, SINK_URL, ALL_STEPS, step=2, action="create").status_code == 400
    assert not DataProduct.objects.exists()


def test_a_post_without_a_button_value_moves_on_like_next(as_alice, kitchen_sink_file):
    response = as_alice.post(SINK_URL, {**STEP_0, "_step": "0"}, **HTMX)

    assert response.status_code == 200 and "(step 2 of 4)" in response.content.decode()


# --- components --------------------------------------------------------------------------------------------------


def test_bob_may_not_add_a_component_to_a_finance_data_product(client, templates_location, build_dp, alice, bob):
    build_dp(alice)
    client.force_login(bob)

    assert client.get("/dp/finance.cashflow.0/add/outputport/").status_code == 403
    assert post(client, "/dp/finance.cashflow.0/add/outputport/", {}, step=0).status_code == 403
    assert not Component.objects.exists()


def test_alice_adds_an_output_port_and_lands_on_the_components_tab(as_alice, create_dp, alice):
    create_dp(alice)
    url = "/dp/finance.cashflow.0/add/outputport/"
    assert "Nothing to choose from: the data product has no other components yet" in as_alice.get(url).content.decode()
    data = {
        "s0-_seen": "1",
        "s0-name": "daily-balances",
        "s0-title": "Daily balances",
        "s0-description": "Balances per account per day",
        "s1-_seen": "1",
        "s1-columns-0-name": "day",
        "s1-columns-0-dataType": "DATE",
        "s1-columns-1-name": "balance",
        "s1-columns-1-dataType": "DECIMAL",
        "s1-columns-1-precision": "12",
        "s1-columns-1-scale": "2",
    }

    review = post(as_alice, url, data, step=1)
    assert review.status_code == 200 and "components/daily-balances/catalog-info.yaml" in review.content.decode()
    response = post(as_alice, url, data, step=2, action="create", htmx=False)

    assert response.status_code == 302
    assert response["Location"] == "/dp/finance.cashflow.0/?tab=components"
    component = Component.objects.get(name="finance.cashflow.0.daily-balances")
    assert component.entity.spec["mesh"]["dataContract"]["schema"][1] == {
        "name": "balance",
        "dataType": "DECIMAL",
        "precision": 12,
        "scale": 2,
    }


# --- templates that cannot be used -------------------------------------------------------------------------------


def test_a_component_template_has_no_data_product_wizard(as_alice, templates_location):
    assert as_alice.get("/builder/create/outputport/").status_code == 404
    assert as_alice.get("/builder/create/nowhere/").status_code == 404
    assert as_alice.get("/builder/create/no%00where/").status_code == 404


def test_a_template_using_unsupported_keywords_says_so_and_offers_no_form(as_alice, platform_user, catalog_files):
    template = (
        (KITCHEN_SINK / "template.yaml")
        .read_text()
        .replace("          maxLength: 80\n", "          maxLength: 80\n          format: hostname\n")
    )
    (catalog_files / "template.yaml").write_text(template, encoding="utf-8")
    location_register(type="file", target=str(catalog_files / "template.yaml"), actor=platform_user, trusted=True)

    response = as_alice.get(SINK_URL)

    page = response.content.decode()
    assert response.status_code == 400
    assert "This template cannot be used" in page
    assert "spec.parameters[0].properties.title.format: is not supported for type string" in page
    assert "<form" not in page.split('id="wizard-body"')[1]
    cards = as_alice.get(reverse("dataproducts:template_list")).content.decode()
    assert "1 problem" in cards and 'href="/builder/create/kitchen-sink/"' not in cards


# --- drafts: where a person left the wizard ------------------------------------------------------------------------


def test_a_reload_opens_the_wizard_at_the_step_left_with_what_was_typed_except_passwords(as_alice, kitchen_sink_file):
    assert post(as_alice, SINK_URL, STEP_0, step=0).status_code == 200
    assert post(as_alice, SINK_URL, STEP_0 | STEP_1, step=1).status_code == 200  # now at step 3

    page = as_alice.get(SINK_URL).content.decode()

    assert "(step 3 of 4)" in page and "You are back where you left this wizard" in page
    assert 'name="s0-name" value="sink"' in page and 'value="Strategic"' in page  # carried as typed
    assert "s3cret-token" not in page and "s3cret-token" not in str(as_alice.session["wizard_drafts"])
    assert f'href="{SINK_URL}?restart=1"' in page


def test_start_over_forgets_the_draft_and_a_broken_draft_is_ignored(as_alice, kitchen_sink_file):
    post(as_alice, SINK_URL, STEP_0, step=0)

    page = as_alice.get(SINK_URL, {"restart": "1"}).content.decode()
    assert "(step 1 of 4)" in page and 'value="sink"' not in page
    assert "(step 1 of 4)" in as_alice.get(SINK_URL).content.decode()

    session = as_alice.session
    session["wizard_drafts"] = {SINK_URL: {"index": "x", "items": None}}
    session.save()
    assert "(step 1 of 4)" in as_alice.get(SINK_URL).content.decode()


def test_drafts_are_per_person(as_alice, kitchen_sink_file, client, bob, alice):
    post(as_alice, SINK_URL, STEP_0, step=0)
    client.force_login(bob)
    page = client.get(SINK_URL).content.decode()
    assert 'value="sink"' not in page and "You are back" not in page
