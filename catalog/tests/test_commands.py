"""The catalog's operator commands (PRODUCT §9, issue 4 item 5): ``register_location``, ``refresh_locations``,
``catalog_errors`` and ``bench_catalog``, run through ``call_command`` against real local Git repositories."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Entity, Location
from catalog.processing import ProcessCounts, claim_due_locations, locations_process
from catalog.readers import ReadSession, validate_target
from catalog.services import location_register
from core.models import AuditEvent
from core.services import OPERATOR


def component(name: str, *, owner: str = "group:finance", lifecycle: str | None = "production") -> str:
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Component", "metadata:", f"  name: {name}", "spec:"]
    lines.append("  type: service")
    if lifecycle:
        lines.append(f"  lifecycle: {lifecycle}")
    lines.append(f"  owner: {owner}")
    return "\n".join(lines) + "\n"


def location_file(*targets: str, name: str = "tree") -> str:
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Location", "metadata:", f"  name: {name}", "spec:"]
    lines.append("  targets:")
    lines += [f"    - {target}" for target in targets]
    return "\n".join(lines) + "\n"


def run(name: str, *args: str) -> tuple[str, str]:
    """Run a command; return what it wrote to stdout and stderr. A CommandError propagates."""
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(name: str, *args: str) -> tuple[CommandError, str, str]:
    """Run a command that must fail; return the CommandError and what it wrote before failing."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(name, *args, stdout=out, stderr=err)
    return failure.value, out.getvalue(), err.getvalue()


def refs(kind: str = "Component") -> set[str]:
    return set(Entity.objects.filter(kind=kind).values_list("ref", flat=True))


def nothing_due() -> None:
    Location.objects.update(next_refresh_at=timezone.now() + timedelta(hours=1))


@pytest.fixture
def repo(make_repo):
    return make_repo("finance")


# --- register_location -----------------------------------------------------------------------------------------


