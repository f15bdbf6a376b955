"""What the first review found: creations that died half way, files edited by hand in Git, partial API edits,
components that share a folder, and edits keeping the file's own indentation."""

from __future__ import annotations

import git
import psycopg
import pytest
from django.db import connection

from catalog.services import location_refresh
from core.services import OPERATOR
from dataproducts import selectors, services
from dataproducts.exceptions import CreationFailed, DataProductConflict
from dataproducts.models import Component, DataProduct, DataProductReservation
from dataproducts.services import creation
from dataproducts.tests.conftest import dp_values, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_catalog")]


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared):
    """The built-in templates registered once for this module (no test here commits or flushes the database),
    for every test of it alike."""
    return templates_location_shared


def _push(settings, tmp_path, files: dict[str, str], name: str = "cashflow") -> None:
    """Change files directly in Git, as a person with a clone would."""
    clone = git.Repo.clone_from(settings.MESHFORGE_GIT_ROOT / "finance" / f"{name}.git", tmp_path / "clone")
    for path, change in files.items():
        file = tmp_path / "clone" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(change(file.read_text() if file.exists() else ""))
        clone.index.add([path])
    clone.index.commit("By hand", author=git.Actor("Eve", "eve@example.com"))
    clone.remotes.origin.push("main:main")


@pytest.mark.parametrize("state", ["creating", "failed"])
def test_a_creation_that_died_half_way_is_cleaned_up_by_the_next_attempt_at_once(create_dp, alice, settings, state):
    # a reservation from before reservations carried a mark: its URL was recorded once the repository existed
    leftover = settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git"
    git.Repo.init(leftover, bare=True, initial_branch="main")
    DataProductReservation.objects.create(
        dp_id="urn:dmb:dp:finance:cashflow:0",
        entity_name="finance.cashflow.0",
        state=state,
        repository_url=leftover.as_uri(),
    )

    data_product = create_dp(alice)  # nobody holds its creation lock: its creator is gone, however young it is

    assert data_product.name == "finance.cashflow.0"
    assert DataProductReservation.objects.get().state == "created"


def test_a_creation_in_progress_is_a_conflict(create_dp, alice):
    DataProductReservation.objects.create(dp_id="urn:dmb:dp:finance:cashflow:0", entity_name="finance.cashflow.0")
    # a live creator: another database session holds the product's creation lock
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as creator:
        creator.execute("SELECT pg_advisory_lock(%s)", [services.creation_lock_key("urn:dmb:dp:finance:cashflow:0")])
        with pytest.raises(DataProductConflict, match="is being created"):
            create_dp(alice)
        with pytest.raises(DataProductConflict, match="is being created"):
            services.dataproduct_preview(
                template=selectors.template_get(ref="template:dataproduct"), values=dp_values(), actor=alice
            )
    assert create_dp(alice).name == "finance.cashflow.0"  # its session ended: the next attempt goes ahead


def test_a_repository_that_cannot_be_removed_leaves_a_failed_reservation(create_dp, alice, monkeypatch):
    def failing(draft, actor):
        raise OSError("boom")

    monkeypatch.setattr(creation, "CREATION_STEPS", [*creation.CREATION_STEPS[:3], ("processing", failing)])
    monkeypatch.setattr("dataproducts.gitops.provider.LocalGitProvider.repository_delete", lambda self, **kwargs: 1 / 0)

    with pytest.raises(CreationFailed):
        create_dp(alice)

    reservation = DataProductReservation.objects.get()
    assert reservation.state == "failed" and reservation.repository_url.endswith("cashflow.git")
    monkeypatch.undo()
    assert create_dp(alice).name == "finance.cashflow.0"  # the retry removes the leftovers first


@pytest.fixture
def cashflow(create_dp, add_component, alice):
    data_product = create_dp(alice)
    add_component(data_product, alice, **port_values())
    return selectors.dataproduct_get(name=data_product.name)


