"""The ``remote`` engine: a policy is the URL of a service that judges the resource, as Witboost's remote policies
do. It is sent ``{"resource": {"id", "kind", "environment", "descriptor"}, "previous"}`` in a POST and answers
``{"satisfiesPolicy": bool, "details"?, "errors"?: [message | {"message", "path"}]}``.

The URL's host must be on ``GOVERNANCE_REMOTE_ALLOWED_HOSTS`` (``host`` allows the scheme's default port,
``host:port`` that port), when the policy is saved and again when it runs. The host is resolved once per call and
the connection made to that address (the name still sent as ``Host`` and as the TLS server name), so the name
cannot be made to point elsewhere between the check and the connection. One deadline
(``GOVERNANCE_REMOTE_TIMEOUT_SECONDS``) covers the whole exchange, answers are read up to 1 MiB, redirects are
not followed; a timeout, an error status, a redirect or an answer of another shape is ``ERROR`` with the reason."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from core.problems import Problem, Severity
from governance.engines import BatchEngine, Item, Outcome, Result

__all__ = ["MAX_ANSWER_BYTES", "RemoteEngine"]

CODE = "remote"
MAX_ANSWER_BYTES = 1_048_576
MAX_FINDINGS = 100
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = "Meshforge-governance"


class Refused(ValueError):
    """The body is not a URL this engine may call; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int
    explicit_port: bool
    path: str  # path and query, as written

    def url_at(self, address: str) -> str:
        shown = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"{shown}:{self.port}" if self.explicit_port else shown


class RemoteEngine(BatchEngine):
    name = "remote"
    label = "Remote service"

    def check(self, body: str) -> list[Problem]:
        try:
            target(body)
        except Refused as exc:
            return [Problem("body", str(exc), code=CODE)]
        except Exception as exc:  # a body must never break the form that saves it
            return [Problem("body", f"the URL could not be read: {exc}", code=CODE)]
        return []

    def evaluate_many(self, body: str, items: list[Item]) -> list[Result]:
        if not items:
            return []
        try:
            return _evaluate_many(body, items)
        except Exception as exc:  # never a pass, never an exception
            return [Result.failed(f"the remote engine failed: {type(exc).__name__}: {exc}")] * len(items)


def _evaluate_many(body: str, items: list[Item]) -> list[Result]:
    try:
        found = target(body)
    except Refused as exc:
        return [Result.failed(str(exc))] * len(items)
    timeout = settings.GOVERNANCE_REMOTE_TIMEOUT_SECONDS
    try:
        address = _resolve(found, timeout)
    except OSError as exc:
        return [Result.failed(f"{found.host} could not be resolved: {exc}")] * len(items)
    # trust_env=False: no proxy from the environment, which would connect elsewhere than the pinned address.
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        return [
            _call(client, found, address, timeout, _payload(resource, previous, context))
            for resource, previous, context in items
        ]


def target(body: str) -> Target:
    """The URL of a body, refused (:class:`Refused`) unless it is one http or https URL on the allow-list."""
    if not isinstance(body, str):
        raise Refused(f"the body must be text, not {type(body).__name__}")
    text = body.strip()
    if not text:
        raise Refused("the body is empty: write the URL of the policy service (https://host/path)")
    if "\n" in text:
        raise Refused("the body is one line: the URL of the policy service")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"{text[:200]!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused(f"the URL must start with http:// or https://, not {text[:200]!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused(f"{text[:200]!r} names no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("the URL must not hold credentials: they would be stored and shown with the policy")
    resolved_port = port or DEFAULT_PORTS[scheme]
    if not _allowed(host, resolved_port, scheme):
        shown = f"{host}:{port}" if port else host
        raise Refused(f"the host {shown} is not on GOVERNANCE_REMOTE_ALLOWED_HOSTS")
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(text, scheme, host, resolved_port, port is not None, path)


def _allowed(host: str, port: int, scheme: str) -> bool:
    for entry in settings.GOVERNANCE_REMOTE_ALLOWED_HOSTS:
        allowed_host, allowed_port = _entry(entry)
        if allowed_host == host and (allowed_port or DEFAULT_PORTS[scheme]) == port:
            return True
    return False


