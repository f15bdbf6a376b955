"""Template forms (``dataproducts.scaffold``: parameters, forms, values) on the kitchen-sink test template, whose
form uses every supported keyword and widget: each renders its widget with its label, help and ARIA wiring, each
rule gives its error next to its field, values come out typed, hostile text stays data, and what is not supported
is named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from django.http import QueryDict

from catalog.models import Entity, Location
from catalog.services import location_register
from core.problems import Severity, messages
from core.services import OPERATOR
from core.yaml import load
from dataproducts.exceptions import TemplateError
from dataproducts.scaffold.forms import form_summary, form_values, step_form
from dataproducts.scaffold.parameters import (
    MAX_STRING_LENGTH,
    parameters_check,
    parameters_problems,
    template_parameters,
)
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.scaffold.values import errors_first_step, values_validate
from dataproducts.scaffold.wording import pattern_sentence

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_setup")]

# How the patterns of the kitchen sink read in messages: words, never a regular expression.
NAME_RULE = (
    "use at least 2 lower-case letters, digits and hyphens, starting with a lower-case letter and ending "
    "with a lower-case letter or a digit"
)
COLUMN_RULE = "use lower-case letters, digits and underscores, starting with a lower-case letter or an underscore"
TAG_RULE = "use lower-case letters, digits and hyphens"

KITCHEN_SINK = Path(__file__).resolve().parent / "data" / "templates" / "kitchen-sink" / "template.yaml"
PARAMETERS = load(KITCHEN_SINK.read_text(), source=str(KITCHEN_SINK))["spec"]["parameters"]
IDENTITY, DETAILS, CONTRACT = PARAMETERS

# Domains, a system and a component to pick from, and teams: Group entities come only from trusted locations and
# then drive the Django groups, so the users are listed in the teams the personas are in.
CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: finance, title: Finance}
spec: {owner: group:finance}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: marketing, title: Marketing}
spec: {owner: group:marketing}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: ledger, title: General ledger}
spec: {owner: group:finance}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger-api}
spec: {type: service, lifecycle: production, owner: group:finance, system: system:ledger}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: finance, title: Finance data team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: marketing}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: data-science}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [finance]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: [marketing]}
"""

VALID = {
    "name": "cashflow",
    "title": "Cash flow",
    "domain": "domain:finance",
    "owner": "group:finance",
    "maturity": "Strategic",
    "retentionDays": 30,
    "published": False,
    "columns": [{"name": "day", "dataType": "DATE"}],
}


@pytest.fixture(scope="module")
def shared_pickers_catalog(shared_files):
    """What the pickers choose from, from a trusted file location (the forms read the catalog, never Git),
    registered once for the module; its id."""
    (shared_files / "catalog-info.yaml").write_text(CATALOG, encoding="utf-8")
    result = location_register(
        type="file", target=str(shared_files / "catalog-info.yaml"), actor=OPERATOR, trusted=True
    )
    assert not result.errors, result.errors
    return result.location.pk


@pytest.fixture
def catalog(db, shared_pickers_catalog):
    return Location.objects.get(pk=shared_pickers_catalog)


@pytest.fixture
def context(alice, catalog):
    return PickerContext(user=alice)


def bound(step: dict, context: PickerContext, **data) -> object:
    """A step form bound to ``data`` (lists become repeated keys), checked."""
    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = value
    form = step_form(step, context=context, data=query)
    form.is_valid()
    return form


def html(form) -> str:
    return str(form)


def identity(context, **data):
    return bound(
        IDENTITY, context, **({"name": "cashflow", "domain": "domain:finance", "owner": "group:finance"} | data)
    )


def details(context, **data):
    return bound(DETAILS, context, **({"maturity": "Tactical"} | data))


def contract(context, **data):
    return bound(CONTRACT, context, **({"columns-0-name": "day", "columns-0-dataType": "DATE"} | data))


# --- each keyword: its widget and its error next to the field -------------------------------------------------


def test_a_string_renders_a_labelled_text_input_with_its_limits_help_and_required_mark(context):
    form = step_form(IDENTITY, context=context)

    page = html(form)
    assert '<label for="id_name">Name <span class="required-mark">(required)</span></label>' in page
    assert '<input type="text" id="id_name" name="name" value=""' in page
    assert 'aria-describedby="id_name_help"' in page and 'aria-required="true"' in page
    assert 'maxlength="40"' in page and 'minlength="3"' in page
    assert (
        '<p class="help" id="id_name_help">Lower-case letters, digits and hyphens; it becomes part of the id.</p>'
        in page
    )
    assert 'placeholder="A short human name"' in page


