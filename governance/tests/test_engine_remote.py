"""The remote engine against a local HTTP server: an allow-listed URL, the resource sent with its context, the
answer read as pass or fail, and every other answer (a timeout, an error status, a redirect, something that is
not the expected JSON, too much of it, a host off the list) an ERROR with the reason, never a PASS."""

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core import yaml as core_yaml
from core.problems import Severity
from governance.engines import Outcome
from governance.engines.remote import RemoteEngine

WITBOOST = Path(__file__).resolve().parents[2] / "tests" / "data" / "witboost"
engine = RemoteEngine()
CONTEXT = {"id": "urn:dmb:dp:my_domain:my_data_product:1", "kind": "dataproduct", "environment": "development"}

ANSWERS = {
    "/pass": (200, {"satisfiesPolicy": True, "details": "fine"}),
    "/fail": (
        200,
        {
            "satisfiesPolicy": False,
            "errors": ["no owner", {"message": "no schema", "path": "components[0].dataContract.schema"}],
        },
    ),
    "/fail-without-errors": (200, {"satisfiesPolicy": False, "details": {"reason": "too old"}}),
    "/error": (500, {"satisfiesPolicy": True}),
    "/garbage": (200, "this is not JSON"),
    "/no-verdict": (200, {"details": "I forgot"}),
    "/string-verdict": (200, {"satisfiesPolicy": "yes"}),
}


class PolicyService(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, self.headers["Host"], body))
        if self.path == "/slow":
            time.sleep(3)
            self._answer(200, {"satisfiesPolicy": True})
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/pass")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":
            self._answer(200, {"satisfiesPolicy": True, "details": "x" * 2_000_000})
        else:
            self._answer(*ANSWERS[self.path])

    def _answer(self, status, document):
        data = document.encode() if isinstance(document, str) else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the engine hangs up on /big, as it should
            self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    service = ThreadingHTTPServer(("127.0.0.1", 0), PolicyService)
    service.daemon_threads = True
    service.block_on_close = False
    service.received = []
    thread = threading.Thread(target=service.serve_forever, daemon=True)
    thread.start()
    yield service
    service.shutdown()
    service.server_close()


@pytest.fixture
def url(server, settings):
    server.received.clear()
    port = server.server_address[1]
    settings.GOVERNANCE_REMOTE_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    settings.GOVERNANCE_REMOTE_TIMEOUT_SECONDS = 1
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def descriptor():
    return core_yaml.load_file(WITBOOST / "dps-example.yaml")


def test_a_service_that_says_yes_is_a_pass_and_gets_the_resource(server, url, descriptor):
    previous = {"id": CONTEXT["id"], "version": "0.9.0"}

    result = engine.evaluate(f"{url}/pass\n", descriptor, previous, context=CONTEXT)

    assert result.outcome == Outcome.PASS
    assert result.findings == ()
    [(path, host, body)] = server.received
    assert (path, host) == ("/pass", url.removeprefix("http://"))
    assert body == {"resource": {**CONTEXT, "descriptor": descriptor}, "previous": previous}


def test_a_service_that_says_no_is_a_fail_with_its_errors(url, descriptor):
    result = engine.evaluate(f"{url}/fail", descriptor, context=CONTEXT)

    assert result.outcome == Outcome.FAIL
    assert [(f.path, f.message, f.severity) for f in result.findings] == [
        ("", "no owner", Severity.ERROR),
        ("components[0].dataContract.schema", "no schema", Severity.ERROR),
    ]


def test_a_no_without_errors_is_still_a_fail(url, descriptor):
    result = engine.evaluate(f"{url}/fail-without-errors", descriptor, context=CONTEXT)

    assert result.outcome == Outcome.FAIL
    assert result.messages == [': 127.0.0.1 says the resource does not satisfy the policy: {"reason": "too old"}']


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/slow", "127.0.0.1 did not answer within 1 s"),
        ("/error", "127.0.0.1 answered HTTP 500"),
        ("/garbage", "127.0.0.1 answered something that is not JSON"),
        ("/no-verdict", "127.0.0.1 answered without satisfiesPolicy (true or false)"),
        ("/string-verdict", "127.0.0.1 answered without satisfiesPolicy (true or false)"),
        ("/redirect", "127.0.0.1 answered with a redirect (HTTP 302 to /pass), which is not followed"),
        ("/big", "127.0.0.1 answered more than 1 MiB"),
    ],
    ids=["timeout", "500", "malformed JSON", "no satisfiesPolicy", "not a boolean", "redirect", "too large"],
)
def test_every_other_answer_is_an_error_with_the_reason(server, url, descriptor, path, reason):
    result = engine.evaluate(f"{url}{path}", descriptor, context=CONTEXT)

    assert result.outcome == Outcome.ERROR
    assert result.messages == [f": {reason}"]
    assert [received[0] for received in server.received] == [path]  # a redirect is not followed


