"""factory_boy factories for tests. The personas themselves live in ``core.testing.personas``."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from core.choices import ProcessRole
from core.models import ProcessHeartbeat
from core.testing.personas import TEST_PASSWORD


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*[GroupFactory(name=name) for name in extracted])


class ProcessHeartbeatFactory(factory.django.DjangoModelFactory):
    """A worker that started a few seconds ago and beat a second ago; ``stale=True`` gives one last heard of
    two days ago, after starting three days ago."""

    class Meta:
        model = ProcessHeartbeat

    class Params:
        stale = factory.Trait(
            started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=3)),
            last_beat_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=2)),
        )

    role = ProcessRole.WORKER
    hostname = factory.Sequence(lambda n: f"celery@host{n}")
    pid = factory.Sequence(lambda n: 4000 + n)
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=5))
    last_beat_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
