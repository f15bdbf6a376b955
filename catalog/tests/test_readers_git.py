"""Tests for the git reader: real bare repositories built with GitPython, read through file:// URLs into mirrors."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import git
import pytest

from catalog.readers import InvalidTarget, ReadError, ReadSession, TargetNotFound, git_reader
from catalog.readers.base import redact
from catalog.readers.git_reader import FETCHED_STAMP, GitMirror, mirror_lock, mirror_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AUTHOR = git.Actor("Test", "test@example.com")


class Origin:
    """A bare repository (the remote) fed by commits made in a work tree next to it."""

    def __init__(self, folder: Path, *, default_branch: str = "main") -> None:
        self.bare = folder / "origin.git"
        git.Repo.init(self.bare, bare=True, initial_branch=default_branch)
        self.work = git.Repo.init(folder / "work", initial_branch=default_branch)
        self.work.create_remote("origin", str(self.bare))
        self.url = f"file://{self.bare}"

    def commit(self, files: dict[str, str | None], *, branch: str | None = None) -> str:
        """Write (or, for None, delete) ``files`` on ``branch`` and push; return the commit sha."""
        work = self.work
        if branch is not None and work.head.is_valid() and work.active_branch.name != branch:
            if branch in work.heads:
                work.heads[branch].checkout()
            else:
                work.create_head(branch).checkout()
        root = Path(work.working_tree_dir)
        for name, text in files.items():
            if text is None:
                work.index.remove([name], working_tree=True)
            else:
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(text)
                work.index.add([name])
        commit = work.index.commit("change", author=AUTHOR, committer=AUTHOR)
        work.git.push("origin", f"{work.active_branch.name}:{work.active_branch.name}", "--force")
        return commit.hexsha

    def set_default_branch(self, branch: str) -> None:
        git.Repo(self.bare).git.symbolic_ref("HEAD", f"refs/heads/{branch}")

    def delete_branch(self, branch: str) -> None:
        git.Repo(self.bare).git.branch("-D", branch)


@pytest.fixture(autouse=True)
def mirrors(settings, tmp_path):
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"
    settings.CATALOG_URL_MAX_BYTES = 64 * 1024
    return settings.CATALOG_MIRROR_DIR


@pytest.fixture
def origin(tmp_path):
    origin = Origin(tmp_path / "finance")
    origin.commit({"catalog-info.yaml": "kind: System\n", "teams/a.yaml": "kind: Group\n"})
    return origin


@pytest.fixture
def fetches(monkeypatch):
    """Every real fetch (not one skipped for being recent), as the repository URL."""
    done: list[str] = []
    original = git_reader.fetch_mirror

    def counting_fetch(path, repository, **options):
        fetched = original(path, repository, **options)
        if fetched:
            done.append(repository)
        return fetched

    monkeypatch.setattr(git_reader, "fetch_mirror", counting_fetch)
    return done


@pytest.fixture
def blob_reads(monkeypatch):
    done: list[str] = []
    original = GitMirror.read_blob

    def counting_read(self, sha, **options):
        done.append(sha)
        return original(self, sha, **options)

    monkeypatch.setattr(GitMirror, "read_blob", counting_read)
    return done


def read(target, **options):
    with ReadSession() as session:
        return session.read("git", target, **options)


@pytest.mark.parametrize(
    "target", ["ssh://-oProxyCommand=x@host/repo.git", "ssh://git@-oProxyCommand=x/repo.git#main:a.yaml"]
)
def test_a_stored_target_whose_user_or_host_begins_with_a_dash_never_reaches_git(mirrors, target):
    # a location row written before the syntax refused it: read, it fails before any git command
    with pytest.raises(InvalidTarget, match="begins with '-'"):
        read(target)
    assert not mirrors.exists()


def test_a_target_without_branch_or_path_reads_catalog_info_yaml_of_the_default_branch(tmp_path):
    origin = Origin(tmp_path / "repo", default_branch="trunk")
    commit = origin.commit({"catalog-info.yaml": "on trunk\n"})
    origin.commit({"catalog-info.yaml": "on main\n"}, branch="main")

    result = read(origin.url)

    assert result.content == b"on trunk\n"
    assert result.revision == commit
    assert result.fingerprint == f"git:{git.Repo(origin.bare).git.rev_parse('trunk:catalog-info.yaml')}"
    assert result.unchanged is False


def test_a_named_branch_and_path_are_read(origin):
    commit = origin.commit({"teams/a.yaml": "kind: Group # on dev\n"}, branch="dev")

    result = read(f"{origin.url}#dev:teams/a.yaml")

    assert (result.content, result.revision) == (b"kind: Group # on dev\n", commit)
    assert read(f"{origin.url}:teams/a.yaml").content == b"kind: Group\n"
    assert read(f"{origin.url}#main:teams/a.yaml").content == b"kind: Group\n"


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        (":teams/missing.yaml", "teams/missing.yaml on branch 'main' of file://"),
        (":teams", "teams on branch 'main'"),
        ("#nope", "branch 'nope' not found in file://"),
        ("#nope:teams/a.yaml", "branch 'nope' not found"),
    ],
)
def test_a_missing_path_or_branch_raises_target_not_found(origin, suffix, message):
    with pytest.raises(TargetNotFound) as raised:
        read(origin.url + suffix)
    assert message in str(raised.value)


def test_a_new_commit_is_seen_by_the_next_session_not_by_the_one_that_fetched_already(origin):
    with ReadSession() as session:
        assert session.read("git", origin.url).content == b"kind: System\n"
        commit = origin.commit({"catalog-info.yaml": "kind: System # v2\n"})
        assert session.read("git", origin.url).content == b"kind: System\n"

    result = read(origin.url)

    assert (result.content, result.revision) == (b"kind: System # v2\n", commit)


def test_an_unchanged_blob_is_reported_unchanged_without_reading_it(origin, blob_reads):
    first = read(origin.url)
    assert len(blob_reads) == 1
    commit = origin.commit({"teams/a.yaml": "kind: Group # changed\n"})

    again = read(origin.url, previous=first.fingerprint)

    assert again.unchanged is True
    assert again.content is None
    assert again.fingerprint == first.fingerprint
    assert again.revision == commit
    assert len(blob_reads) == 1


def test_a_changed_blob_is_read_again(origin):
    first = read(origin.url)
    origin.commit({"catalog-info.yaml": "kind: System # changed\n"})

    again = read(origin.url, previous=first.fingerprint)

    assert (again.unchanged, again.content) == (False, b"kind: System # changed\n")
    assert again.fingerprint != first.fingerprint


def test_a_deleted_file_or_branch_is_not_found_after_the_next_fetch(origin):
    origin.commit({"x.yaml": "on dev\n"}, branch="dev")
    assert read(f"{origin.url}#dev:x.yaml").content == b"on dev\n"
    assert read(f"{origin.url}#main:teams/a.yaml").content == b"kind: Group\n"

    origin.commit({"teams/a.yaml": None}, branch="main")
    origin.delete_branch("dev")

    with pytest.raises(TargetNotFound, match=r"teams/a\.yaml"):
        read(f"{origin.url}#main:teams/a.yaml")
    with pytest.raises(TargetNotFound, match="branch 'dev' not found"):
        read(f"{origin.url}#dev:x.yaml")


def test_one_fetch_per_repository_per_session_however_many_targets(tmp_path, origin, fetches):
    other = Origin(tmp_path / "marketing")
    other.commit({f"p{n}.yaml": f"n: {n}\n" for n in range(30)})

    with ReadSession() as session:
        for n in range(30):
            session.read("git", f"{other.url}:p{n}.yaml")
            session.read("git", f"{origin.url}#main:teams/a.yaml")
            session.read("git", origin.url)
        with pytest.raises(TargetNotFound):
            session.read("git", f"{origin.url}:missing.yaml")
        assert session.fetched_repositories == {origin.url, other.url}

    assert sorted(fetches) == sorted([origin.url, other.url])


def test_a_failed_fetch_is_not_retried_within_the_session(tmp_path, monkeypatch):
    attempts = []
    original = git_reader.fetch_mirror

    def counting_fetch(path, repository, **options):
        attempts.append(repository)
        return original(path, repository, **options)

    monkeypatch.setattr(git_reader, "fetch_mirror", counting_fetch)
    url = f"file://{tmp_path}/missing.git"

    with ReadSession() as session:
        for _ in range(3):
            with pytest.raises(ReadError, match="cannot fetch"):
                session.read("git", url)

    assert len(attempts) == 1


def test_fetch_max_age_skips_a_fetch_that_any_session_made_recently(origin, fetches):
    read(origin.url)
    origin.commit({"catalog-info.yaml": "kind: System # v2\n"})

    with ReadSession(fetch_max_age=300) as session:
        assert session.read("git", origin.url).content == b"kind: System\n"
        assert session.fetched_repositories == frozenset()
    assert fetches == [origin.url]

    stamp = mirror_path(origin.url) / FETCHED_STAMP
    old = time.time() - 600
    os.utime(stamp, (old, old))
    with ReadSession(fetch_max_age=300) as session:
        assert session.read("git", origin.url).content == b"kind: System # v2\n"
    assert fetches == [origin.url, origin.url]


def test_fetch_max_age_does_not_skip_the_first_fetch_of_a_repository(origin, fetches):
    with ReadSession(fetch_max_age=300) as session:
        assert session.read("git", origin.url).content == b"kind: System\n"
    assert fetches == [origin.url]


def test_a_change_of_the_remote_default_branch_is_picked_up(origin):
    origin.commit({"catalog-info.yaml": "on trunk\n"}, branch="trunk")
    assert read(origin.url).content == b"kind: System\n"

    origin.set_default_branch("trunk")

    assert read(origin.url).content == b"on trunk\n"


def test_the_default_branch_is_asked_once_a_session_that_fetched_meets_a_target_without_branch(origin):
    origin.commit({"catalog-info.yaml": "on trunk\n"}, branch="trunk")
    read(origin.url)
    origin.set_default_branch("trunk")

    with ReadSession() as session:
        assert session.read("git", f"{origin.url}#main").content == b"kind: System\n"
        assert session.read("git", origin.url).content == b"on trunk\n"


def test_the_mirror_is_a_bare_repository_fetched_from_the_url_under_catalog_mirror_dir(origin, mirrors):
    read(origin.url)

    path = mirror_path(origin.url)
    assert path.parent == mirrors
    assert path.name.startswith("origin-")
    mirror = git.Repo(path)
    assert mirror.bare
    assert mirror.remotes.origin.url == origin.url
    assert mirror.remotes.origin.config_reader.get("fetch") == "+refs/heads/*:refs/heads/*"
    assert path.with_name(path.name + ".lock").exists()
    assert mirror_path(origin.url + "x") != path


def test_a_repository_that_does_not_exist_raises_a_read_error_naming_it_and_leaves_no_mirror(tmp_path, mirrors):
    url = f"file://{tmp_path}/nowhere.git"

    with pytest.raises(ReadError) as raised:
        read(url)

    assert not isinstance(raised.value, TargetNotFound)
    assert str(raised.value).startswith(f"cannot fetch {url}: ")
    assert "does not appear to be a git repository" in str(raised.value)
    assert not mirror_path(url).exists()


def test_a_folder_that_is_not_a_repository_raises_a_read_error(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(ReadError, match="cannot fetch"):
        read(f"file://{tmp_path}/plain")


def test_an_empty_repository_has_no_branch_to_read(tmp_path):
    git.Repo.init(tmp_path / "empty.git", bare=True, initial_branch="main")
    with pytest.raises(TargetNotFound, match="not found"):
        read(f"file://{tmp_path}/empty.git#main")


def test_a_blob_over_the_size_limit_is_refused_and_the_session_keeps_reading(origin, settings):
    settings.CATALOG_URL_MAX_BYTES = 1024
    origin.commit({"big.yaml": "x" * 5000})

    with ReadSession() as session:
        with pytest.raises(ReadError, match="5000 bytes, over the limit of 1024 bytes"):
            session.read("git", f"{origin.url}:big.yaml")
        assert session.read("git", origin.url).content == b"kind: System\n"
        assert session.read("git", f"{origin.url}:teams/a.yaml").content == b"kind: Group\n"


def test_a_prefetch_reads_a_batch_of_files_at_once_and_read_answers_as_without_it(origin, settings, monkeypatch):
    settings.CATALOG_URL_MAX_BYTES = 1024
    monkeypatch.setattr(git_reader, "PREFETCH_MIN_FILES", 2)
    origin.commit({"big.yaml": "x" * 5000, "same.yaml": "kind: Group\n"})  # same.yaml: the blob of teams/a.yaml
    first = read(origin.url)
    targets = [origin.url, f"{origin.url}:teams/a.yaml", f"{origin.url}:same.yaml", f"{origin.url}:big.yaml"]
    targets += [f"{origin.url}:missing.yaml", f"{origin.url}#nope:a.yaml", "git:not a target"]
    reads = [("git", target, None) for target in targets] + [("git", origin.url, first.fingerprint)]
    one_by_one = []  # the files read through the persistent cat-file, not handed out from a prefetch
    original = GitMirror.read_blob

    def counting(self, sha, **options):
        if sha not in self._prefetched:
            one_by_one.append(options["what"].split(" ")[0])
        return original(self, sha, **options)

    monkeypatch.setattr(GitMirror, "read_blob", counting)

    with ReadSession() as session:
        session.prefetch(reads)
        results = [outcome(session, target, previous) for _, target, previous in reads]

    assert one_by_one == ["big.yaml"]  # over the size limit: read (and refused) as before
    assert results[:3] == [b"kind: System\n", b"kind: Group\n", b"kind: Group\n"]
    assert "5000 bytes, over the limit of 1024 bytes" in results[3]
    assert [type(result) for result in results[4:]] == [str, str, str, bool]
    with ReadSession() as session:  # the same reads without a prefetch give the same answers
        assert [outcome(session, target, previous) for _, target, previous in reads] == results


def outcome(session, target, previous):
    try:
        result = session.read("git", target, previous=previous)
    except ReadError as exc:
        return str(exc)
    return result.unchanged if result.content is None else result.content


def test_a_failed_prefetch_leaves_every_read_to_the_files_one_by_one(origin, monkeypatch):
    monkeypatch.setattr(git_reader, "PREFETCH_MIN_FILES", 1)
    monkeypatch.setattr(git_reader, "PREFETCH_MAX_BYTES", 0)  # nothing fits: each file is read on its own
    with ReadSession() as session:
        session.prefetch([("git", origin.url, None), ("url", "https://example.com/x.yaml", None)])
        assert session.read("git", origin.url).content == b"kind: System\n"

    def broken(*args, **kwargs):
        raise ReadError("cannot read blobs: boom")

    monkeypatch.setattr(git_reader, "PREFETCH_MAX_BYTES", 1024)
    with ReadSession() as session:
        session.read("git", origin.url)  # fetched and listed
        monkeypatch.setattr(git_reader, "_git", broken)
        session.prefetch([("git", f"{origin.url}:teams/a.yaml", None)])
        assert session.read("git", f"{origin.url}:teams/a.yaml").content == b"kind: Group\n"


def test_a_symbolic_link_in_the_repository_is_not_followed(origin):
    root = Path(origin.work.working_tree_dir)
    (root / "link.yaml").symlink_to("/etc/passwd")
    origin.work.index.add(["link.yaml"])
    origin.work.index.commit("link", author=AUTHOR, committer=AUTHOR)
    origin.work.git.push("origin", "main")

    with pytest.raises(ReadError, match="symbolic link"):
        read(f"{origin.url}:link.yaml")


def test_lock_files_left_by_a_killed_fetch_do_not_block_the_next_one(origin):
    read(origin.url)
    path = mirror_path(origin.url)
    (path / "refs" / "heads" / "main.lock").write_text("")
    (path / "packed-refs.lock").write_text("")
    commit = origin.commit({"catalog-info.yaml": "kind: System # v2\n"})

    assert read(origin.url).revision == commit


def test_git_messages_hide_the_user_info_of_urls():
    message = "fatal: unable to access 'https://bot:ghp_secret@github.com/org/repo.git/': 403"
    assert redact(message) == "fatal: unable to access 'https://***@github.com/org/repo.git/': 403"


CHILD_READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from django.conf import settings

    mirrors, go, target, rounds = sys.argv[1:5]
    settings.configure(
        CATALOG_MIRROR_DIR=Path(mirrors),
        CATALOG_URL_MAX_BYTES=65536,
        CATALOG_GIT_TIMEOUT_SECONDS=120,
        CATALOG_GIT_LOW_SPEED_BYTES=1000,
        CATALOG_GIT_LOW_SPEED_SECONDS=20,
    )
    from catalog.readers import ReadSession

    while not Path(go).exists():
        time.sleep(0.005)
    for _ in range(int(rounds)):
        with ReadSession() as session:
            content = session.read("git", target).content
    print(content.decode(), end="")
    """
)


def start_reader(mirrors: Path, go: Path, target: str, rounds: int = 1) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD_READER, str(mirrors), str(go), target, str(rounds)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_fetch_and_read_one_mirror_at_the_same_time(origin, mirrors, tmp_path):
    go = tmp_path / "go"
    readers = [start_reader(mirrors, go, f"{origin.url}:teams/a.yaml", rounds=8) for _ in range(3)]
    go.touch()
    for n in range(4):  # the remote moves while they fetch
        origin.commit({"catalog-info.yaml": f"kind: System # {n}\n"})

    outcomes = [reader.communicate(timeout=120) for reader in readers]

    assert [reader.returncode for reader in readers] == [0, 0, 0], [err for _, err in outcomes]
    assert [out for out, _ in outcomes] == ["kind: Group\n"] * 3


def test_a_fetch_waits_while_another_process_holds_the_mirror_lock(origin, mirrors, tmp_path):
    go = tmp_path / "go"
    go.touch()
    with mirror_lock(mirror_path(origin.url)):
        reader = start_reader(mirrors, go, origin.url)
        time.sleep(1.5)
        assert reader.poll() is None
    out, err = reader.communicate(timeout=60)
    assert (reader.returncode, out) == (0, "kind: System\n"), err
