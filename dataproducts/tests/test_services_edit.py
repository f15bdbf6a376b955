"""Editing through edit templates: the form values come from the file, the change is a diff of only the
changed lines (comments and key order kept), a commit happens on confirm only, and a file that changed in Git
since the form was opened refuses the edit."""

from __future__ import annotations

import git
import pytest
from django.core.exceptions import PermissionDenied

from catalog.models import Entity
from dataproducts import selectors, services
from dataproducts.exceptions import StaleEdit, ValuesInvalid
from dataproducts.tests.conftest import port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike."""
    return templates_location_shared


@pytest.fixture
def cashflow(shared_cashflow):
    return selectors.dataproduct_get(name=shared_cashflow)


def _edit_args(data_product, actor, **changes):
    entity = data_product.entity
    template = selectors.edit_template_for(entity=entity)
    values = services.edit_initial(entity=entity, edit_template=template)
    values.update(changes)
    revision = selectors.entity_file(entity=entity).revision
    return {"entity": entity, "edit_template": template, "values": values, "actor": actor, "base_revision": revision}


def _repo(settings) -> git.Repo:
    return git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git")


def test_the_edit_form_is_prefilled_from_the_file(cashflow):
    entity = cashflow.entity
    template = selectors.edit_template_for(entity=entity)
    assert template.name == "dataproduct-edit"
    initial = services.edit_initial(entity=entity, edit_template=template)
    assert initial["title"] == "Cash flow"
    assert initial["description"] == "Operating cash flows"
    assert initial["maturity"] == "Strategic"


def test_the_preview_shows_only_the_changed_lines_and_writes_nothing(cashflow, alice, settings):
    before = _repo(settings).commit("main").hexsha
    plan = services.entity_edit_preview(**_edit_args(cashflow, alice, description="Cash in and out, daily"))

    assert plan.changed
    changed = [row for row in plan.diff if row.change != "equal" and row.change != "skip"]
    assert len(changed) == 1
    assert "Operating cash flows" in changed[0].old and "Cash in and out, daily" in changed[0].new
    assert changed[0].old_no == changed[0].new_no
    assert _repo(settings).commit("main").hexsha == before


def test_comments_and_key_order_survive_an_edit(cashflow, alice):
    plan = services.entity_edit_preview(**_edit_args(cashflow, alice, description="New words"))
    old_lines, new_lines = plan.old_text.splitlines(), plan.new_text.splitlines()
    assert len(old_lines) == len(new_lines)
    assert [line for line in old_lines if line.lstrip().startswith("#")] == [
        line for line in new_lines if line.lstrip().startswith("#")
    ]
    assert sum(a != b for a, b in zip(old_lines, new_lines, strict=True)) == 1


def test_confirming_commits_as_the_user_and_the_catalog_shows_the_change(cashflow, alice, settings):
    sha = services.entity_edit(**_edit_args(cashflow, alice, description="Cash in and out, daily"))

    head = _repo(settings).commit("main")
    assert head.hexsha == sha and head.author.name in (alice.get_full_name(), alice.username)
    entity = Entity.objects.get(ref="system:default/finance.cashflow.0")
    assert entity.metadata["description"] == "Cash in and out, daily"
    assert selectors.dataproduct_get(name="finance.cashflow.0").description == "Cash in and out, daily"


def test_an_edit_against_a_file_changed_in_git_since_the_form_opened_is_refused(cashflow, alice, settings, tmp_path):
    arguments = _edit_args(cashflow, alice, description="Mine")
    clone = git.Repo.clone_from(_repo(settings).git_dir, tmp_path / "elsewhere", branch="main")
    path = tmp_path / "elsewhere" / "catalog-info.yaml"
    path.write_text(path.read_text().replace("Operating cash flows", "Changed in Git"))
    clone.index.add(["catalog-info.yaml"])
    clone.index.commit("Someone else", author=git.Actor("Eve", "eve@example.com"))
    clone.remotes.origin.push("main:main")
    head = _repo(settings).commit("main").hexsha

    with pytest.raises(StaleEdit, match="changed in Git"):
        services.entity_edit(**arguments)
    with pytest.raises(StaleEdit):
        services.entity_edit_preview(**arguments)
    assert _repo(settings).commit("main").hexsha == head


def test_nothing_to_change_makes_no_commit(cashflow, alice, settings):
    before = _repo(settings).commit("main").hexsha
    assert services.entity_edit(**_edit_args(cashflow, alice)) == ""
    assert _repo(settings).commit("main").hexsha == before


def test_a_member_of_another_team_cannot_edit(cashflow, alice, bob):
    arguments = _edit_args(cashflow, alice, description="Bob was here")
    arguments["actor"] = bob
    with pytest.raises(PermissionDenied):
        services.entity_edit(**arguments)


def test_invalid_edit_values_name_the_field(cashflow, alice):
    with pytest.raises(ValuesInvalid) as caught:
        services.entity_edit_preview(**_edit_args(cashflow, alice, maturity="Forever"))
    assert "maturity" in caught.value.errors


def test_editing_an_output_port_contract_updates_its_columns(cashflow, add_component, alice):
    component = add_component(cashflow, alice, **port_values())
    entity = component.entity
    template = selectors.edit_template_for(entity=entity)
    values = services.edit_initial(entity=entity, edit_template=template)
    values["columns"] = [*values["columns"], {"name": "currency", "dataType": "CHAR", "dataLength": 3}]
    services.entity_edit(
        entity=entity,
        edit_template=template,
        values=values,
        actor=alice,
        base_revision=selectors.entity_file(entity=entity).revision,
    )
    entity.refresh_from_db()
    assert [c["name"] for c in entity.spec["mesh"]["dataContract"]["schema"]] == ["day", "balance", "currency"]


def _contract_edit(cashflow, add_component, alice, change):
    component = add_component(cashflow, alice, **port_values())
    entity = component.entity
    template = selectors.edit_template_for(entity=entity)
    values = services.edit_initial(entity=entity, edit_template=template)
    change(values["columns"])
    revision = selectors.entity_file(entity=entity).revision
    return services.entity_edit_preview(
        entity=entity, edit_template=template, values=values, actor=alice, base_revision=revision
    )


def _changed(plan) -> list:
    return [row for row in plan.diff if row.change not in ("equal", "skip")]


def test_adding_a_column_to_a_contract_is_a_one_line_diff_in_the_style_of_the_rows_around_it(
    cashflow, add_component, alice
):
    plan = _contract_edit(
        cashflow, add_component, alice, lambda columns: columns.append({"name": "currency", "dataType": "TEXT"})
    )

    (added,) = _changed(plan)
    assert added.change == "insert" and added.old == ""
    assert added.new.strip() == '- {"name": "currency", "dataType": "TEXT"}'


def test_changing_one_column_of_a_contract_changes_only_its_line(cashflow, add_component, alice):
    def retype(columns):
        columns[0] |= {"dataType": "VARCHAR", "dataLength": 64}

    plan = _contract_edit(cashflow, add_component, alice, retype)

    (changed,) = _changed(plan)
    assert changed.old_no == changed.new_no
    assert changed.new.strip().startswith('- {"name": "day", "dataType": "VARCHAR"')
    assert changed.new.strip().endswith('"dataLength": 64}')


def test_removing_a_column_removes_only_its_line(cashflow, add_component, alice):
    plan = _contract_edit(cashflow, add_component, alice, lambda columns: columns.pop())

    (removed,) = _changed(plan)
    assert removed.change == "delete" and removed.new == ""


def test_fields_left_empty_that_are_empty_in_the_file_stay_as_written(cashflow, add_component, alice):
    values = port_values(columns=[{"name": "account", "dataType": "VARCHAR", "dataLength": 64}])
    del values["termsAndConditions"]
    entity = add_component(cashflow, alice, **values).entity
    template = selectors.edit_template_for(entity=entity)
    edited = services.edit_initial(entity=entity, edit_template=template)
    # what the edit page sends for fields left empty: None
    edited |= {"termsAndConditions": None, "dependsOn": None}
    edited["columns"][0]["dataLength"] = 128
    revision = selectors.entity_file(entity=entity).revision

    plan = services.entity_edit_preview(
        entity=entity, edit_template=template, values=edited, actor=alice, base_revision=revision
    )

    (changed,) = _changed(plan)
    assert changed.new.strip() == '- {"name": "account", "dataType": "VARCHAR", "dataLength": 128}'
    assert 'termsAndConditions: ""' in plan.new_text and "dependsOn: []" in plan.new_text
