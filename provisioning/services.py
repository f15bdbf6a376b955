"""Writes of provisioning (PRODUCT §6): the adapter registry, and a deployment's life — requested on the web,
checked in the worker (descriptor, governance, each adapter's validate), previewed, confirmed, run by the
coordinator (:mod:`provisioning.coordinator`), swept when a worker died. Rows move by compare-and-set; Celery
tasks are enqueued on commit."""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import ServiceError
from core.services import audit_record
from dataproducts.descriptor.adapter import descriptor_adapter_ready_problems
from dataproducts.models import DataProductIdentity, Release
from dataproducts.selectors import dataproduct_get, dataproduct_may_write
from provisioning import selectors
from provisioning.choices import ACTIVE_STATUSES, DeploymentOperation, DeploymentStatus, TaskStatus, UnitStatus
from provisioning.client import AdapterEndpoint, ErrorKind, ProvisioningRequests, TechAdapterClient
from provisioning.models import Deployment, DeploymentTask, DeploymentUnit, TechAdapter, environment_problem
from provisioning.planning import plan_build

logger = logging.getLogger(__name__)


class DeploymentRefused(ServiceError):
    """The request itself is wrong (an unknown environment or release): HTTP 400 naming the field."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class DeploymentConflict(ServiceError):
    """Another deployment of the product to the environment is active (HTTP 409); ``active`` is that one."""

    status = HTTPStatus.CONFLICT

    def __init__(self, active: Deployment | None) -> None:
        self.active = active
        what = f"deployment #{active.pk} ({active.get_status_display().lower()})" if active else "another deployment"
        super().__init__(f"{what} of this data product to this environment is still active")


class AdaptersNotUp(Exception):
    """A built-in adapter did not answer: this server's web process is not up yet (``seed_demo`` enqueues the demo
    deployments before ``make run`` starts it). The checks are tried again a little later."""


class DeploymentStateError(ServiceError):
    """The deployment is not in a state that allows this (HTTP 409)."""

    status = HTTPStatus.CONFLICT


# --- adapters ----------------------------------------------------------------------------------------------------


def adapter_client(adapter: TechAdapter) -> TechAdapterClient:
    """The HTTP client of an adapter row, its auth header read from the environment now."""
    return TechAdapterClient(
        AdapterEndpoint(
            base_url=adapter.url,
            connect_timeout=adapter.connect_timeout,
            request_timeout=adapter.request_timeout,
            headers=adapter.auth_headers(),
        )
    )


ADAPTER_FIELDS = (
    "url",
    "description",
    "connect_timeout",
    "request_timeout",
    "operation_timeout",
    "poll_interval",
    "auth_header",
    "auth_env",
    "async_validation",
)


def _adapter_snapshot(adapter: TechAdapter) -> dict:
    return {
        "infrastructure_template_id": adapter.infrastructure_template_id,
        "environment": adapter.environment,
        **{name: getattr(adapter, name) for name in ADAPTER_FIELDS},
    }


@transaction.atomic
def adapter_register(
    *, infrastructure_template_id: str, environment: str, url: str, actor, builtin: str = "", **fields
) -> tuple[TechAdapter, bool]:
    """Register (or update) the adapter of a template in an environment; ``fields`` are the other
    :data:`ADAPTER_FIELDS`. Returns the row and whether it was created."""
    unknown = set(fields) - set(ADAPTER_FIELDS)
    if unknown:
        raise TypeError(f"unknown adapter fields: {', '.join(sorted(unknown))}")
    adapter = (
        TechAdapter.objects.select_for_update()
        .filter(infrastructure_template_id=infrastructure_template_id, environment=environment)
        .first()
    )
    created = adapter is None
    before = None if created else _adapter_snapshot(adapter)
    was_builtin = None if created else adapter.builtin
    if created:
        adapter = TechAdapter(infrastructure_template_id=infrastructure_template_id, environment=environment)
    adapter.url = url
    adapter.builtin = builtin
    for name, value in fields.items():
        setattr(adapter, name, value)
    if not created and _adapter_snapshot(adapter) == before and was_builtin == builtin:
        return adapter, False  # registered as asked already: nothing to save or record (seed_demo runs each start)
    adapter.full_clean()
    adapter.save()
    audit_record(
        actor=actor,
        action="provisioning.adapter_register" if created else "provisioning.adapter_update",
        obj=adapter,
        before=before,
        after=_adapter_snapshot(adapter),
    )
    return adapter, created


@transaction.atomic
def adapter_save(*, adapter: TechAdapter, actor) -> TechAdapter:
    """Save an adapter changed by a form or the API (validated; audited)."""
    before = None
    if adapter.pk is not None:
        previous = TechAdapter.objects.select_for_update().filter(pk=adapter.pk).first()
        before = _adapter_snapshot(previous) if previous else None
        if previous is not None and previous.url != adapter.url:
            adapter.async_validation_unsupported = False  # a new server may support it
    adapter.full_clean()
    adapter.save()
    audit_record(
        actor=actor,
        action="provisioning.adapter_update" if before else "provisioning.adapter_register",
        obj=adapter,
        before=before,
        after=_adapter_snapshot(adapter),
    )
    return adapter


@transaction.atomic
def adapter_delete(*, adapter: TechAdapter, actor) -> None:
    audit_record(actor=actor, action="provisioning.adapter_delete", obj=adapter, before=_adapter_snapshot(adapter))
    adapter.delete()


# --- requests ----------------------------------------------------------------------------------------------------


def deployment_may_run(*, product: DataProductIdentity, user) -> bool:
    """Staff and the product's owners (its owner team or dev group, PRODUCT §8); a product no longer in the
    catalog only staff."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    data_product = dataproduct_get(name=product.entity_name)
    return data_product is not None and dataproduct_may_write(data_product=data_product, user=user)


