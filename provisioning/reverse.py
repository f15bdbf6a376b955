"""Reverse provisioning (PRODUCT §6): ask a component's tech adapter what the platform holds, keep the dot-path updates
of the component's ``catalog-info.yaml`` it answers for review, and commit them only when confirmed, through the
Builder's one door for changing an entity's file (:func:`~dataproducts.gitops.patch.entity_file_patch`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import ServiceError
from core.services import audit_record
from dataproducts.exceptions import ValuesInvalid
from dataproducts.gitops.patch import FilePatch, entity_file_patch, writable_file
from dataproducts.gitops.roundtrip import documents_read, entity_document, path_get, path_set, plain
from dataproducts.models import Component, DataProductIdentity
from dataproducts.scaffold.checks import IDENTITY_PATHS
from dataproducts.selectors import component_get
from provisioning import selectors
from provisioning.choices import ReverseProvisioningStatus
from provisioning.models import ReverseProvisioning, environment_problem
from provisioning.services import adapter_client, deployment_may_run

__all__ = [
    "MAX_PARAMS_BYTES",
    "MAX_WAIT_SECONDS",
    "ReverseProvisioningRefused",
    "ReverseProvisioningStateError",
    "component_product",
    "reverse_provisioning_apply",
    "reverse_provisioning_discard",
    "reverse_provisioning_get",
    "reverse_provisioning_may_run",
    "reverse_provisioning_preview",
    "reverse_provisioning_run",
    "reverse_provisionings_of",
    "updates_apply",
]

MAX_PARAMS_BYTES = 16 * 1024
# The adapter is called within the person's request: it waits at most this long, whatever the adapter's own (longer)
# operation limit, so that a slow adapter fails with a reason instead of outliving the web server's timeout.
MAX_WAIT_SECONDS = 120.0

Status = ReverseProvisioningStatus
DESCRIPTION_PATHS = ("metadata.description", "spec.mesh.description")


class ReverseProvisioningRefused(ServiceError):
    """The request is wrong (an unknown environment, no adapter for the component, bad params): HTTP 400 naming the
    request ``field``."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class ReverseProvisioningStateError(ServiceError):
    """The reverse provisioning is not awaiting review (already applied, discarded or failed), or its component is
    gone: HTTP 409."""

    status = HTTPStatus.CONFLICT


# --- reads ---------------------------------------------------------------------------------------------------------


def reverse_provisioning_get(*, pk: int) -> ReverseProvisioning | None:
    return ReverseProvisioning.objects.select_related("product", "adapter", "created_by").filter(pk=pk).first()


def reverse_provisionings_of(*, component_name: str, limit: int = 10) -> QuerySet[ReverseProvisioning]:
    """The latest reverse provisionings of a component, newest first."""
    return ReverseProvisioning.objects.filter(component_name=component_name).select_related("adapter")[:limit]


def component_product(*, component: Component) -> DataProductIdentity:
    """The identity of the component's data product (whose owners may reverse-provision it)."""
    # made on projection; get_or_create covers a product projected before identities existed
    identity, _ = DataProductIdentity.objects.get_or_create(
        dp_id=component.data_product.dp_id, defaults={"entity_name": component.data_product.name}
    )
    return identity


def reverse_provisioning_may_run(*, product: DataProductIdentity, user) -> bool:
    """Who deploys a product reverse-provisions its components: its owners and staff."""
    return deployment_may_run(product=product, user=user)


def _may_run(product: DataProductIdentity, actor) -> None:
    if not reverse_provisioning_may_run(product=product, user=actor):
        raise PermissionDenied(f"only the owners of {product.entity_name} may reverse-provision its components")


# --- the dot-path updates ---------------------------------------------------------------------------------------


def _path_problem(document, path: str) -> str | None:
    """Why ``path`` cannot be written in ``document`` (None when it can): an empty part, or a value on the way that
    is not a mapping (written over, it would lose what it holds)."""
    parts = path.split(".")
    if not all(parts):
        return "is not a dot path (an empty part)"
    node = document
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            return None  # missing (or null) on the way: the mappings are made
        if not isinstance(child, dict):
            crossed = ".".join(parts[: depth + 1])
            return f"crosses {crossed}, which is {_kind(child)}, not a mapping"
        node = child
    return None


def _kind(value) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _write(document, path: str, value) -> None:
    if value is None:  # null removes the field
        parts = path.split(".")
        parent = path_get(document, ".".join(parts[:-1])) if len(parts) > 1 else document
        if isinstance(parent, dict):
            parent.pop(parts[-1], None)
        return
    # the value replaces what is there (a list or mapping whole), written into the node in place so that the file
    # keeps its comments and each sequence its flow or block style: the diff shows what changed, not a rewrite
    path_set(document, path, value)


