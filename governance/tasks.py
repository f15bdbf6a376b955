"""Background work of governance: the runtime schedule (beat, every ``GOVERNANCE_RUNTIME_SECONDS``) that
re-evaluates the ``runtime`` policies and records what they found (nothing blocks), and the test bench runs too
large to answer in a request."""

import logging

from celery import shared_task

from governance import services

logger = logging.getLogger(__name__)


@shared_task
def runtime_evaluate() -> int:
    recorded = services.runtime_evaluate()
    logger.info("governance runtime evaluation: %d evaluations recorded", recorded)
    return recorded


@shared_task(ignore_result=True)
def bench_run(run_id: int) -> None:
    """A queued test bench run (``governance.services.bench_queue``): the page polls its progress."""
    services.bench_run_execute(run_id=run_id)