def test_a_single_bound_field_renders_through_its_widget_template(context):
    field = str(step_form(IDENTITY, context=context)["domain"])

    assert field.strip().startswith('<div class="field" data-kind="DomainPicker">')
    assert '<select id="id_domain" name="domain" aria-required="true">' in field


def test_a_pattern_mismatch_is_an_error_next_to_the_field_and_marks_it_invalid(context):
    form = identity(context, name="Cash Flow")

    assert form.errors["name"] == [NAME_RULE]
    page = html(form)
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_name_help id_name_errors"' in page
    assert '<ul class="field-errors" id="id_name_errors"><li>' + NAME_RULE + "</li></ul>" in page


def test_min_and_max_length_are_errors_next_to_their_fields(context):
    assert identity(context, name="ab").errors["name"] == ["must be at least 3 characters long"]
    assert identity(context, title="x" * 81).errors["title"] == ["must be at most 80 characters long"]


def test_strings_without_a_max_length_are_capped(context):
    form = identity(context, description="x" * (MAX_STRING_LENGTH + 1))

    assert form.errors["description"] == [f"must be at most {MAX_STRING_LENGTH} characters long"]


def test_a_required_field_left_empty_is_required(context):
    assert identity(context, name="").errors["name"] == ["is required"]


def test_an_enum_renders_a_select_of_its_values_and_refuses_others(context):
    page = html(step_form(DETAILS, context=context))
    assert '<select id="id_maturity" name="maturity"' in page
    assert '<option value="Tactical" selected>Tactical</option>' in page  # the default
    assert '<option value="Strategic">Strategic</option>' in page

    assert details(context, maturity="Legendary").errors["maturity"] == ["must be one of: Tactical, Strategic"]


def test_an_integer_renders_a_number_input_with_its_range_and_refuses_what_is_outside(context):
    page = html(step_form(DETAILS, context=context))
    assert '<input type="number" id="id_retentionDays" name="retentionDays" value="30"' in page
    assert 'min="1" max="3650" step="1"' in page

    assert details(context, retentionDays="0").errors["retentionDays"] == ["must be at least 1"]
    assert details(context, retentionDays="4000").errors["retentionDays"] == ["must be at most 3650"]
    assert details(context, retentionDays="2.5").errors["retentionDays"] == ["must be an integer"]
    assert details(context, retentionDays="many").errors["retentionDays"] == ["must be an integer"]


def test_a_number_takes_fractions_and_keeps_its_exclusive_bounds(context):
    page = html(step_form(DETAILS, context=context))
    assert '<input type="number" id="id_sampleRate" name="sampleRate" value=""' in page
    assert 'aria-describedby="id_sampleRate_description" max="1" step="any">' in page
    assert '<p class="help" id="id_sampleRate_description">The share of rows kept by the sampled view.</p>' in page
    assert details(context, sampleRate="0").errors["sampleRate"] == ["must be greater than 0"]
    assert details(context, sampleRate="1.5").errors["sampleRate"] == ["must be at most 1"]
    assert details(context, sampleRate="lots").errors["sampleRate"] == ["must be a number"]
    assert form_values(details(context, sampleRate="0.25"))["sampleRate"] == 0.25


def test_multiple_of_and_exclusive_maximum_are_checked(context):
    assert details(context, priority="15").errors["priority"] == ["must be a multiple of 10"]
    assert details(context, priority="100").errors["priority"] == ["must be less than 100"]
    assert 'step="10"' in html(step_form(DETAILS, context=context))


def test_a_boolean_renders_a_checkbox_and_is_true_or_false(context):
    page = html(step_form(DETAILS, context=context))
    assert '<input type="checkbox" id="id_published" name="published" value="on"' in page
    assert '<label for="id_published">Publish in the marketplace</label>' in page

    assert form_values(details(context, published="on"))["published"] is True
    assert form_values(details(context))["published"] is False


def test_a_password_renders_a_password_input_and_keeps_its_rules(context):
    page = html(step_form(DETAILS, context=context))
    assert '<input type="password" id="id_apiToken" name="apiToken"' in page

    assert details(context, apiToken="short").errors["apiToken"] == ["must be at least 8 characters long"]
    assert form_values(details(context, apiToken="  s3cret token  "))["apiToken"] == "  s3cret token  "


def test_a_textarea_renders_a_text_area(context):
    page = html(step_form(IDENTITY, context=context))

    assert '<textarea id="id_description" name="description" rows="4"' in page


