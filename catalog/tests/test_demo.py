"""The demo catalog of ``seed_demo`` (issue 4 item 8): a trusted local bare Git repository with 2 domains, the
demo teams and users and one deliberately broken file, registered and processed through the catalog's own
services, plus the 3 data products the Builder creates (issue 5); running it again changes nothing."""

from __future__ import annotations

import io

import git
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q
from django.test.utils import override_settings

from catalog.demo import demo_repository_path
from catalog.models import CatalogTeam, Entity, Location
from catalog.readers import validate_target
from catalog.refs import parse_ref
from core.models import AuditEvent

DATA_PRODUCTS = {
    "system:default/finance.payments.0": {
        "component:default/finance.payments.0.raw-payments",
        "component:default/finance.payments.0.settle",
        "component:default/finance.payments.0.settled-payments",
    },
    "system:default/finance.invoices.0": {"component:default/finance.invoices.0.open-invoices"},
    "system:default/marketing.campaigns.0": {
        "component:default/marketing.campaigns.0.daily-performance",
        "component:default/marketing.campaigns.0.spend",
    },
}
BROKEN_FILE = "dataproducts/sales-forecast/catalog-info.yaml"


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refs(kind: str) -> set[str]:
    return set(Entity.objects.filter(kind=kind).values_list("ref", flat=True))


@pytest.fixture(scope="module")
def demo_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, demo_data_dir):
    """``seed_demo`` once for the module (it takes seconds), in a transaction rolled back at the end, as Django's
    ``setUpTestData`` does: each test runs in a savepoint inside it, so what one test changes the next never sees."""
    with (
        django_db_blocker.unblock(),
        override_settings(MESHFORGE_DATA_DIR=demo_data_dir, MESHFORGE_GIT_ROOT=demo_data_dir / "git"),
        transaction.atomic(),
    ):
        seed_demo()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db, settings, demo_data_dir):
    settings.MESHFORGE_DATA_DIR = demo_data_dir
    settings.MESHFORGE_GIT_ROOT = demo_data_dir / "git"
    return Location.objects.get(
        target=validate_target("git", f"file://{demo_repository_path()}#main:catalog-info.yaml")
    )


def test_seed_demo_registers_one_trusted_location_from_a_local_bare_repository(demo, demo_data_dir):
    bare = demo_repository_path()
    assert bare == demo_data_dir / "git" / "platform" / "demo-catalog.git"
    assert git.Repo(bare).bare
    assert demo.type == "git"
    assert demo.target == validate_target("git", f"file://{bare}#main:catalog-info.yaml")
    assert demo.trusted
    assert all(location.trusted for location in Location.objects.filter(Q(pk=demo.pk) | Q(parent=demo)))
    # the other trusted root is the built-in templates; data products live in untrusted repositories of their own
    assert Location.objects.filter(parent=None, trusted=True).count() == 2
    assert AuditEvent.objects.filter(action="location.register", object_id=str(demo.pk)).count() == 1


def test_the_demo_catalog_holds_two_domains(demo):
    assert refs("Domain") == {"domain:default/finance", "domain:default/marketing"}


def test_the_demo_catalog_holds_the_teams_and_their_users(demo):
    assert refs("Group") == {"group:default/platform", "group:default/finance", "group:default/marketing"}
    assert refs("User") == {f"user:default/{name}" for name in ("platform", "alice", "bob", "carol")}


def test_the_demo_catalog_holds_three_data_products_with_their_components(demo):
    systems = Entity.objects.filter(kind="System", orphan=False)
    assert {system.ref for system in systems if system.spec.get("type") == "dataproduct"} == set(DATA_PRODUCTS)
    parts: dict[str, set[str]] = {}
    for component in Entity.objects.filter(kind="Component", orphan=False):
        system = parse_ref(component.spec["system"], default_kind="system", default_namespace="default").key
        parts.setdefault(system, set()).add(component.ref)
    assert parts == DATA_PRODUCTS


def test_the_demo_data_products_and_their_components_have_no_errors(demo):
    members = Entity.objects.filter(ref__in=[*DATA_PRODUCTS, *set().union(*DATA_PRODUCTS.values())])
    assert members.count() == 9
    assert [(e.ref, e.errors, e.dp_errors) for e in members if e.has_errors or e.errors or e.dp_errors] == []


def test_the_demo_catalog_has_exactly_one_broken_file_whose_error_shows_on_its_location(demo):
    [broken] = Location.objects.exclude(errors=[])
    assert broken.target.endswith(f":{BROKEN_FILE}")
    assert broken.parent == demo
    assert all(error.startswith(f"{BROKEN_FILE}: ") for error in broken.errors)
    assert any('metadata.name "marketing.sales-forecast-" is not valid' in error for error in broken.errors)
    assert not Entity.objects.filter(has_errors=True).exists()
    assert not Entity.objects.filter(name__icontains="sales-forecast").exists()  # never valid: not served


def test_catalog_errors_lists_the_broken_demo_file(demo):
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("catalog_errors", stdout=out, stderr=io.StringIO())

    assert failure.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines
    assert all(line.startswith(f"git:{demo.target.split('#')[0]}") and BROKEN_FILE in line for line in lines)


def test_the_django_groups_match_the_personas(demo):
    def teams(username: str) -> list[str]:
        return sorted(get_user_model().objects.get(username=username).groups.values_list("name", flat=True))

    assert teams("platform") == ["platform"]
    assert teams("alice") == ["finance"]
    assert teams("bob") == ["marketing"]
    assert teams("carol") == []
    assert set(CatalogTeam.objects.values_list("entity_ref", flat=True)) == {
        "group:default/platform",
        "group:default/finance",
        "group:default/marketing",
    }
    assert set(Group.objects.values_list("name", flat=True)) >= {"platform", "finance", "marketing"}


def test_running_seed_demo_twice_changes_nothing(demo):
    bare = git.Repo(demo_repository_path())
    head = bare.head.commit.hexsha
    entities = dict(Entity.objects.values_list("ref", "uid"))
    updated = dict(Entity.objects.values_list("ref", "updated_at"))
    locations = list(Location.objects.values_list("pk", "type", "target", "trusted", "parent_id", "errors"))
    catalog_events = AuditEvent.objects.exclude(action="demo.seed").count()
    memberships = {
        user.username: sorted(user.groups.values_list("name", flat=True)) for user in get_user_model().objects.all()
    }

    out = seed_demo()

    assert f"Demo catalog registered from {demo.target}" in out
    assert bare.head.commit.hexsha == head
    assert len(list(bare.iter_commits("main"))) == 1
    assert dict(Entity.objects.values_list("ref", "uid")) == entities
    assert dict(Entity.objects.values_list("ref", "updated_at")) == updated
    assert list(Location.objects.values_list("pk", "type", "target", "trusted", "parent_id", "errors")) == locations
    assert AuditEvent.objects.exclude(action="demo.seed").count() == catalog_events
    assert {
        user.username: sorted(user.groups.values_list("name", flat=True)) for user in get_user_model().objects.all()
    } == memberships
