"""Location targets: their syntax and normal form, who may register them, and targets relative to a Location file.

A ``git`` target is ``<repository URL>[#<branch>][:<path>]``:

* The repository URL uses ``https``, ``http``, ``ssh``, ``git`` or ``file`` (``file:///srv/git/repo.git``).
  SCP-like remotes (``git@host:org/repo.git``) are refused with a hint to write ``ssh://git@host/org/repo.git``,
  and so is a password in the URL (it would be shown on the location). The path of the repository URL may
  not contain ``:``.
* With a ``#``, the target splits at the first ``#``: after it comes ``<branch>[:<path>]`` (branch names
  cannot contain ``:``); an empty branch (``repo#:path``) means the repository's default branch.
* Without a ``#``, a ``:`` right after a path segment that ends in ``.git`` starts the path
  (``file:///srv/x.git:sub/catalog-info.yaml``); the host and port never count, so
  ``ssh://git@host.git:2222/x.git`` has no path. A repository whose URL does not end in ``.git`` names a
  path with ``#:`` (``https://host/org/repo#:sub/catalog-info.yaml``).
* The path is relative to the repository root, ``.`` and ``x/..`` segments are folded, and it may not leave
  the repository; it defaults to ``catalog-info.yaml``.

The normal form lower-cases the scheme and host, drops a default port and trailing ``/``, folds the path of
``file://`` URLs, leaves out the default path, and writes the path as ``:<path>`` when the repository ends in
``.git`` (and the path has no ``#``), else as ``#:<path>``.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from django.conf import settings

from catalog.readers.base import InvalidTarget, TargetNotAllowed

__all__ = [
    "DEFAULT_GIT_PATH",
    "GitTarget",
    "check_target_allowed",
    "format_git_target",
    "host_allowed",
    "origin_refusal",
    "parse_git_target",
    "resolve_target",
    "validate_target",
]

DEFAULT_GIT_PATH = "catalog-info.yaml"
TARGET_TYPES = ("git", "url", "file")

_GIT_SCHEMES = ("https", "http", "ssh", "git", "file")
_URL_SCHEMES = ("https", "http")
_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE_RE = re.compile(r"(?:[^@/:\s]+@)?[^@/:\s]+:(?!//)")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_WHITESPACE_RE = re.compile(r"\s")
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \ anywhere; no "..", "@{" or "//".
_BAD_BRANCH_RE = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


@dataclass(frozen=True)
class GitTarget:
    repository: str
    branch: str | None
    path: str = DEFAULT_GIT_PATH


@functools.lru_cache(maxsize=65_536)  # pure, and called for every location of every batch
def parse_git_target(target: str) -> GitTarget:
    """Split a ``git`` target into its normalized repository URL, branch (None: the default) and path."""
    text = _clean(target)
    if "#" in text:
        repository, _, rest = text.partition("#")
        branch, has_path, path = rest.partition(":")
        path = path if has_path else DEFAULT_GIT_PATH
    else:
        repository, path = _split_repository_and_path(text)
        branch = ""
    if not path:
        raise InvalidTarget(f"git target {target!r}: the path after ':' is empty")
    if branch:
        _check_branch(branch)
    return GitTarget(repository=_normalize_repository(repository), branch=branch or None, path=_git_path(path, target))


def format_git_target(target: GitTarget) -> str:
    """The normal form of a ``git`` target (see the module docstring); parse_git_target reads it back."""
    if target.branch is None and target.path == DEFAULT_GIT_PATH:
        return target.repository
    if target.branch is None and target.repository.endswith(".git") and "#" not in target.path:
        return f"{target.repository}:{target.path}"
    suffix = "" if target.path == DEFAULT_GIT_PATH else f":{target.path}"
    return f"{target.repository}#{target.branch or ''}{suffix}"


MAX_TARGET_LENGTH = 2048  # the width of Location.target


def validate_target(type: str, target: str) -> str:
    """Check the syntax of ``target`` and return its normal form; raise InvalidTarget naming the problem."""
    if not isinstance(target, str):
        raise InvalidTarget(f"a target must be text, not {target.__class__.__name__}")
    if "\x00" in target:
        raise InvalidTarget("the target contains a NUL character")
    try:
        if type == "git":
            normalized = format_git_target(parse_git_target(target))
        elif type == "url":
            normalized = _normalize_url(target)
        elif type == "file":
            normalized = _normalize_file(target)
        else:
            raise InvalidTarget(f"unknown location type {type!r}; expected one of {', '.join(TARGET_TYPES)}")
    except ValueError as exc:  # urllib's own complaints, e.g. "Invalid IPv6 URL"
        raise InvalidTarget(f"{target[:200]!r} is not a valid {type} target: {exc}") from None
    if len(normalized) > MAX_TARGET_LENGTH:
        raise InvalidTarget(f"the target is {len(normalized)} characters long; at most {MAX_TARGET_LENGTH}")
    return normalized


def check_target_allowed(type: str, target: str, *, is_staff: bool) -> None:
    """Raise TargetNotAllowed unless the trust rules (PRODUCT §3.2, §11) let this user register ``target``."""
    normalized = validate_target(type, target)
    if type == "file":
        if not is_staff:
            raise TargetNotAllowed("only staff may register file locations")
        check_under_file_roots(Path(normalized))
        return
    if is_staff:
        return
    if type == "git" and normalized.startswith("file://"):
        raise TargetNotAllowed("only staff may register git locations with file:// URLs")
    url = parse_git_target(normalized).repository if type == "git" else normalized
    refusal = origin_refusal(url)
    if refusal:
        raise TargetNotAllowed(f"{refusal}; only staff may register locations elsewhere")


def resolve_target(type: str, base_target: str, relative: str) -> str:
    """The normal form of ``relative``, a target listed in the Location file read from ``base_target``.

    ``git``: same repository and branch, the path joined with the base file's folder (a leading ``/`` starts
    from the repository root); ``url``: urljoin; ``file``: joined with the base file's folder. A full target
    (a URL with a scheme, an absolute path for ``file``) stands for itself.
    """
    if not isinstance(relative, str):
        raise InvalidTarget(f"a target must be text, not {relative.__class__.__name__}")
    relative = _clean(relative)
    try:
        if type == "git":
            if _SCHEME_RE.match(relative):
                return validate_target(type, relative)
            base = parse_git_target(base_target)
            joined = relative if relative.startswith("/") else posixpath.join(posixpath.dirname(base.path), relative)
            path = _git_path(joined.lstrip("/"), relative)
            return validate_target(
                type, format_git_target(GitTarget(repository=base.repository, branch=base.branch, path=path))
            )
        if type == "url":
            return validate_target(type, urljoin(validate_target(type, base_target), relative))
        if type == "file":
            base = Path(validate_target(type, base_target))
            return validate_target(type, relative if os.path.isabs(relative) else str(base.parent / relative))
    except ValueError as exc:  # urllib's own complaints, e.g. "Invalid IPv6 URL"
        raise InvalidTarget(f"{relative[:200]!r} is not a valid {type} target: {exc}") from None
    return validate_target(type, relative)  # raises for the unknown type


def host_allowed(host: str, allowed_hosts: list[str] | None = None) -> bool:
    """Whether an entry of CATALOG_URL_ALLOWED_HOSTS names ``host`` (on any port): see origin_refusal."""
    host = host.lower().rstrip(".")
    return any(entry.names(host) for entry in _allowed_entries(allowed_hosts))


def origin_refusal(url: str, allowed_hosts: list[str] | None = None) -> str | None:
    """Why CATALOG_URL_ALLOWED_HOSTS does not cover the scheme, host and port of ``url`` (a normalized ``url``
    target or Git repository URL), or None when an entry does.

    An entry is ``[scheme://]host[:port]``: ``host`` is an exact name or ``.example.com`` for the domain and its
    subdomains (an IPv6 address in brackets); without a port it allows only the scheme's default port (80 for
    http, 443 for https, 22 for ssh, 9418 for git), with ``:8443`` only that port, with ``:*`` any; with a scheme,
    only that scheme. A bare host must not open the other services of an allowed machine (``http://host:6379``).
    """
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return f"{url[:200]!r} has no valid host or port"
    scheme = parts.scheme.lower()
    port = port or _DEFAULT_PORTS.get(scheme)
    entries = [entry for entry in _allowed_entries(allowed_hosts) if entry.names(host)]
    if not entries:
        return f"host {host!r} is not in CATALOG_URL_ALLOWED_HOSTS"
    if any(entry.allows(scheme, port) for entry in entries):
        return None
    origin = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
    return (
        f"{origin} is not allowed by CATALOG_URL_ALLOWED_HOSTS (it allows {', '.join(e.text for e in entries)};"
        " a host without a port allows only the scheme's default port)"
    )


@dataclass(frozen=True)
class _AllowedEntry:
    text: str
    scheme: str | None
    host: str  # lower case, without brackets; a leading "." for a domain and its subdomains
    port: int | None  # None: the scheme's default port
    any_port: bool

    def names(self, host: str) -> bool:
        if self.host.startswith("."):
            return host == self.host[1:] or host.endswith(self.host)
        return host == self.host

    def allows(self, scheme: str, port: int | None) -> bool:
        if self.scheme is not None and scheme != self.scheme:
            return False
        expected = self.port or _DEFAULT_PORTS.get(scheme)
        return self.any_port or (expected is not None and port == expected)


# as config/settings/base.py checks the setting at start-up
_ALLOWED_ENTRY_RE = re.compile(
    r"(?:(?P<scheme>https|http|ssh|git)://)?"
    r"(?P<host>\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}|\*))?",
    re.IGNORECASE,
)


def _allowed_entries(allowed_hosts: list[str] | None) -> tuple[_AllowedEntry, ...]:
    return _parse_allowed_entries(tuple(settings.CATALOG_URL_ALLOWED_HOSTS if allowed_hosts is None else allowed_hosts))


@functools.lru_cache(maxsize=16)
def _parse_allowed_entries(entries: tuple[str, ...]) -> tuple[_AllowedEntry, ...]:
    """The entries of an allow-list; one that is not ``[scheme://]host[:port]`` allows nothing (the settings
    refuse such a value at start-up)."""
    parsed = []
    for text in entries:
        match = _ALLOWED_ENTRY_RE.fullmatch(text.strip().lower())
        if match is None:
            continue
        port = match["port"]
        if port not in (None, "*") and not 0 < int(port) < 65536:
            continue
        parsed.append(
            _AllowedEntry(
                text=text.strip(),
                scheme=match["scheme"],
                host=match["host"].rstrip(".").strip("[]"),
                port=int(port) if port not in (None, "*") else None,
                any_port=port == "*",
            )
        )
    return tuple(parsed)


def check_under_file_roots(path: Path) -> Path:
    """The resolved ``path`` (symlinks followed) if it lies under CATALOG_FILE_ROOTS, else TargetNotAllowed."""
    resolved = path.resolve()
    if not any(resolved.is_relative_to(Path(root).resolve()) for root in settings.CATALOG_FILE_ROOTS):
        raise TargetNotAllowed("file locations must lie under an allowed root (CATALOG_FILE_ROOTS)")
    return resolved


# --- helpers ---------------------------------------------------------------------------------------------


def _clean(target: str) -> str:
    text = target.strip() if isinstance(target, str) else ""
    if not text:
        raise InvalidTarget("the target is empty")
    if _CONTROL_RE.search(text):
        raise InvalidTarget("the target contains a control character (a line break or tab?)")
    return text


def _split_repository_and_path(text: str) -> tuple[str, str]:
    scheme = _SCHEME_RE.match(text)
    if scheme is None:
        return text, DEFAULT_GIT_PATH  # _normalize_repository names the problem
    path_start = text.find("/", scheme.end())
    marker = -1 if path_start < 0 else text.find(".git:", path_start)
    if marker < 0:
        return text, DEFAULT_GIT_PATH
    return text[: marker + 4], text[marker + 5 :]


@functools.lru_cache(maxsize=1024)  # pure; a Location file's targets name one repository over and over
def _normalize_repository(repository: str) -> str:
    scheme = _SCHEME_RE.match(repository)
    if scheme is None:
        scp_like = _SCP_LIKE_RE.match(repository)
        if scp_like:
            user, _, host = scp_like[0].rstrip(":").rpartition("@")
            _check_no_option("user", user, repository)
            _check_no_option("host", host, repository)
            raise InvalidTarget(
                f"git repository {repository!r}: write the URL form, e.g. ssh://git@github.com/org/repo.git"
            )
        raise InvalidTarget(f"git repository {repository!r} is not a URL; expected https://, ssh://, git:// or file://")
    if _WHITESPACE_RE.search(repository):
        raise InvalidTarget(f"git repository {repository!r} contains a space; percent-encode it")
    parts = urlsplit(repository)
    if parts.scheme not in _GIT_SCHEMES:
        raise InvalidTarget(
            f"git repository {repository!r}: the scheme must be one of {', '.join(s + '://' for s in _GIT_SCHEMES)}"
        )
    if parts.query:
        raise InvalidTarget(f"git repository {repository!r} has a query ('?'); a repository URL cannot have one")
    if ":" in parts.path:
        raise InvalidTarget(
            f"git repository {repository!r}: a ':' may only follow a path segment ending in .git; for other"
            " repositories write <repository>#<branch>:<path>, or <repository>#:<path> for the default branch"
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InvalidTarget(
                f"git repository {repository!r}: a file:// URL names a local path, file:///srv/repo.git"
            )
        path = posixpath.normpath("/" + parts.path.lstrip("/"))
        if path == "/":
            raise InvalidTarget(f"git repository {repository!r} names no repository")
        return f"file://{path}"
    netloc = _netloc(parts, repository)
    _check_no_option("user", parts.username or "", repository)
    _check_no_option("host", parts.hostname or "", repository)
    path = parts.path.rstrip("/")
    if not path:
        raise InvalidTarget(f"git repository {repository!r} names no repository (the URL has no path)")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def _netloc(parts, original: str) -> str:
    """user@host:port with the host lower-cased and a default port left out; refuses passwords."""
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidTarget(f"{original!r} has no host")
    try:
        port = parts.port
    except ValueError:
        raise InvalidTarget(f"{original!r} has an invalid port") from None
    if parts.password is not None:
        raise InvalidTarget(
            f"{_without_password(original)!r} contains a password, which would be shown on the location;"
            " give the server its credentials instead"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme):
        netloc = f"{netloc}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return netloc


def _check_no_option(part: str, value: str, original: str) -> None:
    """Git hands the user and host of a remote to ssh on its command line, where a leading "-" is an option
    (``ssh://-oProxyCommand=…@host/x.git`` runs a command); percent-encoding is no way around it."""
    decoded = unquote(value)
    if decoded.startswith("-"):
        raise InvalidTarget(
            f"git repository {original[:200]!r}: the {part} {decoded[:100]!r} begins with '-', which Git could take"
            " for an option"
        )


def _without_password(url: str) -> str:
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)


@functools.lru_cache(maxsize=1024)  # pure (it raises for a bad name, which is never cached)
def _check_branch(branch: str) -> None:
    if (
        _BAD_BRANCH_RE.search(branch)
        or branch.startswith(("-", "/"))
        or branch.endswith(("/", ".", ".lock"))
        or branch == "@"
        or any(part.startswith(".") or part.endswith(".lock") for part in branch.split("/"))
    ):
        raise InvalidTarget(f"{branch!r} is not a valid Git branch name")


def _git_path(path: str, target: str) -> str:
    if path.startswith("/"):
        raise InvalidTarget(f"git target {target!r}: the path must be relative to the repository root (no leading /)")
    if path.endswith("/"):
        raise InvalidTarget(f"git target {target!r}: the path must name a file, not a folder")
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if not segments:
                raise InvalidTarget(f"git target {target!r}: the path leaves the repository ('..')")
            segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    if not segments:
        raise InvalidTarget(f"git target {target!r}: the path names no file")
    return "/".join(segments)


def _normalize_url(target: str) -> str:
    text = _clean(target)
    if _WHITESPACE_RE.search(text):
        raise InvalidTarget(f"URL {text!r} contains a space; percent-encode it")
    parts = urlsplit(text)
    if parts.scheme.lower() not in _URL_SCHEMES or not text.lower().startswith(f"{parts.scheme.lower()}://"):
        raise InvalidTarget(f"URL {text!r}: url targets must start with https:// or http://")
    parts = parts._replace(scheme=parts.scheme.lower())
    return urlunsplit((parts.scheme, _netloc(parts, text), parts.path or "/", parts.query, ""))


def _normalize_file(target: str) -> str:
    text = _clean(target)
    if not os.path.isabs(text):
        raise InvalidTarget(f"file target {text!r} must be an absolute path, e.g. /srv/catalog/catalog-info.yaml")
    return str(Path(text).resolve())
