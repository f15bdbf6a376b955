"""Where data product repositories live and how the Builder writes to them (PRODUCT §4.2).

``GitProvider`` is the interface; ``LocalGitProvider`` (the default) keeps bare repositories under
``$MESHFORGE_DATA_DIR/git/<domain>/<name>.git``. A GitHub or GitLab provider implements the same methods with
that service's API (create the repository, push over HTTPS with a token, delete on undo)."""

from __future__ import annotations

import fcntl
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlsplit

import git
from django.conf import settings
from django.utils.module_loading import import_string
from gitdb.exc import ODBError

DEFAULT_BRANCH = "main"
REPOSITORY_LOCK_TIMEOUT_SECONDS = 30


class GitProviderError(Exception):
    """A repository could not be created, written or read; the message says which and why."""


class RepositoryExists(GitProviderError):
    pass


class HeadMoved(GitProviderError):
    """The file changed in the repository since the revision the caller based its change on."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    authored_at: datetime
    message: str

    @property
    def short_sha(self) -> str:
        return self.sha[:7]


class GitProvider(Protocol):
    def repository_create(self, *, domain: str, name: str) -> str:
        """Create an empty repository for a data product and return its clone URL (``RepositoryExists``)."""

    def repository_delete(self, *, url: str) -> None:
        """Remove a repository this provider created (the undo of ``repository_create``)."""

    def writable(self, url: str) -> bool:
        """Whether this provider can commit to the repository at ``url``."""

    def commit(
        self,
        *,
        url: str,
        files: dict[str, str | None],
        message: str,
        author: git.Actor,
        branch: str = DEFAULT_BRANCH,
        base: tuple[str, str] | None = None,
    ) -> str:
        """Write (text) or delete (None) files in one commit on ``branch`` and return its sha. With ``base``
        = (path, commit), refuse with ``HeadMoved`` when ``path`` was changed by a later commit."""

    def file_read(self, *, url: str, path: str, branch: str = DEFAULT_BRANCH) -> tuple[str, str]:
        """(text, sha of the last commit that changed ``path``) on ``branch``."""

    def commits(self, *, url: str, branch: str = DEFAULT_BRANCH, limit: int = 10) -> list[Commit]:
        """The latest commits of ``branch``, newest first."""


def git_provider() -> GitProvider:
    return import_string(settings.MESHFORGE_GIT_PROVIDER)()


def author_of(user) -> git.Actor:
    """The Git author for a person: their name and e-mail, or their username at an invalid domain."""
    username = user.get_username() if user is not None and hasattr(user, "get_username") else "meshforge"
    name = (user.get_full_name() if hasattr(user, "get_full_name") else "") or username
    email = getattr(user, "email", "") or f"{username}@meshforge.invalid"
    return git.Actor(name, email)


class LocalGitProvider:
    """Bare repositories on this machine's disk, read and written with GitPython through a temporary clone."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or settings.MESHFORGE_GIT_ROOT)

    # --- paths -------------------------------------------------------------------------------------------

    def _path_of(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise GitProviderError(f"{url}: not a local repository")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise GitProviderError(f"{url}: not under the Meshforge Git root {self.root}")
        return path

    def writable(self, url: str) -> bool:
        try:
            return (self._path_of(url) / "HEAD").is_file()
        except GitProviderError:
            return False

    # --- repositories ------------------------------------------------------------------------------------

    def repository_create(self, *, domain: str, name: str) -> str:
        path = self.root / domain / f"{name}.git"
        if path.exists():
            raise RepositoryExists(f"repository {path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            git.Repo.init(path, bare=True, initial_branch=DEFAULT_BRANCH).close()
        except (git.GitError, OSError) as exc:
            shutil.rmtree(path, ignore_errors=True)
            raise GitProviderError(f"cannot create repository {path}: {exc}") from exc
        return path.as_uri()

    def repository_delete(self, *, url: str) -> None:
        path = self._path_of(url)
        shutil.rmtree(path, ignore_errors=True)
        parent = path.parent
        if parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()

    # --- writing -----------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        # one writer per repository at a time (web processes and workers alike): pushes never race. Writes run in
        # requests, so the wait has an end: a writer that hangs costs the next one a clear error, not the site.
        with open(path / "meshforge.lock", "a+") as handle:
            deadline = time.monotonic() + REPOSITORY_LOCK_TIMEOUT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise GitProviderError(
                            "another change to this repository has been in progress for over"
                            f" {REPOSITORY_LOCK_TIMEOUT_SECONDS} s; try again later"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def commit(
        self,
        *,
        url: str,
        files: dict[str, str | None],
        message: str,
        author: git.Actor,
        branch: str = DEFAULT_BRANCH,
        base: tuple[str, str] | None = None,
    ) -> str:
        path = self._path_of(url)
        for name in files:
            _check_relative(name)
        with self._locked(path), tempfile.TemporaryDirectory(prefix="meshforge-commit-") as work_dir:
            try:
                bare = git.Repo(path)
                has_branch = branch in [head.name for head in bare.heads]
                bare.close()
                work = git.Repo.init(work_dir, initial_branch=branch)
                work.create_remote("origin", str(path))
                if has_branch:
                    work.remotes.origin.fetch(f"refs/heads/{branch}:refs/remotes/origin/{branch}")
                    work.git.reset("--hard", f"origin/{branch}")
                if base is not None:
                    changed_at = _last_change(work, base[0]) if has_branch else ""
                    if changed_at != base[1]:
                        raise HeadMoved(
                            f"{base[0]} changed in Git since {base[1][:7]} (now {changed_at[:7] or 'missing'})"
                        )
                target = Path(work_dir)
                for name, text in files.items():
                    file = target / name
                    if text is None:
                        if file.exists():
                            work.index.remove([name], working_tree=True, r=True)
                        continue
                    file.parent.mkdir(parents=True, exist_ok=True)
                    file.write_text(text, encoding="utf-8")
                    work.index.add([name])
                commit = work.index.commit(message, author=author, committer=author)
                work.remotes.origin.push(f"refs/heads/{branch}:refs/heads/{branch}")
                work.close()
                return commit.hexsha
            except HeadMoved:
                raise
            except (git.GitError, OSError, ValueError) as exc:
                raise GitProviderError(f"cannot commit to {url}: {exc}") from exc

    # --- reading -----------------------------------------------------------------------------------------

    def file_read(self, *, url: str, path: str, branch: str = DEFAULT_BRANCH) -> tuple[str, str]:
        _check_relative(path)
        try:
            repo = git.Repo(self._path_of(url))
            try:
                blob = repo.commit(branch).tree / path
                text = blob.data_stream.read().decode("utf-8")
                return text, _last_change(repo, path, rev=branch)
            finally:
                repo.close()
        except (git.GitError, ODBError, KeyError, ValueError, OSError) as exc:
            raise GitProviderError(f"cannot read {path} from {url}: {exc}") from exc

    def commits(self, *, url: str, branch: str = DEFAULT_BRANCH, limit: int = 10) -> list[Commit]:
        try:
            repo = git.Repo(self._path_of(url))
            try:
                return [
                    Commit(
                        sha=commit.hexsha,
                        author=commit.author.name or "",
                        authored_at=commit.authored_datetime,
                        message=commit.message.strip(),
                    )
                    for commit in repo.iter_commits(branch, max_count=limit)
                ]
            finally:
                repo.close()
        except (git.GitError, ODBError, ValueError, OSError) as exc:
            raise GitProviderError(f"cannot list the commits of {url}: {exc}") from exc


def _last_change(repo: git.Repo, path: str, rev: str = "HEAD") -> str:
    return repo.git.log("-1", "--format=%H", rev, "--", path).strip()


def _check_relative(name: str) -> None:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts[0] == ".git":
        raise GitProviderError(f"{name!r} is not a path inside the repository")