def test_a_host_taken_off_the_list_is_an_error_and_not_called(server, url, settings, descriptor):
    settings.GOVERNANCE_REMOTE_ALLOWED_HOSTS = ["policies.example.com"]

    result = engine.evaluate(f"{url}/pass", descriptor, context=CONTEXT)

    assert result.outcome == Outcome.ERROR
    assert result.messages == [f": the host {url.removeprefix('http://')} is not on GOVERNANCE_REMOTE_ALLOWED_HOSTS"]
    assert server.received == []


def test_a_service_that_is_down_is_an_error(settings, descriptor):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.GOVERNANCE_REMOTE_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]

    result = engine.evaluate(f"http://127.0.0.1:{port}/pass", descriptor, context=CONTEXT)

    assert result.outcome == Outcome.ERROR
    assert result.messages[0].startswith(": 127.0.0.1 could not be reached")


def test_the_host_is_resolved_once_and_that_address_is_called(server, url, settings, monkeypatch, descriptor):
    port = server.server_address[1]
    settings.GOVERNANCE_REMOTE_ALLOWED_HOSTS = [f"policies.test:{port}"]
    getaddrinfo = socket.getaddrinfo
    lookups = []

    def resolve(host, *args, **kwargs):
        if host == "policies.test":
            lookups.append(host)
            return getaddrinfo("127.0.0.1", *args, **kwargs)
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    items = [(descriptor, None, CONTEXT)] * 3

    results = engine.evaluate_many(f"http://policies.test:{port}/pass", items)

    assert [result.outcome for result in results] == [Outcome.PASS] * 3
    assert lookups == ["policies.test"]
    assert [host for _path, host, _body in server.received] == [f"policies.test:{port}"] * 3


def test_a_resolver_that_does_not_answer_is_an_error_within_the_time_limit(settings, monkeypatch, descriptor):
    settings.GOVERNANCE_REMOTE_ALLOWED_HOSTS = ["policies.test"]
    settings.GOVERNANCE_REMOTE_TIMEOUT_SECONDS = 1
    released = threading.Event()

    def stalled(*args, **kwargs):
        released.wait(10)
        raise OSError("released")

    monkeypatch.setattr(socket, "getaddrinfo", stalled)
    started = time.monotonic()
    try:
        result = engine.evaluate("http://policies.test/check", descriptor, context=CONTEXT)
    finally:
        released.set()

    assert time.monotonic() - started < 5
    assert result.outcome == Outcome.ERROR
    assert result.messages == [": policies.test could not be resolved: no answer within 1 s"]


def test_without_a_context_the_resource_names_itself(server, url, descriptor):
    component = {"dataProduct": descriptor, "component": descriptor["components"][2]}

    engine.evaluate_many(f"{url}/pass", [(descriptor, None, None), (component, None, None)])

    assert [body["resource"] | {"descriptor": None} for _path, _host, body in server.received] == [
        {**CONTEXT, "descriptor": None},
        {
            "id": "urn:dmb:cmp:my_domain:my_data_product:1:my_spark_workload",
            "kind": "workload",
            "environment": "development",
            "descriptor": None,
        },
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "https://policies.example.com/check",
            "the host policies.example.com is not on GOVERNANCE_REMOTE_ALLOWED_HOSTS",
        ),
        ("http://127.0.0.1/check", "the host 127.0.0.1 is not on GOVERNANCE_REMOTE_ALLOWED_HOSTS"),
        ("ftp://127.0.0.1/check", "the URL must start with http:// or https://"),
        ("http://127.0.0.1:1/a\nhttp://127.0.0.1:1/b", "the body is one line"),
        ("http://user:secret@127.0.0.1:1/a", "the URL must not hold credentials"),
        ("http://127.0.0.1:99999/a", "is not a valid URL"),
        ("", "the body is empty"),
    ],
)
def test_a_url_off_the_list_or_not_http_is_refused_naming_why(url, body, message):
    problems = engine.check(body)

    assert [problem.path for problem in problems] == ["body"]
    assert message in problems[0].message


def test_an_allowed_url_may_be_saved(url, settings):
    settings.GOVERNANCE_REMOTE_ALLOWED_HOSTS += ["policies.example.com"]

    assert engine.check(f"  {url}/pass  \n") == []
    assert engine.check("https://POLICIES.example.com/v1/check?strict=1") == []
    assert engine.check(None)[0].message == "the body must be text, not NoneType"
