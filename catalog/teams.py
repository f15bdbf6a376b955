"""Teams from the catalog (PRODUCT §8): Group and User entities of trusted locations become Django groups and
memberships. ``group:default/finance`` is the Django group ``finance``; other namespaces keep
``namespace/name``. The sync adds and removes members of the groups it manages and leaves other groups alone."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from catalog.models import CatalogTeam, Entity
from catalog.refs import RefError, parse_ref
from core.services import audit_record


def django_name(namespace: str, name: str) -> str:
    return name if namespace.lower() == "default" else f"{namespace}/{name}"


def _refs(values: object, *, default_kind: str, namespace: str) -> list[str]:
    refs = []
    for value in values if isinstance(values, list) else []:
        try:
            refs.append(parse_ref(value, default_kind=default_kind, default_namespace=namespace).key)
        except (RefError, TypeError):
            continue
    return refs


@transaction.atomic
def teams_sync() -> None:
    """Make the managed Django groups and their memberships match the trusted Group and User entities."""
    with connection.cursor() as cursor:  # one sync at a time: two would both create the same groups
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('catalog.teams_sync'))")
    trusted = Entity.objects.filter(orphan=False, location__trusted=True)
    groups = {entity.ref: entity for entity in trusted.filter(kind__iexact="group")}
    users = {entity.ref: entity for entity in trusted.filter(kind__iexact="user")}
    members: dict[str, set[str]] = defaultdict(set)  # group ref -> user refs
    for ref, user in users.items():
        for group_ref in _refs(user.spec.get("memberOf"), default_kind="group", namespace=user.namespace):
            members[group_ref].add(ref)
    for ref, group in groups.items():
        members[ref].update(
            user_ref
            for user_ref in _refs(group.spec.get("members"), default_kind="user", namespace=group.namespace)
            if user_ref in users
        )

    User = get_user_model()
    usernames = {ref: django_name(user.namespace, user.name) for ref, user in users.items()}
    existing_users = {user.username: user for user in User.objects.filter(username__in=usernames.values())}
    for ref, username in usernames.items():
        if username not in existing_users:
            profile = users[ref].spec.get("profile") if isinstance(users[ref].spec.get("profile"), dict) else {}
            user = User(username=username, email=str(profile.get("email") or ""))
            user.set_unusable_password()  # people sign in through the identity provider, or an admin sets one
            user.save()
            existing_users[username] = user

    managed = {team.entity_ref: team for team in CatalogTeam.objects.select_related("group")}
    for ref in set(managed) - set(groups):
        team = managed.pop(ref)
        _set_members(team.group, set(), ref)
        team.delete()
    for ref, entity in groups.items():
        team = managed.get(ref)
        if team is None:
            group, _ = Group.objects.get_or_create(name=django_name(entity.namespace, entity.name))
            team = CatalogTeam.objects.create(group=group, entity_ref=ref)
        wanted = {existing_users[usernames[user_ref]] for user_ref in members.get(ref, ())}
        _set_members(team.group, wanted, ref)


def _set_members(group: Group, wanted: set, ref: str) -> None:
    current = set(group.user_set.all())
    if current == wanted:
        return
    before = sorted(user.username for user in current)
    group.user_set.add(*(wanted - current))
    group.user_set.remove(*(current - wanted))
    audit_record(
        actor=None,
        action="team.sync",
        obj=group,
        before={"members": before, "entity": ref},
        after={"members": sorted(user.username for user in wanted), "entity": ref},
    )
