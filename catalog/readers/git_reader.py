"""Git locations: one fetched bare mirror per repository URL under CATALOG_MIRROR_DIR, read through one tree
listing per commit and one persistent ``git cat-file --batch`` (GitPython's object database) per mirror; a
batch of locations may have its files read ahead in one ``git cat-file`` run per repository (``prefetch``)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import git
from django.conf import settings

from catalog.readers.base import ReadError, ReadResult, TargetNotFound, redact, size_error
from catalog.readers.budget import budget_message, time_left
from catalog.readers.targets import GitTarget, parse_git_target
from core.locking import flock_within

__all__ = ["GitMirror", "GitReader", "fetch_mirror", "mirror_lock", "mirror_path"]

FETCHED_STAMP = "meshforge-fetched"
# What one prefetch keeps in memory at most; files beyond it are read one by one as before. A repository with
# fewer files to read than PREFETCH_MIN_FILES is read one by one too: two commands would cost more.
PREFETCH_MAX_BYTES = 16 * 1024 * 1024
PREFETCH_MIN_FILES = 8


def lock_timeout() -> float:
    """A fetch holds a mirror's lock for at most two git commands (fetch, then the default branch)."""
    return 2 * settings.CATALOG_GIT_TIMEOUT_SECONDS + 30


_SLUG_RE = re.compile(r"[^A-Za-z0-9._-]+")


def mirror_path(repository: str) -> Path:
    """Where the mirror of ``repository`` (a normalized URL) lives: a readable slug plus a hash of the URL."""
    slug = _SLUG_RE.sub("-", repository.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))[:40] or "repository"
    digest = hashlib.sha256(repository.encode()).hexdigest()[:20]
    return Path(settings.CATALOG_MIRROR_DIR) / f"{slug}-{digest}.git"


@contextmanager
def mirror_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the mirror at ``path`` (a file next to it), so that two processes never fetch
    into one mirror at once and collide on Git's own ref locks. The wait ends by the request's deadline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    what = f"waiting for the lock of mirror {path.name}"
    timeout = time_left(lock_timeout() if timeout is None else timeout, what=what)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        if not flock_within(handle, timeout):
            raise ReadError(budget_message(f"another process holds the lock of mirror {path.name}", timeout))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetched_within(path: Path, max_age: float) -> bool:
    try:
        return time.time() - (path / FETCHED_STAMP).stat().st_mtime < max_age
    except FileNotFoundError:
        return False


def fetch_mirror(path: Path, repository: str, *, max_age: float = 0.0, default_branch: bool = False) -> bool:
    """Create (``git init --bare``) and fetch the mirror of ``repository`` under its lock; return False when a
    fetch younger than ``max_age`` seconds made this one unnecessary. The remote's default branch becomes the
    mirror's HEAD when the mirror is created or ``default_branch`` is asked."""
    waiting_since = time.time()
    with mirror_lock(path):
        if max_age > 0 and fetched_within(path, max_age):
            return False
        failure = _failure_while_waiting(path, waiting_since)
        if failure:  # the remote failed (stalled, refused) for another process a moment ago: not again at once
            raise ReadError(failure)
        created = not (path / "HEAD").exists()
        if created:
            _init_mirror(path, repository)
        started = time.time()
        try:
            _remove_stale_git_locks(path)
            _git(path, "fetch", "--prune", "--no-tags", "--quiet", "origin", failure=f"cannot fetch {repository}")
            if created or default_branch:
                record_default_branch(path, repository)
            (path / FETCHED_STAMP).touch()
        except ReadError as exc:
            _outcome_record(path, started=started, error=str(exc))
            raise
        finally:
            if created and not (path / FETCHED_STAMP).exists():  # a mistyped repository leaves no folder behind
                shutil.rmtree(path, ignore_errors=True)
        _outcome_record(path, started=started, error=None)
    return True


def _outcome_path(path: Path) -> Path:
    """Next to the mirror (and its lock), not in it: a mirror that was never fetched is removed again."""
    return path.with_name(path.name + ".outcome")


