"""Background work of provisioning, on the ``provisioning`` queue: a deployment's checks, its run, and the sweeper
(beat) that resumes what a dead worker left. Thin tasks: a primary key in, a service call."""

import logging

from celery import shared_task

from provisioning import coordinator, services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deployment_validate(deployment_id: int) -> None:
    services.deployment_validate(deployment_id=deployment_id)


@shared_task(ignore_result=True)
def deployment_run(deployment_id: int) -> None:
    coordinator.deployment_run(deployment_id=deployment_id)


@shared_task(ignore_result=True)
def deployments_sweep() -> None:
    found = services.deployments_sweep()
    if any(found.values()):
        logger.info("provisioning sweep: %s", found)