def test_a_list_of_strings_is_one_item_per_line_with_errors_naming_the_item(context):
    page = html(step_form(CONTRACT, context=context))
    assert '<textarea id="id_tags" name="tags" rows="4" aria-describedby="id_tags_lines"' in page
    assert "One per line." in page

    assert form_values(contract(context, tags="finance\n\n  daily \n"))["tags"] == ["finance", "daily"]
    assert contract(context, tags="finance\nNot Valid").errors["tags"] == ["Item 2: " + TAG_RULE]
    assert contract(context, tags="a\nb\nc\nd\ne\nf").errors["tags"] == ["must have at most 5 items"]
    assert contract(context, tags="a\na").errors["tags"] == ["lists the same value twice"]


def test_a_list_with_an_enum_renders_one_checkbox_per_value(context):
    page = html(step_form(CONTRACT, context=context))
    assert "<legend>Environments</legend>" in page
    assert '<input type="checkbox" id="id_environments_0" name="environments" value="development"' in page
    assert '<label for="id_environments_1">production</label>' in page

    assert form_values(contract(context, environments=["production"]))["environments"] == ["production"]
    form = contract(context, environments=["production", "moon"])
    assert form.errors["environments"] == ["Item 2: must be one of: development, production"]


def test_a_list_of_objects_renders_an_editable_table_with_labelled_cells(context):
    page = html(step_form(CONTRACT, context=context))

    assert '<caption class="visually-hidden">Columns</caption>' in page
    assert '<th scope="col">Data type <span class="required-mark">(required)</span>' in page
    assert '<label class="visually-hidden" for="id_columns-0-name">Row 1, Name</label>' in page
    assert '<input type="text" id="id_columns-0-name" name="columns-0-name" value=""' in page
    assert '<select id="id_columns-0-dataType" name="columns-0-dataType"' in page
    assert '<input type="hidden" name="columns-rows" value="1">' in page
    assert 'name="_action" value="add:columns"' in page and 'value="remove:columns:0"' in page


def test_a_table_cell_error_sits_in_its_cell_and_names_row_and_column(context):
    form = contract(
        context,
        **{"columns-1-name": "amount", "columns-1-dataType": "MONEY", "columns-2-name": "Bad Name"},
    )

    assert form.cell_errors["columns"][(1, "dataType")] == [
        "must be one of: TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN"
    ]
    assert form.cell_errors["columns"][(2, "name")] == [COLUMN_RULE]
    assert form.cell_errors["columns"][(2, "dataType")] == ["is required"]
    page = html(form)
    assert (
        'id="id_columns-1-dataType" name="columns-1-dataType" aria-describedby="id_columns-1-dataType_errors" '
        'aria-invalid="true"' in page
    )
    assert (
        '<ul class="field-errors cell-errors" id="id_columns-1-dataType_errors"><li><span class="visually-hidden">'
        "Row 2, Data type: </span>must be one of: TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN</li></ul>"
    ) in page
    assert '<option value="MONEY" selected>MONEY</option>' in page  # shown as sent, beside its error


def test_blank_table_rows_are_dropped_and_errors_still_name_the_row_on_screen(context):
    form = contract(context, **{"columns-1-name": "", "columns-2-name": "x", "columns-2-dataType": "NOPE"})

    assert form.cell_errors["columns"][(2, "dataType")]
    assert "Row 3, Data type: must be one of" in form.errors["columns"][0]


def test_a_table_keeps_its_min_and_max_items(context):
    assert contract(context, **{"columns-0-name": "", "columns-0-dataType": ""}).errors["columns"] == ["is required"]
    many = {f"columns-{index}-name": f"c{index}" for index in range(21)}
    many |= {f"columns-{index}-dataType": "TEXT" for index in range(21)}
    assert contract(context, **many).errors["columns"] == ["must have at most 20 items"]


def test_table_buttons_add_a_row_and_remove_one_moving_the_rows_below_up(context):
    form = contract(context, **{"columns-1-name": "amount", "columns-1-dataType": "DECIMAL", "columns-rows": "2"})

    added = form.table_action_data("add:columns")
    assert added["columns-rows"] == "3"
    removed = form.table_action_data("remove:columns:0")
    assert removed["columns-0-name"] == "amount" and removed["columns-0-dataType"] == "DECIMAL"
    assert "columns-1-name" not in removed and removed["columns-rows"] == "1"
    assert form.table_action_data("remove:tags:0") is None  # not a table
    assert form.table_action_data("drop:columns") is None