def _outcome_record(path: Path, *, started: float, error: str | None) -> None:
    """What this fetch ended with, for the processes queued on the lock (written under it)."""
    with suppress(OSError):  # only an optimisation for the processes that wait
        _outcome_path(path).write_text(json.dumps({"started": started, "finished": time.time(), "error": error}))


def _failure_while_waiting(path: Path, waiting_since: float) -> str | None:
    """The error of a fetch that failed after this process began to wait for the lock. A success is never reused
    (it may have started before the commit this process wants to see); a failure says the remote is unwell now."""
    try:
        outcome = json.loads(_outcome_path(path).read_text())
    except (OSError, ValueError):
        return None
    if isinstance(outcome, dict) and outcome.get("error") and float(outcome.get("finished", 0)) >= waiting_since:
        return str(outcome["error"])
    return None


def record_default_branch(path: Path, repository: str) -> None:
    """Point the mirror's HEAD at the remote's default branch (``git ls-remote --symref origin HEAD``)."""
    listing = _git(path, "ls-remote", "--symref", "origin", "HEAD", failure=f"cannot read {repository}").stdout
    match = re.search(rb"^ref: refs/heads/(\S+)\tHEAD$", listing, re.MULTILINE)
    if match:
        _git(path, "symbolic-ref", "HEAD", f"refs/heads/{match[1].decode()}", failure="cannot set HEAD")


def list_heads(path: Path) -> dict[str, str]:
    """Branch name → commit sha of the mirror at ``path``."""
    output = _git(
        path,
        "for-each-ref",
        "--format=%(objectname) %(refname:strip=2)",
        "refs/heads/",
        failure="cannot list the branches",
    )
    return {name: sha for sha, _, name in (line.partition(" ") for line in output.stdout.decode().splitlines())}


class GitMirror:
    """One repository's mirror as one ReadSession sees it: fetched at most once, its branches listed once, each
    commit's tree listed once, blobs read through one persistent ``git cat-file --batch``."""

    def __init__(self, repository: str) -> None:
        self.repository = repository
        self.path = mirror_path(repository)
        self.ready = False
        self.fetched = False
        self.default_branch_checked = False
        self.error: ReadError | None = None
        self.heads: dict[str, str] = {}
        self.default_branch: str | None = None
        self._trees: dict[str, tuple[dict[str, str], set[str]]] = {}
        self._repo: git.Repo | None = None
        self._prefetched: dict[str, bytes] = {}

    def load_refs(self) -> None:
        self.heads = list_heads(self.path)
        head = (self.path / "HEAD").read_text().strip()
        self.default_branch = head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None

    def tree(self, commit: str) -> tuple[dict[str, str], set[str]]:
        """(path → blob sha of every regular file, paths of symbolic links) at ``commit``: one ``git ls-tree``."""
        listing = self._trees.get(commit)
        if listing is None:
            output = _git(
                self.path, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit, failure="cannot list files"
            ).stdout
            blobs: dict[str, str] = {}
            links: set[str] = set()
            for entry in output.split(b"\0"):
                meta, _, name = entry.partition(b"\t")
                mode, kind, sha = meta.split(b" ") if name else (b"", b"", b"")
                if kind == b"blob":
                    key = name.decode("utf-8", "surrogateescape")
                    if mode == b"120000":
                        links.add(key)
                    else:
                        blobs[key] = sha.decode()
            listing = self._trees[commit] = (blobs, links)
        return listing

    def prefetch(self, shas: list[str], *, max_bytes: int) -> None:
        """Read these blobs ahead in two ``git cat-file`` runs (their sizes, then the contents of those up to
        ``max_bytes``, within PREFETCH_MAX_BYTES in all), for ``read_blob`` to hand out until the next prefetch. The
        files of a batch come at the cost of two commands instead of a round trip each through the persistent
        cat-file."""
        self._prefetched.clear()
        listed = "".join(f"{sha}\n" for sha in dict.fromkeys(shas)).encode()
        sizes = _git(self.path, "cat-file", "--batch-check", failure="cannot list blobs", input=listed).stdout
        chosen, total = [], 0
        for line in sizes.splitlines():
            sha, kind, size = [*line.split(b" "), b"", b""][:3]
            length = int(size) if kind == b"blob" and size.isdigit() else max_bytes + 1  # "<sha> missing"
            if length <= max_bytes and total + length <= PREFETCH_MAX_BYTES:
                chosen.append(sha)
                total += length
        if not chosen:
            return
        output = _git(self.path, "cat-file", "--batch", failure="cannot read blobs", input=b"\n".join(chosen) + b"\n")
        contents, position = {}, 0
        for _ in chosen:
            end = output.stdout.index(b"\n", position)
            sha, kind, size = output.stdout[position:end].split(b" ")
            start = end + 1
            contents[sha.decode()] = output.stdout[start : start + int(size)]
            position = start + int(size) + 1
        self._prefetched = contents

    def read_blob(self, sha: str, *, max_bytes: int, what: str) -> bytes:
        content = self._prefetched.get(sha)  # kept until the next prefetch: two files may share one blob
        if content is not None and len(content) <= max_bytes:
            return content
        if self._repo is None:
            self._repo = git.Repo(self.path, odbt=git.GitCmdObjectDB)
        try:
            stream = self._repo.odb.stream(bytes.fromhex(sha))
            if stream.size > max_bytes:
                while stream.read(1 << 16):  # drain: the cat-file pipe is shared by the next reads
                    pass
                raise size_error(what, max_bytes, stream.size)
            return stream.read()
        except (ValueError, OSError) as exc:
            self.close()  # the next read starts a fresh cat-file
            raise ReadError(f"cannot read {what}: {redact(str(exc))}") from exc

    def close(self) -> None:
        self._prefetched.clear()
        if self._repo is not None:
            self._repo.close()
            self._repo = None


