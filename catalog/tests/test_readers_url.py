"""Tests for the url reader against a real HTTP server on 127.0.0.1 (an ephemeral port, requests counted)."""

import hashlib
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog.readers import ReadError, ReadSession, TargetNotAllowed, TargetNotFound, check_target_allowed
from catalog.readers.url_reader import read_url
from catalog.services import location_register

Route = Callable[[BaseHTTPRequestHandler], None]


class Server:
    """A ThreadingHTTPServer whose paths answer through ``routes``; ``requests`` lists (path, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                try:
                    if route is None:
                        answer(self, 404, b"no such page")
                    else:
                        route(self)
                except OSError:  # the reader hung up, as it should
                    pass

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def answer(handler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str) -> Route:
    return lambda handler: answer(handler, 302, headers={"Location": location})


@pytest.fixture
def server():
    server = Server()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def url_settings(settings):
    settings.CATALOG_URL_ALLOWED_HOSTS = []
    settings.CATALOG_URL_MAX_BYTES = 4096
    settings.CATALOG_URL_TIMEOUT_SECONDS = 1
    return settings


def read(target, **options):
    with ReadSession() as session:
        return session.read("url", target, **options)


def test_a_url_without_etag_is_fingerprinted_by_its_content_and_unchanged_when_equal(server):
    server.routes["/catalog-info.yaml"] = lambda handler: answer(handler, 200, b"kind: System\n")

    first = read(server.url("/catalog-info.yaml"))
    again = read(server.url("/catalog-info.yaml"), previous=first.fingerprint)

    assert (first.content, first.unchanged, first.revision) == (b"kind: System\n", False, "")
    assert first.fingerprint == "sha256:" + hashlib.sha256(b"kind: System\n").hexdigest()
    assert (again.content, again.unchanged, again.fingerprint) == (None, True, first.fingerprint)
    assert server.requests[0][1].get("Accept-Encoding") == "identity"


def test_an_etag_is_sent_back_and_304_means_unchanged(server):
    def page(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            answer(handler, 304, headers={"ETag": '"v1"'})
        else:
            answer(handler, 200, b"kind: System\n", {"ETag": '"v1"'})

    server.routes["/a.yaml"] = page

    first = read(server.url("/a.yaml"))
    again = read(server.url("/a.yaml"), previous=first.fingerprint)

    assert (first.content, first.fingerprint) == (b"kind: System\n", 'etag:"v1"')
    assert (again.content, again.unchanged, again.fingerprint) == (None, True, 'etag:"v1"')
    assert [headers.get("If-None-Match") for _, headers in server.requests] == [None, '"v1"']


def test_a_new_etag_returns_the_new_content(server):
    server.routes["/a.yaml"] = lambda handler: answer(handler, 200, b"kind: System # v2\n", {"ETag": 'W/"v2"'})

    result = read(server.url("/a.yaml"), previous='etag:"v1"')

    assert (result.content, result.fingerprint, result.unchanged) == (b"kind: System # v2\n", 'etag:W/"v2"', False)


def test_a_304_without_a_conditional_request_is_an_error(server):
    server.routes["/a.yaml"] = lambda handler: answer(handler, 304)
    with pytest.raises(ReadError, match="HTTP 304"):
        read(server.url("/a.yaml"), previous="sha256:abc")


@pytest.mark.parametrize("status", [404, 410])
def test_a_missing_page_raises_target_not_found(server, status):
    server.routes["/gone.yaml"] = lambda handler: answer(handler, status)
    with pytest.raises(TargetNotFound, match=f"HTTP {status}"):
        read(server.url("/gone.yaml"))


@pytest.mark.parametrize("status", [500, 403, 401, 300])
def test_other_statuses_raise_a_read_error_naming_the_status(server, status):
    server.routes["/a.yaml"] = lambda handler: answer(handler, status)
    with pytest.raises(ReadError, match=f"HTTP {status}") as raised:
        read(server.url("/a.yaml"))
    assert not isinstance(raised.value, TargetNotFound)


def test_a_host_off_the_allow_list_is_refused_before_any_request(server, settings):
    server.routes["/a.yaml"] = lambda handler: answer(handler, 200, b"kind: System\n")

    with pytest.raises(TargetNotAllowed, match=r"host '127\.0\.0\.1' is not in CATALOG_URL_ALLOWED_HOSTS"):
        check_target_allowed("url", server.url("/a.yaml"), is_staff=False)
    assert server.requests == []

    settings.CATALOG_URL_ALLOWED_HOSTS = ["127.0.0.1"]  # http and https on their default ports only
    with pytest.raises(TargetNotAllowed, match=rf"http://127\.0\.0\.1:{server.port} is not allowed"):
        check_target_allowed("url", server.url("/a.yaml"), is_staff=False)

    settings.CATALOG_URL_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    check_target_allowed("url", server.url("/a.yaml"), is_staff=False)
    assert read(server.url("/a.yaml")).content == b"kind: System\n"


def test_a_redirect_to_another_host_is_refused_even_for_a_staff_location(server):
    server.routes["/a.yaml"] = redirect(server.url("/b.yaml", host="localhost"))
    server.routes["/b.yaml"] = lambda handler: answer(handler, 200, b"kind: System\n")
    check_target_allowed("url", server.url("/a.yaml"), is_staff=True)

    with pytest.raises(TargetNotAllowed, match=r"refused; host 'localhost' is not in CATALOG_URL_ALLOWED_HOSTS"):
        read(server.url("/a.yaml"))
    assert server.paths() == ["/a.yaml"]


def test_a_redirect_to_an_allowed_host_or_back_to_the_registered_one_is_followed(server, settings):
    settings.CATALOG_URL_ALLOWED_HOSTS = [f".localhost:{server.port}"]
    server.routes["/a.yaml"] = redirect(server.url("/b.yaml", host="localhost"))
    server.routes["/b.yaml"] = redirect(server.url("/c.yaml"))
    server.routes["/c.yaml"] = redirect("/d.yaml")
    server.routes["/d.yaml"] = lambda handler: answer(handler, 200, b"kind: System\n")

    assert read(server.url("/a.yaml")).content == b"kind: System\n"
    assert server.paths() == ["/a.yaml", "/b.yaml", "/c.yaml", "/d.yaml"]


def test_at_most_five_redirects_are_followed(server):
    for n in range(7):
        server.routes[f"/{n}"] = redirect(f"/{n + 1}")
    server.routes["/5"] = lambda handler: answer(handler, 200, b"five\n")

    assert read(server.url("/0")).content == b"five\n"
    assert server.paths() == ["/0", "/1", "/2", "/3", "/4", "/5"]


def test_a_sixth_redirect_is_refused(server):
    for n in range(8):
        server.routes[f"/{n}"] = redirect(f"/{n + 1}")

    with pytest.raises(ReadError, match="more than 5 redirects"):
        read(server.url("/0"))
    assert server.paths() == ["/0", "/1", "/2", "/3", "/4", "/5"]


def test_a_redirect_to_a_non_http_url_is_refused(server):
    server.routes["/a.yaml"] = redirect("file:///etc/passwd")
    with pytest.raises(TargetNotAllowed, match="only http"):
        read(server.url("/a.yaml"))


def test_a_body_declared_over_the_size_limit_is_refused_before_reading_it(server):
    server.routes["/big.yaml"] = lambda handler: answer(handler, 200, b"x" * 5000)
    with pytest.raises(ReadError, match="5000 bytes, over the limit of 4096 bytes"):
        read(server.url("/big.yaml"))


def test_an_endless_body_without_length_is_cut_off_at_the_size_limit(server):
    written = []

    def endless(handler):
        handler.send_response(200)
        handler.end_headers()  # HTTP/1.0, no Content-Length: the body ends when the server closes
        for _ in range(100_000):
            handler.wfile.write(b"x" * 1024)
            written.append(1024)

    server.routes["/endless.yaml"] = endless

    started = time.monotonic()
    with pytest.raises(ReadError, match="is over the limit of 4096 bytes"):
        read(server.url("/endless.yaml"))
    assert time.monotonic() - started < 1


def test_a_trickling_response_is_cut_off_at_the_deadline(server):
    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(1000):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.05)

    server.routes["/slow.yaml"] = trickle

    started = time.monotonic()
    with pytest.raises(ReadError, match="no complete answer within 1 s"):
        read(server.url("/slow.yaml"))
    assert 0.9 < time.monotonic() - started < 1.5


def test_a_server_trickling_its_headers_is_cut_off_at_the_deadline(server):
    def trickle_headers(handler):
        handler.wfile.write(b"HTTP/1.0 200 OK\r\n")
        for n in range(1000):
            handler.wfile.write(f"X-Slow-{n}: x\r\n".encode())
            handler.wfile.flush()
            time.sleep(0.05)

    server.routes["/slow-headers.yaml"] = trickle_headers

    started = time.monotonic()
    with pytest.raises(ReadError, match="no complete answer within 1 s"):
        read(server.url("/slow-headers.yaml"))
    assert time.monotonic() - started < 1.5


def test_a_server_that_never_answers_is_given_up_on_at_the_deadline(server):
    server.routes["/silent.yaml"] = lambda handler: time.sleep(3)

    started = time.monotonic()
    with pytest.raises(ReadError, match="no complete answer within 1 s"):
        read(server.url("/silent.yaml"))
    assert time.monotonic() - started < 1.5


def test_a_refused_connection_is_a_read_error(server):
    port = server.port
    server.close()
    with pytest.raises(ReadError, match="cannot read") as raised:
        read(f"http://127.0.0.1:{port}/a.yaml")
    assert "Connection refused" in str(raised.value)


# --- redirects: scheme, host and port ----------------------------------------------------------------------


class FakeResponse:
    """A redirect or a small answer, for hops a local server cannot make (https)."""

    def __init__(self, status: int, location: str | None = None) -> None:
        self.status_code = status
        self.is_redirect = location is not None
        self.headers = {"Location": location} if location else {}

    def close(self) -> None:
        pass


class FakeSession:
    """Answers each URL from ``answers``; ``requested`` lists what was asked for."""

    def __init__(self, answers: dict[str, FakeResponse]) -> None:
        self.answers = answers
        self.requested: list[str] = []

    def get(self, url, **options):
        self.requested.append(url)
        return self.answers[url]


def test_a_redirect_to_another_port_of_an_allowed_host_is_refused(server, settings):
    other = Server()
    try:
        other.routes["/b.yaml"] = lambda handler: answer(handler, 200, b"kind: System\n")
        settings.CATALOG_URL_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
        server.routes["/a.yaml"] = redirect(other.url("/b.yaml"))

        with pytest.raises(TargetNotAllowed, match=f"redirect to http://127.0.0.1:{other.port}/b.yaml refused"):
            read(server.url("/a.yaml"))
        assert other.requests == []
    finally:
        other.close()


def test_a_redirect_to_a_port_named_on_the_allow_list_is_followed(server, settings):
    other = Server()
    try:
        other.routes["/b.yaml"] = lambda handler: answer(handler, 200, b"kind: System\n")
        settings.CATALOG_URL_ALLOWED_HOSTS = [f"127.0.0.1:{other.port}"]
        server.routes["/a.yaml"] = redirect(other.url("/b.yaml"))

        assert read(server.url("/a.yaml")).content == b"kind: System\n"
    finally:
        other.close()


@pytest.mark.parametrize(
    ("location", "refusal"),
    [
        ("http://allowed-host:6379/", r"from https to http is not followed"),
        ("https://allowed-host:6379/", r"https://allowed-host:6379 is not allowed by CATALOG_URL_ALLOWED_HOSTS"),
        ("http://allowed-host/b.yaml", r"from https to http is not followed"),
        ("gopher://allowed-host:70/", r"only http\(s\) URLs are followed"),
    ],
)
def test_a_redirect_from_an_allowed_https_url_must_keep_scheme_and_port(settings, location, refusal):
    settings.CATALOG_URL_ALLOWED_HOSTS = ["allowed-host"]
    session = FakeSession({"https://allowed-host/a.yaml": FakeResponse(302, location)})

    with pytest.raises(TargetNotAllowed, match=refusal):
        read_url(session, "https://allowed-host/a.yaml")
    assert session.requested == ["https://allowed-host/a.yaml"]


def test_a_redirect_may_upgrade_the_registered_url_to_https_but_not_change_its_port(settings):
    session = FakeSession(
        {
            "http://docs.internal/a.yaml": FakeResponse(301, "https://docs.internal/a.yaml"),
            "https://docs.internal/a.yaml": FakeResponse(302, "https://docs.internal:8443/a.yaml"),
        }
    )

    with pytest.raises(TargetNotAllowed, match=r"host 'docs\.internal' is not in CATALOG_URL_ALLOWED_HOSTS"):
        read_url(session, "http://docs.internal/a.yaml")
    assert session.requested == ["http://docs.internal/a.yaml", "https://docs.internal/a.yaml"]


@pytest.mark.django_db
def test_a_refused_redirect_is_the_error_of_the_location(server, platform_user):
    server.routes["/a.yaml"] = redirect("http://127.0.0.1:6379/")

    location = location_register(type="url", target=server.url("/a.yaml"), actor=platform_user).location

    location.refresh_from_db()
    assert any("redirect to http://127.0.0.1:6379/ refused" in error for error in location.errors)
