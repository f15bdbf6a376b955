"""Catalog processing on real Git repositories (PRODUCT §3.2): what a refresh writes, keeps, orphans and
reports."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Entity, Location, Relation
from catalog.processing import orphans_delete_expired
from catalog.services import CatalogConflict, location_refresh, location_register, location_unregister


def component(name: str, *, owner: str = "group:finance", system: str | None = None, extra: str = "") -> str:
    lines = [
        "apiVersion: backstage.io/v1alpha1",
        "kind: Component",
        "metadata:",
        f"  name: {name}",
        "spec:",
        "  type: service",
        "  lifecycle: production",
        f"  owner: {owner}",
    ]
    if system:
        lines.append(f"  system: {system}")
    return "\n".join(lines) + "\n" + extra


def location_file(*targets: str, presence: str | None = None) -> str:
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Location", "metadata:", "  name: tree", "spec:"]
    if presence:
        lines.append(f"  presence: {presence}")
    lines.append("  targets:")
    lines += [f"    - {target}" for target in targets]
    return "\n".join(lines) + "\n"


def entity(ref: str) -> Entity:
    return Entity.objects.get(ref=ref)


def refresh(location: Location, actor):
    location.refresh_from_db()
    return location_refresh(location=location, actor=actor)


@pytest.fixture
def repo(make_repo):
    return make_repo("finance")


def test_a_new_file_becomes_an_entity_with_its_relations_and_commit(repo, platform_user):
    sha = repo.put({"catalog-info.yaml": component("ledger", system="system:cashflow")})

    result = location_register(type="git", target=repo.target(), actor=platform_user)

    ledger = entity("component:default/ledger")
    assert ledger.location == result.location
    assert ledger.source_revision == sha
    assert ledger.document["metadata"]["namespace"] == "default"
    assert set(Relation.objects.filter(source_ref=ledger.ref).values_list("type", "target_ref")) == {
        ("ownedBy", "group:default/finance"),
        ("partOf", "system:default/cashflow"),
    }
    assert Relation.objects.filter(source_ref="group:default/finance", type="ownerOf").exists()
    assert Entity.objects.filter(ref=f"location:default/{result.location.generated_entity_name}").exists()
    assert result.errors == []


def test_an_edited_file_is_updated_within_one_refresh(repo, platform_user):
    repo.put({"catalog-info.yaml": component("ledger")})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location
    uid = entity("component:default/ledger").uid

    repo.put({"catalog-info.yaml": component("ledger", owner="group:treasury")})
    counts = refresh(location, platform_user)

    ledger = entity("component:default/ledger")
    assert counts.updated == 1
    assert ledger.uid == uid
    assert ledger.spec["owner"] == "group:treasury"
    assert Relation.objects.filter(source_ref=ledger.ref, type="ownedBy").get().target_ref == "group:default/treasury"


def test_a_broken_file_keeps_the_last_good_version_with_an_error_and_a_fix_clears_it(repo, platform_user):
    repo.put({"catalog-info.yaml": component("ledger")})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    repo.put({"catalog-info.yaml": component("ledger", owner="group:finance", extra="  bad: [unclosed\n")})
    refresh(location, platform_user)
    ledger = entity("component:default/ledger")
    location.refresh_from_db()
    assert ledger.spec["owner"] == "group:finance"
    assert ledger.has_errors and "catalog-info.yaml" in ledger.errors[0]
    assert location.errors

    repo.put({"catalog-info.yaml": component("ledger", owner="group:treasury")})
    refresh(location, platform_user)
    ledger = entity("component:default/ledger")
    location.refresh_from_db()
    assert not ledger.has_errors and ledger.errors == []
    assert ledger.spec["owner"] == "group:treasury"
    assert location.errors == []


def test_an_invalid_entity_keeps_its_last_good_version_and_names_the_field(repo, platform_user):
    repo.put({"catalog-info.yaml": component("ledger")})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    repo.put({"catalog-info.yaml": component("ledger").replace("  lifecycle: production\n", "")})
    refresh(location, platform_user)

    ledger = entity("component:default/ledger")
    assert ledger.spec["lifecycle"] == "production"
    assert any("spec.lifecycle" in error for error in ledger.errors)


def test_a_never_valid_entity_is_not_served_but_its_error_shows_on_the_location(repo, platform_user):
    repo.put({"catalog-info.yaml": component("ledger-")})
    result = location_register(type="git", target=repo.target(), actor=platform_user)

    assert not Entity.objects.filter(kind="Component").exists()
    assert any("metadata.name" in error for error in result.location.errors)


def test_a_removed_target_orphans_its_entities_which_are_deleted_after_the_grace_period(repo, platform_user, settings):
    repo.put(
        {
            "catalog-info.yaml": location_file("./a.yaml", "./b.yaml"),
            "a.yaml": component("alpha"),
            "b.yaml": component("beta"),
        }
    )
    location = location_register(type="git", target=repo.target(), actor=platform_user).location
    assert entity("component:default/beta").location.parent == location

    repo.put({"catalog-info.yaml": location_file("./a.yaml")})
    refresh(location, platform_user)
    beta = entity("component:default/beta")
    assert beta.orphan and not entity("component:default/alpha").orphan

    settings.CATALOG_ORPHAN_GRACE_SECONDS = 60
    assert orphans_delete_expired() == 0
    assert orphans_delete_expired(now=timezone.now() + timedelta(seconds=61)) == 1
    assert not Entity.objects.filter(ref="component:default/beta").exists()


def test_the_same_entity_from_two_locations_keeps_the_first_and_reports_a_conflict(make_repo, platform_user):
    first, second = make_repo("first"), make_repo("second")
    first.put({"catalog-info.yaml": component("ledger")})
    second.put({"catalog-info.yaml": component("ledger", owner="group:sales")})
    kept = location_register(type="git", target=first.target(), actor=platform_user).location

    result = location_register(type="git", target=second.target(), actor=platform_user)

    ledger = entity("component:default/ledger")
    assert ledger.location == kept and ledger.spec["owner"] == "group:finance"
    assert any("conflict" in error and str(kept) in error for error in result.location.errors)


def test_unregistering_removes_the_location_its_children_and_their_entities(repo, platform_user):
    repo.put({"catalog-info.yaml": location_file("./a.yaml"), "a.yaml": component("alpha")})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    location_unregister(location=location, actor=platform_user)

    assert not Location.objects.exists()
    assert not Entity.objects.exists()
    assert not Relation.objects.exists()


def test_a_missing_optional_target_is_no_error_but_a_missing_required_one_is(repo, platform_user):
    repo.put({"catalog-info.yaml": location_file("./missing.yaml", presence="optional")})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location
    child = location.children.get()
    assert child.errors == [] and location.errors == []

    repo.put({"catalog-info.yaml": location_file("./missing.yaml")})
    refresh(location, platform_user)
    child = location.children.get()
    assert child.presence == "required"
    Location.objects.filter(pk=child.pk).update(next_refresh_at=timezone.now())
    refresh(location, platform_user)
    child.refresh_from_db()
    assert child.errors and "missing.yaml" in child.errors[0]


def test_an_unchanged_source_writes_no_entity_or_relation(repo, platform_user):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta")})  # fmt: skip
    location = location_register(type="git", target=repo.target(), actor=platform_user).location
    Location.objects.update(next_refresh_at=timezone.now())
    from catalog.tasks import refresh_due

    with CaptureQueriesContext(connection) as queries:
        counts = refresh_due(time_budget=30)

    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "DELETE"}]
    entity_updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "catalog_entity"')]
    assert counts.locations == 3 and counts.unchanged == 3
    assert writes == [] and entity_updates == []
    assert location.pk


def test_a_run_that_adds_a_bulk_of_entities_refreshes_the_planner_statistics_and_a_small_one_does_not(
    repo, platform_user, monkeypatch
):
    from catalog import tasks

    monkeypatch.setattr(tasks, "BULK_LOAD_ENTITIES", 2)
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta")})  # fmt: skip
    Location.objects.create(type="git", target=repo.target(), next_refresh_at=timezone.now())

    def analyzed():
        with CaptureQueriesContext(connection) as queries:
            counts = tasks.refresh_due(time_budget=30)
        return counts.added, [str(q["sql"]) for q in queries if str(q["sql"]).startswith("ANALYZE")]

    assert analyzed() == (3, ['ANALYZE "catalog_entity", "catalog_entitysearch", "catalog_relation"'])
    repo.put({"c.yaml": component("gamma")})
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml", "./c.yaml")})
    Location.objects.update(next_refresh_at=timezone.now())
    assert analyzed() == (1, [])


def test_registering_the_same_location_twice_is_a_conflict(repo, platform_user):
    repo.put({"catalog-info.yaml": component("ledger")})
    location_register(type="git", target=repo.target(), actor=platform_user)
    with pytest.raises(CatalogConflict):
        location_register(type="git", target=repo.target(), actor=platform_user)


def test_a_dry_run_shows_the_entities_and_changes_nothing(repo, platform_user):
    repo.put({"catalog-info.yaml": location_file("./a.yaml"), "a.yaml": component("alpha")})

    result = location_register(type="git", target=repo.target(), actor=platform_user, dry_run=True)

    assert [e.ref for e in result.entities if e.kind == "Component"] == ["component:default/alpha"]
    assert not Location.objects.exists() and not Entity.objects.exists()


def test_each_entity_keeps_its_yaml_as_written_with_comments_and_key_order(repo, platform_user, client):
    first = "# the ledger\n" + component("ledger").replace("kind: Component\n", "kind: Component  # a part\n")
    repo.put({"catalog-info.yaml": f"{first}---\n# second\n{component('journal')}"})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    assert entity("component:default/ledger").source_text == first
    assert entity("component:default/journal").source_text == f"---\n# second\n{component('journal')}"

    repo.put({"catalog-info.yaml": first.replace("# the ledger", "# the general ledger")})
    refresh(location, platform_user)
    assert entity("component:default/ledger").source_text.startswith("# the general ledger\n")

    client.force_login(platform_user)
    page = client.get("/catalog/entity/component/default/ledger/").content.decode()
    assert "# the general ledger" in page and "kind: Component  # a part" in page
