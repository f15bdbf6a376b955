"""Celery beat's scheduler, extended to record beat's own liveness between ticks."""

from __future__ import annotations

import logging
import os
import socket
import time

from celery.beat import PersistentScheduler
from django.conf import settings
from django.utils import timezone

from core.heartbeat import beat_safely

logger = logging.getLogger(__name__)


class LivenessScheduler(PersistentScheduler):
    def setup_schedule(self):
        super().setup_schedule()
        self._liveness_name = f"beat@{socket.gethostname()}"
        self._liveness_started_at = timezone.now()
        self._liveness_due = 0.0

    def tick(self, *args, **kwargs):
        interval = settings.HEARTBEAT_INTERVAL_SECONDS
        if time.monotonic() >= self._liveness_due:
            from core.choices import ProcessRole

            beat_safely(ProcessRole.BEAT, self._liveness_name, self._liveness_started_at)
            self._liveness_due = time.monotonic() + interval
        return min(super().tick(*args, **kwargs), interval)

    def close(self):
        from django.db import connection

        from core.choices import ProcessRole
        from core.services import heartbeat_remove

        try:
            heartbeat_remove(role=ProcessRole.BEAT, hostname=self._liveness_name, pid=os.getpid())
        except Exception:  # shutting down: nothing to do about a database that is gone
            logger.warning("could not remove the beat heartbeat", exc_info=True)
        finally:
            connection.close()
        super().close()