def test_an_object_is_flattened_to_parent_child_inputs_and_rebuilt(context):
    page = html(step_form(CONTRACT, context=context))
    assert "<legend>Contact</legend>" in page
    assert '<input type="text" id="id_contact.email" name="contact.email"' in page

    values = form_values(contract(context, **{"contact.email": "ops@example.com", "contact.hours": ""}))
    assert values["contact"] == {"email": "ops@example.com"}
    form = contract(context, **{"contact.hours": "9-17"})
    assert form.errors["contact.email"] == ["is required"]
    assert "contact" not in form_values(contract(context))


def test_an_entity_picker_offers_the_allowed_kinds_and_refuses_anything_else(context):
    page = html(step_form(CONTRACT, context=context))
    assert '<option value="system:ledger">General ledger (system:ledger)</option>' in page
    assert "component:ledger-api" not in page

    assert form_values(contract(context, upstream="system:ledger"))["upstream"] == "system:ledger"
    assert contract(context, upstream="component:ledger-api").errors["upstream"] == [
        '"component:ledger-api" is not a system in the catalog (write kind:name)'
    ]
    assert contract(context, upstream="system:nowhere").errors["upstream"]


def test_the_owner_picker_offers_the_users_teams_only(context):
    page = html(step_form(IDENTITY, context=context))
    assert '<option value="group:finance">Finance data team (group:finance)</option>' in page
    assert "group:marketing" not in page

    assert identity(context, owner="group:marketing").errors["owner"] == ["must be one of: group:finance"]


def test_the_domain_picker_offers_the_domains_of_the_catalog(context):
    page = html(step_form(IDENTITY, context=context))
    assert '<option value="domain:finance">Finance (domain:finance)</option>' in page
    assert '<option value="domain:marketing">Marketing (domain:marketing)</option>' in page

    assert identity(context, domain="domain:nowhere").errors["domain"] == [
        '"domain:nowhere" is not a domain in the catalog (write domain:<name>)'
    ]


def test_a_value_no_longer_offered_stays_visible_with_its_error(context):
    form = identity(context, owner="group:marketing")

    assert '<option value="group:marketing" selected>group:marketing</option>' in html(form)


# --- values -----------------------------------------------------------------------------------------------


def test_values_come_out_typed_with_objects_rebuilt_and_empty_fields_left_out(context):
    values = form_values(
        contract(
            context,
            tags="finance",
            **{
                "columns-0-description": "The day",
                "columns-1-name": "balance",
                "columns-1-dataType": "DECIMAL",
                "columns-2-name": "",
                "contact.email": "ops@example.com",
            },
        )
    ) | form_values(details(context, retentionDays="90", sampleRate="0.5", priority="20"))

    assert values == {
        "tags": ["finance"],
        "columns": [
            {"name": "day", "dataType": "DATE", "description": "The day"},
            {"name": "balance", "dataType": "DECIMAL"},
        ],
        "contact": {"email": "ops@example.com"},
        "maturity": "Tactical",
        "retentionDays": 90,
        "sampleRate": 0.5,
        "priority": 20,
        "published": False,
    }
    assert type(values["retentionDays"]) is int and type(values["sampleRate"]) is float


def test_hostile_strings_pass_through_as_data_and_render_escaped(context):
    hostile = "a: b\n# not a comment\n{{ 7*7 }} {% raw %} 'single' \"double\" <script>alert(1)</script>"

    form = identity(context, description=hostile, title="{{ cookiecutter._meta }}")

    assert form_values(form)["description"] == hostile
    assert form_values(form)["title"] == "{{ cookiecutter._meta }}"
    page = html(form)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "{{ 7*7 }}" in page


def test_line_breaks_a_browser_sends_as_crlf_are_kept_as_lf(context):
    form = identity(context, description="first\r\nsecond\r\n")

    assert form_values(form)["description"] == "first\nsecond\n"


def test_the_review_summary_lists_each_value_and_masks_passwords(context):
    summary = form_summary(details(context, apiToken="s3cret-token"))

    assert {"label": "Maturity", "text": "Tactical"} in summary
    assert {"label": "API token", "text": "••••••••"} in summary
    assert "s3cret-token" not in str(summary)


# --- values_validate: the one check of the UI, the API and the command ---------------------------------------


def test_valid_values_have_no_errors(context):
    assert values_validate(PARAMETERS, VALID, context=context) == {}


