"""Processing rules beyond one file: data product consistency, trust, team membership, and two loops at once."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from catalog.models import Entity, Location
from catalog.services import location_refresh, location_register, location_trust_set
from catalog.tests.test_processing import location_file
from core.testing.database import subprocess_database_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SYSTEM = """\
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: finance.cashflow.0, description: Operating cash flows}
spec:
  type: dataproduct
  lifecycle: experimental
  owner: group:finance
  domain: domain:finance
  mesh: {name: Cash flow, version: 0.0.0, dataProductOwner: user:alice, devGroup: group:finance}
"""


def dp_component(name: str, *depends_on: str) -> str:
    urns = ", ".join(f"urn:dmb:cmp:finance:cashflow:0:{target}" for target in depends_on)
    return f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{name: finance.cashflow.0.{name}}}
spec:
  type: outputport
  lifecycle: experimental
  owner: group:finance
  system: system:finance.cashflow.0
  mesh: {{name: {name}, kind: outputport, version: 0.0.0, dependsOn: [{urns}]}}
"""


def errors_of(ref: str) -> list[str]:
    return Entity.objects.get(ref=ref).dp_errors


def refresh(location: Location, actor) -> None:
    location.refresh_from_db()
    location_refresh(location=location, actor=actor)


def test_a_depends_on_a_missing_component_is_reported_and_clears_when_it_appears_elsewhere(make_repo, platform_user):
    repo = make_repo("cashflow")
    repo.put(
        {
            "catalog-info.yaml": location_file("./system.yaml", "./report.yaml", "./ledger.yaml", presence="optional"),
            "system.yaml": SYSTEM,
            "report.yaml": dp_component("report", "ledger"),
        }
    )
    # trusted: a data product from an untrusted location is not taken, and says so on the System
    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location
    report = "component:default/finance.cashflow.0.report"
    assert any("ledger" in error for error in errors_of(report))
    assert errors_of("system:default/finance.cashflow.0")
    assert Entity.objects.get(ref=report).has_errors

    repo.put({"ledger.yaml": dp_component("ledger")})
    Location.objects.update(next_refresh_at=timezone.now())
    refresh(location, platform_user)

    assert errors_of(report) == [], "report.yaml did not change, yet its error clears"
    assert errors_of("system:default/finance.cashflow.0") == []
    assert not Entity.objects.get(ref=report).has_errors


def test_a_depends_on_cycle_names_the_cycle_and_clears_when_broken(make_repo, platform_user):
    repo = make_repo("cashflow")
    repo.put(
        {
            "catalog-info.yaml": location_file("./system.yaml", "./a.yaml", "./b.yaml"),
            "system.yaml": SYSTEM,
            "a.yaml": dp_component("a", "b"),
            "b.yaml": dp_component("b", "a"),
        }
    )
    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location
    assert any("->" in error for error in errors_of("component:default/finance.cashflow.0.a"))

    repo.put({"b.yaml": dp_component("b")})
    Location.objects.update(next_refresh_at=timezone.now())
    refresh(location, platform_user)

    assert errors_of("component:default/finance.cashflow.0.a") == []
    assert errors_of("system:default/finance.cashflow.0") == []


TEMPLATE = """\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: output-port}
spec: {type: outputport, parameters: [], steps: []}
"""

TEAM = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: finance}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [group:finance]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: MEMBERSHIP}
"""


@pytest.mark.parametrize("document", [TEMPLATE, TEAM.replace("MEMBERSHIP", "[]")], ids=["template", "teams"])
def test_templates_and_teams_from_an_untrusted_location_are_refused_naming_the_rule(make_repo, platform_user, document):
    repo = make_repo("untrusted")
    repo.put({"catalog-info.yaml": document})

    result = location_register(type="git", target=repo.target(), actor=platform_user)

    assert not Entity.objects.filter(kind__in=["Template", "Group", "User"]).exists()
    assert result.location.errors
    assert all("trusted" in error for error in result.location.errors)


def test_trusting_a_location_afterwards_brings_its_templates_in(make_repo, platform_user):
    repo = make_repo("templates")
    repo.put({"catalog-info.yaml": TEMPLATE})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    location_trust_set(location=location, trusted=True, actor=platform_user)

    assert Entity.objects.filter(ref="template:default/output-port").exists()
    location.refresh_from_db()
    assert location.errors == []


def test_group_and_user_entities_of_a_trusted_location_add_and_remove_members(make_repo, platform_user, alice, bob):
    finance = Group.objects.get(name="finance")
    assert list(finance.user_set.all()) == [alice]
    repo = make_repo("teams")
    repo.put({"catalog-info.yaml": TEAM.replace("MEMBERSHIP", "[group:finance]")})

    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location
    assert set(finance.user_set.all()) == {alice, bob}
    assert set(bob.groups.values_list("name", flat=True)) == {"finance", "marketing"}, "marketing is not managed"

    repo.put({"catalog-info.yaml": TEAM.replace("MEMBERSHIP", "[]")})
    refresh(location, platform_user)
    assert list(finance.user_set.all()) == [alice]


def test_a_user_entity_for_someone_new_creates_an_account_without_a_password(make_repo, platform_user):
    repo = make_repo("teams")
    repo.put({"catalog-info.yaml": TEAM.replace("MEMBERSHIP", "[]").replace("name: bob", "name: dora")})

    location_register(type="git", target=repo.target(), actor=platform_user, trusted=True)

    dora = Group.objects.get(name="finance").user_set.model.objects.get(username="dora")
    assert not dora.has_usable_password()


CLAIM_LOOP = """
import json, django
django.setup()
from catalog.processing import claim_due_locations, locations_process
from catalog.readers import ReadSession
processed = []
with ReadSession() as session:
    while batch := claim_due_locations(limit=25):
        locations_process(batch, session=session)
        processed += batch
