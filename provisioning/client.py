"""The HTTP client of the Tech Adapter API 2.2 (``openapi/tech-adapter-api-2.2.0.yml``): one call or poll gives a
:class:`Reply` checked against the published schemas, and every failure of the adapter (an error status, a redirect,
a malformed answer, a lost token, a deadline, no connection) is a failed reply with a reason, never an exception."""

from __future__ import annotations

import functools
import json
import re
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry

from core import yaml
from core.problems import SCHEMA_TYPE_NAMES, join_path, show, type_name

__all__ = [
    "MAX_ANSWER_BYTES",
    "MAX_STORED_BODY_BYTES",
    "OPENAPI_PATH",
    "AdapterEndpoint",
    "AdapterError",
    "ErrorKind",
    "Reply",
    "ReverseReply",
    "TechAdapterClient",
    "ValidationReply",
    "provisioning_request",
]

OPENAPI_PATH = Path(__file__).parent / "openapi" / "tech-adapter-api-2.2.0.yml"
MAX_ANSWER_BYTES = 4 * 1_048_576
MAX_STORED_BODY_BYTES = 64 * 1024
MAX_TOKEN_CHARS = 1024
MAX_REASON_CHARS = 500
USER_AGENT = "Meshforge-provisioning"

COMPONENT_DESCRIPTOR = "COMPONENT_DESCRIPTOR"
DATAPRODUCT_DESCRIPTOR = "DATAPRODUCT_DESCRIPTOR"

# What the Python scaffold and the adapters built on it answer on an endpoint they have not written yet (HTTP 500,
# ``{"error": "Response not yet implemented"}``), and what the Databricks adapter answers for a token its in-memory
# task store does not hold (HTTP 500, ``{"error": "Cannot find Provisioning Status for id '…'"}``).
_NOT_IMPLEMENTED_RE = re.compile(r"not\s+(?:yet\s+)?implemented", re.IGNORECASE)
_LOST_TOKEN_RE = re.compile(r"cannot\s+find\s+provisioning\s+status", re.IGNORECASE)
_ASYNC_VALIDATE_MISSING_STATUSES = frozenset({404, 405, 501})
_RETRIED_POLL_STATUSES = frozenset({502, 503, 504})


class ErrorKind(StrEnum):
    HTTP = "http"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    REDIRECT = "redirect"
    MALFORMED = "malformed"
    LOST_TOKEN = "lost_token"  # noqa: S105 - a kind of error, not a secret
    DEADLINE = "deadline"
    FAILED = "failed"  # the adapter answered, and said FAILED


@dataclass(frozen=True)
class AdapterEndpoint:
    """Where an adapter answers (``base_url`` with or without a trailing slash) and how long to wait for it."""

    base_url: str
    connect_timeout: float = 5.0
    request_timeout: float = 30.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AdapterError:
    """Why a call failed, shown to users verbatim: ``reason`` is one line; the other fields carry what the adapter
    said (the fields of a ``RequestValidationError`` or ``SystemError``, and the raw body up to 64 KiB)."""

    kind: ErrorKind
    reason: str
    status_code: int | None = None
    user_message: str = ""
    errors: tuple[str, ...] = ()
    input: str | None = None
    input_error_field: str | None = None
    problems: tuple[str, ...] = ()
    solutions: tuple[str, ...] = ()
    body: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["kind"] = str(self.kind)
        for name in ("errors", "problems", "solutions"):
            data[name] = list(data[name])
        return data


@dataclass(frozen=True)
class Reply:
    """One provision, unprovision or updateacl call, or one status poll."""

    state: Literal["completed", "running", "failed"]
    token: str | None = None
    info: dict | None = None
    logs: tuple[dict, ...] = ()
    result: str = ""
    error: AdapterError | None = None

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "token": self.token,
            "info": self.info,
            "logs": list(self.logs),
            "result": self.result,
            "error": self.error.as_dict() if self.error else None,
        }