def test_unknown_keys_are_refused_at_their_key(context):
    errors = values_validate(PARAMETERS, VALID | {"colour": "blue"}, context=context)

    assert errors == {"colour": ["is not a parameter of this template"]}


def test_errors_are_keyed_by_field_path(context):
    values = VALID | {
        "name": "X",
        "columns": [{"name": "day", "dataType": "DATE"}, {"name": "amount", "dataType": "MONEY", "extra": 1}],
        "contact": {"hours": "9-17"},
        "retentionDays": "thirty",
    }
    del values["owner"]

    errors = values_validate(PARAMETERS, values, context=context)

    assert errors["name"] == [
        NAME_RULE,
        "must be at least 3 characters long",
    ]
    assert errors["owner"] == ["is required"]
    assert errors["retentionDays"] == ["must be an integer"]
    assert errors["columns[1].dataType"] == ["must be one of: TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN"]
    assert errors["columns[1].extra"] == ["is not a field here"]
    assert errors["contact.email"] == ["is required"]


def test_a_slice_checks_only_those_steps(context):
    assert values_validate(PARAMETERS, {"name": "cashflow"}, context=context, steps=slice(0, 1)) == {
        "domain": ["is required"],
        "owner": ["is required"],
    }


def test_values_that_are_not_an_object_are_refused_as_a_whole(context):
    assert values_validate(PARAMETERS, ["name"], context=context) == {
        "": ["must be an object of parameter values, not list"]
    }


def test_nul_characters_are_refused(context):
    errors = values_validate(PARAMETERS, VALID | {"description": "a\x00b"}, context=context)

    assert errors == {"description": ["must not contain NUL characters"]}


def test_picker_values_are_checked_against_the_catalog_for_the_api_too(context):
    errors = values_validate(
        PARAMETERS, VALID | {"owner": "group:data-science", "upstream": "system:gone"}, context=context
    )

    assert errors["owner"] == ["must be one of: group:finance"]
    assert errors["upstream"] == ['"system:gone" is not a system in the catalog (write kind:name)']


def test_the_first_failing_step_is_found_from_the_error_paths():
    assert errors_first_step(parameters=PARAMETERS, errors={"columns[0].name": ["x"], "maturity": ["y"]}) == 1
    assert errors_first_step(parameters=PARAMETERS, errors={"": ["x"]}) == 0


# --- read-only fields ---------------------------------------------------------------------------------------


def test_a_readonly_field_renders_disabled_and_keeps_its_value(context):
    initial = {"name": "cashflow", "domain": "domain:finance", "owner": "group:finance"}
    form = step_form(IDENTITY, context=context, initial=initial, readonly=frozenset({"name", "domain", "owner"}))
    assert '<input type="text" id="id_name" name="name" value="cashflow"' in html(form)
    assert "disabled>" in html(form)

    posted = step_form(
        IDENTITY,
        context=context,
        data={"title": "New title"},
        initial=initial,
        readonly=frozenset({"name", "domain", "owner"}),
    )
    assert posted.is_valid(), posted.errors
    assert form_values(posted)["name"] == "cashflow"


def test_a_tampered_readonly_field_is_an_error(context):
    initial = {"name": "cashflow", "domain": "domain:finance", "owner": "group:finance"}

    form = step_form(
        IDENTITY,
        context=context,
        data={"name": "stolen", "title": "New title"},
        initial=initial,
        readonly=frozenset({"name", "domain", "owner"}),
    )

    assert not form.is_valid()
    assert form.errors["name"] == ["is read-only; it cannot be changed here"]
    assert form.readonly_violated


def test_posting_the_same_readonly_value_is_fine(context):
    initial = {"name": "cashflow", "domain": "domain:finance", "owner": "group:finance"}

    form = step_form(
        IDENTITY, context=context, data=initial, initial=initial, readonly=frozenset({"name", "domain", "owner"})
    )

    assert form.is_valid(), form.errors
    assert not form.readonly_violated


def test_navigation_shows_a_bound_form_without_judging_it(context):
    form = step_form(IDENTITY, context=context, data={"name": "Bad Name"}, show_errors=False)

    page = html(form)
    assert 'value="Bad Name"' in page and "field-errors" not in page and "aria-invalid" not in page


# --- what is not supported ----------------------------------------------------------------------------------


def test_the_kitchen_sink_uses_only_supported_keywords():
    assert parameters_problems(PARAMETERS) == []


