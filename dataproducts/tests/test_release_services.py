"""Releases through the service, on real Git (PRODUCT §4.4): a draft freezes the product under
``releases/X.Y-SNAPSHOT-N/`` in one commit and the next draft of that X.Y is N+1; promotion tags the frozen commit
(annotated, never moving a tag, undoing its tags when a later step fails), writes ``spec.mesh.version`` back, keeps
the major and counts up, and refuses a breaking change with the list of what breaks."""

from __future__ import annotations

import git
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.yaml import load
from dataproducts import selectors, services
from dataproducts.exceptions import CreationFailed
from dataproducts.gitops.provider import TagExists, author_of, git_provider
from dataproducts.models import DataProductIdentity, Release
from dataproducts.services.releases import PROMOTION_STEPS, BreakingChanges
from dataproducts.tests.conftest import dataproduct_create_shared, port_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_git")]

ENVIRONMENTS = ("development", "qa", "production")


@pytest.fixture(autouse=True)
def templates_location(templates_location_shared, settings):
    settings.MESHFORGE_ENVIRONMENTS = list(ENVIRONMENTS)
    return templates_location_shared


@pytest.fixture(scope="module")
def shared_product(shared_git):
    """finance.cashflow.0 with its output port daily-balances (a release needs something to deploy)."""
    return dataproduct_create_shared(shared_git, components=[port_values()])


@pytest.fixture
def cashflow(shared_product):
    return selectors.dataproduct_get(name=shared_product)


