"""Structured log lines on stdout: ``key=value`` pairs (logfmt) or JSON, each with request id and user."""

import json
import logging
import os

from django.utils.functional import SimpleLazyObject, empty

from core.context import current_request, current_request_id


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        record.user = _username(current_request.get())
        return True


def _username(request) -> str:
    user = getattr(request, "user", None)
    # Never trigger the lazy user lookup from a log call: it would query the database mid-logging.
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return "-"
    return user.get_username() or "anonymous"


class StructuredFormatter(logging.Formatter):
    """logfmt by default; JSON lines when MESHFORGE_LOG_FORMAT=json."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.as_json = os.environ.get("MESHFORGE_LOG_FORMAT", "").lower() == "json"

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "user": getattr(record, "user", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if self.as_json:
            return json.dumps(fields, default=str)
        return " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())


def _logfmt_value(value) -> str:
    text = str(value)
    if text and not any(char in text for char in ' "=\n'):
        return text
    return json.dumps(text)
