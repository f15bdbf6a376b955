"""A stand-alone tech adapter for tests: every Tech Adapter API 2.2 endpoint, answering each component as the flags in
its ``specific.adapter`` say, including the ways real Witboost adapters stray from the spec. Standard library only
(PyYAML for descriptors), run as ``python -m provisioning.testing.external_adapter --port 0``; its first line on
stdout is ``listening on http://127.0.0.1:<port>``.

Flags (``specific.adapter`` of the component a request names; all optional):

- ``mode``: what provision, unprovision and updateacl answer. ``sync`` (default): 200 COMPLETED with info and logs.
  ``async``: 202 and a token, RUNNING for ``polls`` polls (default 1) and until ``delay`` has passed, then COMPLETED.
  ``fail``: 200 FAILED with a result and an ERROR log (``async`` with ``"fail": true`` fails after polling).
  ``errors400``: 400 ``{"errors": [...]}`` alone. ``bad400``: 400 with a whole ``RequestValidationError`` and nulls.
  ``error500json``: 500 ``SystemError``. ``error500text``: 500 text ``Internal Server Error``. ``garbage``: 200 that
  is not JSON. ``badstatus``: 200 with ``status: DONE``. ``redirect``: 302. ``hang``: sleeps ``delay`` seconds (default
  60) before answering. ``never``: 202 and a token that stays RUNNING.
- ``delay``: seconds to sleep before a sync answer, or before an async operation is COMPLETED.
- ``tokenFormat``: ``text`` (default; a bare token in ``text/plain``, as the Python scaffold sends it) or ``json``.
- ``validateMode``: what ``/v1/validate`` and the async validation answer: ``ok`` (default), ``invalid``
  (``valid: false`` with errors), or one of the error modes above.

Requests with ``DATAPRODUCT_DESCRIPTOR`` are refused with 400 (valid: false on validate), as component adapters do.
Tokens live in memory: a restarted process answers 500 "Cannot find Provisioning Status" for them.
``/v2/validate`` answers 500 "Response not yet implemented" when started with ``--no-async-validate``.
Reverse provisioning needs ``catalogInfo`` (422 without, as FastAPI answers) and answers 200 ``{status, updates,
logs}``, or 202 and a token with ``params.mode: async``; ``params.updates`` are the updates returned; ``params.mode``
``fail`` answers FAILED, and an error mode above answers as it says.
``GET /calls`` gives the calls per operation and component, and the last refs sent to updateacl per component.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml

ERROR_MODES = ("errors400", "bad400", "error500json", "error500text", "garbage", "badstatus", "redirect", "hang")
COUNTED_OPERATIONS = ("provision", "unprovision", "updateacl")
STATUS_PATH_RE = re.compile(r"/v1/provision/(?P<token>[^/]+)/status")
VALIDATION_STATUS_PATH_RE = re.compile(r"/v2/validate/(?P<token>[^/]+)/status")
REVERSE_STATUS_PATH_RE = re.compile(r"/v1/reverse-provisioning/(?P<token>[^/]+)/status")


class Refused(Exception):
    """The request cannot be read: answered 400 ``{"errors": [...]}``, as the Python adapters do."""


class Task:
    """An operation answered 202: RUNNING until it has been polled ``polls`` times and ``ready_at`` has passed."""

    def __init__(self, final: dict, *, polls: int, delay: float, never: bool) -> None:
        self.final = final
        self.polls_left = polls
        self.ready_at = time.monotonic() + delay
        self.never = never

    def poll(self, running: dict) -> dict:
        if self.never or self.polls_left > 0 or time.monotonic() < self.ready_at:
            self.polls_left -= 1
            return running
        return self.final


class AdapterState:
    def __init__(self, *, async_validate: bool) -> None:
        self.async_validate = async_validate
        self.lock = threading.Lock()
        self.calls: dict[str, Counter] = {operation: Counter() for operation in COUNTED_OPERATIONS}
        self.refs: dict[str, list[str]] = {}
        self.tasks: dict[str, Task] = {}

    def count(self, operation: str, component_id: str) -> None:
        with self.lock:
            self.calls[operation][component_id] += 1

    def add_task(self, task: Task) -> str:
        token = str(uuid.uuid4())
        with self.lock:
            self.tasks[token] = task
        return token

    def poll(self, token: str, running: dict) -> dict | None:
        with self.lock:
            task = self.tasks.get(token)
            return None if task is None else task.poll(running)


class Handler(BaseHTTPRequestHandler):
    server: AdapterServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the adapters behind uvicorn offer
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait for an ACK between them

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the first stdout line is the only output the caller reads

    # --- routing ---

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/calls":
            return self.send_json(200, self.server.state_snapshot())
        if match := STATUS_PATH_RE.fullmatch(path):
            running = {"status": "RUNNING", "result": "", "info": None}  # nulls, as pydantic writes them
            return self.send_polled(match["token"], running)
        if match := VALIDATION_STATUS_PATH_RE.fullmatch(path):
            return self.send_polled(match["token"], {"status": "RUNNING", "info": None})
        if match := REVERSE_STATUS_PATH_RE.fullmatch(path):
            return self.send_polled(match["token"], {"status": "RUNNING", "updates": {}, "logs": None})
        if path in ROUTES:
            return self.send_json(405, {"detail": "Method Not Allowed"})
        return self.send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        route = ROUTES.get(path)
        if route is None:
            self.read_body()
            return self.send_json(405 if STATUS_PATH_RE.fullmatch(path) else 404, {"detail": "Not Found"})
        try:
            body = json.loads(self.read_body() or b"null")
        except ValueError:
            return self.send_json(400, {"errors": ["the request body is not JSON"]})
        if not isinstance(body, dict):
            return self.send_json(400, {"errors": ["the request body is not a JSON object"]})
        try:
            route(self, body)
        except Refused as exc:
            self.send_json(400, {"errors": [str(exc)]})

    # --- operations ---

    def provision(self, body: dict) -> None:
        self.operate("provision", body)

    def unprovision(self, body: dict) -> None:
        self.operate("unprovision", body)

    def operate(self, operation: str, body: dict) -> None:
        component_id, flags = component_of(body)
        self.server.state.count(operation, component_id)
        self.answer_operation(operation, component_id, flags)

    def update_acl(self, body: dict) -> None:
        info = body.get("provisionInfo")
        refs = body.get("refs")
        if not isinstance(info, dict) or not isinstance(info.get("request"), str) or not isinstance(refs, list):
            raise Refused("expected {refs: [...], provisionInfo: {request, result}}")
        component_id, flags = component_of({"descriptorKind": "COMPONENT_DESCRIPTOR", "descriptor": info["request"]})
        self.server.state.count("updateacl", component_id)
        with self.server.state.lock:
            self.server.state.refs[component_id] = [str(ref) for ref in refs]
        self.answer_operation("updateacl", component_id, flags)

    def answer_operation(self, operation: str, component_id: str, flags: dict) -> None:
        mode = flags.get("mode", "sync")
        delay = float(flags.get("delay", 0))
        failing = mode == "fail" or flags.get("fail") is True
        final = outcome(operation, component_id, failed=failing)
        if mode in ERROR_MODES:
            return self.send_error_mode(mode, delay)
        if mode in ("async", "never"):
            task = Task(final, polls=int(flags.get("polls", 1)), delay=delay, never=mode == "never")
            return self.send_token(self.server.state.add_task(task), flags)
        time.sleep(delay)
        self.send_json(200, final)

    def validate(self, body: dict) -> None:
        self.send_validation(body, run_async=False)

    def validate_async(self, body: dict) -> None:
        if not self.server.state.async_validate:
            return self.send_json(500, {"error": "Response not yet implemented"})
        self.send_validation(body, run_async=True)

    def send_validation(self, body: dict, *, run_async: bool) -> None:
        try:
            component_id, flags = component_of(body)
        except Refused as exc:
            result = {"valid": False, "error": {"errors": [str(exc)]}}
            component_id, flags = "", {}
        else:
            result = {"valid": True, "error": None}
        mode = flags.get("validateMode", "ok")
        if mode in ERROR_MODES:
            return self.send_error_mode(mode, float(flags.get("delay", 0)))
        if mode == "invalid":
            result = {"valid": False, "error": {"errors": [f"component {component_id} is refused on demand"]}}
        if not run_async:
            return self.send_json(200, result)
        final = {"status": "COMPLETED", "info": {"publicInfo": result}}
        task = Task(final, polls=int(flags.get("polls", 1)), delay=float(flags.get("delay", 0)), never=False)
        self.send_token(self.server.state.add_task(task), flags)

    def reverse_provision(self, body: dict) -> None:
        if not isinstance(body.get("catalogInfo"), dict):
            # FastAPI's answer when its model requires a field the request lacks (the Databricks adapter's model)
            detail = [{"type": "missing", "loc": ["body", "catalogInfo"], "msg": "Field required", "input": body}]
            return self.send_json(422, {"detail": detail})
        params = body.get("params") if isinstance(body.get("params"), dict) else {}
        if params.get("mode") in ERROR_MODES:
            return self.send_error_mode(params["mode"], float(params.get("delay", 0)))
        environment = body.get("environment", "")
        updates = params.get("updates")
        if not isinstance(updates, dict):
            updates = {"spec.mesh.description": f"Read back from {environment}"}
        if params.get("mode") == "fail":
            final = {"status": "FAILED", "updates": {}, "logs": [log("ERROR", "reverse provisioning failed on demand")]}
        else:
            final = {"status": "COMPLETED", "updates": updates, "logs": [log("INFO", "reverse provisioning done")]}
        if params.get("mode") == "async":
            task = Task(final, polls=int(params.get("polls", 1)), delay=float(params.get("delay", 0)), never=False)
            return self.send_token(self.server.state.add_task(task), params)
        self.send_json(200, final)

    # --- answers ---

    def send_polled(self, token: str, running: dict) -> None:
        answer = self.server.state.poll(token, running)
        if answer is None:
            # what the Databricks adapter answers for a token its in-memory store does not hold
            return self.send_json(500, {"error": f"Cannot find Provisioning Status for id '{token}'"})
        self.send_json(200, answer)

    def send_token(self, token: str, flags: dict) -> None:
        if flags.get("tokenFormat") == "json":
            return self.send_json(202, token)
        self.send_text(202, token)

    def send_error_mode(self, mode: str, delay: float) -> None:
        if mode == "hang":
            time.sleep(delay or 60)
            return self.send_json(200, outcome("provision", "", failed=False))
        time.sleep(delay)
        if mode == "errors400":
            return self.send_json(400, {"errors": ["the component is refused on demand"]})
        if mode == "bad400":
            return self.send_json(
                400,
                {
                    "errors": ["specific.database is missing"],
                    "userMessage": "The request is not valid for this adapter",
                    "input": None,
                    "inputErrorField": "specific.database",
                    "moreInfo": {"problems": ["specific.database is missing"], "solutions": ["Add a database"]},
                },
            )
        if mode == "error500json":
            return self.send_json(
                500,
                {
                    "error": "the target platform is unreachable",
                    "userMessage": "The platform did not answer",
                    "input": None,
                    "inputErrorField": None,
                    "moreInfo": {"problems": ["connection reset"], "solutions": ["Retry later"]},
                },
            )
        if mode == "error500text":
            return self.send_text(500, "Internal Server Error")
        if mode == "garbage":
            return self.send_bytes(200, b'{"status": "COMPLETED", "result": ', "application/json")
        if mode == "badstatus":
            return self.send_json(200, {"status": "DONE", "result": "finished"})
        # a redirect to this very adapter: a client that followed it would be sent wherever an adapter says
        host, port = self.server.server_address[:2]
        self.send_response(302)
        self.send_header("Location", f"http://{host}:{port}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_json(self, status: int, body: Any) -> None:
        self.send_bytes(status, json.dumps(body).encode(), "application/json")

    def send_text(self, status: int, text: str) -> None:
        self.send_bytes(status, text.encode(), "text/plain; charset=utf-8")

    def send_bytes(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


ROUTES = {
    "/v1/provision": Handler.provision,
    "/v1/unprovision": Handler.unprovision,
    "/v1/updateacl": Handler.update_acl,
    "/v1/validate": Handler.validate,
    "/v2/validate": Handler.validate_async,
    "/v1/reverse-provisioning": Handler.reverse_provision,
}


class AdapterServer(ThreadingHTTPServer):
    # a hanging answer must neither keep the process alive nor hold up its stop
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets connections when 20 components call at once
    block_on_close = False

    def __init__(self, address: tuple[str, int], *, async_validate: bool) -> None:
        super().__init__(address, Handler)
        self.state = AdapterState(async_validate=async_validate)

    def state_snapshot(self) -> dict:
        with self.state.lock:
            snapshot: dict[str, Any] = {operation: dict(counts) for operation, counts in self.state.calls.items()}
            snapshot["refs"] = dict(self.state.refs)
        return snapshot


def component_of(body: dict) -> tuple[str, dict]:
    """The id of the component a ``ProvisioningRequest`` names and its ``specific.adapter`` flags."""
    kind = body.get("descriptorKind")
    if kind != "COMPONENT_DESCRIPTOR":
        raise Refused(
            f"Expecting a COMPONENT_DESCRIPTOR but got a {kind} instead; please check with the platform team."
        )
    try:
        descriptor = yaml.safe_load(body.get("descriptor") or "")
    except yaml.YAMLError as exc:
        raise Refused(f"Unable to parse the descriptor: {exc}") from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("dataProduct"), dict):
        raise Refused("the descriptor has no dataProduct")
    component_id = descriptor.get("componentIdToProvision")
    for component in descriptor["dataProduct"].get("components") or ():
        if isinstance(component, dict) and component.get("id") == component_id:
            specific = component.get("specific") if isinstance(component.get("specific"), dict) else {}
            flags = specific.get("adapter")
            return str(component_id), flags if isinstance(flags, dict) else {}
    raise Refused(f"Component with ID {component_id} not found in descriptor")


def outcome(operation: str, component_id: str, *, failed: bool) -> dict:
    if failed:
        return {
            "status": "FAILED",
            "result": f"{operation} of {component_id} failed on demand",
            "info": None,
            "logs": [log("ERROR", f"{operation} of {component_id} failed on demand")],
        }
    return {
        "status": "COMPLETED",
        "result": f"{operation} of {component_id} done",
        "info": {
            "publicInfo": {"endpoint": {"type": "string", "label": "Endpoint", "value": f"external://{component_id}"}},
            "privateInfo": {"operation": operation},
        },
        "logs": [log("INFO", f"{operation} of {component_id} done")],
    }


def log(level: str, message: str) -> dict:
    return {"timestamp": datetime.now(UTC).isoformat(), "level": level, "message": message, "phase": None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--no-async-validate", action="store_true", help='answer /v2/validate with 500 "not yet implemented"'
    )
    options = parser.parse_args(argv)
    server = AdapterServer((options.host, options.port), async_validate=not options.no_async_validate)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
