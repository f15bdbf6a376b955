"""What the ``deploy`` and ``undeploy`` commands share: the acting user, and following a deployment that the worker
runs, printing each step as it changes, until it ends (or a time limit)."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from dataproducts.models import DataProductIdentity
from provisioning.choices import DeploymentStatus, TaskStatus
from provisioning.models import Deployment

POLL_SECONDS = 0.5


def active_user(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"--user: no active user {username!r}")
    return user


def product_identity(name: str) -> DataProductIdentity:
    identity = DataProductIdentity.objects.filter(entity_name=name).first()
    if identity is None:
        raise CommandError(f"name: no data product {name!r}")
    return identity


def follow(deployment: Deployment, *, write, timeout: float) -> Deployment:
    """Print the deployment's steps as they change until it ends; CommandError past ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    seen: dict[int, str] = {}
    status = None
    while True:
        deployment.refresh_from_db()
        if deployment.status != status:
            status = deployment.status
            write(f"{deployment.get_status_display()}")
        for task in deployment.tasks.order_by("layer", "pk"):
            if seen.get(task.pk) != task.status and task.status != TaskStatus.PENDING:
                seen[task.pk] = task.status
                detail = f": {task.error}" if task.error else ""
                what = task.kind or "data product"
                write(f"  {task.get_operation_display()} {task.name} [{what}] {task.status}{detail}")
        if deployment.finished and deployment.status != DeploymentStatus.READY:
            return deployment
        if time.monotonic() >= deadline:
            raise CommandError(
                f"deployment #{deployment.pk} is still {deployment.get_status_display().lower()} after {timeout:g} s"
                " (is a worker running? `make run` starts one)"
            )
        time.sleep(POLL_SECONDS)


def outcome(deployment: Deployment) -> None:
    """CommandError unless the deployment succeeded, with every reason."""
    if deployment.status == DeploymentStatus.SUCCEEDED:
        return
    lines = [f"  {p['source']} {p['path']}: {p['message']}".rstrip() for p in deployment.problems]
    lines += [f"  {task.name}: {task.error}" for task in deployment.tasks.all() if task.error]
    detail = "\n".join(dict.fromkeys(lines))
    raise CommandError(
        f"deployment #{deployment.pk} {deployment.get_status_display().lower()}: {deployment.error}"
        + (f"\n{detail}" if detail else "")
    )