def _repo(settings) -> git.Repo:
    return git.Repo(settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git")


def _file(repo: git.Repo, path: str, rev: str = "main") -> str:
    return (repo.commit(rev).tree / path).data_stream.read().decode()


def _commit_env_file(data_product, alice, text: str, folder: str = "") -> str:
    return git_provider().commit(
        url=data_product.repository_url.partition("#")[0],
        files={f"{folder}environments/production/configurations.yaml": text},
        message="Production values",
        author=author_of(alice),
    )


def test_a_draft_freezes_every_environment_under_releases_in_one_commit(cashflow, alice, settings):
    repo = _repo(settings)
    # committed behind Meshforge's back: the draft refreshes first, so it freezes this too
    _commit_env_file(cashflow, alice, "schema: daily\n", folder="components/daily-balances/")
    head = _commit_env_file(cashflow, alice, "database: prod-db\n")

    release = services.release_draft_create(data_product=cashflow, actor=alice, notes="First cut")

    assert (release.version, release.kind, release.major, release.minor, release.snapshot) == (
        "0.0-SNAPSHOT-1",
        "draft",
        0,
        0,
        1,
    )
    commit = repo.commit("main")
    assert release.commit == commit.hexsha and [parent.hexsha for parent in commit.parents] == [head]
    environment_files = [
        blob.path for blob in repo.commit(head).tree.traverse() if blob.path.endswith("/configurations.yaml")
    ]
    assert "components/daily-balances/environments/production/configurations.yaml" in environment_files
    assert sorted(commit.stats.files) == sorted(
        [f"releases/0.0-SNAPSHOT-1/descriptor-{env}.yaml" for env in ENVIRONMENTS]
        + [f"releases/0.0-SNAPSHOT-1/{path}" for path in environment_files]
    )
    assert _file(repo, "releases/0.0-SNAPSHOT-1/environments/production/configurations.yaml") == "database: prod-db\n"
    frozen = load(_file(repo, "releases/0.0-SNAPSHOT-1/descriptor-production.yaml"))
    assert frozen == release.descriptors["production"]
    assert frozen["version"] == "0.0-SNAPSHOT-1" and frozen["id"] == "urn:dmb:dp:finance:cashflow:0"
    assert frozen["specific"]["database"] == "prod-db"
    assert frozen["components"][0]["specific"]["schema"] == "daily"
    assert frozen["components"][0]["version"] == "0.0-SNAPSHOT-1"
    assert set(release.descriptors) == set(ENVIRONMENTS)
    assert release.created_by == alice and release.created_by_name == "alice" and release.notes == "First cut"
    assert release.product == DataProductIdentity.objects.get(dp_id=cashflow.dp_id)


def test_a_new_draft_of_the_same_minor_is_n_plus_one_and_never_overwrites(cashflow, alice, settings):
    first = services.release_draft_create(data_product=cashflow, actor=alice)
    first_text = _file(_repo(settings), "releases/0.0-SNAPSHOT-1/descriptor-development.yaml")
    _commit_env_file(cashflow, alice, "database: other\n")

    second = services.release_draft_create(data_product=selectors.dataproduct_get(name=cashflow.name), actor=alice)

    assert (first.version, second.version) == ("0.0-SNAPSHOT-1", "0.0-SNAPSHOT-2")
    repo = _repo(settings)
    assert _file(repo, "releases/0.0-SNAPSHOT-1/descriptor-development.yaml") == first_text
    assert all(path.startswith("releases/0.0-SNAPSHOT-2/") for path in repo.commit("main").stats.files)
    assert second.descriptors["production"]["specific"]["database"] == "other"
    assert Release.objects.filter(product__dp_id=cashflow.dp_id).count() == 2


def test_only_the_owners_may_make_a_release(cashflow, bob):
    with pytest.raises(PermissionDenied):
        services.release_draft_create(data_product=cashflow, actor=bob)
    with pytest.raises(PermissionDenied):
        services.release_promote(data_product=cashflow, actor=bob)
    assert not Release.objects.exists()


def test_promotion_tags_the_frozen_commit_writes_the_version_back_and_the_next_draft_counts_on(
    cashflow, alice, settings
):
    draft = services.release_draft_create(data_product=cashflow, actor=alice)

    stable = services.release_promote(data_product=cashflow, actor=alice, notes="First stable")

    assert (stable.version, stable.kind, stable.patch, stable.promoted_from) == ("0.0.0", "stable", 0, draft)
    assert stable.commit == draft.commit
    assert all(descriptor["version"] == "0.0.0" for descriptor in stable.descriptors.values())
    repo = _repo(settings)
    tag = repo.tags["v0.0.0"]
    assert tag.tag is not None, "the tag is annotated"
    assert tag.commit.hexsha == draft.commit and "First stable" in tag.tag.message
    assert load(_file(repo, "catalog-info.yaml").split("\n---")[0])["spec"]["mesh"]["version"] == "0.0.0"
    assert selectors.dataproduct_get(name=cashflow.name).version == "0.0.0"

    following = services.release_draft_create(data_product=selectors.dataproduct_get(name=cashflow.name), actor=alice)
    assert following.version == "0.1-SNAPSHOT-1"
    assert services.release_promotion_plan(draft=following)[0].__str__() == "0.0.1"  # nothing but the version changed


def test_a_draft_is_promoted_once(cashflow, alice):
    draft = services.release_draft_create(data_product=cashflow, actor=alice)
    services.release_promote(data_product=cashflow, actor=alice)

    with pytest.raises(ValidationError) as refused:
        services.release_promote(data_product=cashflow, actor=alice, draft=draft.version)
    assert "promoted already, to 0.0.0" in refused.value.message_dict["draft"][0]


def test_there_is_nothing_to_promote_without_a_draft(cashflow, alice):
    with pytest.raises(ValidationError) as refused:
        services.release_promote(data_product=cashflow, actor=alice)
    assert "no draft release" in refused.value.message_dict["draft"][0]


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.0.0", "changes the major from 0"),
        ("0.0-SNAPSHOT-3", "is a draft version"),
        ("v0.1.0", "is not a version"),
        ("0.0.0", "not greater than the last stable release 0.0.0"),
    ],
)
def test_a_given_version_keeps_the_major_and_is_greater_than_the_last_stable(cashflow, alice, version, message):
    services.release_draft_create(data_product=cashflow, actor=alice)
    services.release_promote(data_product=cashflow, actor=alice)
    services.release_draft_create(data_product=selectors.dataproduct_get(name=cashflow.name), actor=alice)

    with pytest.raises(ValidationError) as refused:
        services.release_promote(data_product=cashflow, actor=alice, version=version)

    assert message in refused.value.message_dict["version"][0]
    assert Release.objects.filter(kind="stable").count() == 1


def test_a_tag_that_exists_is_never_moved_and_the_promotion_leaves_nothing(cashflow, alice, settings):
    draft = services.release_draft_create(data_product=cashflow, actor=alice)
    repo = _repo(settings)
    elsewhere = repo.commit("main").parents[0].hexsha
    repo.create_tag("v0.0.0", ref=elsewhere, message="made by hand")
    catalog_before = _file(repo, "catalog-info.yaml")

    with pytest.raises(TagExists, match=r"tag v0\.0\.0 already exists"):
        services.release_promote(data_product=cashflow, actor=alice)

    assert repo.tags["v0.0.0"].commit.hexsha == elsewhere
    assert _file(repo, "catalog-info.yaml") == catalog_before
    assert list(Release.objects.values_list("version", flat=True)) == [draft.version]


