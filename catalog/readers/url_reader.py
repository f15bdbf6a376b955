"""URL locations: an HTTP GET that follows at most five redirects itself, each hop's scheme, host and port
checked against CATALOG_URL_ALLOWED_HOSTS, with a size limit and one deadline for the whole read, headers and body
(PRODUCT §11)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
import time
from contextvars import ContextVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager, ProxyManager

from catalog.readers.base import (
    InvalidTarget,
    ReadError,
    ReadResult,
    TargetNotAllowed,
    TargetNotFound,
    result,
    size_error,
)
from catalog.readers.budget import time_left
from catalog.readers.targets import origin_refusal, validate_target

__all__ = ["MAX_REDIRECTS", "http_session", "read_url"]

MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
USER_AGENT = "Meshforge-catalog"


class Deadline:
    """The end of one read: at that moment every connection it used is hung up, so that a server trickling
    its headers or body a byte at a time (each byte within the read timeout) is cut off all the same."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _hang_up(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _hang_up(sock)

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()


def _hang_up(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        # socket.socket's own shutdown: SSLSocket's would drop its SSL state under the reading thread.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current_deadline: ContextVar[Deadline | None] = ContextVar("catalog_url_deadline", default=None)


class _WatchedConnectionMixin:
    def getresponse(self):
        deadline = _current_deadline.get()
        if deadline is not None and self.sock is not None:
            deadline.watch(self.sock)
        return super().getresponse()


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose connections hang up at the deadline of the read they serve."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy, **kwargs) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is ProxyManager:  # a SOCKS manager keeps its own connection classes
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


def http_session() -> requests.Session:
    """A requests session for read_url (its connections honour the read's deadline)."""
    session = requests.Session()
    adapter = _WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def read_url(session: requests.Session, target: str, *, previous: str | None = None) -> ReadResult:
    """GET ``target`` through a session from http_session(). The registered scheme, host and port are trusted
    (registering checked them); a redirect may only lead back to them or to an allowed one, even for a staff
    location, and never from https to http."""
    url = validate_target("url", target)
    with Deadline(time_left(settings.CATALOG_URL_TIMEOUT_SECONDS, what=f"cannot read {url}")) as deadline:
        token = _current_deadline.set(deadline)
        try:
            return _read(session, url, target, previous, deadline)
        finally:
            _current_deadline.reset(token)


def _read(session: requests.Session, url: str, target: str, previous: str | None, deadline: Deadline) -> ReadResult:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}  # identity: the size limit is the size
    etag = previous.removeprefix("etag:") if previous and previous.startswith("etag:") else None
    if etag:
        headers["If-None-Match"] = etag
    registered = _origin(url)
    for hop in range(MAX_REDIRECTS + 1):
        response = _get(session, url, headers, deadline)
        if not response.is_redirect:
            break
        response.close()
        if hop == MAX_REDIRECTS:
            raise ReadError(f"{target}: more than {MAX_REDIRECTS} redirects")
        location = urljoin(url, response.headers["Location"])
        try:
            next_url = validate_target("url", location)
        except InvalidTarget:
            raise TargetNotAllowed(
                f"{target}: redirect to {location!r} refused; only http(s) URLs are followed"
            ) from None
        refusal = _redirect_refusal(url, next_url, registered)
        if refusal:
            raise TargetNotAllowed(f"{target}: redirect to {next_url} refused; {refusal}")
        url = next_url
    with response:
        status = response.status_code
        if status == 304 and etag:
            return ReadResult(content=None, fingerprint=previous, revision="", unchanged=True)
        if status in (404, 410):
            raise TargetNotFound(f"{url} answered HTTP {status} {response.reason}".rstrip())
        if not 200 <= status < 300:
            raise ReadError(f"{url} answered HTTP {status} {response.reason}".rstrip())
        content = _read_body(response, url, deadline)
        answered_etag = response.headers.get("ETag")
    fingerprint = f"etag:{answered_etag}" if answered_etag else f"sha256:{hashlib.sha256(content).hexdigest()}"
    return result(content, fingerprint, previous)


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a normalized URL, the default port filled in."""
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _redirect_refusal(current: str, next_url: str, registered: tuple[str, str, int]) -> str | None:
    """Why a hop from ``current`` to ``next_url`` is not followed, or None. The registered scheme, host and
    port are trusted (registering checked them), as is their upgrade to https on its default port; anything else
    must be on the allow-list, the port included: an allowed host's other services are not files to read."""
    scheme, host, port = _origin(next_url)
    if urlsplit(current).scheme == "https" and scheme == "http":
        return "a redirect from https to http is not followed (the file would travel unencrypted)"
    if (scheme, host, port) == registered or (
        registered[0] == "http" and registered[1:] == (host, 80) and (scheme, port) == ("https", 443)
    ):
        return None
    return origin_refusal(next_url)


def _get(session: requests.Session, url: str, headers: dict[str, str], deadline: Deadline) -> requests.Response:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise _timed_out(url, deadline)
    try:
        return session.get(url, headers=headers, stream=True, allow_redirects=False, timeout=(remaining, remaining))
    except requests.RequestException as exc:
        if deadline.expired or isinstance(exc, requests.Timeout):
            raise _timed_out(url, deadline) from None
        raise ReadError(f"cannot read {url}: {_reason(exc)}") from None


def _read_body(response: requests.Response, url: str, deadline: Deadline) -> bytes:
    max_bytes = settings.CATALOG_URL_MAX_BYTES
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise size_error(url, max_bytes, int(length))
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            # read1: returns what one receive brings, so the size is checked as the bytes come
            chunk = response.raw.read1(CHUNK_BYTES)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if deadline.expired or isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                raise _timed_out(url, deadline) from None
            raise ReadError(f"cannot read {url}: {_reason(exc)}") from None
        if deadline.expired:  # a hung-up body without Content-Length ends like a complete one
            raise _timed_out(url, deadline)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise size_error(url, max_bytes)
        chunks.append(chunk)


def _timed_out(url: str, deadline: Deadline) -> ReadError:
    limit = "CATALOG_URL_TIMEOUT_SECONDS" if deadline.seconds >= settings.CATALOG_URL_TIMEOUT_SECONDS else "a request's"
    return ReadError(f"{url}: no complete answer within {deadline.seconds:.0f} s ({limit} time limit)")


def _reason(exc: Exception) -> str:
    """The last line of an exception chain's message without urllib3's pool and retry wrapping."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if match:
        return match[1].strip()
    return text.rsplit(": ", 1)[-1][:200] or type(exc).__name__