def test_register_location_adds_the_entities_of_the_target_and_prints_them(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta")})  # fmt: skip

    out, err = run("register_location", repo.target())

    assert refs() == {"component:default/alpha", "component:default/beta"}
    assert "added component:default/alpha" in out.splitlines()
    assert "added component:default/beta" in out.splitlines()
    assert "added location:default/tree" in out.splitlines()
    location = Location.objects.get(parent=None)
    assert f"{location}: 3 entities, 0 failed, 0 errors" in out
    assert location.target == validate_target("git", repo.target())
    assert err == ""


def test_register_location_with_dry_run_prints_what_it_would_add_and_changes_nothing(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml"), "a.yaml": component("alpha")})

    out, _ = run("register_location", repo.target(), "--dry-run")

    assert "would add component:default/alpha" in out.splitlines()
    assert "Dry run: " in out
    assert "added component:default/alpha" not in out.splitlines()
    assert not Location.objects.exists()
    assert not Entity.objects.exists()
    assert not AuditEvent.objects.exists()


def test_register_location_prints_the_error_of_an_invalid_entity_and_exits_1(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta", lifecycle=None)})  # fmt: skip

    error, out, err = run_failing("register_location", repo.target())

    assert error.returncode == 1
    assert "1 errors" in str(error)
    assert any(line.startswith("error: b.yaml") and "spec.lifecycle" in line for line in err.splitlines())
    assert "added component:default/alpha" in out.splitlines()
    assert refs() == {"component:default/alpha"}  # the valid one is kept; the invalid one is never served


def test_register_location_with_dry_run_reports_an_invalid_entity_and_exits_1_without_saving_it(db, repo):
    repo.put({"catalog-info.yaml": component("ledger-")})

    error, _, err = run_failing("register_location", repo.target(), "--dry-run")

    assert error.returncode == 1
    assert "metadata.name" in err
    assert not Location.objects.exists()
    assert not Entity.objects.exists()


@pytest.mark.parametrize(
    ("target", "type_"),
    [
        ("not a repository", "git"),
        ("file:///srv/git/finance.git#main:", "git"),
        ("ftp://example.com/catalog-info.yaml", "url"),
    ],
)
def test_register_location_refuses_a_bad_target_naming_it_and_creates_nothing(db, target, type_):
    error, out, _ = run_failing("register_location", target, "--type", type_)

    assert target in str(error)
    assert "target" in str(error)
    assert out == ""
    assert not Location.objects.exists()
    assert not Entity.objects.exists()
    assert not AuditEvent.objects.exists()


def test_register_location_with_trusted_marks_the_location_and_its_children_trusted(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml"), "a.yaml": component("alpha")})

    run("register_location", repo.target(), "--trusted")

    root = Location.objects.get(parent=None)
    assert root.trusted
    assert [child.trusted for child in root.children.all()] == [True]
    assert root.registered_by is None  # an operator acts as "system"


def test_register_location_without_trusted_leaves_the_location_untrusted(db, repo):
    repo.put({"catalog-info.yaml": component("alpha")})

    run("register_location", repo.target())

    assert Location.objects.get().trusted is False


def test_register_location_twice_fails_saying_it_is_already_registered(db, repo):
    repo.put({"catalog-info.yaml": component("alpha")})
    run("register_location", repo.target())

    error, out, _ = run_failing("register_location", repo.target())

    assert "already registered" in str(error)
    assert out == ""
    assert Location.objects.count() == 1
    assert Entity.objects.filter(kind="Component").count() == 1


# --- refresh_locations -----------------------------------------------------------------------------------------


def test_refresh_locations_processes_only_the_due_locations(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta")})  # fmt: skip
    location_register(type="git", target=repo.target(), actor=OPERATOR)
    repo.put({"a.yaml": component("alpha", owner="group:treasury"), "b.yaml": component("beta", owner="group:sales")})
    nothing_due()
    alpha_location = Entity.objects.get(ref="component:default/alpha").location
    Location.objects.filter(pk=alpha_location.pk).update(next_refresh_at=timezone.now())

    out, _ = run("refresh_locations")

    assert out.strip() == "1 locations: 0 added, 1 updated, 0 unchanged, 0 failed, 0 orphaned"
    assert Entity.objects.get(ref="component:default/alpha").spec["owner"] == "group:treasury"
    assert Entity.objects.get(ref="component:default/beta").spec["owner"] == "group:finance"  # not due yet
    alpha_location.refresh_from_db()
    assert alpha_location.next_refresh_at > timezone.now() + timedelta(seconds=90)


def test_refresh_locations_with_nothing_due_does_nothing(db, repo):
    repo.put({"catalog-info.yaml": component("alpha")})
    location_register(type="git", target=repo.target(), actor=OPERATOR)
    nothing_due()

    out, _ = run("refresh_locations")

    assert out.strip() == "0 locations: 0 added, 0 updated, 0 unchanged, 0 failed, 0 orphaned"


def test_refresh_locations_all_processes_every_location_and_prints_the_counts(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml", "./c.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta"), "c.yaml": component("gamma")})  # fmt: skip
    location_register(type="git", target=repo.target(), actor=OPERATOR)
    nothing_due()
    repo.put(
        {
            "catalog-info.yaml": location_file("./a.yaml", "./b.yaml", "./c.yaml", "./d.yaml"),
            "a.yaml": component("alpha", owner="group:treasury"),  # updated
            "c.yaml": component("gamma", lifecycle=None),  # invalid: keeps its last good version
            "d.yaml": component("delta"),  # a new target
        }
    )

    out, _ = run("refresh_locations", "--all")

    # the root's Location entity `tree` and alpha are updated; b.yaml is unchanged; delta is added
    assert out.strip() == "5 locations: 1 added, 2 updated, 1 unchanged, 1 failed, 0 orphaned"
    assert refs() == {f"component:default/{name}" for name in ("alpha", "beta", "gamma", "delta")}
    assert Entity.objects.get(ref="component:default/gamma").has_errors
    assert not Location.objects.filter(next_refresh_at__lte=timezone.now()).exists()


def test_refresh_locations_counts_orphans_of_a_removed_target(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta")})  # fmt: skip
    location_register(type="git", target=repo.target(), actor=OPERATOR)
    repo.put({"catalog-info.yaml": location_file("./a.yaml")})

    out, _ = run("refresh_locations", "--all")

    beta = Entity.objects.get(ref="component:default/beta")
    assert beta.orphan and beta.location is None
    assert not Entity.objects.get(ref="component:default/alpha").orphan
    # beta was orphaned by this run (its location went with the target), so the run reports it
    assert out.strip().endswith(", 1 orphaned")


def test_refresh_locations_wait_processes_the_child_locations_found_on_the_way(db, repo, settings):
    repo.put(
        {
            "catalog-info.yaml": location_file("./finance/catalog-info.yaml", "./sales/catalog-info.yaml"),
            "finance/catalog-info.yaml": location_file("./a.yaml", "./b.yaml", name="finance"),
            "finance/a.yaml": component("alpha"),
            "finance/b.yaml": component("beta"),
            "sales/catalog-info.yaml": location_file("./c.yaml", name="sales"),
            "sales/c.yaml": component("gamma"),
        }
    )
    settings.CATALOG_REQUEST_BUDGET_SECONDS = 0  # registering reads the root only; its children stay due
    location_register(type="git", target=repo.target(), actor=OPERATOR)
    assert refs() == set()
    assert Location.objects.count() == 3

    out, _ = run("refresh_locations", "--wait")

    assert refs() == {"component:default/alpha", "component:default/beta", "component:default/gamma"}
    assert Location.objects.count() == 6
    assert not Location.objects.filter(last_attempt_at=None).exists()
    assert not Location.objects.filter(next_refresh_at__lte=timezone.now()).exists()
    # the root was read at registration and is not due again; 2 Location entities and 3 components are added
    assert out.strip() == "5 locations: 5 added, 0 updated, 0 unchanged, 0 failed, 0 orphaned"


def one_batch_per_call(*, time_budget: float, **kwargs) -> ProcessCounts:
    """``refresh_due`` cut down to one batch of one location, as when the time budget runs out."""
    with ReadSession() as session:
        batch = claim_due_locations(limit=1)
        return locations_process(batch, session=session) if batch else ProcessCounts()


def test_refresh_locations_without_wait_runs_one_pass_and_with_wait_repeats_until_none_is_due(
    db, repo, settings, monkeypatch
):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta")})  # fmt: skip
    settings.CATALOG_REQUEST_BUDGET_SECONDS = 0
    location_register(type="git", target=repo.target(), actor=OPERATOR)
    monkeypatch.setattr("catalog.management.commands.refresh_locations.refresh_due", one_batch_per_call)
    nothing_due()
    Location.objects.exclude(parent=None).update(next_refresh_at=timezone.now())

    out, _ = run("refresh_locations")
    assert out.startswith("1 locations:")
    assert len(refs()) == 1

    out, _ = run("refresh_locations", "--wait")
    assert out.startswith("1 locations:")
    assert refs() == {"component:default/alpha", "component:default/beta"}


# --- catalog_errors --------------------------------------------------------------------------------------------


def test_catalog_errors_prints_no_errors_and_exits_0_when_the_catalog_is_clean(db, repo):
    repo.put({"catalog-info.yaml": component("alpha")})
    location_register(type="git", target=repo.target(), actor=OPERATOR)

    out, _ = run("catalog_errors")

    assert out.strip() == "No catalog errors."


def test_catalog_errors_on_an_empty_catalog_prints_no_errors(db):
    out, _ = run("catalog_errors")

    assert out.strip() == "No catalog errors."


def test_catalog_errors_prints_each_location_and_entity_error_and_exits_1(db, repo):
    repo.put({"catalog-info.yaml": location_file("./a.yaml", "./b.yaml"), "a.yaml": component("alpha"),
              "b.yaml": component("beta-")})  # fmt: skip
    location_register(type="git", target=repo.target(), actor=OPERATOR)
    repo.put({"a.yaml": component("alpha", lifecycle=None)})  # alpha keeps its last good version, with an error
    run("refresh_locations", "--all")

    error, out, _ = run_failing("catalog_errors")

    assert error.returncode == 1
    lines = out.splitlines()
    b_location = Location.objects.get(target=validate_target("git", repo.target("b.yaml")))
    assert any(line.startswith(f"{b_location}: ") and "metadata.name" in line for line in lines)
    assert any(line.startswith("component:default/alpha: ") and "spec.lifecycle" in line for line in lines)
    assert "No catalog errors." not in out
    assert f"{len(lines)} catalog errors" == str(error)


# --- bench_catalog ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_bench_catalog_measures_a_small_catalog_and_prints_the_targets(django_db_blocker):
    """The benchmark creates and drops a database of its own, so it runs outside pytest-django's test
    transaction (no db fixture) with database access unblocked."""
    with django_db_blocker.unblock():  # the loop in two processes, as two worker processes run it
        out, _ = run("bench_catalog", "--entities", "100", "--workers", "2")

    lines = out.splitlines()
    assert any(line.startswith("The loop runs in 2 processes at once") for line in lines)
    first = next(line for line in lines if "first ingest" in line)
    assert "entities/s" in first and "target >= 1,000/s" in first
    assert "(100 entities, 102 added, 0 failed, " in out  # 100 entities, the tree's 2 Location entities
    unchanged = next(line for line in lines if "unchanged re-check" in line)
    assert "target >= 10,000/s" in unchanged
    assert "refresh after 1% changed" in out and "(1 updated)" in out
    by_query = [line for line in lines if "by-query" in line]
    assert len(by_query) == 3
    assert all("(HTTP 200)" in line and "target p95 < 50 ms" in line for line in by_query)
    assert any("entity page" in line and "(HTTP 200)" in line for line in lines)
    assert "baseline: COPY" in out
