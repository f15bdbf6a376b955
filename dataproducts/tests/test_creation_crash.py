"""A creation killed half way does not block its retry: a real ``create_dataproduct`` process is stopped at a step
(before ``git init``, after it, after the location is registered), a second attempt meanwhile is told the product is
being created, then the process is killed with SIGKILL and the very next attempt cleans up and succeeds. What gets
removed is only what the killed creation made: a repository somebody else put at the same place stays."""

from __future__ import annotations

import json
import os
import selectors as io_selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import git
import pytest
from django.db import connection

from catalog.models import Location
from core.testing.database import subprocess_env
from dataproducts.exceptions import DataProductConflict
from dataproducts.gitops.provider import LocalGitProvider
from dataproducts.models import DataProduct, DataProductReservation
from dataproducts.services import creation_lock_key
from dataproducts.tests.conftest import dp_values

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DP_ID = "urn:dmb:dp:finance:cashflow:0"
WAIT_SECONDS = 60

# Run by the child: the real command, stopped at one point of the creation by wrapping public seams.
CREATOR = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    import django

    django.setup()
    from django.conf import settings

    git_root, mirrors, stop_at, values = sys.argv[1:5]
    settings.MESHFORGE_GIT_ROOT, settings.CATALOG_MIRROR_DIR = Path(git_root), Path(mirrors)
    settings.CATALOG_URL_ALLOWED_HOSTS = []

    from django.core.management import call_command
    from dataproducts.services import creation as services
    from dataproducts.gitops import provider as git_provider

    def stop(where):
        print(f"STOPPED {where}", flush=True)
        time.sleep(600)

    create = git_provider.LocalGitProvider.repository_create

    def repository_create(self, **kwargs):
        if stop_at == "before-init":
            stop(stop_at)
        url = create(self, **kwargs)
        if stop_at == "after-init":
            stop(stop_at)
        return url

    git_provider.LocalGitProvider.repository_create = repository_create
    register = services.location_register

    def location_register(**kwargs):
        result = register(**kwargs)
        if stop_at == "after-location":
            stop(stop_at)
        return result

    services.location_register = location_register
    call_command("create_dataproduct", "--template", "template:dataproduct", "--values", values, "--user", "alice")
    """
)


@pytest.fixture
def start_creator(transactional_db, builder, alice, settings, tmp_path):
    """``start_creator(stop_at)`` runs ``create_dataproduct`` for alice in a process of its own (on the test
    database and this test's Git root) and returns once it has stopped at ``stop_at``."""
    started: list[subprocess.Popen] = []
    values = tmp_path / "values.json"
    values.write_text(json.dumps(dp_values()))
    env = subprocess_env()

    def start(stop_at: str) -> subprocess.Popen:
        arguments = [str(settings.MESHFORGE_GIT_ROOT), str(settings.CATALOG_MIRROR_DIR), stop_at, str(values)]
        process = subprocess.Popen(
            [sys.executable, "-c", CREATOR, *arguments],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        _wait_for_line(process, f"STOPPED {stop_at}")
        return process

    yield start
    for process in started:
        _kill(process)


def _wait_for_line(process: subprocess.Popen, expected: str) -> None:
    seen = []
    selector = io_selectors.DefaultSelector()
    selector.register(process.stdout, io_selectors.EVENT_READ)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stdout.readline().decode(errors="replace")
            if not line and process.poll() is not None:
                break
            seen.append(line)
            if line.strip() == expected:
                return
    _kill(process)
    pytest.fail(f"the creator did not get to {expected!r}:\n{''.join(seen)}")


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)  # no clean-up of any kind: as a power cut or the OOM killer
        process.wait(10)


def _bare(settings) -> Path:
    return settings.MESHFORGE_GIT_ROOT / "finance" / "cashflow.git"


@pytest.mark.slow
@pytest.mark.parametrize("stop_at", ["before-init", "after-init", "after-location"])
def test_a_creation_killed_half_way_is_cleaned_up_by_a_retry_at_once(
    start_creator, api_client, alice, settings, stop_at
):
    creator = start_creator(stop_at)
    reservation = DataProductReservation.objects.get(dp_id=DP_ID)
    assert reservation.state == "creating"
    assert reservation.repository_url == _bare(settings).as_uri()  # recorded before the repository exists
    assert _bare(settings).exists() == (stop_at != "before-init")
    api_client.force_authenticate(alice)
    body = {"template": "template:dataproduct", "values": dp_values()}

    # alive: whoever else tries is told that it is being created
    response = api_client.post("/api/dataproducts/data-products/", body, format="json")
    assert response.status_code == 409 and "is being created" in response.json()["detail"]

    _kill(creator)
    response = api_client.post("/api/dataproducts/data-products/", body, format="json")

    assert response.status_code == 201, response.content
    retry = DataProductReservation.objects.get(dp_id=DP_ID)
    assert retry.state == "created" and retry.mark != reservation.mark
    assert git.Repo(_bare(settings)).config_reader("repository").get_value("meshforge", "reservation") == retry.mark
    assert len(list(git.Repo(_bare(settings)).iter_commits("main"))) == 1
    assert sorted(path.name for path in _bare(settings).parent.iterdir()) == ["cashflow.git"]  # nothing else left
    assert Location.objects.filter(target__startswith=_bare(settings).as_uri()).count() == 1
    assert DataProduct.objects.get().dp_id == DP_ID


def test_a_repository_somebody_else_put_at_the_place_is_refused_and_kept(create_dp, alice, settings):
    foreign = git.Repo.init(_bare(settings), bare=True, initial_branch="main")
    (_bare(settings) / "somebody-elses").write_text("keep me")

    with pytest.raises(DataProductConflict, match=r"finance/cashflow\.git already exists") as refused:
        create_dp(alice)

    assert str(settings.MESHFORGE_GIT_ROOT) not in str(refused.value)
    assert (_bare(settings) / "somebody-elses").read_text() == "keep me" and foreign.bare
    assert not DataProductReservation.objects.exists()


def test_the_clean_up_after_a_dead_creation_keeps_a_repository_it_did_not_make(create_dp, alice, settings):
    git.Repo.init(_bare(settings), bare=True, initial_branch="main")
    (_bare(settings) / "somebody-elses").write_text("keep me")
    # a creation that died before its repository existed, and someone else's repository there since
    DataProductReservation.objects.create(
        dp_id=DP_ID, entity_name="finance.cashflow.0", repository_url=_bare(settings).as_uri(), mark="0" * 32
    )

    with pytest.raises(DataProductConflict, match="already exists"):
        create_dp(alice)

    assert (_bare(settings) / "somebody-elses").read_text() == "keep me"


def test_a_repository_exists_only_marked_and_its_half_made_leftovers_go_with_the_mark(tmp_path):
    provider = LocalGitProvider(root=tmp_path / "git")
    url = provider.repository_url(domain="finance", name="cashflow")
    assert provider.repository_create(domain="finance", name="cashflow", mark="a" * 32) == url
    staging = tmp_path / "git" / "finance" / f".cashflow.git.{'b' * 32}.tmp"
    staging.mkdir()  # what a creation killed between `git init` and the rename into place leaves

    assert provider.repository_delete(url=url, mark="b" * 32) is False  # not its repository: kept
    assert not staging.exists() and provider.writable(url)
    assert provider.repository_delete(url=url, mark="a" * 32) is True
    assert not (tmp_path / "git" / "finance").exists()


def test_the_creation_lock_is_released_when_the_creation_ends(create_dp, alice):
    create_dp(alice)

    key = creation_lock_key(DP_ID)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = %s AND objid::bigint = %s",
            [key >> 32, key & 0xFFFFFFFF],
        )
        assert cursor.fetchone()[0] == 0
