"""A stalled Git remote must not stall the site (issue 9, item 1): Git reads are cut off by a low-speed limit, by
their own timeout and by a request's deadline, killed with the helpers they started; processes queued on a
stalled mirror get its failure instead of stalling again; registration ends by the deadline. A tarpit on
127.0.0.1 plays the remote that accepts the connection and then trickles."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest
from django.utils import timezone

from catalog.models import Entity, Location
from catalog.readers import ReadError, ReadSession, validate_target
from catalog.readers.budget import BudgetSpent, read_deadline, time_left
from catalog.readers.git_reader import mirror_lock, mirror_path
from catalog.selectors import entity_source_files
from catalog.services import location_refresh, location_register
from core.testing.tarpit import Tarpit
from dataproducts.gitops import provider as git_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def trickling():
    with Tarpit(mode="trickle", interval=0.5) as server:
        yield server


@pytest.fixture
def silent():
    with Tarpit(mode="silent", interval=0.5) as server:
        yield server


def git_processes_naming(port: int) -> list[str]:
    """Command lines of the processes still running against the tarpit (git, git-remote-http)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"127.0.0.1:{port}" in text and "git" in text:
            found.append(text)
    return found


def read(target: str) -> None:
    with ReadSession() as session:
        session.read("git", target)


def test_a_fetch_from_a_trickling_remote_is_cut_off_by_the_low_speed_limit(trickling, settings):
    settings.CATALOG_GIT_LOW_SPEED_SECONDS = 1
    started = time.monotonic()

    with pytest.raises(ReadError, match="Operation too slow"):
        read(f"{trickling.url()}#main:catalog-info.yaml")

    assert time.monotonic() - started < 10


def test_a_fetch_that_overruns_the_request_deadline_is_killed_with_the_helpers_it_started(silent, settings):
    settings.CATALOG_GIT_LOW_SPEED_SECONDS = 600  # only the deadline can stop it
    started = time.monotonic()

    with pytest.raises(ReadError, match="time limit of a request") as raised, read_deadline(0.5):
        read(f"{silent.url()}#main:catalog-info.yaml")

    assert time.monotonic() - started < 5
    assert "cannot fetch" in str(raised.value)
    assert git_processes_naming(silent.port) == [], "git-remote-http must die with git"


def test_a_fetch_that_overruns_its_own_timeout_is_stopped_and_says_so(silent, settings):
    settings.CATALOG_GIT_LOW_SPEED_SECONDS = 600
    settings.CATALOG_GIT_TIMEOUT_SECONDS = 1

    with pytest.raises(ReadError, match="stopped after 1 s without finishing"):
        read(f"{silent.url()}#main:catalog-info.yaml")

    assert git_processes_naming(silent.port) == []


def test_nothing_starts_once_the_deadline_is_spent():
    with read_deadline(0.01):
        time.sleep(0.02)
        with pytest.raises(BudgetSpent, match=r"time limit of 0\.01 s was spent"):
            time_left(120, what="cannot fetch x")


def test_a_nested_deadline_keeps_the_earlier_end():
    with read_deadline(1), read_deadline(60):
        assert time_left(120, what="x") <= 1
    assert time_left(120, what="x") == 120


def test_readers_queued_on_a_stalled_mirror_get_its_failure_instead_of_stalling_again(trickling, settings):
    settings.CATALOG_GIT_LOW_SPEED_SECONDS = 1
    target = f"{trickling.url()}#main:catalog-info.yaml"
    errors: list[str] = []

    def reader() -> None:
        try:
            read(target)
        except ReadError as exc:
            errors.append(str(exc))

    started = time.monotonic()
    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join(30)

    assert len(errors) == 4 and all("Operation too slow" in error for error in errors), errors
    assert trickling.connections == 1, "one fetch reached the remote; the others reused its failure"
    assert time.monotonic() - started < 3.5  # not 4 times 1 s of stalling


def test_registering_a_stalled_remote_ends_by_the_request_deadline_with_the_error_on_the_location(
    silent, settings, platform_user
):
    settings.CATALOG_GIT_LOW_SPEED_SECONDS = 600
    settings.CATALOG_REQUEST_DEADLINE_SECONDS = 1
    started = time.monotonic()

    result = location_register(type="git", target=f"{silent.url()}#main:catalog-info.yaml", actor=platform_user)

    assert time.monotonic() - started < 4
    assert len(result.errors) == 1 and "time limit of a request" in result.errors[0]
    assert result.location.errors == result.errors


def test_an_in_request_refresh_waiting_for_a_held_mirror_lock_ends_by_the_deadline(make_repo, platform_user, settings):
    repo = make_repo("own")
    repo.put({"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: own}\n"})
    location = location_register(type="git", target=repo.target(), actor=platform_user).location
    settings.CATALOG_REQUEST_DEADLINE_SECONDS = 0.5
    started = time.monotonic()

    with mirror_lock(mirror_path(repo.url)):  # another writer holds the mirror (a new open file: flock blocks us)
        location_refresh(location=location, actor=platform_user)

    assert time.monotonic() - started < 4
    location.refresh_from_db()
    assert "holds the lock of mirror" in location.errors[0] and "time limit of a request" in location.errors[0]


def test_a_builder_commit_waiting_for_a_held_repository_lock_gives_up_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(git_provider, "REPOSITORY_LOCK_TIMEOUT_SECONDS", 0.5)
    provider = git_provider.LocalGitProvider(root=tmp_path)
    url = provider.repository_create(domain="finance", name="locked")
    path = Path(url.removeprefix("file://"))

    with open(path / "meshforge.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(git_provider.GitProviderError, match=r"in progress for over 0\.5 s"):
            provider.commit(url=url, files={"a.txt": "a\n"}, message="m", author=git_provider.author_of(None))

    assert time.monotonic() - started < 3


def test_pages_reading_a_folder_of_a_stalled_template_repository_end_by_the_deadline(silent, settings, make_repo):
    settings.CATALOG_GIT_LOW_SPEED_SECONDS = 600
    settings.CATALOG_REQUEST_DEADLINE_SECONDS = 0.5
    target = validate_target("git", f"{silent.url()}#main:template.yaml")
    location = Location.objects.create(type="git", target=target, next_refresh_at=timezone.now())
    template = Entity(ref="template:default/t", location=location, source_target=target, source_revision="a" * 40)
    started = time.monotonic()

    with pytest.raises(ReadError, match="time limit of a request"):
        entity_source_files(entity=template, folder="skeleton")

    assert time.monotonic() - started < 4