@dataclass(frozen=True)
class ValidationReply:
    """An adapter's validation: ``errors`` are its findings; ``error`` says the call itself failed.
    ``async_unsupported`` tells the caller that ``/v2/validate`` is missing: ask ``/v1/validate`` from now on."""

    valid: bool
    errors: tuple[str, ...] = ()
    error: AdapterError | None = None
    async_unsupported: bool = False


@dataclass(frozen=True)
class ReverseReply:
    """A reverse provisioning: ``updates`` are dot-path changes to the component's ``catalog-info.yaml``."""

    state: Literal["completed", "running", "failed"]
    updates: dict = field(default_factory=dict)
    logs: tuple[dict, ...] = ()
    token: str | None = None
    error: AdapterError | None = None


class ProvisioningRequests:
    """The ``ProvisioningRequest`` bodies of one deployment. The data product descriptor (and the latest enriched
    one) is dumped to YAML once, and each component's ``{dataProduct, componentIdToProvision}`` is composed from that
    text: dumping a large descriptor per component was most of a coordinator's time per step."""

    def __init__(self, *, descriptor: dict, remove_data: bool = False, latest_enriched: dict | None = None) -> None:
        self._descriptor = yaml.dump(descriptor)
        # the descriptor nested under a key: every line of a block document indented alike stays the same document
        self._nested = "dataProduct:\n" + textwrap.indent(self._descriptor, "  ")
        self._latest = yaml.dump(latest_enriched) if latest_enriched is not None else None
        self._remove_data = remove_data

    def request(self, component_id: str | None) -> dict:
        """For a component, ``COMPONENT_DESCRIPTOR``; without one, the data product's ``DATAPRODUCT_DESCRIPTOR``."""
        if component_id is None:
            body = {"descriptorKind": DATAPRODUCT_DESCRIPTOR, "descriptor": self._descriptor}
        else:
            text = self._nested + yaml.dump({"componentIdToProvision": component_id})
            body = {"descriptorKind": COMPONENT_DESCRIPTOR, "descriptor": text}
        if self._latest is not None:
            body["latestEnrichedDescriptor"] = self._latest
        body["removeData"] = self._remove_data
        return body


def provisioning_request(
    *, descriptor: dict, component_id: str | None, remove_data: bool = False, latest_enriched: dict | None = None
) -> dict:
    """One ``ProvisioningRequest``: for a component, the YAML of ``{dataProduct, componentIdToProvision}``
    (``COMPONENT_DESCRIPTOR``); without one, the data product descriptor itself (``DATAPRODUCT_DESCRIPTOR``)."""
    requests = ProvisioningRequests(descriptor=descriptor, remove_data=remove_data, latest_enriched=latest_enriched)
    return requests.request(component_id)


# --- the published schemas ---------------------------------------------------------------------------------------

_OPENAPI_ONLY_KEYWORDS = frozenset(
    {"nullable", "deprecated", "example", "xml", "externalDocs", "discriminator", "readOnly", "writeOnly"}
)
_SCHEMA_REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class _Schemas:
    definitions: dict[str, dict]  # the OpenAPI component schemas as JSON Schema
    validators: dict[str, Draft202012Validator]


@functools.cache
def _schemas() -> _Schemas:
    """The validators of every component schema, built once per process from the runtime copy of the spec."""
    spec = yaml.load_file(OPENAPI_PATH)
    definitions = {name: _json_schema(schema) for name, schema in spec["components"]["schemas"].items()}
    validators = {
        # an empty registry: every reference is inside the spec, and nothing is ever fetched
        name: Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": definitions}, registry=Registry())
        for name in definitions
    }
    return _Schemas(definitions, validators)


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``#/components/schemas/X`` becomes ``#/$defs/X``, ``nullable`` allows
    null, and OpenAPI's own annotations go."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        return {"$ref": node["$ref"].replace(_SCHEMA_REF_PREFIX, "#/$defs/")}
    converted = {key: _json_schema(value) for key, value in node.items() if key not in _OPENAPI_ONLY_KEYWORDS}
    if node.get("nullable") is True:
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        if isinstance(converted.get("enum"), list):
            converted["enum"] = [*converted["enum"], None]
    return converted