def test_parameters_problems_names_each_unsupported_keyword_by_path():
    parameters = copy.deepcopy(PARAMETERS)
    properties = parameters[0]["properties"]
    properties["name"]["format"] = "hostname"
    properties["title"]["ui:autofocus"] = True
    properties["description"]["ui:widget"] = "richtext"
    properties["contact"] = {"type": "object", "properties": {"address": {"type": "object", "properties": {}}}}
    properties["matrix"] = {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}
    properties["either"] = {"oneOf": [{"type": "string"}, {"type": "integer"}], "type": "string"}
    properties["regex"] = {"type": "string", "pattern": "(unclosed"}
    parameters[1]["ui:order"] = ["maturity"]

    problems = parameters_problems(parameters)

    assert problems == [
        "spec.parameters[0].properties.name.format: is not supported for type string",
        "spec.parameters[0].properties.title.ui:autofocus: is not a supported hint; expected one of ui:field, "
        "ui:help, ui:options, ui:placeholder, ui:widget",
        'spec.parameters[0].properties.description.ui:widget: "richtext" is not supported; expected textarea or '
        "password",
        "spec.parameters[0].properties.contact.properties.address.type: must be string, number, integer or "
        "boolean (a plain input)",
        "spec.parameters[0].properties.matrix.items.type: must be string (a list) or object (a table of scalar "
        "columns)",
        "spec.parameters[0].properties.either.oneOf: is not supported for type string",
        "spec.parameters[0].properties.regex.pattern: is not a valid regular expression: missing ), unterminated "
        "subpattern at position 0",
        "spec.parameters[1].ui:order: is not supported in a form step",
        "spec.parameters[2].properties.contact: is already declared at spec.parameters[0].properties.contact",
    ]


def test_parameters_check_finds_what_parameters_problems_words_as_template_errors():
    parameters = copy.deepcopy(PARAMETERS)
    parameters[0]["properties"]["name"]["format"] = "hostname"
    parameters[1]["ui:order"] = ["maturity"]

    problems = parameters_check(parameters)

    assert messages(problems) == parameters_problems(parameters)
    assert [(problem.path, problem.code, problem.severity) for problem in problems] == [
        ("spec.parameters[0].properties.name.format", "template", Severity.ERROR),
        ("spec.parameters[1].ui:order", "template", Severity.ERROR),
    ]


def test_parameters_must_be_a_list_of_steps():
    assert parameters_problems({"title": "x"}) == ["spec.parameters: must be a non-empty list of form steps"]
    assert parameters_problems([]) == ["spec.parameters: must be a non-empty list of form steps"]


def test_a_name_required_twice_and_a_table_title_that_is_not_text_are_problems():
    rows = {"type": "array", "items": {"type": "object", "title": 5, "properties": {"c": {"type": "string"}}}}
    step = {"title": "x", "required": ["a", "a"], "properties": {"a": {"type": "string"}, "rows": rows}}

    assert parameters_problems([step]) == [
        'spec.parameters[0].required[1]: "a" is listed twice',
        "spec.parameters[0].properties.rows.items.title: must be a string",
    ]


def test_an_unsupported_step_cannot_become_a_form(context):
    with pytest.raises(TemplateError, match="format: is not supported"):
        step_form({"title": "x", "properties": {"a": {"type": "string", "format": "email"}}}, context=context)
    with pytest.raises(TemplateError):
        values_validate([{"title": "x", "properties": {"a": {"type": "null"}}}], {}, context=context)


# --- the order of the fields ---------------------------------------------------------------------------------


def _template_entity(text: str, parameters: list) -> Entity:
    document = {"apiVersion": "backstage.io/v1alpha1", "kind": "Template", "metadata": {"name": "t"}}
    return Entity(
        kind="Template",
        namespace="default",
        name="t",
        source_text=text,
        document=document | {"spec": {"type": "dataproduct", "parameters": parameters}},
    )


def test_template_parameters_keep_the_order_the_file_writes(context):
    text = KITCHEN_SINK.read_text()
    # what the catalog's jsonb keeps: the same parameters, object keys in another order
    stored = [dict(step, properties=dict(sorted(step["properties"].items()))) for step in PARAMETERS]

    parameters = template_parameters(_template_entity(text, stored))

    assert list(parameters[0]["properties"]) == ["name", "title", "description", "domain", "owner"]
    names = [view.name for view in step_form(parameters[0], context=context).field_views]
    assert names == ["name", "title", "description", "domain", "owner"]


def test_template_parameters_trust_the_catalog_when_the_text_says_something_else():
    stored = [{"title": "Other", "properties": {"b": {"type": "string"}, "a": {"type": "string"}}}]

    assert template_parameters(_template_entity(KITCHEN_SINK.read_text(), stored)) == stored
    assert template_parameters(_template_entity("not: [valid", stored)) == stored
    assert template_parameters(_template_entity("", stored)) == stored