def _overlaps(path: str, other: str) -> bool:
    return path == other or path.startswith(other + ".") or other.startswith(path + ".")


def updates_apply(document, updates: dict) -> None:
    """Write reverse provisioning ``updates`` (``{"a.b.c": value}``) into ``document`` in place: each dot path names
    nested keys (made when missing), its value replaces what is there (lists and mappings whole), null removes the
    key. Parents are written before their children; the two descriptions stay equal. ValuesInvalid names each update
    that crosses a value that is not a mapping, or that would change the entity's identity (its name, owner, data
    product…)."""
    problems: dict[str, list[str]] = {}
    if not isinstance(updates, dict):
        raise ValuesInvalid({"updates": ["must be an object of dot paths and values"]})
    identity_before = {path: plain(path_get(document, path)) for path in IDENTITY_PATHS}
    for path, value in sorted(updates.items(), key=lambda item: item[0].count(".")):
        problem = _path_problem(document, path)
        if problem is not None:
            problems.setdefault(path, []).append(problem)
            continue
        _write(document, path, value)
    _description_kept_equal(document, updates)
    for identity_path, before in identity_before.items():
        if plain(path_get(document, identity_path)) != before:
            for path in updates:
                if _overlaps(path, identity_path):
                    problems.setdefault(path, []).append(
                        f"would change {identity_path}, which reverse provisioning never changes"
                    )
    if problems:
        raise ValuesInvalid(problems)


def _description_kept_equal(document, updates: dict) -> None:
    """The description is ``metadata.description``; ``spec.mesh.description``, when present, must repeat it
    (PRODUCT §3.3). An adapter that names one of them (Witboost adapters write ``spec.mesh.description``) means the
    description: the other follows, unless the updates name both."""
    named = [path for path in DESCRIPTION_PATHS if path in updates and isinstance(updates[path], str)]
    if len(named) != 1:
        return
    (path,) = named
    mesh = path_get(document, "spec.mesh")
    if path == "spec.mesh.description":
        path_set(document, "metadata.description", updates[path])
    elif isinstance(mesh, dict) and "description" in mesh:
        path_set(document, "spec.mesh.description", updates[path])


def _updates_patch(updates: dict) -> Callable[[dict], None]:
    return lambda document: updates_apply(document, updates)


# --- writes --------------------------------------------------------------------------------------------------------


def _environment(environment: str) -> str:
    if problem := environment_problem(environment):
        raise ReverseProvisioningRefused(problem, field="environment")
    return environment


def _params(params: object) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ReverseProvisioningRefused("must be an object (the adapter's input params)", field="params")
    try:
        size = len(json.dumps(params).encode())
    except (TypeError, ValueError) as exc:
        raise ReverseProvisioningRefused(f"cannot be sent as JSON: {exc}", field="params") from exc
    if size > MAX_PARAMS_BYTES:
        raise ReverseProvisioningRefused(f"too large: at most {MAX_PARAMS_BYTES // 1024} KiB", field="params")
    return params


def _author(actor) -> dict:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return {"created_by": user, "created_by_name": user.get_username() if user else "system"}


def reverse_provisioning_run(
    *, component: Component, environment: str, actor, params: dict | None = None
) -> ReverseProvisioning:
    """Run the reverse provisioning of ``component`` in ``environment`` through the adapter registered for its
    infrastructure template there, giving it the component's ``catalog-info.yaml`` as it is in Git now. The row
    records the adapter's updates for review (``ready``), or its reason (``failed``). Nothing in Git changes."""
    product = component_product(component=component)
    _may_run(product, actor)
    _environment(environment)
    params = _params(params)
    template = component.infrastructure_template_id
    if not template:
        raise ReverseProvisioningRefused(
            f"{component.name} has no spec.mesh.infrastructureTemplateId: no adapter can read it back",
            field="component",
        )
    if not component.use_case_template_id:
        raise ReverseProvisioningRefused(
            f"{component.name} has no spec.mesh.useCaseTemplateId, which reverse provisioning sends",
            field="component",
        )
    adapter = selectors.adapters_for(templates=[template], environment=environment).get((template, environment))
    if adapter is None:
        raise ReverseProvisioningRefused(
            f"no tech adapter is registered for infrastructureTemplateId {template} in {environment}",
            field="environment",
        )
    entity = component.entity
    current = writable_file(entity)  # a file Meshforge may not commit to is refused before the adapter is asked
    catalog_info = entity_document(documents_read(current.text, current.path), entity)
    with transaction.atomic():
        run = ReverseProvisioning.objects.create(
            component_ref=entity.ref,
            component_name=component.name,
            product=product,
            environment=environment,
            adapter=adapter,
            adapter_url=adapter.url,
            params=params,
            base_revision=current.revision,
            **_author(actor),
        )
        audit_record(
            actor=actor,
            action="provisioning.reverse_run",
            obj=run,
            after={"component": component.name, "environment": environment, "adapter": adapter.url},
        )
    request = {
        "useCaseTemplateId": component.use_case_template_id,
        "environment": environment,
        "params": params,
        "catalogInfo": catalog_info,
    }
    # the call runs outside any transaction: the row says "running" meanwhile, and the answer moves it once
    with adapter_client(adapter) as client:
        reply = client.reverse_provision(
            request,
            poll_interval=adapter.poll_interval,
            deadline=time.monotonic() + min(adapter.operation_timeout, MAX_WAIT_SECONDS),
        )
    outcome = {"finished_at": timezone.now(), "logs": list(reply.logs)}
    if reply.state == "completed":
        outcome |= {"status": Status.READY, "updates_text": json.dumps(reply.updates, ensure_ascii=False)}
    else:
        error = reply.error
        outcome |= {
            "status": Status.FAILED,
            "error": error.reason if error else "the adapter did not finish",
            "error_detail": error.as_dict() if error else None,
        }
    # discarded while the adapter was working: the answer is not wanted any more
    ReverseProvisioning.objects.filter(pk=run.pk, status=Status.RUNNING).update(**outcome)
    run.refresh_from_db()
    return run


