"""Background work of the catalog: the refresh loop's beat tick and the removal of expired orphans."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from catalog import services
from catalog.processing import (
    BULK_LOAD_ENTITIES,
    ProcessCounts,
    claim_due_locations,
    locations_process,
    orphans_delete_expired,
    statistics_refresh,
)
from catalog.readers import ReadSession

logger = logging.getLogger(__name__)


def refresh_due(*, time_budget: float, fetch_max_age: float = 0.0) -> ProcessCounts:
    """Claim due locations in batches (``FOR UPDATE SKIP LOCKED``) and process them until none is due or the
    time budget is spent. Several workers may run this at once: no location is claimed twice."""
    deadline = time.monotonic() + time_budget
    counts = ProcessCounts()
    with ReadSession(fetch_max_age=fetch_max_age) as session:
        while time.monotonic() < deadline:
            batch = claim_due_locations(limit=settings.CATALOG_BATCH_SIZE)
            if not batch:
                break
            counts += locations_process(batch, session=session)
    if counts.added >= BULK_LOAD_ENTITIES:
        statistics_refresh()
    return counts


@shared_task(ignore_result=True)
def refresh_due_locations() -> dict:
    """The loop's tick: one message per tick, not per location (the embedded broker lists its folder on every
    poll). A tick works for at most a few ticks' time; what is left stays due for the next one."""
    counts = refresh_due(time_budget=settings.CATALOG_TICK_SECONDS * 5)
    if counts.locations:
        logger.info("catalog refresh", extra=counts.as_dict())
    return counts.as_dict()


@shared_task(ignore_result=True)
def delete_expired_orphans() -> int:
    return orphans_delete_expired()


@shared_task(ignore_result=True)
def refresh_requested_location(refresh_id: int) -> None:
    """A person's Refresh of a remote location (queued by ``location_refresh_request``)."""
    services.refresh_request_run(refresh_id=refresh_id)


@shared_task(ignore_result=True)
def purge_refresh_requests(max_age_hours: int = 24) -> int:
    return services.refresh_requests_purge(older_than=timedelta(hours=max_age_hours))