# --- JSON Schema semantics where Python's differ ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["cashflow\n", "cash\nflow"])
def test_a_pattern_anchored_with_dollar_refuses_a_trailing_newline(context, value):
    errors = values_validate(PARAMETERS, VALID | {"name": value}, context=context)
    assert errors["name"] == [NAME_RULE]


def test_a_dollar_inside_a_character_class_stays_a_literal_dollar(context):
    step = {"title": "S", "properties": {"price": {"type": "string", "pattern": "^[0-9$]+$"}}}
    assert values_validate([step], {"price": "12$"}, context=context) == {}
    assert "price" in values_validate([step], {"price": "12$\n"}, context=context)


def test_a_table_row_with_a_key_beyond_its_columns_is_refused(context):
    columns = [{"name": "day", "dataType": "DATE", "sneaky": "x"}]
    errors = values_validate(PARAMETERS, VALID | {"columns": columns}, context=context)
    assert errors == {"columns[0].sneaky": ["is not a field here"]}


def test_additional_properties_false_is_accepted_and_true_is_a_template_problem():
    row = {"type": "object", "properties": {"a": {"type": "string"}}}
    closed = [
        {"title": "S", "properties": {"rows": {"type": "array", "items": {**row, "additionalProperties": False}}}}
    ]
    opened = [{"title": "S", "properties": {"rows": {"type": "array", "items": {**row, "additionalProperties": True}}}}]
    assert parameters_problems(closed) == []
    assert parameters_problems(opened) == [
        "spec.parameters[0].properties.rows.items.additionalProperties: only false is supported: a form has no other"
        " fields"
    ]


# --- patterns in words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "sentence"),
    [
        (
            "^[a-z][a-z0-9-]{1,38}[a-z0-9]$",
            "use 3 to 40 lower-case letters, digits and hyphens, starting with a lower-case letter and ending with a "
            "lower-case letter or a digit",
        ),
        (
            "^[a-z_][a-z0-9_]*$",
            COLUMN_RULE,
        ),
        ("^[A-Za-z]+$", "use letters"),
        ("^\\d{4}$", "use 4 digits"),
        ("^(red|green)$", ""),
        ("^[^x]+$", ""),
        ("^v[0-9]+$", ""),
    ],
)
def test_a_pattern_is_said_in_a_sentence_or_not_at_all(pattern, sentence):
    assert pattern_sentence(pattern) == sentence


def test_a_pattern_too_rich_for_a_sentence_speaks_with_the_fields_help_never_the_regex(context):
    step = {
        "title": "Colour",
        "properties": {
            "colour": {"type": "string", "pattern": "^(red|green)$", "ui:help": "Red or green, in lower case."},
            "shade": {"type": "string", "pattern": "^(light|dark)$"},
        },
    }

    errors = values_validate([step], {"colour": "blue", "shade": "pale"}, context=context)

    assert errors == {"colour": ["Red or green, in lower case."], "shade": ["is not in the form this field expects"]}


# --- rules between the cells of a row (a contract's length, precision and scale) ------------------------------

OUTPUTPORT = Path(__file__).resolve().parents[1] / "builtin_templates" / "outputport"


def _builtin_contract(file: str) -> dict:
    parameters = load((OUTPUTPORT / file).read_text(), source=file)["spec"]["parameters"]
    return next(step for step in parameters if "columns" in step["properties"])


@pytest.mark.parametrize("file", ["template.yaml", "edit-template.yaml"])
def test_the_postgres_contract_offers_only_postgres_types_with_length_precision_and_scale(context, file):
    step = _builtin_contract(file)
    columns = step["properties"]["columns"]["items"]["properties"]

    assert parameters_problems([step]) == []
    assert {"dataLength", "precision", "scale"} <= set(columns)
    assert {"VARCHAR", "CHAR", "TEXT", "INT", "BIGINT", "DECIMAL", "NUMERIC", "TIMESTAMP", "BOOLEAN"} <= set(
        columns["dataType"]["enum"]
    )
    assert not {"STRING", "MAP", "STRUCT", "BLOB", "GEOGRAPHY"} & set(columns["dataType"]["enum"])


