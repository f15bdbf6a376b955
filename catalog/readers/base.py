"""What every source reader returns or raises."""

from __future__ import annotations

import re
from dataclasses import dataclass


class ReadError(Exception):
    """Why a target could not be read; str() is shown to users on the location."""


class TargetNotFound(ReadError):
    """The file/blob/URL does not exist (404, missing path): `presence: optional` targets ignore it."""


class TargetNotAllowed(ReadError):
    """Trust rule broken; the message names the rule, e.g. 'only staff may register file locations'."""


class InvalidTarget(ReadError):
    """Syntax: the message names the problem."""


@dataclass(frozen=True)
class ReadResult:
    content: bytes | None  # None when unchanged (the caller keeps what it has)
    fingerprint: str  # "git:<blob sha>", "etag:<etag>" or "sha256:<hex>"; equal fingerprints = same source
    revision: str  # git commit sha the blob was read at; "" for url/file
    unchanged: bool  # fingerprint == the `previous` passed in (content is then None)


def result(content: bytes, fingerprint: str, previous: str | None, revision: str = "") -> ReadResult:
    if fingerprint == previous:
        return ReadResult(content=None, fingerprint=fingerprint, revision=revision, unchanged=True)
    return ReadResult(content=content, fingerprint=fingerprint, revision=revision, unchanged=False)


def size_error(what: str, limit: int, size: int | None = None) -> ReadError:
    """The limit was passed: by ``size`` bytes when known before reading, else found while reading."""
    measured = "" if size is None else f" {size} bytes,"
    return ReadError(f"{what} is{measured} over the limit of {limit} bytes (CATALOG_URL_MAX_BYTES)")


_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def redact(text: str) -> str:
    """Hide the user info of every URL in ``text`` (Git's messages may name a remote with its credentials)."""
    return _USERINFO_RE.sub(r"\g<scheme>***@", text)