print(json.dumps(processed))
"""


@pytest.mark.slow
def test_two_loops_in_two_processes_process_each_of_500_due_locations_exactly_once(transactional_db, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    now = timezone.now()
    locations = []
    for index in range(500):
        path = files / f"c{index}.yaml"
        path.write_text(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            f"metadata: {{name: c{index}}}\nspec: {{type: service, lifecycle: production, owner: team}}\n"
        )
        locations.append(Location(type="file", target=str(path), next_refresh_at=now))
    Location.objects.bulk_create(locations)
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "CATALOG_FILE_ROOTS": str(files),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    env.pop("MESHFORGE_TEST_OWNS_DATA_DIR", None)
    loops = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM_LOOP], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [json.loads(loop.communicate(timeout=120)[0]) for loop in loops]
    assert all(loop.returncode == 0 for loop in loops)

    first, second = (set(output) for output in outputs)
    assert len(outputs[0]) + len(outputs[1]) == 500, "no location was processed twice"
    assert first | second == set(Location.objects.values_list("pk", flat=True))
    assert first and second, "both loops took part"
    assert Entity.objects.filter(kind="Component").count() == 500


def test_a_malformed_target_in_a_location_file_is_an_error_on_that_location_only(make_repo, platform_user):
    repo = make_repo("odd")
    repo.put({"catalog-info.yaml": location_file("http://[bad/x.yaml", "./a.yaml"), "a.yaml": COMPONENT_A})

    result = location_register(type="git", target=repo.target(), actor=platform_user)

    assert any("spec.targets[0]" in error and "not a valid" in error for error in result.location.errors)
    assert Entity.objects.filter(ref="component:default/a").exists(), "the other target was still read"


def test_a_nul_character_is_refused_with_an_error_instead_of_breaking_the_batch(make_repo, platform_user):
    repo = make_repo("nul")
    repo.put({"catalog-info.yaml": COMPONENT_A.replace("owner: team", 'owner: "te\\0am"')})

    result = location_register(type="git", target=repo.target(), actor=platform_user)

    assert not Entity.objects.filter(kind="Component").exists()
    assert any("NUL" in error for error in result.location.errors)


def test_a_document_whose_name_cannot_be_read_does_not_orphan_the_last_good_entity(make_repo, platform_user):
    repo = make_repo("broken")
    repo.put({"catalog-info.yaml": COMPONENT_A})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location

    repo.put({"catalog-info.yaml": COMPONENT_A.replace("kind: Component", "kind: [Component]")})
    refresh(location, platform_user)

    entity = Entity.objects.get(ref="component:default/a")
    location.refresh_from_db()
    assert not entity.orphan
    assert location.errors


def test_an_untrusted_location_may_not_send_the_catalog_to_another_host(make_repo, platform_user, settings):
    settings.CATALOG_URL_ALLOWED_HOSTS = ["git.example.com"]
    repo = make_repo("pointer")
    repo.put({"catalog-info.yaml": location_file("http://169.254.169.254/latest/meta-data").replace(
        "spec:\n", "spec:\n  type: url\n")})  # fmt: skip

    result = location_register(type="git", target=repo.target(), actor=platform_user)

    assert not result.location.children.exists()
    assert any("169.254.169.254" in error for error in result.location.errors)


def test_untrusting_a_location_removes_the_memberships_it_drove(make_repo, platform_user, bob):
    repo = make_repo("teams")
    repo.put({"catalog-info.yaml": TEAM.replace("MEMBERSHIP", "[group:finance]")})
    location = location_register(type="git", target=repo.target(), actor=platform_user, trusted=True).location
    assert bob.groups.filter(name="finance").exists()

    location_trust_set(location=location, trusted=False, actor=platform_user)

    assert not bob.groups.filter(name="finance").exists()


COMPONENT_A = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: a}
spec: {type: service, lifecycle: production, owner: team}
"""
