from datetime import timedelta

from celery import shared_task

from core.services import heartbeat_purge
from core.signin import signin_failures_purge


@shared_task
def purge_stale_heartbeats(max_age_hours: int = 24) -> int:
    """Forget processes that have not been heard of for a day (kept that long for post-mortems)."""
    return heartbeat_purge(older_than=timedelta(hours=max_age_hours))


@shared_task
def purge_signin_failures() -> int:
    """Forget failed sign-ins that have aged out of the throttle's window."""
    return signin_failures_purge()
