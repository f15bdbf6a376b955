"""Where data product repositories live and how the Builder writes to them (PRODUCT §4.2).

``GitProvider`` is the interface; ``LocalGitProvider`` (the default) keeps bare repositories under
``$MESHFORGE_DATA_DIR/git/<domain>/<name>.git``. A GitHub or GitLab provider implements the same methods with
that service's API (create the repository, push over HTTPS with a token, delete on undo)."""

from __future__ import annotations

import configparser
import fcntl
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import git
from django.conf import settings
from django.utils.module_loading import import_string
from gitdb.exc import ODBError

from core.errors import ServiceError
from core.locking import flock_within

logger = logging.getLogger(__name__)

DEFAULT_BRANCH = "main"
REPOSITORY_LOCK_TIMEOUT_SECONDS = 30


class GitProviderError(ServiceError):
    """A repository could not be created, written or read (HTTP 503); the message says which and why, naming
    repositories by :func:`repository_label` (people see it: never a path on the server)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


class RepositoryExists(GitProviderError):
    status = HTTPStatus.CONFLICT


class RepositoryNotWritable(GitProviderError):
    """The repository is not one this provider manages (someone else's, or not Git at all): Meshforge can read
    it through the catalog, but not change it. A state of the data product, not a failure (HTTP 409)."""

    status = HTTPStatus.CONFLICT


class HeadMoved(GitProviderError):
    """The file changed in the repository since the revision the caller based its change on (HTTP 409)."""

    status = HTTPStatus.CONFLICT


class BranchExists(GitProviderError):
    """The branch a change would start is already in the repository (HTTP 409)."""

    status = HTTPStatus.CONFLICT


class TagExists(GitProviderError):
    """The tag is already in the repository: tags are never moved (HTTP 409)."""

    status = HTTPStatus.CONFLICT


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
    def repository_url(self, *, domain: str, name: str) -> str:
        """The clone URL ``repository_create`` gives the repository of a data product (known before it exists)."""

    def repository_create(self, *, domain: str, name: str, mark: str = "") -> str:
        """Create an empty repository for a data product and return its clone URL (``RepositoryExists``). The
        repository carries ``mark`` from the moment it exists (a config key, a topic…), so that an undo after a
        crash can tell it from a repository somebody else made at the same place."""

    def repository_delete(self, *, url: str, mark: str = "") -> bool:
        """Remove a repository this provider created (the undo of ``repository_create``). With ``mark``, only a
        repository created with that mark goes (and what a creation killed half way left of it); another is left
        alone. Returns whether the repository is gone (False: another one is there)."""

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
        parent: str | None = None,
        start: str | None = None,
    ) -> str:
        """Write (text) or delete (None) files in one commit on ``branch`` and return its sha. With ``base``
        = (path, commit), refuse with ``HeadMoved`` when ``path`` was changed by a later commit; with ``parent``,
        when the branch's head is no longer that commit (the new commit then holds exactly that tree and the
        files). With ``start`` (another branch), ``branch`` is a new branch made by this commit on the head of
        ``start`` (``parent`` then checks that head): ``BranchExists`` when ``branch`` is there already."""

    def branch_exists(self, *, url: str, name: str) -> bool:
        """Whether the repository has the branch ``name``."""

    def branch_delete(self, *, url: str, name: str, commit: str) -> bool:
        """Remove the branch ``name`` if its head is ``commit`` (the undo of a ``commit`` with ``start``); whether it
        is gone."""

    def tag(self, *, url: str, name: str, commit: str, message: str, author: git.Actor) -> None:
        """Make the annotated tag ``name`` on ``commit`` by ``author``; ``TagExists`` when the repository has a tag
        of that name (a tag is never moved)."""

    def tag_delete(self, *, url: str, name: str, commit: str) -> bool:
        """Remove the tag ``name`` if it points at ``commit`` (the undo of ``tag``); whether it is gone."""

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
        path = Path(unquote(parts.path)).resolve()
        local = parts.scheme == "file" and parts.netloc in ("", "localhost")
        if not local or not path.is_relative_to(self.root.resolve()):
            raise RepositoryNotWritable(f"its repository ({repository_label(url)}) is not one Meshforge manages")
        return path

    def _label(self, path: Path) -> str:
        return repository_label(path.as_uri(), root=self.root)

    def repository_url(self, *, domain: str, name: str) -> str:
        return (self.root / domain / f"{name}.git").as_uri()

    def writable(self, url: str) -> bool:
        try:
            return (self._path_of(url) / "HEAD").is_file()
        except GitProviderError:
            return False

    # --- repositories ------------------------------------------------------------------------------------

    def repository_create(self, *, domain: str, name: str, mark: str = "") -> str:
        path = self.root / domain / f"{name}.git"
        if path.exists():
            raise RepositoryExists(f"repository {self._label(path)} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        # made next to its place, marked, then renamed into it: the repository never exists unmarked, and a
        # process killed before the rename leaves only the hidden folder that the undo with the mark removes
        staging = _staging_path(path, mark)
        try:
            repo = git.Repo.init(staging, bare=True, initial_branch=DEFAULT_BRANCH)
            with repo.config_writer() as config:
                config.set_value(_MARK_SECTION, _MARK_KEY, mark)
            repo.close()
            os.rename(staging, path)  # refused when a repository appeared there meanwhile
        except (git.GitError, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if path.exists():
                raise RepositoryExists(f"repository {self._label(path)} already exists") from exc
            logger.warning("cannot create repository %s", path, exc_info=True)
            raise GitProviderError(
                f"cannot create repository {self._label(path)} ({exc.__class__.__name__}; the server log says more)"
            ) from exc
        return path.as_uri()

    def repository_delete(self, *, url: str, mark: str = "") -> bool:
        path = self._path_of(url)
        if mark:
            shutil.rmtree(_staging_path(path, mark), ignore_errors=True)
            if path.exists() and _mark_of(path) != mark:
                return False  # somebody else's repository at this place: never ours to remove
        shutil.rmtree(path, ignore_errors=True)
        parent = path.parent
        if parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
        return not path.exists()

    # --- writing -----------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        # one writer per repository at a time (web processes and workers alike): pushes never race. Writes run in
        # requests, so the wait has an end: a writer that hangs costs the next one a clear error, not the site.
        with open(path / "meshforge.lock", "a+") as handle:
            if not flock_within(handle, REPOSITORY_LOCK_TIMEOUT_SECONDS):
                raise GitProviderError(
                    "another change to this repository has been in progress for over"
                    f" {REPOSITORY_LOCK_TIMEOUT_SECONDS} s; try again later"
                )
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
        parent: str | None = None,
        start: str | None = None,
    ) -> str:
        path = self._path_of(url)
        for name in files:
            _check_relative(name)
        with self._locked(path), tempfile.TemporaryDirectory(prefix="meshforge-commit-") as work_dir:
            try:
                bare = git.Repo(path)
                try:
                    heads = [head.name for head in bare.heads]
                    if start is not None:
                        bare.git.check_ref_format(f"refs/heads/{branch}")
                finally:
                    bare.close()
                has_branch = branch in heads
                if start is not None:
                    if has_branch:
                        raise BranchExists(f"branch {branch} already exists in {self._label(path)}")
                    if start not in heads:
                        raise GitProviderError(f"branch {start} is not in {self._label(path)}")
                work = git.Repo.init(work_dir, initial_branch=branch)
                work.create_remote("origin", str(path))
                if has_branch or start is not None:
                    source = branch if has_branch else start
                    work.remotes.origin.fetch(f"refs/heads/{source}:refs/remotes/origin/{source}")
                    work.git.reset("--hard", f"origin/{source}")
                    has_branch = True  # the new branch starts at the head of ``start``
                if base is not None:
                    changed_at = _last_change(work, base[0]) if has_branch else ""
                    if changed_at != base[1]:
                        raise HeadMoved(
                            f"{base[0]} changed in Git since {base[1][:7]} (now {changed_at[:7] or 'missing'})"
                        )
                if parent is not None:
                    head = work.head.commit.hexsha if has_branch else ""
                    if head != parent:
                        raise HeadMoved(f"branch {branch} moved since {parent[:7]} (now {head[:7] or 'missing'})")
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
            except (HeadMoved, BranchExists):
                raise
            except (git.GitError, OSError, ValueError) as exc:
                logger.warning("cannot commit to %s", url, exc_info=True)
                raise GitProviderError(f"cannot commit to {self._label(path)}: {_failure(exc)}") from exc

    # --- branches ----------------------------------------------------------------------------------------

    def branch_exists(self, *, url: str, name: str) -> bool:
        path = self._path_of(url)
        try:
            repo = git.Repo(path)
            try:
                return name in [head.name for head in repo.heads]
            finally:
                repo.close()
        except (git.GitError, OSError, ValueError) as exc:
            raise GitProviderError(f"cannot read the branches of {self._label(path)}: {_failure(exc)}") from exc

    def branch_delete(self, *, url: str, name: str, commit: str) -> bool:
        path = self._path_of(url)
        with self._locked(path):
            try:
                repo = git.Repo(path)
                try:
                    found = next((head for head in repo.heads if head.name == name), None)
                    if found is None:
                        return True
                    if found.commit.hexsha != commit:
                        return False  # the branch moved on since: somebody else's work, never ours to remove
                    repo.delete_head(found, force=True)
                    return True
                finally:
                    repo.close()
            except (git.GitError, ODBError, ValueError, OSError) as exc:
                logger.warning("cannot delete branch %s in %s", name, url, exc_info=True)
                raise GitProviderError(f"cannot delete branch {name} in {self._label(path)}: {_failure(exc)}") from exc

    # --- tags --------------------------------------------------------------------------------------------

    def tag(self, *, url: str, name: str, commit: str, message: str, author: git.Actor) -> None:
        path = self._path_of(url)
        with self._locked(path):
            try:
                repo = git.Repo(path)
                try:
                    repo.git.check_ref_format(f"refs/tags/{name}")
                    if name in [tag.name for tag in repo.tags]:
                        raise TagExists(f"tag {name} already exists in {self._label(path)}; a tag is never moved")
                    environment = {"GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email}
                    repo.git.tag("-a", name, commit, "-m", message, env=environment)
                finally:
                    repo.close()
            except TagExists:
                raise
            except (git.GitError, ODBError, ValueError, OSError) as exc:
                logger.warning("cannot tag %s in %s", commit, url, exc_info=True)
                raise GitProviderError(f"cannot tag {name} in {self._label(path)}: {_failure(exc)}") from exc

    def tag_delete(self, *, url: str, name: str, commit: str) -> bool:
        path = self._path_of(url)
        with self._locked(path):
            try:
                repo = git.Repo(path)
                try:
                    found = next((tag for tag in repo.tags if tag.name == name), None)
                    if found is None:
                        return True
                    if found.commit.hexsha != commit:
                        return False  # somebody else's tag of that name: never ours to remove
                    repo.delete_tag(found)
                    return True
                finally:
                    repo.close()
            except (git.GitError, ODBError, ValueError, OSError) as exc:
                logger.warning("cannot delete tag %s in %s", name, url, exc_info=True)
                raise GitProviderError(f"cannot delete tag {name} in {self._label(path)}: {_failure(exc)}") from exc

    # --- reading -----------------------------------------------------------------------------------------

    def file_read(self, *, url: str, path: str, branch: str = DEFAULT_BRANCH) -> tuple[str, str]:
        _check_relative(path)
        location = self._path_of(url)
        try:
            repo = git.Repo(location)
            try:
                blob = repo.commit(branch).tree / path
                text = blob.data_stream.read().decode("utf-8")
                return text, _last_change(repo, path, rev=branch)
            finally:
                repo.close()
        except KeyError as exc:
            raise GitProviderError(f"{path} is not on branch {branch} of {self._label(location)}") from exc
        except (git.GitError, ODBError, ValueError, OSError) as exc:
            logger.warning("cannot read %s from %s", path, url, exc_info=True)
            raise GitProviderError(f"cannot read {path} from {self._label(location)}: {_failure(exc)}") from exc

    def commits(self, *, url: str, branch: str = DEFAULT_BRANCH, limit: int = 10) -> list[Commit]:
        location = self._path_of(url)
        try:
            repo = git.Repo(location)
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
            logger.warning("cannot list the commits of %s", url, exc_info=True)
            raise GitProviderError(f"cannot list the commits of {self._label(location)}: {_failure(exc)}") from exc


_MARK_SECTION, _MARK_KEY = "meshforge", "reservation"


def _staging_path(path: Path, mark: str) -> Path:
    return path.with_name(f".{path.name}.{mark or uuid.uuid4().hex}.tmp")


def _mark_of(path: Path) -> str:
    """The mark a repository was created with (``""``: none, or not a repository Meshforge made)."""
    try:
        repo = git.Repo(path)
    except (git.GitError, OSError):
        return ""
    try:
        return str(repo.config_reader("repository").get_value(_MARK_SECTION, _MARK_KEY, default=""))
    except (configparser.Error, OSError, ValueError):
        return ""
    finally:
        repo.close()


def repository_label(url: str, *, root: Path | None = None) -> str:
    """How messages people see name a repository: its path under the Git root for Meshforge's own
    (``finance/cashflow.git``), the URL without credentials for a remote, and no path for another folder of the
    server (which is nobody's business outside it)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        base = Path(root or settings.MESHFORGE_GIT_ROOT).resolve()
        path = Path(unquote(parts.path)).resolve()
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
        return "a folder outside Meshforge's Git root"
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")) if parts.scheme else "a repository"


_FILE_URL_RE = re.compile(r"file://(?:localhost)?/[^\s'\"<>]*")
_ABSOLUTE_PATH_RE = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"<>:;,()]+/)+[^\s/'\"<>:;,()]*")


