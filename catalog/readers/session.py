"""ReadSession: the one object the processing loop reads locations through, one per batch or tick."""

from __future__ import annotations

from types import TracebackType

import requests

from catalog.readers.base import InvalidTarget, ReadResult
from catalog.readers.file_reader import read_file
from catalog.readers.git_reader import GitReader
from catalog.readers.targets import TARGET_TYPES
from catalog.readers.url_reader import http_session, read_url

__all__ = ["ReadSession"]


class ReadSession:
    """One per processing batch/tick. Fetches each Git repository at most once per session (and not at all if
    the mirror was fetched less than ``fetch_max_age`` seconds ago by any process), lists each commit's tree
    once (path → blob sha, so that an unchanged check is a dict lookup), and reads blobs through one
    persistent ``git cat-file --batch`` per mirror. Not thread-safe: one session per thread."""

    def __init__(self, *, fetch_max_age: float = 0.0) -> None:
        self.fetch_max_age = fetch_max_age
        self._git = GitReader(fetch_max_age=fetch_max_age)
        self._http: requests.Session | None = None

    @property
    def fetched_repositories(self) -> frozenset[str]:
        """The repository URLs this session fetched (not those it found fresh enough)."""
        return self._git.fetched_repositories

    def read(self, type: str, target: str, *, previous: str | None = None) -> ReadResult:
        """Read ``target``; ``previous`` is the fingerprint of the last good read: when the source still has it,
        the result is ``unchanged`` and carries no content. Raises ReadError (or a subclass) on failure."""
        if type == "git":
            return self._git.read(target, previous=previous)
        if type == "url":
            if self._http is None:
                self._http = http_session()
            return read_url(self._http, target, previous=previous)
        if type == "file":
            return read_file(target, previous=previous)
        raise InvalidTarget(f"unknown location type {type!r}; expected one of {', '.join(TARGET_TYPES)}")

    def prefetch(self, reads: list[tuple[str, str, str | None]]) -> None:
        """Read ahead, in one ``git cat-file`` run per repository, the Git files that the coming ``read`` calls
        for these (type, target, previous) will return: a batch of locations in one repository then costs two
        commands instead of a round trip per file. Never raises; ``read`` meets and reports every problem."""
        self._git.prefetch([(target, previous) for type, target, previous in reads if type == "git"])

    def close(self) -> None:
        self._git.close()
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ReadSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
