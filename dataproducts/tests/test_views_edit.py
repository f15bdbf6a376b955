"""Editing a data product or a component through its edit template (PRODUCT §4.1, §4.2): the form pre-filled
from Git, "Preview changes" (a side-by-side diff, nothing written), "Confirm" (one commit as the user), and the
refusals: a stale file (409), a changed identity field or invalid values (400), no edit template."""

from __future__ import annotations

import re

import git
import pytest
from django.urls import reverse

from catalog.services import location_register
from core.services import OPERATOR
from core.testing.git import GitRepo
from dataproducts.models import Component, DataProduct
from dataproducts.tests.test_views_pages import component_document, yaml_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike."""
    return templates_location_shared


DP = "finance.cashflow.0"
CASHFLOW = """\
# The cash flow data product. Comments and key order survive an edit.
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: finance.cashflow.0
  title: Cash flow
  description: Operating cash flows
  tags: [finance]
spec:
  type: dataproduct
  lifecycle: experimental
  owner: group:finance
  domain: domain:finance
  mesh:
    name: Cash flow  # shown in the marketplace
    fullyQualifiedName: Finance - Cash flow - v0
    description: Operating cash flows
    version: 0.1.0
    dataProductOwner: user:alice
    devGroup: group:finance
    maturity: Strategic
    informationSLA: 2BD
    useCaseTemplateId: urn:dmb:utm:dataproduct-template:0.0.0
    tags: []
    specific: {}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: finance.cashflow.0.components
spec:
  targets:
    - ./components/port/catalog-info.yaml
    - ./components/legacy/catalog-info.yaml
