"""Worker liveness: a Celery worker bootstep that records a heartbeat on the worker's own timer.

Beat records its own liveness through ``core.celery_beat``; a dead beat and a dead worker are told apart.
"""

from __future__ import annotations

import logging
import os

from celery import bootsteps

logger = logging.getLogger(__name__)


def beat_safely(role: str, hostname: str, started_at) -> None:
    """Record a heartbeat; never raise (a database hiccup must not kill the timer)."""
    from django.conf import settings  # noqa: F401 - settings must be configured by now
    from django.db import connection

    from core.services import heartbeat_record

    try:
        heartbeat_record(role=role, hostname=hostname, pid=os.getpid(), started_at=started_at)
    except Exception:
        logger.exception("could not record the %s heartbeat", role)
    finally:
        # Close after each beat: the connection must never be inherited by forked pool processes.
        connection.close()


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None
        self.started_at = None

    def start(self, worker):
        from django.conf import settings
        from django.utils import timezone

        from core.choices import ProcessRole

        self.started_at = timezone.now()
        beat_safely(ProcessRole.WORKER, worker.hostname, self.started_at)
        self.tref = worker.timer.call_repeatedly(
            settings.HEARTBEAT_INTERVAL_SECONDS,
            beat_safely,
            (ProcessRole.WORKER, worker.hostname, self.started_at),
        )

    def stop(self, worker):
        from django.db import connection

        from core.choices import ProcessRole
        from core.services import heartbeat_remove

        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        try:
            heartbeat_remove(role=ProcessRole.WORKER, hostname=worker.hostname, pid=os.getpid())
        except Exception:
            logger.exception("could not remove the worker heartbeat")
        finally:
            connection.close()

    def shutdown(self, worker):
        self.stop(worker)
