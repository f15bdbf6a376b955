"""Background work of provisioning, on the ``provisioning`` queue: a deployment's checks, its run, and the sweeper
(beat) that resumes what a dead worker left. Thin tasks: a primary key in, a service call."""

import logging

from celery import shared_task

from provisioning import coordinator, services

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deployment_validate(self, deployment_id: int) -> None:
    try:
        services.deployment_validate(deployment_id=deployment_id)
    except services.AdaptersNotUp as exc:
        logger.info("deployment %s: built-in adapters not up yet (%s); checking again shortly", deployment_id, exc)
        raise self.retry(countdown=2) from exc


@shared_task(ignore_result=True)
def deployment_run(deployment_id: int) -> None:
    coordinator.deployment_run(deployment_id=deployment_id)


@shared_task(ignore_result=True)
def deployments_sweep() -> None:
    found = services.deployments_sweep()
    if any(found.values()):
        logger.info("provisioning sweep: %s", found)