def test_an_api_style_edit_naming_only_some_fields_keeps_the_others(cashflow, alice):
    entity = cashflow.entity
    template = selectors.edit_template_for(entity=entity)
    revision = selectors.entity_file(entity=entity).revision
    services.entity_edit(
        entity=entity, edit_template=template, values={"description": "Only this"}, actor=alice, base_revision=revision
    )
    entity.refresh_from_db()
    assert entity.metadata["description"] == "Only this"
    assert entity.metadata["tags"] == ["finance"]
    assert entity.spec["mesh"]["maturity"] == "Strategic"
    assert entity.spec["mesh"]["dataProductOwner"] == "user:alice"


def test_an_explicit_null_clears_an_optional_field(cashflow, alice):
    entity = cashflow.entity
    template = selectors.edit_template_for(entity=entity)
    revision = selectors.entity_file(entity=entity).revision
    services.entity_edit(
        entity=entity, edit_template=template, values={"tags": None}, actor=alice, base_revision=revision
    )
    entity.refresh_from_db()
    assert "tags" not in entity.metadata


def test_a_file_broken_by_hand_in_git_makes_edits_a_conflict_not_an_error(cashflow, alice, settings, tmp_path):
    _push(settings, tmp_path, {"catalog-info.yaml": lambda text: text + "\nkind: Again\n"})
    location_refresh(location=cashflow.entity.location, actor=OPERATOR)
    entity = selectors.dataproduct_get(name=cashflow.name).entity
    template = selectors.edit_template_for(entity=entity)

    with pytest.raises(DataProductConflict, match="fix it in Git"):
        services.edit_initial(entity=entity, edit_template=template)
    with pytest.raises(DataProductConflict, match="fix it in Git"):
        services.entity_edit_preview(
            entity=entity,
            edit_template=template,
            values={"description": "x"},
            actor=alice,
            base_revision=selectors.entity_file(entity=entity).revision,
        )


def test_an_edit_keeps_the_files_own_sequence_indentation(cashflow, alice, settings, tmp_path):
    _push(
        settings,
        tmp_path,
        {
            "catalog-info.yaml": lambda text: text.replace('tags: ["finance"]', "tags:\n  - finance\n  - cash").replace(
                "    - ./components", "  - ./components"
            )
        },
    )
    location_refresh(location=cashflow.entity.location, actor=OPERATOR)
    entity = selectors.dataproduct_get(name=cashflow.name).entity
    template = selectors.edit_template_for(entity=entity)
    plan = services.entity_edit_preview(
        entity=entity,
        edit_template=template,
        values={"description": "New"},
        actor=alice,
        base_revision=selectors.entity_file(entity=entity).revision,
    )
    assert "  tags:\n  - finance\n  - cash\n" in plan.new_text
    assert "  targets:\n  - ./components/daily-balances/catalog-info.yaml\n" in plan.new_text
    assert [row.change for row in plan.diff if row.change not in ("equal", "skip")] == ["replace"]


def test_a_component_sharing_its_folder_with_another_entity_is_not_removed(cashflow, alice, settings, tmp_path):
    other = (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: finance.cashflow.0.extra\n"
        "spec:\n  type: workload\n  lifecycle: experimental\n  owner: group:finance\n"
        "  system: system:finance.cashflow.0\n  mesh:\n    version: 0.0.0\n"
    )
    _push(
        settings,
        tmp_path,
        {
            "components/daily-balances/extra.yaml": lambda text: other,
            "catalog-info.yaml": lambda text: text.replace(
                "- ./components/daily-balances/catalog-info.yaml",
                "- ./components/daily-balances/catalog-info.yaml\n    - ./components/daily-balances/extra.yaml",
            ),
        },
    )
    location_refresh(location=cashflow.entity.location, actor=OPERATOR)
    assert Component.objects.filter(slug="extra").exists()

    with pytest.raises(CreationFailed, match="holds other entities"):
        services.component_remove(component=Component.objects.get(slug="daily-balances"), actor=alice)
    assert Component.objects.filter(slug="daily-balances").exists()
    assert DataProduct.objects.exists()
