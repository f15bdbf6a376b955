"""Background work of governance: the runtime schedule (beat, every ``GOVERNANCE_RUNTIME_SECONDS``) that
re-evaluates the ``runtime`` policies and records what they found (nothing blocks)."""

import logging

from celery import shared_task

from governance import services

logger = logging.getLogger(__name__)


@shared_task
def runtime_evaluate() -> int:
    recorded = services.runtime_evaluate()
    logger.info("governance runtime evaluation: %d evaluations recorded", recorded)
    return recorded
