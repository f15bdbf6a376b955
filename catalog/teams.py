"""Teams from the catalog (PRODUCT §8): Group and User entities of trusted locations become Django groups and
memberships. ``group:default/finance`` is the Django group ``finance``; other namespaces keep
``namespace/name``; refs are case-insensitive, so a group's name is in lower case (team_name). The sync adds and
removes members of the groups it manages and leaves other groups alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Q

from catalog.models import CatalogTeam, Entity
from catalog.refs import RefError, parse_ref
from core.services import audit_record


def django_name(namespace: str, name: str) -> str:
    """The Django username of a User entity: ``name``, or ``namespace/name`` outside the default namespace."""
    return name if namespace.lower() == "default" else f"{namespace}/{name}"


def team_name(namespace: str, name: str) -> str:
    """The Django group of ``group:<namespace>/<name>``, the one rule for the sync and for every permission check:
    refs are case-insensitive, so ``group:default/Finance-Team`` and ``group:finance-team`` are ``finance-team``."""
    return django_name(namespace.lower(), name.lower())


def team_of_ref(ref: object) -> str:
    """The Django group a ``group:`` ref names (team_name), ``""`` for anything else: the owner of an entity as a
    team whose members may act on it."""
    try:
        parsed = parse_ref(ref, default_kind="group")
    except (RefError, TypeError):
        return ""
    return team_name(parsed.namespace, parsed.name) if parsed.kind.lower() == "group" else ""


def user_team_names(user) -> set[str]:
    """The teams (Django groups, lower case as team_name makes them) a person belongs to."""
    if user is None or not user.is_authenticated:
        return set()
    return {name.lower() for name in user.groups.values_list("name", flat=True)}


def teams_may_write(*, owner_refs: Iterable[object], user) -> bool:
    """Staff, or a member of a team that one of ``owner_refs`` names: who may change what those teams own
    (PRODUCT §8). Compared case-insensitively, so a group made by hand in other case (the sync renames the ones
    it manages) is the same team."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    teams = {team_of_ref(ref) for ref in owner_refs} - {""}
    condition = Q()
    for team in teams:
        condition |= Q(name__iexact=team)
    return bool(teams) and user.groups.filter(condition).exists()


def team_may_write(*, owner_ref: object, user) -> bool:
    """Staff, or a member of the team ``owner_ref`` names."""
    return teams_may_write(owner_refs=[owner_ref], user=user)


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
        group = _team_group(team_name(entity.namespace, entity.name), team, ref)
        if team is None:
            team = CatalogTeam.objects.create(group=group, entity_ref=ref)
        elif team.group_id != group.pk:  # the group of the old case, and one of the new case exists too
            _set_members(team.group, set(), ref)
            team.group = group
            team.save(update_fields=["group"])
        wanted = {existing_users[usernames[user_ref]] for user_ref in members.get(ref, ())}
        _set_members(team.group, wanted, ref)


def _team_group(name: str, team: CatalogTeam | None, ref: str) -> Group:
    """The Django group called ``name``. Before there was one rule, the sync named a group as its entity was
    written (``Finance-Team``), and people may have made one by hand in other case: that group is renamed, so
    that its permissions and members stay with the team, unless a group called ``name`` exists already."""
    group = Group.objects.filter(name=name).first()
    if group is not None:
        return group
    if team is not None and team.group.name.lower() == name:
        group = team.group
    else:
        group = Group.objects.filter(name__iexact=name, catalog_team__isnull=True).order_by("pk").first()
    if group is None:
        return Group.objects.create(name=name)
    before = group.name
    group.name = name
    group.save(update_fields=["name"])
    audit_record(
        actor=None, action="team.rename", obj=group, before={"name": before}, after={"name": name, "entity": ref}
    )
    return group


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