def test_a_type_that_needs_a_length_says_so_next_to_the_missing_cell(context):
    step = _builtin_contract("template.yaml")
    form = bound(
        step,
        context,
        **{
            "columns-0-name": "code",
            "columns-0-dataType": "VARCHAR",
            "columns-1-name": "amount",
            "columns-1-dataType": "DECIMAL",
            "columns-2-name": "seen_at",
            "columns-2-dataType": "TIMESTAMP",
        },
    )

    assert form.cell_errors["columns"][(0, "dataLength")] == ["required for VARCHAR"]
    assert (1, "precision") not in form.cell_errors["columns"]  # numeric without (p, s) is any precision
    assert (2, "dataLength") not in form.cell_errors["columns"]
    assert "Row 1, Length: required for VARCHAR" in form.errors["columns"]


def test_a_length_on_a_type_without_one_is_refused_by_name(context):
    step = _builtin_contract("template.yaml")
    values = {"columns": [{"name": "n", "dataType": "INT", "dataLength": 10, "scale": 2}]}

    assert values_validate([step], values, context=context) == {
        "columns[0].dataLength": ["only applies to CHAR, VARCHAR; leave it empty for INT"],
        "columns[0].scale": ["only applies to DECIMAL, NUMERIC; leave it empty for INT"],
    }


def test_the_golden_path_columns_are_valid_and_come_out_typed(context):
    step = _builtin_contract("template.yaml")
    form = bound(
        step,
        context,
        **{
            "columns-0-name": "code",
            "columns-0-dataType": "VARCHAR",
            "columns-0-dataLength": "64",
            "columns-1-name": "amount",
            "columns-1-dataType": "DECIMAL",
            "columns-1-precision": "12",
            "columns-1-scale": "2",
            "columns-2-name": "seen_at",
            "columns-2-dataType": "TIMESTAMP",
        },
    )

    assert form.is_valid(), form.errors
    assert form_values(form)["columns"] == [
        {"name": "code", "dataType": "VARCHAR", "dataLength": 64},
        {"name": "amount", "dataType": "DECIMAL", "precision": 12, "scale": 2},
        {"name": "seen_at", "dataType": "TIMESTAMP"},
    ]


def test_dependent_cells_carry_the_data_attributes_the_script_shows_them_by(context):
    page = html(step_form(_builtin_contract("template.yaml"), context=context))

    assert (
        'id="id_columns-0-dataLength" name="columns-0-dataLength" value="" min="1" max="10485760" step="1" '
        'data-depends-on="columns-0-dataType" '
        'data-applies-to="[&quot;CHAR&quot;, &quot;VARCHAR&quot;]" data-required-for="[&quot;CHAR&quot;, '
        '&quot;VARCHAR&quot;]"'
    ) in page
    assert 'name="columns-0-scale" value="" min="0" max="1000" step="1" data-depends-on="columns-0-dataType"' in page
    assert 'name="columns-0-name" data-depends-on' not in page


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"then": {"required": ["size"]}}, "spec.parameters[0].properties.rows.items.allOf[0]: must be an object"),
        (
            {"if": {"properties": {"nope": {"enum": ["A"]}}, "required": ["nope"]}, "then": {"required": ["size"]}},
            'spec.parameters[0].properties.rows.items.allOf[0].if.properties: "nope" is not a column of this table',
        ),
        (
            {"if": {"properties": {"kind": {"enum": ["A"]}}}, "then": {"required": ["size"]}},
            "spec.parameters[0].properties.rows.items.allOf[0].if.required: must be [kind]",
        ),
        (
            {"if": {"properties": {"kind": {"enum": ["A"]}}, "required": ["kind"]}, "else": {"required": ["size"]}},
            "spec.parameters[0].properties.rows.items.allOf[0].else: must be {properties: {<column>: false}}",
        ),
        (
            {"if": {"properties": {"kind": {"const": "A"}}, "required": ["kind"]}, "then": {"required": ["size"]}},
            "spec.parameters[0].properties.rows.items.allOf[0].if.properties.kind: must be {enum: [values]}",
        ),
        (
            {"if": {"properties": {"kind": {"enum": ["A"]}}, "required": ["kind"]}, "then": {"required": ["size"] * 2}},
            'spec.parameters[0].properties.rows.items.allOf[0].then.required: "size" is listed twice',
        ),
    ],
)
def test_row_rules_of_another_shape_are_template_problems(rule, problem):
    step = {
        "title": "Rows",
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"kind": {"type": "string", "enum": ["A", "B"]}, "size": {"type": "integer"}},
                    "allOf": [rule],
                },
            }
        },
    }

    assert any(found.startswith(problem) for found in parameters_problems([step])), parameters_problems([step])