def _may_run(product: DataProductIdentity, actor) -> None:
    if not deployment_may_run(product=product, user=actor):
        raise PermissionDenied(f"only the owners of {product.entity_name} may deploy it")


def _environment(environment: str) -> str:
    if problem := environment_problem(environment):
        raise DeploymentRefused(problem, field="environment")
    return environment


def _insert(deployment: Deployment) -> Deployment:
    """Insert a new active deployment: an unconfirmed preview of the same unit gives way to it; an active run
    refuses it (the partial unique constraint decides races)."""
    Deployment.objects.filter(
        product=deployment.product, environment=deployment.environment, status=DeploymentStatus.READY
    ).update(status=DeploymentStatus.CANCELLED, finished_at=timezone.now(), error="replaced by a newer request")
    deployment.full_clean(exclude=["product", "release"], validate_constraints=False)
    try:
        with transaction.atomic():
            deployment.save()
    except IntegrityError:
        raise DeploymentConflict(
            selectors.deployment_active(dp_id=deployment.product.dp_id, environment=deployment.environment)
        ) from None
    return deployment


def _author(actor) -> dict:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return {"created_by": user, "created_by_name": user.get_username() if user else "system"}


def _enqueue_validate(deployment: Deployment) -> None:
    from provisioning.tasks import deployment_validate

    transaction.on_commit(lambda: deployment_validate.delay(deployment.pk))


def _enqueue_run(deployment: Deployment) -> None:
    from provisioning.tasks import deployment_run

    transaction.on_commit(lambda: deployment_run.delay(deployment.pk))


@transaction.atomic
def deployment_request_create(
    *, release: Release, environment: str, actor, auto_start: bool = False, retry_of: Deployment | None = None
) -> Deployment:
    """Ask to deploy ``release`` to ``environment``: a ``validating`` deployment whose checks run in the worker;
    then a preview waits for :func:`deployment_confirm` (or, with ``auto_start``, it runs at once)."""
    _environment(environment)
    product = release.product
    _may_run(product, actor)
    descriptor = release.descriptors.get(environment) if isinstance(release.descriptors, dict) else None
    if not isinstance(descriptor, dict):
        raise DeploymentRefused(f"release {release.version} has no descriptor for {environment}", field="release")
    unit = selectors.unit_get(product=product, environment=environment)
    previous = None
    if unit is not None and unit.release is not None and unit.status == UnitStatus.DEPLOYED:
        previous = unit.release.descriptors.get(environment)
    deployment = _insert(
        Deployment(
            product=product,
            release=release,
            version=release.version,
            environment=environment,
            operation=DeploymentOperation.DEPLOY,
            auto_start=auto_start,
            descriptor={**descriptor, "version": release.version},
            previous_descriptor=previous,
            retry_of=retry_of,
            **_author(actor),
        )
    )
    audit_record(
        actor=actor,
        action="provisioning.deployment_request",
        obj=deployment,
        after={"release": release.version, "environment": environment, "operation": "deploy"},
    )
    _enqueue_validate(deployment)
    return deployment