"""
UNCHANGED = {
    "s0-title": "Cash flow",
    "s0-description": "Operating cash flows",
    "s0-maturity": "Strategic",
    "s0-informationSLA": "2BD",
    "s0-tags": "finance",
    "s0-dataProductOwner": "user:alice",
}


@pytest.fixture(scope="module")
def shared_repo(shared_git):
    """finance.cashflow.0 in a repository Meshforge may write, with an output port (which has the built-in
    edit template) and a component whose template has none, made once for the module (its domain and the person
    it names come from ``shared_catalog``)."""
    with shared_git.building():
        repo = GitRepo(shared_git.git_root / "finance", "cashflow")
        repo.put(
            {
                "catalog-info.yaml": CASHFLOW,
                "components/port/catalog-info.yaml": yaml_file(component_document(DP, "port", title="Daily balances")),
                "components/legacy/catalog-info.yaml": yaml_file(
                    component_document(DP, "legacy", kind="workload", use_case="urn:dmb:utm:unknown:0.0.0")
                ),
            },
            message="Create finance.cashflow.0",
        )
        result = location_register(type="git", target=repo.target(), actor=OPERATOR, home=[f"system:default/{DP}"])
        assert not result.errors, result.errors
    return shared_git.git_root / "finance"


@pytest.fixture
def cashflow(shared_repo):
    return GitRepo.open(shared_repo, "cashflow")


@pytest.fixture
def editor(client, alice):
    client.force_login(alice)
    return client


def edit_url(slug: str | None = None) -> str:
    return reverse("dp:component_edit", args=[DP, slug]) if slug else reverse("dp:dataproduct_edit", args=[DP])


def head(repo: GitRepo) -> git.Commit:
    return git.Repo(repo.bare_path).head.commit


def file_text(repo: GitRepo, path: str = "catalog-info.yaml") -> str:
    return (head(repo).tree / path).data_stream.read().decode()


def opened(client, url: str) -> str:
    """Open the form as a browser would; the base revision it carries."""
    response = client.get(url)
    assert response.status_code == 200
    return response.context["base_revision"]


# --- the form ------------------------------------------------------------------------------------------------


def test_the_edit_form_is_prefilled_from_git_and_carries_the_revision_it_was_read_at(editor, cashflow):
    response = editor.get(edit_url())

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["base_revision"] == head(cashflow).hexsha
    assert f'<input type="hidden" name="base_revision" value="{head(cashflow).hexsha}">' in content
    assert "<legend>Data product</legend>" in content
    assert 'name="s0-title"' in content and 'value="Cash flow"' in content
    assert "Operating cash flows" in content
    for name, value in [("name", DP), ("domain", "finance"), ("owner", "group:finance")]:
        assert f'id="identity-{name}" name="identity-{name}" value="{value}" disabled' in content
    assert 'name="identity-system"' not in content  # a data product is no part of another


def test_a_component_form_has_one_fieldset_per_step_and_names_its_data_product(editor, cashflow):
    response = editor.get(edit_url("port"))

    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('<fieldset class="card step">') == 2
    assert "<legend>Output port</legend>" in content and "<legend>Data contract</legend>" in content
    assert 'name="s0-title"' in content and 'value="Daily balances"' in content
    assert 'name="s1-columns-0-name"' in content
    assert f'id="identity-system" name="identity-system" value="{DP}" disabled' in content


def test_an_entity_without_an_edit_template_gets_a_clear_message(editor, cashflow):
    response = editor.get(edit_url("legacy"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "No edit template is registered for urn:dmb:utm:unknown:0.0.0" in content
    assert "Preview changes" not in content


# --- preview and confirm -------------------------------------------------------------------------------------


def test_preview_shows_a_side_by_side_diff_of_the_changed_lines_only_and_writes_nothing(editor, cashflow):
    base = opened(editor, edit_url())
    before = head(cashflow).hexsha

    response = editor.post(edit_url(), UNCHANGED | {"s0-title": "Cash flow v2", "base_revision": base})

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["plan"].changed
    assert '<table class="table diff">' in content
    assert '<del><span class="visually-hidden">removed: </span>  title: Cash flow</del>' in content
    assert '<ins><span class="visually-hidden">added: </span>  title: Cash flow v2</ins>' in content
    assert re.search(r"    name: Cash flow v2 +# shown in the marketplace</ins>", content)
    assert "lifecycle: experimental" not in content  # far from any change: left out
    assert '<tr class="diff-gap">' in content
    assert '<input type="hidden" name="confirm" value="1">' in content
    assert '<input type="hidden" name="s0-title" value="Cash flow v2">' in content
    assert f'<input type="hidden" name="base_revision" value="{base}">' in content
    assert head(cashflow).hexsha == before


def test_confirm_commits_the_change_and_returns_to_the_page_with_the_commit(editor, alice, cashflow):
    base = opened(editor, edit_url())

    response = editor.post(
        edit_url(),
        UNCHANGED | {"s0-title": "Cash flow v2", "s0-tags": "finance\ngold", "base_revision": base, "confirm": "1"},
    )

    commit = head(cashflow)
    assert response.status_code == 302 and response["Location"] == reverse("dp:dataproduct_detail", args=[DP])
    assert commit.hexsha != base and commit.message.strip() == f"Edit {DP}"
    assert commit.author.name in (alice.get_full_name(), alice.username)
    text = file_text(cashflow)
    assert text.startswith("# The cash flow data product. Comments and key order survive an edit.\n")
    assert "  title: Cash flow v2\n" in text and re.search(
        r"\n    name: Cash flow v2 +# shown in the marketplace\n", text
    )
    assert "  lifecycle: experimental\n" in text
    # the catalog has read it back
    data_product = DataProduct.objects.get(name=DP)
    assert data_product.title == "Cash flow v2" and data_product.tags == ["finance", "gold"]
    page = editor.get(response["Location"]).content.decode()
    assert f"Committed {commit.hexsha[:7]}." in page


def test_previewing_unchanged_values_says_there_is_nothing_to_change(editor, cashflow):
    base = opened(editor, edit_url())

    response = editor.post(edit_url(), UNCHANGED | {"base_revision": base})

    content = response.content.decode()
    assert response.status_code == 200
    assert "Nothing to change" in content
    assert 'name="confirm"' not in content


def test_confirming_unchanged_values_commits_nothing(editor, cashflow):
    base = opened(editor, edit_url())

    response = editor.post(edit_url(), UNCHANGED | {"base_revision": base, "confirm": "1"})

    assert response.status_code == 302
    assert head(cashflow).hexsha == base
    assert "Nothing to change." in editor.get(response["Location"]).content.decode()


def test_a_component_is_edited_in_its_own_file(editor, cashflow):
    base = opened(editor, edit_url("port"))
    values = {
        "s0-title": "Balances per day",
        "s0-description": "port",
        "s1-columns-rows": "1",
        "s1-columns-0-name": "day",
        "s1-columns-0-dataType": "DATE",
        "s1-columns-0-constraint": "PRIMARY_KEY",
        "base_revision": base,
    }

    preview = editor.post(edit_url("port"), values)
    assert preview.status_code == 200 and preview.context["plan"].changed

    response = editor.post(edit_url("port"), values | {"confirm": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("dp:component_detail", args=[DP, "port"])
    assert "title: Balances per day" in file_text(cashflow, "components/port/catalog-info.yaml")
    assert Component.objects.get(slug="port").title == "Balances per day"


def test_add_row_draws_the_form_again_with_one_more_row_and_previews_nothing(editor, cashflow):
    base = opened(editor, edit_url("port"))

    response = editor.post(
        edit_url("port"),
        {
            "s0-title": "Daily balances",
            "s0-description": "port",
            "s1-columns-rows": "1",
            "s1-columns-0-name": "day",
            "s1-columns-0-dataType": "DATE",
            "base_revision": base,
            "_action": "add:s1-columns",
        },
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="s1-columns-1-name"' in content
    assert "plan" not in response.context or response.context.get("plan") is None


# --- refusals ------------------------------------------------------------------------------------------------


def test_a_file_changed_in_git_since_the_form_was_opened_is_refused_with_409(editor, cashflow):
    base = opened(editor, edit_url())
    cashflow.put({"catalog-info.yaml": CASHFLOW.replace("informationSLA: 2BD", "informationSLA: 1BD")})
    changed = head(cashflow).hexsha

    for extra in ({}, {"confirm": "1"}):
        response = editor.post(edit_url(), UNCHANGED | {"s0-title": "Mine", "base_revision": base} | extra)

        assert response.status_code == 409
        assert (
            "catalog-info.yaml changed in Git since you opened this form; reload to edit the new version"
            in response.content.decode()
        )
    assert head(cashflow).hexsha == changed


@pytest.mark.parametrize(
    ("field", "value"),
    [("identity-name", "finance.other.0"), ("identity-domain", "marketing"), ("identity-owner", "group:marketing")],
)
def test_changing_an_identity_field_is_refused_with_400_naming_it(editor, cashflow, field, value):
    base = opened(editor, edit_url())

    response = editor.post(edit_url(), UNCHANGED | {field: value, "base_revision": base, "confirm": "1"})

    assert response.status_code == 400
    assert f"{field}: the " in response.content.decode() and "cannot be changed" in response.content.decode()
    assert head(cashflow).hexsha == base


def test_sending_the_identity_unchanged_is_accepted(editor, cashflow):
    base = opened(editor, edit_url())
    identity = {"identity-name": DP, "identity-domain": "finance", "identity-owner": "group:finance"}

    response = editor.post(edit_url(), UNCHANGED | identity | {"s0-title": "Renamed", "base_revision": base})

    assert response.status_code == 200 and response.context["plan"].changed


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"s0-maturity": "Legendary"}, "maturity"), ({"s0-title": ""}, "title"), ({"s0-tags": "Not A Tag"}, "tags")],
)
def test_invalid_values_are_refused_with_400_and_the_error_next_to_the_field(editor, cashflow, changes, field):
    base = opened(editor, edit_url())

    response = editor.post(edit_url(), UNCHANGED | changes | {"base_revision": base, "confirm": "1"})

    assert response.status_code == 400
    form = response.context["steps"][0]["form"]
    assert form.errors[field]
    assert f'id="id_s0-{field}_errors"' in response.content.decode()
    assert head(cashflow).hexsha == base


def test_a_post_without_its_base_revision_is_refused_with_400(editor, cashflow):
    opened(editor, edit_url())

    response = editor.post(edit_url(), UNCHANGED | {"s0-title": "Mine"})

    assert response.status_code == 400
    assert "base_revision: missing" in response.content.decode()


def test_someone_outside_the_team_gets_403_before_seeing_the_form(client, carol, cashflow):
    client.force_login(carol)
    assert client.get(edit_url()).status_code == 403
    assert client.post(edit_url(), UNCHANGED | {"base_revision": "x", "confirm": "1"}).status_code == 403
