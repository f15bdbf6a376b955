"""The request being served, for log lines and audit events written deep inside services."""

from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")
current_request: ContextVar[object | None] = ContextVar("current_request", default=None)