@transaction.atomic
def undeploy_request_create(
    *,
    product: DataProductIdentity,
    environment: str,
    actor,
    remove_data: bool = False,
    auto_start: bool = False,
    retry_of: Deployment | None = None,
) -> Deployment:
    """Ask to undeploy what ``environment`` runs of ``product`` (its components in reverse order; the data too
    with ``remove_data``)."""
    _environment(environment)
    _may_run(product, actor)
    unit = selectors.unit_get(product=product, environment=environment)
    if unit is None or unit.release is None or unit.status == UnitStatus.NOT_DEPLOYED:
        raise DeploymentRefused(f"{product.entity_name} is not deployed in {environment}", field="environment")
    descriptor = unit.enriched_descriptor or unit.release.descriptors.get(environment) or {}
    deployment = _insert(
        Deployment(
            product=product,
            release=unit.release,
            version=unit.release.version,
            environment=environment,
            operation=DeploymentOperation.UNDEPLOY,
            remove_data=remove_data,
            auto_start=auto_start,
            descriptor=descriptor,
            retry_of=retry_of,
            **_author(actor),
        )
    )
    audit_record(
        actor=actor,
        action="provisioning.deployment_request",
        obj=deployment,
        after={"release": unit.release.version, "environment": environment, "operation": "undeploy"},
    )
    _enqueue_validate(deployment)
    return deployment


@transaction.atomic
def deployment_confirm(*, deployment: Deployment, actor) -> Deployment:
    """Start a previewed deployment."""
    _may_run(deployment.product, actor)
    now = timezone.now()
    moved = Deployment.objects.filter(pk=deployment.pk, status=DeploymentStatus.READY).update(
        status=DeploymentStatus.RUNNING, started_at=now, heartbeat_at=now, runner=""
    )
    if not moved:
        deployment.refresh_from_db()
        raise DeploymentStateError(f"deployment #{deployment.pk} is {deployment.get_status_display().lower()}")
    deployment.refresh_from_db()
    _unit_running(deployment)
    audit_record(actor=actor, action="provisioning.deployment_confirm", obj=deployment)
    _enqueue_run(deployment)
    return deployment


@transaction.atomic
def deployment_cancel(*, deployment: Deployment, actor) -> Deployment:
    """Drop a deployment that has not started (validating or awaiting confirmation)."""
    _may_run(deployment.product, actor)
    moved = Deployment.objects.filter(
        pk=deployment.pk, status__in=[DeploymentStatus.VALIDATING, DeploymentStatus.READY]
    ).update(status=DeploymentStatus.CANCELLED, finished_at=timezone.now(), error="cancelled")
    deployment.refresh_from_db()
    if not moved:
        raise DeploymentStateError(f"deployment #{deployment.pk} has started: it cannot be cancelled")
    audit_record(actor=actor, action="provisioning.deployment_cancel", obj=deployment)
    return deployment


def deployment_retry(*, deployment: Deployment, actor) -> Deployment:
    """Run a failed (or refused) deployment again: a new one, checked again and started as soon as it passes."""
    if deployment.status not in (DeploymentStatus.FAILED, DeploymentStatus.INVALID, DeploymentStatus.CANCELLED):
        raise DeploymentStateError(f"deployment #{deployment.pk} has not failed: nothing to retry")
    if deployment.operation == DeploymentOperation.UNDEPLOY:
        return undeploy_request_create(
            product=deployment.product,
            environment=deployment.environment,
            actor=actor,
            remove_data=deployment.remove_data,
            auto_start=True,
            retry_of=deployment,
        )
    if deployment.release is None:
        raise DeploymentRefused("the release of this deployment is gone", field="release")
    return deployment_request_create(
        release=deployment.release,
        environment=deployment.environment,
        actor=actor,
        auto_start=True,
        retry_of=deployment,
    )


# --- checks (in the worker) ----------------------------------------------------------------------------------------


