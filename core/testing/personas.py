"""The fixed cast of personas, shared by ``seed_demo`` and every test (no test-only dependencies here).

``platform`` (staff, team platform), ``alice`` (team finance), ``bob`` (team marketing) and ``carol`` (a
consumer in no team). Anonymous users are the fifth persona and need no row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

TEST_PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    teams: tuple[str, ...]
    is_staff: bool = False
    description: str = ""


PERSONAS = (
    Persona("platform", "Pat", "Platform", ("platform",), is_staff=True, description="platform team (staff)"),
    Persona("alice", "Alice", "Andersen", ("finance",), description="data product owner, team finance"),
    Persona("bob", "Bob", "Baker", ("marketing",), description="data product owner, team marketing"),
    Persona("carol", "Carol", "Chen", (), description="consumer, no team"),
)
TEAMS = ("platform", "finance", "marketing")
DEMO_LOGIN = "alice"


def persona_upsert(persona: Persona, *, password: str):
    """Create or update one persona with ``password``; teams are set exactly."""
    user, _ = get_user_model().objects.get_or_create(username=persona.username)
    user.first_name = persona.first_name
    user.last_name = persona.last_name
    user.email = f"{persona.username}@example.com"
    user.is_staff = persona.is_staff
    user.is_superuser = persona.is_staff
    user.is_active = True
    if not user.check_password(password):
        user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in persona.teams])
    return user


def create_personas(*, passwords: dict[str, str] | None = None) -> dict[str, object]:
    """The whole cast as ``{username: user}``. Tests use the default password of UserFactory."""
    passwords = passwords or {}
    User = get_user_model()
    if not User.objects.filter(username__in=[persona.username for persona in PERSONAS]).exists():
        return _personas_insert(passwords)
    for team in TEAMS:
        Group.objects.get_or_create(name=team)
    return {
        persona.username: persona_upsert(persona, password=passwords.get(persona.username, TEST_PASSWORD))
        for persona in PERSONAS
    }


def _personas_insert(passwords: dict[str, str]) -> dict[str, object]:
    """The cast into a database that has none of it (every test's case): the rows ``persona_upsert`` would write,
    in five queries rather than some thirty, since nearly every test starts with this."""
    User = get_user_model()
    Group.objects.bulk_create([Group(name=team) for team in TEAMS], ignore_conflicts=True)
    groups = Group.objects.in_bulk(TEAMS, field_name="name")
    users = []
    for persona in PERSONAS:
        user = User(
            username=persona.username,
            first_name=persona.first_name,
            last_name=persona.last_name,
            email=f"{persona.username}@example.com",
            is_staff=persona.is_staff,
            is_superuser=persona.is_staff,
            is_active=True,
        )
        user.set_password(passwords.get(persona.username, TEST_PASSWORD))
        users.append(user)
    User.objects.bulk_create(users)
    Membership = User.groups.through
    Membership.objects.bulk_create(
        Membership(user_id=user.pk, group_id=groups[team].pk)
        for user, persona in zip(users, PERSONAS, strict=True)
        for team in persona.teams
    )
    return {user.username: user for user in users}