class GitReader:
    """The ``git`` part of a ReadSession."""

    def __init__(self, *, fetch_max_age: float = 0.0) -> None:
        self.fetch_max_age = fetch_max_age
        self._mirrors: dict[str, GitMirror] = {}
        self._targets: dict[str, GitTarget] = {}

    @property
    def fetched_repositories(self) -> frozenset[str]:
        return frozenset(url for url, mirror in self._mirrors.items() if mirror.fetched)

    def read(self, target: str, *, previous: str | None = None) -> ReadResult:
        parsed, mirror, branch, commit = self._locate(target)
        blobs, links = mirror.tree(commit)
        sha = blobs.get(parsed.path)
        what = f"{parsed.path} on branch {branch!r} of {parsed.repository}"
        if sha is None:
            if parsed.path in links:
                raise ReadError(f"{what} is a symbolic link; symbolic links are not followed")
            raise TargetNotFound(f"{what} not found")
        fingerprint = f"git:{sha}"
        if fingerprint == previous:
            return ReadResult(content=None, fingerprint=fingerprint, revision=commit, unchanged=True)
        content = mirror.read_blob(sha, max_bytes=settings.CATALOG_URL_MAX_BYTES, what=what)
        return ReadResult(content=content, fingerprint=fingerprint, revision=commit, unchanged=False)

    def prefetch(self, targets: list[tuple[str, str | None]]) -> None:
        """Read ahead the files that ``read`` will return with content for these (target, previous fingerprint)
        pairs, one ``git cat-file`` run per repository. Only a shortcut: whatever goes wrong here is left for
        ``read`` to meet and report as it always does."""
        wanted: dict[str, tuple[GitMirror, list[str]]] = {}
        for target, previous in targets:
            try:
                parsed, mirror, _, commit = self._locate(target)
                sha = mirror.tree(commit)[0].get(parsed.path)
            except Exception:  # noqa: S112 - read() reports it
                continue
            if sha is not None and f"git:{sha}" != previous:
                wanted.setdefault(mirror.repository, (mirror, []))[1].append(sha)
        for mirror, shas in wanted.values():
            if len(shas) < PREFETCH_MIN_FILES:
                continue
            try:
                mirror.prefetch(shas, max_bytes=settings.CATALOG_URL_MAX_BYTES)
            except Exception:  # each file is then read on its own, and read() reports what fails
                mirror._prefetched.clear()

    def _locate(self, target: str) -> tuple[GitTarget, GitMirror, str, str]:
        """The parsed target, its mirror (fetched once per session), branch and commit."""
        parsed = self._targets.get(target)
        if parsed is None:
            parsed = self._targets[target] = parse_git_target(target)
        mirror = self._mirror(parsed.repository, needs_default_branch=parsed.branch is None)
        branch = parsed.branch or mirror.default_branch
        if branch is None:
            raise TargetNotFound(f"{parsed.repository} has no default branch; name one with #<branch>")
        commit = mirror.heads.get(branch)
        if commit is None:
            raise TargetNotFound(f"branch {branch!r} not found in {parsed.repository}")
        return parsed, mirror, branch, commit

    def _mirror(self, repository: str, *, needs_default_branch: bool) -> GitMirror:
        mirror = self._mirrors.get(repository)
        if mirror is None:
            mirror = self._mirrors[repository] = GitMirror(repository)
        if mirror.error is not None:  # one failed fetch per session, however many targets point into it
            raise mirror.error
        try:
            if not mirror.ready:
                if not (self.fetch_max_age > 0 and fetched_within(mirror.path, self.fetch_max_age)):
                    mirror.fetched = fetch_mirror(
                        mirror.path,
                        repository,
                        max_age=self.fetch_max_age,
                        default_branch=needs_default_branch,
                    )
                    mirror.default_branch_checked = mirror.fetched and needs_default_branch
                mirror.load_refs()
                mirror.ready = True
            elif needs_default_branch and mirror.fetched and not mirror.default_branch_checked:
                with mirror_lock(mirror.path):
                    record_default_branch(mirror.path, repository)
                mirror.default_branch_checked = True
                mirror.load_refs()
        except ReadError as exc:
            mirror.error = exc
            raise
        except OSError as exc:
            mirror.error = ReadError(f"cannot prepare the mirror of {repository}: {exc.strerror or exc}")
            raise mirror.error from exc
        return mirror

    def close(self) -> None:
        for mirror in self._mirrors.values():
            mirror.close()