def redact_paths(text: str) -> str:
    """``text`` with the server's paths replaced: a ``file://`` URL or path under the Git root by the path
    below it, any other absolute path by ``…`` (error messages that reach people go through this)."""
    root = Path(settings.MESHFORGE_GIT_ROOT).resolve()

    def path(match: re.Match) -> str:
        found = Path(match.group(0)).resolve()
        return found.relative_to(root).as_posix() if found.is_relative_to(root) else "…"

    text = _FILE_URL_RE.sub(lambda match: repository_label(match.group(0).rstrip(".,;:)"), root=root), text)
    return _ABSOLUTE_PATH_RE.sub(path, text)


def _failure(exc: Exception) -> str:
    """What went wrong, for a person: git's own complaint or the OS error, without paths of the server."""
    if isinstance(exc, git.GitCommandError):
        said = (exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'").splitlines()
        return redact_paths(said[-1] if said else f"git {exc.command[1] if len(exc.command) > 1 else ''} failed")
    if isinstance(exc, OSError):
        return exc.strerror or exc.__class__.__name__
    return redact_paths(str(exc)) or exc.__class__.__name__


def _last_change(repo: git.Repo, path: str, rev: str = "HEAD") -> str:
    return repo.git.log("-1", "--format=%H", rev, "--", path).strip()


def _check_relative(name: str) -> None:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts[0] == ".git":
        raise GitProviderError(f"{name!r} is not a path inside the repository")