def _resolved(schema: dict, definitions: dict[str, dict]) -> dict:
    while isinstance(schema.get("$ref"), str):
        schema = definitions.get(schema["$ref"].removeprefix("#/$defs/"), {})
    return schema


def _without_nulls(value: Any, schema: dict, definitions: dict[str, dict]) -> Any:
    """``value`` with the nulls of optional fields taken out, as if absent: the pydantic models of real adapters
    write every unset optional field as null (``"info": null``, ``"moreInfo": null``), which the spec does not
    allow. Free-form objects (``publicInfo``, ``updates``) are kept as they are."""
    schema = _resolved(schema, definitions)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        required = set(schema.get("required") or ())
        properties = schema["properties"]
        return {
            key: _without_nulls(item, properties[key], definitions) if key in properties else item
            for key, item in value.items()
            if item is not None or key in required
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_without_nulls(item, schema["items"], definitions) for item in value]
    return value


_Polled = TypeVar("_Polled")


class _Malformed(Exception):
    """An answer that is not what the API promises; the message says what is wrong with it."""


def _checked(document: Any, schema_name: str) -> Any:
    """``document`` without the nulls of optional fields, if it then matches ``schema_name``; else :class:`_Malformed`
    naming the first problem."""
    schemas = _schemas()
    cleaned = _without_nulls(document, {"$ref": f"#/$defs/{schema_name}"}, schemas.definitions)
    errors = sorted(
        schemas.validators[schema_name].iter_errors(cleaned), key=lambda error: [str(part) for part in error.path]
    )
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise _Malformed(_schema_problem(errors[0]) + more)
    return cleaned


def _schema_problem(error: Any) -> str:
    path = _instance_path(error.absolute_path)
    subject = f"`{path}`" if path else "the answer"
    if error.validator == "required":
        missing = next((name for name in error.validator_value if name not in error.instance), "?")
        return f"`{join_path(path, missing)}` is missing"
    if error.validator == "enum":
        expected = ", ".join(str(option) for option in error.validator_value)
        return f"{subject} is {show(error.instance)}, expected one of {expected}"
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        expected = " or ".join(SCHEMA_TYPE_NAMES.get(name, name) for name in wanted)
        return f"{subject} is {type_name(error.instance)}, expected {expected}"
    return f"{subject}: {_one_line(error.message)}"


def _instance_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else join_path(path, str(part))
    return path