@pytest.mark.parametrize("failing", ["version", "save"])
def test_a_promotion_failing_after_its_tag_removes_the_tag(cashflow, alice, settings, failing):
    services.release_draft_create(data_product=cashflow, actor=alice)

    def fail(promotion):
        raise RuntimeError("disk full")

    steps = [(name, fail if name == failing else run) for name, run in PROMOTION_STEPS]
    with pytest.raises(CreationFailed, match=f"{failing}: disk full"):
        services.release_promote(data_product=cashflow, actor=alice, steps=steps)

    assert "v0.0.0" not in [tag.name for tag in _repo(settings).tags]
    assert not Release.objects.filter(kind="stable").exists()


def _rows(cashflow, stable_descriptor: dict, draft_descriptor: dict) -> Release:
    identity = DataProductIdentity.objects.get(dp_id=cashflow.dp_id)
    common = {"product": identity, "major": 0, "commit": "0" * 40}
    stable = Release.objects.create(
        **common, version="0.0.0", kind="stable", minor=0, patch=0, descriptors={"development": stable_descriptor}
    )
    return Release.objects.create(
        **common,
        version="0.1-SNAPSHOT-1",
        kind="draft",
        minor=1,
        snapshot=1,
        descriptors={"development": draft_descriptor},
        promoted_from=None,
    ), stable


def _port(*columns: str) -> dict:
    return {
        "id": "urn:dmb:cmp:finance:cashflow:0:daily",
        "kind": "outputport",
        "dataContract": {"schema": [{"name": name, "dataType": "TEXT"} for name in columns]},
    }


def test_a_breaking_change_is_refused_with_the_list_and_the_next_major(cashflow, alice):
    draft, _stable = _rows(cashflow, {"components": [_port("day", "balance")]}, {"components": [_port("day")]})

    with pytest.raises(BreakingChanges) as refused:
        services.release_promote(data_product=cashflow, actor=alice, draft=draft.version)

    assert refused.value.code == "breaking_change" and refused.value.next_major == 1
    assert refused.value.message_dict["breaking_changes"] == [
        "development: components[0].dataContract.schema[1]: the column balance was removed or renamed"
    ]
    assert "against 0.0.0" in refused.value.summary
    assert Release.objects.count() == 2


def test_the_suggestion_follows_the_change_level(cashflow):
    draft, _ = _rows(cashflow, {"components": [_port("day")]}, {"components": [_port("day", "balance")]})
    assert str(services.release_promotion_plan(draft=draft)[0]) == "0.1.0"
    draft.descriptors = {"development": {"components": [_port("day")], "description": "new words"}}
    assert str(services.release_promotion_plan(draft=draft)[0]) == "0.0.1"


def test_a_commit_landing_while_the_draft_is_made_refuses_it_and_writes_nothing(cashflow, alice, settings, monkeypatch):
    freeze = selectors.dataproduct_freeze
    landed = []

    def freeze_then_commit(**kwargs):
        frozen = freeze(**kwargs)
        landed.append(_commit_env_file(cashflow, alice, "database: late\n"))
        return frozen

    monkeypatch.setattr(selectors, "dataproduct_freeze", freeze_then_commit)

    with pytest.raises(services.ReleaseConflict, match="changed in Git while the draft was made"):
        services.release_draft_create(data_product=cashflow, actor=alice)

    assert _repo(settings).commit("main").hexsha == landed[0]
    assert not Release.objects.exists()


def test_a_draft_never_overwrites_the_folder_an_attempt_that_died_left_in_git(cashflow, alice, settings):
    """An attempt whose commit landed but whose row did not (it died in between) left releases/0.0-SNAPSHOT-1/:
    the next draft takes N+1 and the folder stays as it was."""
    url = cashflow.repository_url.partition("#")[0]
    left = git_provider().commit(
        url=url,
        files={"releases/0.0-SNAPSHOT-1/descriptor-development.yaml": "left: behind\n"},
        message="Release 0.0-SNAPSHOT-1 (the attempt died before its row)",
        author=author_of(alice),
    )

    release = services.release_draft_create(data_product=cashflow, actor=alice)

    repo = _repo(settings)
    assert release.version == "0.0-SNAPSHOT-2" and repo.commit("main").parents[0].hexsha == left
    assert _file(repo, "releases/0.0-SNAPSHOT-1/descriptor-development.yaml") == "left: behind\n"
    assert "0.0-SNAPSHOT-2" in _file(repo, "releases/0.0-SNAPSHOT-2/descriptor-development.yaml")
