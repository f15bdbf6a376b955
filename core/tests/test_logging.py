"""Structured log lines carry the request id and the user."""

import json
import logging

from core.logging import RequestContextFilter, StructuredFormatter


def _format(monkeypatch, *, as_json=False, **extra):
    monkeypatch.setenv("MESHFORGE_LOG_FORMAT", "json" if as_json else "text")
    record = logging.LogRecord("meshforge.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return StructuredFormatter().format(record)


def test_log_lines_are_logfmt_with_request_id_and_user(monkeypatch):
    line = _format(monkeypatch, request_id="abc123", user="alice")
    assert line.endswith('level=INFO logger=meshforge.test request_id=abc123 user=alice msg="hello world"')


def test_log_lines_can_be_json(monkeypatch):
    fields = json.loads(_format(monkeypatch, as_json=True, request_id="abc123", user="alice"))
    assert fields["msg"] == "hello world"
    assert (fields["request_id"], fields["user"]) == ("abc123", "alice")


def test_requests_log_with_their_id_and_user(client, alice, caplog):
    client.force_login(alice)
    seen = []

    class Spy(logging.Handler):
        def emit(self, record):
            RequestContextFilter().filter(record)
            seen.append((record.request_id, record.user))

    spy = Spy(level=logging.WARNING)
    logging.getLogger("django.request").addHandler(spy)
    try:
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-42")
    finally:
        logging.getLogger("django.request").removeHandler(spy)
    assert response["X-Request-ID"] == "req-42"
    assert ("req-42", "alice") in seen


def test_an_unsafe_incoming_request_id_is_replaced(client, alice):
    client.force_login(alice)
    response = client.get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32
