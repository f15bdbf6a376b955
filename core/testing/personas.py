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
    for team in TEAMS:
        Group.objects.get_or_create(name=team)
    return {
        persona.username: persona_upsert(persona, password=(passwords or {}).get(persona.username, TEST_PASSWORD))
        for persona in PERSONAS
    }
