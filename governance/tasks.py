"""Background work of governance: the runtime schedule (beat, every ``GOVERNANCE_RUNTIME_SECONDS``) that
re-evaluates the ``runtime`` policies and records what they found (nothing blocks), and the test bench runs too
large to answer in a request."""

import logging

from celery import shared_task
from django.db import connection

from governance import services

logger = logging.getLogger(__name__)
RUNTIME_LOCK = "governance.runtime_evaluate"


@shared_task
def runtime_evaluate() -> int:
    """One run at a time across workers: a run still going when beat sends the next makes that one a no-op."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [RUNTIME_LOCK])
        if not cursor.fetchone()[0]:
            logger.info("governance runtime evaluation: skipped, the previous run is still going")
            return 0
    try:
        recorded = services.runtime_evaluate()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [RUNTIME_LOCK])
    logger.info("governance runtime evaluation: %d evaluations recorded", recorded)
    return recorded


@shared_task(ignore_result=True)
def bench_run(run_id: int) -> None:
    """A queued test bench run (``governance.services.bench_queue``): the page polls its progress."""
    services.bench_run_execute(run_id=run_id)