def _entry(entry: str) -> tuple[str, int | None]:
    """``host`` or ``host:port`` (an IPv6 address in brackets) of the allow-list, lower case."""
    try:
        parts = urlsplit(f"//{entry.strip()}")
        return (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return "", None  # allows nothing


def _resolve(found: Target, timeout: float) -> str:
    """The address to call, within ``timeout`` (``getaddrinfo`` has no limit of its own: a stalled resolver
    would hold the gate; the lookup left behind ends on its own)."""
    try:
        return str(ipaddress.ip_address(found.host))
    except ValueError:
        pass
    lookup = _RESOLVER.submit(socket.getaddrinfo, found.host, found.port, type=socket.SOCK_STREAM)
    try:
        addresses = lookup.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise OSError(f"no answer within {timeout:g} s") from None
    if not addresses:
        raise OSError("no address")
    return addresses[0][4][0]


_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="governance-remote-dns")


def _payload(resource: dict, previous: dict | None, context: dict | None) -> dict:
    context = context if context is not None else _context_of(resource)
    return {
        "resource": {
            "id": context.get("id"),
            "kind": context.get("kind"),
            "environment": context.get("environment"),
            "descriptor": resource,
        },
        "previous": previous,
    }


def _context_of(resource: object) -> dict:
    """What the resource says of itself, when the caller gave no context."""
    if not isinstance(resource, dict):
        return {}
    described = resource.get("component") if isinstance(resource.get("component"), dict) else resource
    data_product = resource.get("dataProduct") if isinstance(resource.get("dataProduct"), dict) else resource
    return {
        "id": described.get("id"),
        "kind": described.get("kind") if described is not resource else "dataproduct",
        "environment": data_product.get("environment"),
    }


def _call(client: httpx.Client, found: Target, address: str, timeout: int, payload: dict) -> Result:
    deadline = time.monotonic() + timeout
    headers = {"Host": found.host_header, "User-Agent": USER_AGENT, "Accept": "application/json"}
    extensions = {"sni_hostname": found.host} if found.scheme == "https" else {}
    try:
        content = json.dumps(payload, default=str).encode()
        headers["Content-Type"] = "application/json"
        with client.stream(
            "POST", found.url_at(address), content=content, headers=headers, extensions=extensions
        ) as response:
            if response.is_redirect or 300 <= response.status_code < 400:
                where = response.headers.get("location", "")
                return Result.failed(
                    f"{found.host} answered with a redirect (HTTP {response.status_code}"
                    + (f" to {where[:200]}" if where else "")
                    + "), which is not followed"
                )
            if not 200 <= response.status_code < 300:
                return Result.failed(f"{found.host} answered HTTP {response.status_code}")
            answer = bytearray()
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) > MAX_ANSWER_BYTES:
                    return Result.failed(f"{found.host} answered more than {MAX_ANSWER_BYTES // 1_048_576} MiB")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer took too long")
    except httpx.TimeoutException:
        return Result.failed(f"{found.host} did not answer within {timeout} s")
    except httpx.HTTPError as exc:
        return Result.failed(f"{found.host} could not be reached: {exc}")
    return _answer(found.host, bytes(answer))


def _answer(host: str, answer: bytes) -> Result:
    try:
        document = json.loads(answer)
    except ValueError:
        return Result.failed(f"{host} answered something that is not JSON")
    if not isinstance(document, dict) or not isinstance(document.get("satisfiesPolicy"), bool):
        return Result.failed(f"{host} answered without satisfiesPolicy (true or false)")
    errors = document.get("errors")
    if errors is None:
        errors = []
    if not isinstance(errors, list):
        return Result.failed(f"{host} answered errors that are not a list")
    if document["satisfiesPolicy"]:
        return Result(Outcome.PASS)
    findings = [_finding(error) for error in errors[:MAX_FINDINGS]]
    if not findings:
        details = document.get("details")
        shown = f": {json.dumps(details)[:300]}" if details not in (None, "", {}, []) else ""
        findings = [Problem("", f"{host} says the resource does not satisfy the policy{shown}", code=CODE)]
    return Result(Outcome.FAIL, tuple(findings))


def _finding(error: object) -> Problem:
    if isinstance(error, dict) and "message" in error:
        message = error["message"] if isinstance(error["message"], str) else json.dumps(error["message"])
        path = error.get("path") if isinstance(error.get("path"), str) else ""
        return Problem(path, message, severity=Severity.ERROR, code=CODE)
    return Problem("", error if isinstance(error, str) else json.dumps(error), severity=Severity.ERROR, code=CODE)