def _init_mirror(path: Path, repository: str) -> None:
    """``git init --bare`` in a scratch folder renamed into place, so that a half-made mirror is never seen."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    # The remote's URL reaches Git as a configuration value, never as an argument it could take for an option.
    _git(None, "init", "--bare", "--quiet", "--", str(scratch), failure="cannot create the mirror")
    _git(scratch, "config", "--", "remote.origin.url", repository, failure="cannot configure the mirror")
    _git(scratch, "config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*", failure="cannot configure the mirror")
    # gc in the foreground, under our lock: a detached gc would still hold Git's locks after we release ours.
    _git(scratch, "config", "gc.autoDetach", "false", failure="cannot configure the mirror")
    os.rename(scratch, path)


def _remove_stale_git_locks(path: Path) -> None:
    """Every writer of a mirror holds its lock, so a Git ``*.lock`` file found under it is left over from a killed
    fetch (a worker hitting its time limit) and would make every later fetch fail."""
    for stale in [*path.glob("*.lock"), *(path / "refs").rglob("*.lock")]:
        stale.unlink(missing_ok=True)


def _git(path: Path | None, *args: str, failure: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    timeout = time_left(settings.CATALOG_GIT_TIMEOUT_SECONDS, what=failure)
    executable = git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git"
    command = [
        executable,
        # never follow an HTTP redirect: it could lead a fetch off the allowed hosts
        *("-c", "http.followRedirects=false"),
        # a remote that accepts the connection and then trickles is cut off, not waited for
        *("-c", f"http.lowSpeedLimit={settings.CATALOG_GIT_LOW_SPEED_BYTES}"),
        *("-c", f"http.lowSpeedTime={settings.CATALOG_GIT_LOW_SPEED_SECONDS}"),
        *([f"--git-dir={path}"] if path is not None else []),
        *args,
    ]
    environment = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a worker
        "GIT_SSH_COMMAND": os.environ.get(
            "GIT_SSH_COMMAND",
            f"ssh -o BatchMode=yes -o ConnectTimeout={settings.CATALOG_GIT_LOW_SPEED_SECONDS}"
            f" -o ServerAliveInterval={settings.CATALOG_GIT_LOW_SPEED_SECONDS} -o ServerAliveCountMax=1",
        ),
        "LC_ALL": "C",
    }
    try:
        completed = _run(command, environment, timeout, input=input)
    except subprocess.TimeoutExpired:
        raise ReadError(redact(budget_message(failure, timeout))) from None
    except OSError as exc:
        raise ReadError(f"{failure}: cannot run git ({exc.strerror or exc})") from exc
    if completed.returncode != 0:
        raise ReadError(f"{failure}: {_git_message(completed.stderr)}")
    return completed


def _run(
    command: list[str], environment: dict[str, str], timeout: float, *, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git in a process group of its own, and kill the whole group when it overruns (or we are interrupted):
    ``git fetch`` works through helpers (git-remote-https, ssh) that would outlive a kill of git alone."""
    process = subprocess.Popen(  # noqa: S603 - fixed git command, arguments never reach a shell
        command,
        stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(input=input, timeout=timeout)
    except BaseException:
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()  # reap it and close the pipes: the group is gone, so they are at their end


def _git_message(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    message = (fatal or lines or ["git failed"])[0].removeprefix("fatal: ").removeprefix("error: ")
    return redact(message)[:300]


def read_git_folder(
    repository: str, *, revision: str, folder: str, max_files: int = 500, max_bytes: int = 1024 * 1024
) -> dict[str, bytes]:
    """Every regular file under ``folder`` of ``repository`` at ``revision`` (paths relative to the folder),
    read from the catalog's mirror, which is fetched first when it lacks the commit. Symbolic links are refused:
    they could point anywhere once checked out."""
    found = read_git_folders(repository, revision=revision, folders=[folder], max_files=max_files, max_bytes=max_bytes)
    if isinstance(found[folder], ReadError):
        raise found[folder]
    return found[folder]


def read_git_folders(
    repository: str, *, revision: str, folders: Iterable[str], max_files: int = 500, max_bytes: int = 1024 * 1024
) -> dict[str, dict[str, bytes] | ReadError]:
    """:func:`read_git_folder` for several folders of one commit, in one look at the mirror and its tree (the
    environment files of a data product's components, say): each folder's files, or the ``ReadError`` of that
    folder. A failure to reach the repository or the commit raises."""
    path = mirror_path(repository)
    mirror = GitMirror(repository)
    try:
        if not path.exists() or not _git_ok(path, "cat-file", "-e", "--end-of-options", f"{revision}^{{commit}}"):
            fetch_mirror(path, repository)
        blobs, links = mirror.tree(revision)
        found: dict[str, dict[str, bytes] | ReadError] = {}
        for folder in folders:
            try:
                found[folder] = _folder_read(mirror, blobs, links, folder, max_files=max_files, max_bytes=max_bytes)
            except ReadError as exc:
                found[folder] = exc
        return found
    finally:
        mirror.close()


def _folder_read(
    mirror: GitMirror, blobs: dict[str, str], links: Iterable[str], folder: str, *, max_files: int, max_bytes: int
) -> dict[str, bytes]:
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    bad = sorted(link for link in links if link.startswith(prefix))
    if bad:
        raise ReadError(f"{bad[0]} is a symbolic link; symbolic links are not allowed here")
    wanted = {name[len(prefix) :]: sha for name, sha in blobs.items() if name.startswith(prefix)}
    if len(wanted) > max_files:
        raise ReadError(f"{folder} holds {len(wanted)} files; at most {max_files} are allowed")
    return {
        name: mirror.read_blob(sha, max_bytes=max_bytes, what=f"{prefix}{name}") for name, sha in sorted(wanted.items())
    }


def _git_ok(path: Path, *args: str) -> bool:
    try:
        _git(path, *args, failure="check")
    except ReadError:
        return False
    return True