def _claim(deployment_id: int, status: str, runner: str) -> bool:
    """Take a deployment for this worker: nobody holds it, or its holder's heartbeat stopped."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PROVISIONING_STALE_SECONDS)
    return bool(
        Deployment.objects.filter(pk=deployment_id, status=status)
        .filter(Q(runner="") | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale))
        .update(runner=runner, heartbeat_at=now)
    )


def _problem(source: str, path: str, message: str) -> dict:
    return {"source": source, "path": path, "message": message}


def _adapter_checks(deployment: Deployment, plan) -> list[dict]:
    """Every involved adapter's validate, at once (one call per step)."""
    latest = selectors.unit_get(product=deployment.product, environment=deployment.environment)
    enriched = latest.enriched_descriptor if latest is not None and latest.enriched_descriptor else None

    requests = ProvisioningRequests(descriptor=deployment.descriptor, latest_enriched=enriched)

    def check(step) -> list[dict]:
        request = requests.request(step.component_id or None)
        with adapter_client(step.adapter) as client:
            answer = client.validate(
                request,
                use_async=step.adapter.async_validation and not step.adapter.async_validation_unsupported,
                poll_interval=step.adapter.poll_interval,
                deadline=time.monotonic() + step.adapter.operation_timeout,
            )
        source = f"adapter {step.adapter.infrastructure_template_id}"
        if answer.error is not None and answer.error.kind == ErrorKind.CONNECTION and step.adapter.builtin:
            age = (timezone.now() - deployment.created_at).total_seconds()
            if age < settings.PROVISIONING_BUILTIN_WAIT_SECONDS:
                raise AdaptersNotUp(answer.error.reason)
        if answer.async_unsupported:
            unsupported.add(step.adapter.pk)
        if answer.error is not None:
            return [_problem(source, step.component_id, answer.error.reason)]
        if not answer.valid:
            errors = answer.errors or ("the adapter says the request is not valid",)
            return [_problem(source, step.component_id, error) for error in errors]
        return []

    if not plan.steps:
        return []
    unsupported: set[int] = set()  # threads only call adapters: this thread alone writes the database
    with ThreadPoolExecutor(max_workers=min(len(plan.steps), settings.PROVISIONING_MAX_PARALLEL)) as pool:
        problems = [problem for found in pool.map(check, plan.steps) for problem in found]
    if unsupported:
        TechAdapter.objects.filter(pk__in=unsupported).update(async_validation_unsupported=True)
    return problems


def _gate(deployment: Deployment) -> tuple[list[dict], list[str]]:
    """The model's validation with the deployment moving to ``ready``: governance's gate for its environment
    (``core.validation.post_clean``). Returns the problems and the gate's warnings."""
    deployment.status = DeploymentStatus.READY
    try:
        deployment.full_clean(validate_constraints=False)
    except ValidationError as exc:
        return [_problem("governance", "", message) for message in exc.messages], []
    finally:
        deployment.status = DeploymentStatus.VALIDATING
    return [], list(getattr(deployment, "gate_warnings", []))


def deployment_tasks_create(*, deployment: Deployment, plan) -> list[DeploymentTask]:
    """The task rows of a plan's steps, pending."""
    return DeploymentTask.objects.bulk_create(
        DeploymentTask(
            deployment=deployment,
            component_id=step.component_id,
            name=step.name,
            kind=step.kind,
            operation=step.operation,
            layer=step.layer,
            depends_on=step.depends_on,
            adapter=step.adapter,
            adapter_url=step.adapter.url,
        )
        for step in plan.steps
    )


