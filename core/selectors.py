"""Reads owned by core: API tokens, audit history and the health of the moving parts."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from core.choices import ProcessRole
from core.models import ApiToken, ProcessHeartbeat

OK = "ok"


def api_token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def heartbeat_list() -> QuerySet[ProcessHeartbeat]:
    return ProcessHeartbeat.objects.all()


def _ping_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_broker() -> str:
    from config.celery import app

    if settings.CELERY_EMBEDDED_BROKER:
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return f"error: broker folder {folder} is missing or not writable"
        return OK
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # any transport error means the broker is unusable; report it, don't raise
        return f"error: {type(exc).__name__}: {exc}"
    return OK


def system_health() -> dict[str, str]:
    """``database``, ``broker`` and ``worker``, each "ok" or a reason. A worker counts when its heartbeat is
    younger than HEARTBEAT_MAX_AGE_SECONDS, whenever it started: a worker outlives a restart of the database
    and keeps beating, while the row of a worker that died stops being refreshed and goes stale by itself."""
    parts = {"database": OK, "broker": _check_broker(), "worker": OK}
    try:
        _ping_database()
    except Exception as exc:  # the database being down is exactly what this reports
        parts["database"] = f"error: {type(exc).__name__}: {exc}".strip()
        parts["worker"] = "unknown: the database is unreachable"
        return parts
    fresh_after = timezone.now() - timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS)
    alive = ProcessHeartbeat.objects.filter(role=ProcessRole.WORKER, last_beat_at__gte=fresh_after).exists()
    if not alive:
        parts["worker"] = f"error: no worker heartbeat in the last {settings.HEARTBEAT_MAX_AGE_SECONDS} s"
    return parts