# --- one exchange ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    method: str
    path: str
    status_code: int
    content_type: str
    body: bytes
    location: str = ""

    @property
    def call(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or :class:`_Malformed`."""
        try:
            return json.loads(self.body)
        except RecursionError:
            raise _Malformed("the JSON is nested too deeply") from None
        except ValueError as exc:
            raise _Malformed(f"not JSON ({exc})") from None

    def malformed(self, problem: str) -> AdapterError:
        return AdapterError(
            ErrorKind.MALFORMED,
            _one_line(f"malformed answer from {self.call}: {problem}"),
            status_code=self.status_code,
            body=_stored_body(self.body),
        )


class TechAdapterClient:
    """Calls one adapter. Thread-safe; close it (or use it as a context manager) to release its connections."""

    def __init__(self, endpoint: AdapterEndpoint, *, transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = endpoint
        self._base_url = endpoint.base_url.rstrip("/")
        self._where = _host_and_port(self._base_url)
        self._http = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(endpoint.request_timeout, connect=endpoint.connect_timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **dict(endpoint.headers)},
            transport=transport,
            # no proxy from the environment (nor its certificate settings): the registry row alone says where
            # Meshforge connects, and what it sends there
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TechAdapterClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- provision, unprovision, updateacl ---

    def provision(self, request: dict) -> Reply:
        return self._operation("/v1/provision", request)

    def unprovision(self, request: dict) -> Reply:
        return self._operation("/v1/unprovision", request)

    def update_acl(self, refs: list[str], provision_info: dict) -> Reply:
        """Make ``refs`` the identities with access to the component that ``provision_info`` (``{"request": <the
        provisioning request's YAML descriptor>, "result": <its result>}``) provisioned; a 202 is polled with
        :meth:`wait`, on the provisioning status endpoint."""
        return self._operation("/v1/updateacl", {"refs": list(refs), "provisionInfo": provision_info})

    def provision_status(self, token: str) -> Reply:
        path = f"/v1/provision/{quote(token, safe='')}/status"
        answer = self._exchange("GET", path)
        if isinstance(answer, AdapterError):
            return Reply("failed", token=token, error=answer)
        if answer.status_code == 200:
            return self._status_reply(answer, token)
        return Reply("failed", token=token, error=self._unexpected(answer, token=token))

    def wait(
        self,
        reply: Reply,
        *,
        poll_interval: float,
        deadline: float,
        on_poll: Callable[[Reply], None] | None = None,
    ) -> Reply:
        """Poll a running reply's token until the adapter says COMPLETED or FAILED, or until ``time.monotonic()``
        reaches ``deadline``. A poll that fails for a passing reason (no connection, no answer in time, 502-504) is
        tried again until then; ``on_poll`` sees every poll's reply, those included. A finished reply is returned
        as it is."""
        if reply.state != "running" or not reply.token:
            return reply
        token = reply.token
        final = _poll_until_done(
            lambda: self.provision_status(token),
            running=lambda polled: polled.state == "running",
            token=token,
            poll_interval=poll_interval,
            deadline=deadline,
            on_poll=on_poll,
        )
        return Reply("failed", token=token, error=final) if isinstance(final, AdapterError) else final

    # --- validate ---

    def validate(
        self, request: dict, *, use_async: bool, poll_interval: float = 1.0, deadline: float | None = None
    ) -> ValidationReply:
        """Ask the adapter whether it could carry ``request`` out. With ``use_async``, ``/v2/validate`` and its
        status (polled until ``deadline``, by default the request timeout from now); an adapter that has no
        ``/v2/validate`` (404, 405, 501, or 500 "not yet implemented") is asked ``/v1/validate`` in the same call,
        and the reply says so."""
        if not use_async:
            return self._validate_sync(request)
        answer = self._exchange("POST", "/v2/validate", request)
        if isinstance(answer, AdapterError):
            return ValidationReply(False, error=answer)
        if _async_validate_missing(answer):
            return replace(self._validate_sync(request), async_unsupported=True)
        if answer.status_code != 202:
            return ValidationReply(False, error=self._unexpected(answer, expected="202"))
        token = _token(answer)
        if isinstance(token, AdapterError):
            return ValidationReply(False, error=token)
        final = _poll_until_done(
            lambda: self._validation_status(token),
            running=lambda polled: polled is None,
            token=token,
            poll_interval=poll_interval,
            deadline=time.monotonic() + self.endpoint.request_timeout if deadline is None else deadline,
        )
        return ValidationReply(False, error=final) if isinstance(final, AdapterError) else final

    def _validate_sync(self, request: dict) -> ValidationReply:
        answer = self._exchange("POST", "/v1/validate", request)
        if isinstance(answer, AdapterError):
            return ValidationReply(False, error=answer)
        if answer.status_code != 200:
            return ValidationReply(False, error=self._unexpected(answer, expected="200"))
        try:
            result = _checked(answer.json(), "ValidationResult")
        except _Malformed as exc:
            return ValidationReply(False, error=answer.malformed(str(exc)))
        return _validation_reply(result)

    def _validation_status(self, token: str) -> ValidationReply | None:
        """The finished validation of ``token``, or None while it runs."""
        answer = self._exchange("GET", f"/v2/validate/{quote(token, safe='')}/status")
        if isinstance(answer, AdapterError):
            return ValidationReply(False, error=answer)
        if answer.status_code != 200:
            return ValidationReply(False, error=self._unexpected(answer, token=token))
        try:
            status = _checked(answer.json(), "ValidationStatus")
            if status["status"] == "RUNNING":
                return None
            # the spec puts the result in info.publicInfo; the Python scaffold's models name it `result`
            result = (status.get("info") or {}).get("publicInfo")
            if result is None and isinstance(status.get("result"), dict):
                result = _checked(status["result"], "ValidationResult")
            if status["status"] == "FAILED":
                found = _validation_reply(result).errors if isinstance(result, dict) else ()
                shown = f": {'; '.join(found)}" if found else ""
                reason = _one_line(f"the adapter's validation failed (token {token}){shown}")
                return ValidationReply(False, errors=found, error=AdapterError(ErrorKind.FAILED, reason, 200))
            if result is None:
                raise _Malformed("`info.publicInfo` is missing from a COMPLETED validation")
        except _Malformed as exc:
            return ValidationReply(False, error=answer.malformed(str(exc)))
        return _validation_reply(result)

    # --- reverse provisioning ---

    def reverse_provision(
        self, request: dict, *, poll_interval: float = 1.0, deadline: float | None = None
    ) -> ReverseReply:
        """Run a reverse provisioning (``ReverseProvisioningRequest``): answered at once (200), or polled on its
        status until ``deadline`` (by default the request timeout from now) after a 202."""
        answer = self._exchange("POST", "/v1/reverse-provisioning", request)
        if isinstance(answer, AdapterError):
            return ReverseReply("failed", error=answer)
        if answer.status_code == 200:
            return _reverse_reply(answer, token=None)
        if answer.status_code != 202:
            return ReverseReply("failed", error=self._unexpected(answer))
        token = _token(answer)
        if isinstance(token, AdapterError):
            return ReverseReply("failed", error=token)
        final = _poll_until_done(
            lambda: self._reverse_status(token),
            running=lambda polled: polled.state == "running",
            token=token,
            poll_interval=poll_interval,
            deadline=time.monotonic() + self.endpoint.request_timeout if deadline is None else deadline,
        )
        return ReverseReply("failed", token=token, error=final) if isinstance(final, AdapterError) else final

    def _reverse_status(self, token: str) -> ReverseReply:
        answer = self._exchange("GET", f"/v1/reverse-provisioning/{quote(token, safe='')}/status")
        if isinstance(answer, AdapterError):
            return ReverseReply("failed", token=token, error=answer)
        if answer.status_code != 200:
            return ReverseReply("failed", token=token, error=self._unexpected(answer, token=token))
        return _reverse_reply(answer, token=token)

    # --- shared ---

    def _operation(self, path: str, body: dict) -> Reply:
        answer = self._exchange("POST", path, body)
        if isinstance(answer, AdapterError):
            return Reply("failed", error=answer)
        if answer.status_code == 200:
            return self._status_reply(answer, token=None)
        if answer.status_code == 202:
            token = _token(answer)
            if isinstance(token, AdapterError):
                return Reply("failed", error=token)
            return Reply("running", token=token)
        return Reply("failed", error=self._unexpected(answer))

    def _status_reply(self, answer: _Answer, token: str | None) -> Reply:
        """A 200 ``ProvisioningStatus`` as a reply; RUNNING only makes sense with a token to poll."""
        try:
            status = _checked(answer.json(), "ProvisioningStatus")
        except _Malformed as exc:
            return Reply("failed", token=token, error=answer.malformed(str(exc)))
        info = status.get("info")
        logs = tuple(status.get("logs") or ())
        result = status["result"]
        if status["status"] == "COMPLETED":
            return Reply("completed", token=token, info=info, logs=logs, result=result)
        if status["status"] == "RUNNING":
            if token is None:
                error = answer.malformed("status RUNNING in a 200 answer, which gives no token to poll")
                return Reply("failed", info=info, logs=logs, result=result, error=error)
            return Reply("running", token=token, info=info, logs=logs, result=result)
        error = AdapterError(ErrorKind.FAILED, _failure_reason(result, logs), 200, body=_stored_body(answer.body))
        return Reply("failed", token=token, info=info, logs=logs, result=result, error=error)

    def _unexpected(self, answer: _Answer, *, token: str | None = None, expected: str = "200 or 202") -> AdapterError:
        """Any answer but the expected ones: a redirect, an error status (its body read for what the adapter
        said), or a status the API does not use."""
        if 300 <= answer.status_code < 400:
            where = f"to {answer.location[:300]} " if answer.location else f"(HTTP {answer.status_code}) "
            return AdapterError(
                ErrorKind.REDIRECT,
                f"redirect {where}refused",
                status_code=answer.status_code,
                body=_stored_body(answer.body),
            )
        if answer.status_code < 400:
            return answer.malformed(f"HTTP {answer.status_code}, expected {expected}")
        said = _error_fields(answer)
        if token is not None and answer.status_code == 500 and _LOST_TOKEN_RE.search(answer.text):
            return AdapterError(ErrorKind.LOST_TOKEN, f"the adapter no longer knows token {token} (restarted?)", **said)
        summary = (
            said.get("user_message")
            or "; ".join(said.get("errors", ()))
            or "; ".join(said.get("problems", ()))
            or _one_line(answer.text)
            or "no details"
        )
        reason = _one_line(f"HTTP {answer.status_code} from {answer.call}: {summary}")
        return AdapterError(ErrorKind.HTTP, reason, **said)

    def _exchange(self, method: str, path: str, body: dict | None = None) -> _Answer | AdapterError:
        """One request, its answer read up to :data:`MAX_ANSWER_BYTES` within the time limits."""
        call = f"{method} {path}"
        endpoint = self.endpoint
        # the read timeout bounds each wait for bytes; this bounds the whole exchange against a trickling adapter
        give_up_at = time.monotonic() + endpoint.connect_timeout + endpoint.request_timeout
        try:
            with self._http.stream(method, self._base_url + path, json=body) as response:
                answer = bytearray()
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
                    return _too_large(call, response.status_code)
                for chunk in response.iter_bytes():
                    answer += chunk
                    if len(answer) > MAX_ANSWER_BYTES:
                        return _too_large(call, response.status_code)
                    if time.monotonic() > give_up_at:
                        raise httpx.ReadTimeout("the answer took too long")
                return _Answer(
                    method,
                    path,
                    response.status_code,
                    response.headers.get("content-type", ""),
                    bytes(answer),
                    response.headers.get("location", ""),
                )
        except httpx.ConnectTimeout:
            return AdapterError(
                ErrorKind.TIMEOUT, f"no connection to {self._where} within {endpoint.connect_timeout:g} s"
            )
        except httpx.TimeoutException:
            return AdapterError(ErrorKind.TIMEOUT, f"no answer to {call} within {endpoint.request_timeout:g} s")
        except httpx.ConnectError as exc:
            if "refused" in str(exc).lower():
                return AdapterError(ErrorKind.CONNECTION, f"connection refused by {self._where}")
            return AdapterError(ErrorKind.CONNECTION, _one_line(f"cannot connect to {self._where}: {exc}"))
        except httpx.InvalidURL as exc:
            return AdapterError(
                ErrorKind.CONNECTION, _one_line(f"the adapter URL {self._base_url} is not valid: {exc}")
            )
        except httpx.DecodingError as exc:
            return AdapterError(ErrorKind.MALFORMED, _one_line(f"malformed answer from {call}: {exc}"))
        except httpx.HTTPError as exc:  # the connection broke, an unsupported scheme, an invalid header…
            shown = str(exc) or type(exc).__name__
            return AdapterError(ErrorKind.CONNECTION, _one_line(f"{call} to {self._where} failed: {shown}"))


def _host_and_port(url: str) -> str:
    """``host:port`` of a URL, as reasons name the adapter (the URL itself when it has no host)."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        return url
    port = target.port or {"http": 80, "https": 443}.get(target.scheme)
    if not target.host:
        return url
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{port}" if port else host


def _poll_until_done(
    poll: Callable[[], _Polled],
    *,
    running: Callable[[_Polled], bool],
    token: str,
    poll_interval: float,
    deadline: float,
    on_poll: Callable[[_Polled], None] | None = None,
) -> _Polled | AdapterError:
    """Call ``poll`` every ``poll_interval`` until what it gives is no longer ``running`` (returned), or until
    ``deadline`` (a DEADLINE error). A failure that a later poll may not meet is polled through."""
    started = time.monotonic()
    last_failure: AdapterError | None = None
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(poll_interval, remaining))
        polled = poll()
        if on_poll is not None:
            on_poll(polled)
        if running(polled):
            last_failure = None
            continue
        error = getattr(polled, "error", None)
        if error is not None and _passing(error):
            last_failure = error
            continue
        return polled
    return _deadline_error(token, time.monotonic() - started, last_failure)


def _passing(error: AdapterError) -> bool:
    """A poll failure that a later poll may not meet: the adapter restarting, a proxy in front of it busy."""
    return error.kind in (ErrorKind.CONNECTION, ErrorKind.TIMEOUT) or (
        error.kind == ErrorKind.HTTP and error.status_code in _RETRIED_POLL_STATUSES
    )


def _deadline_error(token: str, polled_for: float, last_failure: AdapterError | None) -> AdapterError:
    shown = f"{polled_for:.1f}" if polled_for < 10 else f"{polled_for:.0f}"
    reason = f"not finished within {shown} s of polling (token {token})"
    if last_failure is not None:
        reason += f"; the last poll failed: {last_failure.reason}"
    return AdapterError(ErrorKind.DEADLINE, _one_line(reason))


def _async_validate_missing(answer: _Answer) -> bool:
    if answer.status_code in _ASYNC_VALIDATE_MISSING_STATUSES:
        return True
    return answer.status_code == 500 and bool(_NOT_IMPLEMENTED_RE.search(answer.text))


def _validation_reply(result: dict) -> ValidationReply:
    errors = tuple((result.get("error") or {}).get("errors") or ())
    return ValidationReply(bool(result["valid"]), errors=errors)


def _reverse_reply(answer: _Answer, token: str | None) -> ReverseReply:
    try:
        status = _checked(answer.json(), "ReverseProvisioningStatus")
    except _Malformed as exc:
        return ReverseReply("failed", token=token, error=answer.malformed(str(exc)))
    updates = status["updates"]
    logs = tuple(status.get("logs") or ())
    if status["status"] == "COMPLETED":
        return ReverseReply("completed", updates=updates, logs=logs, token=token)
    if status["status"] == "RUNNING":
        if token is None:
            error = answer.malformed("status RUNNING in a 200 answer, which gives no token to poll")
            return ReverseReply("failed", updates=updates, logs=logs, error=error)
        return ReverseReply("running", updates=updates, logs=logs, token=token)
    error = AdapterError(ErrorKind.FAILED, _failure_reason("", logs), 200, body=_stored_body(answer.body))
    return ReverseReply("failed", updates=updates, logs=logs, token=token, error=error)


def _token(answer: _Answer) -> str | AdapterError:
    """The token of a 202: a JSON string as the spec says, or the bare token in ``text/plain`` as the Python
    scaffold sends a ``str`` answer."""
    is_json = "json" in answer.content_type.lower()
    text = answer.text.strip()
    try:
        token = json.loads(text) if text else ""
    except (ValueError, RecursionError):
        token = text  # a bare token, whatever the content type claims
    if isinstance(token, dict | list) or (is_json and not isinstance(token, str)):
        return answer.malformed(f"the 202 answer is {type_name(token)}, expected the token as a string")
    if not isinstance(token, str):
        token = text  # a bare text token that happens to read as JSON (digits, say)
    token = token.strip()
    if not token:
        return answer.malformed("the 202 answer holds no token")
    if len(token) > MAX_TOKEN_CHARS or any(character < " " for character in token):
        return answer.malformed(f"the 202 answer is not a token: {show(token)}")
    return token


def _error_fields(answer: _Answer) -> dict:
    """What an error answer says, as :class:`AdapterError` fields: a ``RequestValidationError`` or ``SystemError``
    (with nulls or without), FastAPI's ``{"detail": …}``, or any text. An error answer is read as leniently as it
    comes: the call failed either way, and whatever the adapter wrote is what the user needs to see."""
    said: dict[str, Any] = {"status_code": answer.status_code, "body": _stored_body(answer.body)}
    try:
        document = json.loads(answer.body)
    except (ValueError, RecursionError):
        return said
    if not isinstance(document, dict):
        return said
    errors = _strings(document.get("errors"))
    if isinstance(document.get("error"), str):
        errors = [*errors, document["error"]]
    errors += _detail(document.get("detail"))
    said["errors"] = tuple(errors)
    if isinstance(document.get("userMessage"), str):
        said["user_message"] = document["userMessage"]
    if document.get("input") is not None:
        said["input"] = document["input"] if isinstance(document["input"], str) else json.dumps(document["input"])
    if isinstance(document.get("inputErrorField"), str):
        said["input_error_field"] = document["inputErrorField"]
    more_info = document.get("moreInfo")
    if isinstance(more_info, dict):
        said["problems"] = tuple(_strings(more_info.get("problems")))
        said["solutions"] = tuple(_strings(more_info.get("solutions")))
    return said


def _detail(detail: Any) -> list[str]:
    """FastAPI's own answers (404, 405, and 422 for a body its models refuse): ``{"detail": "Not Found"}`` or
    ``{"detail": [{"loc": ["body", "catalogInfo"], "msg": "Field required"}, …]}``."""
    if isinstance(detail, str):
        return [detail]
    if not isinstance(detail, list):
        return []
    found = []
    for item in detail:
        if isinstance(item, dict) and isinstance(item.get("msg"), str):
            where = ".".join(str(part) for part in item.get("loc") or () if isinstance(part, str | int))
            found.append(f"{where}: {item['msg']}" if where else item["msg"])
        elif isinstance(item, str):
            found.append(item)
    return found


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, str) else json.dumps(item) for item in value if item is not None]


def _failure_reason(result: str, logs: tuple[dict, ...]) -> str:
    """Why the adapter said FAILED: its result, else its ERROR logs, else any logs."""
    if result.strip():
        return _one_line(result)
    messages = [log["message"] for log in logs if log.get("level") == "ERROR"] or [log["message"] for log in logs]
    if messages:
        return _one_line("; ".join(messages))
    return "the adapter said FAILED and gave no reason"


def _too_large(call: str, status_code: int) -> AdapterError:
    return AdapterError(
        ErrorKind.MALFORMED,
        f"malformed answer from {call}: larger than {MAX_ANSWER_BYTES // 1_048_576} MiB",
        status_code=status_code,
    )


def _stored_body(body: bytes) -> str:
    return body[:MAX_STORED_BODY_BYTES].decode("utf-8", errors="replace")


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"