def _component_of(run: ReverseProvisioning) -> Component:
    component = component_get(name=run.component_name)
    if component is None:
        raise ReverseProvisioningStateError(f"the component {run.component_name} is no longer in the catalog")
    return component


def _reviewable(run: ReverseProvisioning) -> None:
    if run.status != Status.READY:
        raise ReverseProvisioningStateError(
            f"reverse provisioning #{run.pk} is {run.get_status_display().lower()}: it has no updates to review"
        )


def _patch(run: ReverseProvisioning, *, actor, base_revision: str | None, dry_run: bool) -> FilePatch:
    adapter = run.adapter.infrastructure_template_id if run.adapter else run.adapter_url or "the adapter"
    updates = run.updates
    return entity_file_patch(
        entity=_component_of(run).entity,
        patch=_updates_patch(updates),
        actor=actor,
        message=f"Reverse provisioning from {adapter} ({run.environment})",
        audit_action="provisioning.reverse_apply",
        audit_obj=run,
        audit_after={"environment": run.environment, "paths": sorted(updates)},
        base_revision=base_revision,
        dry_run=dry_run,
    )


def reverse_provisioning_preview(*, run: ReverseProvisioning) -> FilePatch:
    """What committing the run's updates would change in ``catalog-info.yaml`` as it is in Git now (its ``diff``
    rows and its ``revision``, the base to confirm with). ValuesInvalid names the updates that cannot be written or
    that make the document invalid. Nothing is written."""
    _reviewable(run)
    return _patch(run, actor=None, base_revision=None, dry_run=True)


def reverse_provisioning_apply(*, run: ReverseProvisioning, actor, base_revision: str) -> ReverseProvisioning:
    """Commit the run's updates as ``actor`` (audited), refused (StaleEdit) when ``catalog-info.yaml`` changed since
    ``base_revision``, the revision the person previewed; the catalog re-reads the file. The run is then ``applied``
    with the commit (none when the file already held the updates)."""
    _may_run(run.product, actor)
    run.refresh_from_db()
    _reviewable(run)
    if not isinstance(base_revision, str) or not base_revision.strip():
        raise ReverseProvisioningRefused(
            "missing: the revision of catalog-info.yaml the preview showed", field="base_revision"
        )
    patch = _patch(run, actor=actor, base_revision=base_revision.strip(), dry_run=False)
    with transaction.atomic():
        # committed, so applied, even had someone discarded it meanwhile: Git has the change
        ReverseProvisioning.objects.filter(pk=run.pk).update(
            status=Status.APPLIED, commit_sha=patch.sha, decided_at=timezone.now()
        )
        if not patch.changed:  # no commit, so entity_file_patch recorded nothing
            audit_record(actor=actor, action="provisioning.reverse_apply", obj=run, after={"commit": ""})
    run.refresh_from_db()
    return run


@transaction.atomic
def reverse_provisioning_discard(*, run: ReverseProvisioning, actor) -> ReverseProvisioning:
    """Drop the run's updates (or its wait for the adapter): nothing is committed."""
    _may_run(run.product, actor)
    moved = ReverseProvisioning.objects.filter(pk=run.pk, status__in=[Status.READY, Status.RUNNING]).update(
        status=Status.DISCARDED, decided_at=timezone.now()
    )
    run.refresh_from_db()
    if not moved:
        raise ReverseProvisioningStateError(
            f"reverse provisioning #{run.pk} is {run.get_status_display().lower()}: nothing to discard"
        )
    audit_record(actor=actor, action="provisioning.reverse_discard", obj=run)
    return run
