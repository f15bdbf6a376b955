"""entity_file_patch: the one door through which an entity's file changes in Git."""

import git
import pytest

from core.models import AuditEvent
from dataproducts import selectors
from dataproducts.exceptions import StaleEdit, ValuesInvalid
from dataproducts.gitops.patch import entity_file_patch
from dataproducts.gitops.provider import git_provider
from dataproducts.gitops.roundtrip import path_set
from dataproducts.layout import ProductLayout

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]


@pytest.fixture
def cashflow(shared_cashflow):
    return selectors.dataproduct_get(name=shared_cashflow)


def _describe(text: str):
    return lambda document: path_set(document, "metadata.description", text)


def test_a_patch_commits_on_the_branch_the_entity_was_read_from(cashflow, alice):
    layout = ProductLayout.of(cashflow.entity)
    bare = git.Repo(layout.repository.removeprefix("file://"))
    bare.create_head("release/1", "main")
    bare.close()
    entity = cashflow.entity
    entity.source_target = f"{layout.repository}#release/1:{layout.catalog_path}"  # as a release/1 location reads it

    patch = entity_file_patch(
        entity=entity, patch=_describe("Cash, released"), actor=alice, message="Describe", audit_action="entity.edit"
    )

    release = git_provider().commits(url=layout.repository, branch="release/1", limit=1)[0]
    main = git_provider().commits(url=layout.repository, branch="main", limit=1)[0]
    assert release.sha == patch.sha and release.message == "Describe"
    assert main.sha != patch.sha
    assert AuditEvent.objects.filter(action="entity.edit", after__commit=patch.sha).exists()


def test_a_dry_run_shows_the_diff_and_writes_nothing(cashflow, alice):
    before = git_provider().commits(url=cashflow.repository_url.partition("#")[0], limit=1)[0]

    patch = entity_file_patch(
        entity=cashflow.entity, patch=_describe("Cash"), actor=alice, message="m", audit_action="a", dry_run=True
    )

    assert patch.changed and patch.sha == ""
    assert [row.new.strip() for row in patch.diff if row.change != "equal" and row.new] == ['description: "Cash"']
    assert git_provider().commits(url=cashflow.repository_url.partition("#")[0], limit=1)[0] == before


def test_a_stale_base_revision_is_refused_before_anything_is_patched(cashflow, alice):
    def never(document):
        raise AssertionError("patched a stale file")

    with pytest.raises(StaleEdit, match="reload"):
        entity_file_patch(
            entity=cashflow.entity, patch=never, actor=alice, message="m", audit_action="a", base_revision="0" * 40
        )


def test_a_patch_that_makes_the_entity_invalid_is_refused(cashflow, alice):
    with pytest.raises(ValuesInvalid):
        entity_file_patch(
            entity=cashflow.entity,
            patch=lambda document: path_set(document, "metadata.name", "Not a valid name!"),
            actor=alice,
            message="m",
            audit_action="a",
        )
