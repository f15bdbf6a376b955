"""The hard deadline of reads done in a web request (PRODUCT §3.2): registering a location and the Builder's writes
process at once, and everything those reads wait for (a Git command, the lock of a mirror, a URL) ends by the
deadline, so a stalled remote costs a request its budget, never the site. The background loop has no deadline:
each command keeps its own limit (CATALOG_GIT_TIMEOUT_SECONDS, CATALOG_URL_TIMEOUT_SECONDS)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from catalog.readers.base import ReadError

__all__ = ["BudgetSpent", "read_deadline", "time_left"]


class BudgetSpent(ReadError):
    """The request's deadline passed before (or while) a read could finish; the background loop reads it later."""


@dataclass(frozen=True)
class _Deadline:
    at: float  # time.monotonic()
    seconds: float


_deadline: ContextVar[_Deadline | None] = ContextVar("catalog_read_deadline", default=None)


@contextmanager
def read_deadline(seconds: float) -> Iterator[None]:
    """Every read inside ends within ``seconds`` from now. Nested deadlines keep the earlier end."""
    current = _deadline.get()
    new = _Deadline(at=time.monotonic() + seconds, seconds=seconds)
    token = _deadline.set(new if current is None or new.at < current.at else current)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left(limit: float, *, what: str) -> float:
    """How long ``what`` may take: ``limit`` seconds, or what is left of the deadline when that is sooner.
    Raises :class:`BudgetSpent` when nothing is left."""
    deadline = _deadline.get()
    if deadline is None:
        return limit
    left = deadline.at - time.monotonic()
    if left <= 0:
        raise BudgetSpent(f"{what}: not started, the request's time limit of {deadline.seconds:g} s was spent")
    return min(limit, left)


def budget_message(what: str, limit: float) -> str:
    """Why a command was stopped at ``limit`` seconds: its own limit, or the request's deadline."""
    deadline = _deadline.get()
    if deadline is not None and deadline.at - time.monotonic() <= 0.05:
        return (
            f"{what}: stopped after {limit:.0f} s, the time limit of a request "
            "(the background loop reads it again; a refresh of a remote location is queued for the worker)"
        )
    return f"{what}: stopped after {limit:.0f} s without finishing"
