"""Audit events of the catalog (PRODUCT §9, issue 4 item 1): every registration, trust change, unregistration and
team membership sync is recorded, with who, what and the state before and after, in the transaction of the
change, so a change that fails or is only previewed leaves no event."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Location
from catalog.services import (
    CatalogConflict,
    location_refresh,
    location_register,
    location_trust_set,
    location_unregister,
)
from core.models import AuditEvent


def component(name: str) -> str:
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        f"metadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:finance\n"
    )


def team(group: str, *members: str) -> str:
    """A Group and its Users (``memberOf`` the group), as one multi-document file."""
    documents = [
        f"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {group}\nspec:\n  type: team\n"
        "  children: []\n"
    ]
    documents += [
        f"apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: {member}\nspec:\n"
        f"  memberOf: [group:{group}]\n"
        for member in members
    ]
    return "---\n".join(documents)


def events(action: str | None = None) -> list[AuditEvent]:
    queryset = AuditEvent.objects.order_by("pk")
    return list(queryset.filter(action=action) if action else queryset)


def location_type() -> ContentType:
    return ContentType.objects.get_for_model(Location)


@pytest.fixture
def repo(make_repo):
    repo = make_repo("finance")
    repo.put({"catalog-info.yaml": component("ledger")})
    return repo


def test_registering_a_location_records_who_registered_what(repo, platform_user):
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    [event] = events()
    assert event.action == "location.register"
    assert (event.actor, event.actor_name) == (platform_user, "platform")
    assert (event.object_type, event.object_id, event.object_repr) == (location_type(), str(location.pk), str(location))
    assert event.before is None
    assert event.after == {"type": "git", "target": location.target, "trusted": False}


def test_an_operator_registering_through_the_command_is_recorded_as_system(db, repo):
    call_command("register_location", repo.target(), "--trusted", stdout=io.StringIO(), stderr=io.StringIO())

    [event] = events()
    location = Location.objects.get()
    assert (event.action, event.actor, event.actor_name) == ("location.register", None, "system")
    assert event.object_id == str(location.pk)
    assert event.after == {"type": "git", "target": location.target, "trusted": True}


def test_a_duplicate_registration_writes_no_event(repo, platform_user):
    location_register(type="git", target=repo.target(), actor=platform_user)

    with pytest.raises(CatalogConflict):
        location_register(type="git", target=repo.target(), actor=platform_user)

    assert [event.action for event in events()] == ["location.register"]


def test_a_duplicate_registration_through_the_command_writes_no_event(db, repo):
    call_command("register_location", repo.target(), stdout=io.StringIO(), stderr=io.StringIO())

    with pytest.raises(CommandError, match="already registered"):
        call_command("register_location", repo.target(), stdout=io.StringIO(), stderr=io.StringIO())

    assert len(events("location.register")) == 1


def test_a_registration_that_fails_after_its_event_was_written_leaves_neither_event_nor_location(
    transactional_db, repo, platform_user, monkeypatch
):
    def broken_processing(*args, **kwargs):
        raise RuntimeError("the processing failed")

    monkeypatch.setattr("catalog.services.location_process_tree", broken_processing)

    with pytest.raises(RuntimeError, match="the processing failed"):
        location_register(type="git", target=repo.target(), actor=platform_user)

    assert not Location.objects.exists()
    assert events() == []


def test_a_forbidden_registration_writes_no_event(repo, bob):
    with pytest.raises(PermissionDenied):
        location_register(type="git", target=repo.target(), actor=bob)  # file:// Git needs staff

    assert events() == []


def test_a_dry_run_writes_no_event(repo, platform_user):
    result = location_register(type="git", target=repo.target(), actor=platform_user, dry_run=True)

    assert result.dry_run
    assert events() == []


def test_a_dry_run_through_the_command_writes_no_event(db, repo):
    call_command("register_location", repo.target(), "--dry-run", stdout=io.StringIO(), stderr=io.StringIO())

    assert events() == []


def test_a_trusted_dry_run_of_a_team_writes_no_team_sync_event_and_no_group(make_repo, platform_user):
    repo = make_repo("teams")
    repo.put({"catalog-info.yaml": team("analytics", "dora")})

    location_register(type="git", target=repo.target(), actor=platform_user, trusted=True, dry_run=True)

    assert events() == []
    assert not Group.objects.filter(name="analytics").exists()


def test_a_trust_change_records_the_state_before_and_after(repo, platform_user):
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    location_trust_set(location=location, trusted=True, actor=platform_user)
    location.refresh_from_db()
    location_trust_set(location=location, trusted=False, actor=platform_user)

    granted, revoked = events("location.trust")
    snapshot = {"type": "git", "target": location.target}
    assert (granted.actor, granted.object_id, granted.object_type) == (platform_user, str(location.pk), location_type())
    assert (granted.before, granted.after) == ({**snapshot, "trusted": False}, {**snapshot, "trusted": True})
    assert (revoked.before, revoked.after) == ({**snapshot, "trusted": True}, {**snapshot, "trusted": False})


def test_a_refused_trust_change_writes_no_event(repo, platform_user, alice):
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    with pytest.raises(PermissionDenied):
        location_trust_set(location=location, trusted=True, actor=alice)

    assert events("location.trust") == []
    location.refresh_from_db()
    assert not location.trusted


def test_unregistering_records_the_location_as_it_was(repo, platform_user):
    location = location_register(type="git", target=repo.target(), actor=platform_user).location
    pk, name = location.pk, str(location)

    location_unregister(location=location, actor=platform_user)

    [event] = events("location.unregister")
    assert (event.actor, event.object_type, event.object_id, event.object_repr) == (
        platform_user,
        location_type(),
        str(pk),
        name,
    )
    assert event.before == {"type": "git", "target": location.target, "trusted": False}
    assert event.after is None
    assert not Location.objects.exists()


def test_a_refused_unregistration_writes_no_event(repo, platform_user, bob):
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    with pytest.raises(PermissionDenied):
        location_unregister(location=location, actor=bob)

    assert events("location.unregister") == []
    assert Location.objects.filter(pk=location.pk).exists()


def test_team_sync_records_the_members_before_and_after_both_ways(make_repo, platform_user):
    repo = make_repo("teams")
    repo.put({"catalog-info.yaml": team("analytics", "dora", "erik")})

    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location

    group = Group.objects.get(name="analytics")
    [joined] = events("team.sync")
    assert (joined.actor, joined.actor_name) == (None, "system")
    assert (joined.object_type, joined.object_id) == (ContentType.objects.get_for_model(Group), str(group.pk))
    assert joined.before == {"members": [], "entity": "group:default/analytics"}
    assert joined.after == {"members": ["dora", "erik"], "entity": "group:default/analytics"}

    repo.put({"catalog-info.yaml": team("analytics", "dora")})
    location.refresh_from_db()
    location_refresh(location=location, actor=platform_user)

    _, left = events("team.sync")
    assert left.before == {"members": ["dora", "erik"], "entity": "group:default/analytics"}
    assert left.after == {"members": ["dora"], "entity": "group:default/analytics"}
    assert sorted(group.user_set.values_list("username", flat=True)) == ["dora"]


def test_an_unchanged_team_writes_no_further_team_sync_event(make_repo, platform_user):
    repo = make_repo("teams")
    repo.put({"catalog-info.yaml": team("analytics", "dora")})
    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location

    location_refresh(location=location, actor=platform_user)

    assert len(events("team.sync")) == 1


def test_unregistering_a_team_location_records_the_members_removed(make_repo, platform_user):
    repo = make_repo("teams")
    repo.put({"catalog-info.yaml": team("analytics", "dora")})
    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location

    location_unregister(location=location, actor=platform_user)

    unregistered, synced = events()[-2:]
    assert unregistered.action == "location.unregister"
    assert synced.action == "team.sync"
    assert (synced.before["members"], synced.after["members"]) == (["dora"], [])