def deployment_validate(*, deployment_id: int) -> Deployment | None:
    """The checks of a requested deployment, before anything changes: the strict adapter-ready descriptor check,
    the plan (an adapter for every component), each adapter's validate, and the governance gate. Passing makes
    the preview (or starts the run with ``auto_start``); failing refuses it with every reason."""
    runner = uuid.uuid4().hex
    if not _claim(deployment_id, DeploymentStatus.VALIDATING, runner):
        return None
    deployment = Deployment.objects.select_related("product", "release").get(pk=deployment_id)
    deploy = deployment.operation == DeploymentOperation.DEPLOY
    problems: list[dict] = []
    warnings: list[str] = []
    if deploy:
        problems += [
            _problem("descriptor", p.path, p.message) for p in descriptor_adapter_ready_problems(deployment.descriptor)
        ]
    components = deployment.descriptor.get("components") or []
    templates = [c.get("infrastructureTemplateId") for c in components if isinstance(c, dict)]
    templates.append(deployment.descriptor.get("infrastructureTemplateId"))
    plan = plan_build(
        descriptor=deployment.descriptor,
        environment=deployment.environment,
        operation=deployment.operation,
        adapters=selectors.adapters_for(
            templates=[t for t in templates if isinstance(t, str)], environment=deployment.environment
        ),
    )
    problems += [_problem("plan", p.path, p.message) for p in plan.problems]
    if deploy:
        if not plan.problems:
            try:
                problems += _adapter_checks(deployment, plan)
            except AdaptersNotUp:
                # given back, for the task's retry (or the sweeper) to take again
                Deployment.objects.filter(pk=deployment.pk, runner=runner).update(runner="", heartbeat_at=None)
                raise
        gate_problems, warnings = _gate(deployment)
        problems += gate_problems
    with transaction.atomic():
        now = timezone.now()
        base = Deployment.objects.filter(pk=deployment.pk, status=DeploymentStatus.VALIDATING, runner=runner)
        if problems:
            base.update(
                status=DeploymentStatus.INVALID,
                problems=problems,
                warnings=warnings,
                validated_at=now,
                finished_at=now,
                runner="",
                error=f"refused: {len(problems)} problem(s) found before anything ran",
            )
        else:
            target = DeploymentStatus.RUNNING if deployment.auto_start else DeploymentStatus.READY
            moved = base.update(
                status=target,
                warnings=warnings,
                validated_at=now,
                runner="",
                heartbeat_at=now,
                started_at=now if deployment.auto_start else None,
            )
            if moved:
                deployment_tasks_create(deployment=deployment, plan=plan)
                if deployment.auto_start:
                    deployment.refresh_from_db()
                    _unit_running(deployment)
                    _enqueue_run(deployment)
        deployment.refresh_from_db()
    return deployment


# --- units ---------------------------------------------------------------------------------------------------------


def _unit(deployment: Deployment) -> DeploymentUnit:
    unit, _ = DeploymentUnit.objects.select_for_update().get_or_create(
        product=deployment.product, environment=deployment.environment
    )
    return unit


def _unit_running(deployment: Deployment) -> None:
    """A run starts: the environment runs part of something until it ends."""
    unit = _unit(deployment)
    unit.status = UnitStatus.PARTIAL
    unit.last_deployment = deployment
    unit.save(update_fields=["status", "last_deployment", "updated_at"])


# --- the sweeper (beat) --------------------------------------------------------------------------------------------


def deployments_sweep() -> dict[str, int]:
    """Resume what a dead worker left (PRODUCT §6): deployments whose heartbeat stopped — validating or running —
    are enqueued again (the claim makes a duplicate message harmless); previews never confirmed expire."""
    from provisioning.tasks import deployment_run, deployment_validate

    now = timezone.now()
    stale = now - timedelta(seconds=settings.PROVISIONING_STALE_SECONDS)
    found = {"validating": 0, "running": 0, "expired": 0}
    beat_stopped = Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale)
    for pk in Deployment.objects.filter(beat_stopped, status=DeploymentStatus.VALIDATING).values_list("pk", flat=True):
        deployment_validate.delay(pk)
        found["validating"] += 1
    for pk in Deployment.objects.filter(beat_stopped, status=DeploymentStatus.RUNNING).values_list("pk", flat=True):
        deployment_run.delay(pk)
        found["running"] += 1
    expired = now - timedelta(seconds=settings.PROVISIONING_PREVIEW_SECONDS)
    found["expired"] = Deployment.objects.filter(status=DeploymentStatus.READY, validated_at__lt=expired).update(
        status=DeploymentStatus.CANCELLED, finished_at=now, error="the preview was never confirmed"
    )
    return found


__all__ = [
    "ACTIVE_STATUSES",
    "TaskStatus",
    "adapter_client",
    "adapter_delete",
    "adapter_register",
    "adapter_save",
    "deployment_cancel",
    "deployment_confirm",
    "deployment_request_create",
    "deployment_retry",
    "deployment_validate",
    "deployments_sweep",
    "undeploy_request_create",
]
