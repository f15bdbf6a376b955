"""Writes owned by the catalog: registering, trusting and unregistering locations, refreshing entities and
deleting orphans. Each change is audited in its own transaction; processing goes through ``catalog.processing``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from catalog.choices import LocationType
from catalog.models import Entity, Location
from catalog.processing import (
    ProcessCounts,
    entities_changed_send,
    generated_entity_create,
    location_process_tree,
    location_subtree_ids,
    locations_delete,
)
from catalog.readers import InvalidTarget, TargetNotAllowed, check_target_allowed, validate_target
from catalog.selectors import entity_may_delete, location_entities, location_may_change
from catalog.teams import teams_sync
from core.services import audit_record


class CatalogConflict(Exception):
    """The request contradicts the catalog's state (HTTP 409): a duplicate registration, deleting a live entity."""


@dataclass
class RegistrationResult:
    location: Location
    counts: ProcessCounts
    entities: list[Entity]
    errors: list[str]
    dry_run: bool


class _DryRun(Exception):
    def __init__(self, result: RegistrationResult):
        self.result = result


def _snapshot(location: Location) -> dict:
    return {"type": location.type, "target": location.target, "trusted": location.trusted}


def location_register(
    *, type: str, target: str, actor, trusted: bool = False, dry_run: bool = False, owner=None
) -> RegistrationResult:
    """Register a location and process it (and the child locations it names) at once. With ``dry_run`` the
    same work happens and is rolled back, so the preview shows exactly what registering would do. ``owner`` is
    recorded as the person who registered it when the actor registers on someone's behalf (the Builder).

    Raises ``ValueError`` (bad type/target, naming the field), ``PermissionDenied`` (trust rules) and
    :class:`CatalogConflict` (already registered)."""
    if type not in LocationType.values:
        raise ValueError(f"type: expected one of {', '.join(LocationType.values)}, got {type!r}")
    try:
        target = validate_target(type, target)
    except InvalidTarget as exc:
        raise ValueError(f"target: {exc}") from exc
    try:
        check_target_allowed(type, target, is_staff=bool(actor and actor.is_staff))
    except TargetNotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    if trusted and not (actor and actor.is_staff):
        raise PermissionDenied("only staff may mark a location trusted")
    try:
        with transaction.atomic():
            result = _register(type=type, target=target, actor=actor, trusted=trusted, owner=owner)
            if dry_run:
                result.dry_run = True
                raise _DryRun(result)
    except _DryRun as rolled_back:
        return rolled_back.result
    return result


def _register(*, type: str, target: str, actor, trusted: bool, owner=None) -> RegistrationResult:
    if Location.objects.filter(type=type, target=target).exists():
        raise CatalogConflict(f"location {type}:{target} is already registered")
    now = timezone.now()
    location = Location.objects.create(
        type=type,
        target=target,
        registered_by=next((who for who in (owner, actor) if who is not None and who.is_authenticated), None),
        trusted=trusted,
        next_refresh_at=now,
    )
    generated_entity_create(location)
    audit_record(actor=actor, action="location.register", obj=location, after=_snapshot(location))
    counts = location_process_tree(location, budget_seconds=settings.CATALOG_REQUEST_BUDGET_SECONDS)
    location.refresh_from_db()
    tree = Location.objects.filter(pk__in=location_subtree_ids([location.pk])).order_by("pk")
    errors = [error for errors in tree.values_list("errors", flat=True) for error in errors]
    # with their relations: a dry run reads them before it is rolled back
    entities = location_entities(location)
    return RegistrationResult(location=location, counts=counts, entities=entities, errors=errors, dry_run=False)


@transaction.atomic
def location_unregister(*, location: Location, actor) -> None:
    """Unregister a root location: it, its child locations and every entity they emitted go, in one transaction."""
    if not location.is_root:
        raise CatalogConflict(f"{location} was produced by another location's targets; unregister that one")
    if not location_may_change(location=location, user=actor):
        raise PermissionDenied("only staff or the person who registered a location may unregister it")
    audit_record(actor=actor, action="location.unregister", obj=location, before=_snapshot(location))
    locations_delete([location], now=timezone.now(), delete_entities=True)


def location_trust_set(*, location: Location, trusted: bool, actor) -> ProcessCounts:
    """Mark a root location (and what it produced) trusted or not, then re-process it under the new rule."""
    if not (actor and actor.is_staff):
        raise PermissionDenied("only staff may change whether a location is trusted")
    if not location.is_root:
        raise CatalogConflict("trust is set on the registered location, not on the ones its targets produce")
    with transaction.atomic():
        before = _snapshot(location)
        ids = location_subtree_ids([location.pk])
        # forget the fingerprints: the same files now mean something else
        Location.objects.filter(pk__in=ids).update(
            trusted=trusted, source_fingerprint="", next_refresh_at=timezone.now()
        )
        location.refresh_from_db()
        audit_record(actor=actor, action="location.trust", obj=location, before=before, after=_snapshot(location))
    counts = location_process_tree(location, budget_seconds=settings.CATALOG_REQUEST_BUDGET_SECONDS)
    teams_sync()  # memberships drawn from this location now count, or no longer do
    with transaction.atomic():  # and so do the projections other apps draw from trusted entities
        entities_changed_send(
            list(
                Entity.objects.filter(location__in=location_subtree_ids([location.pk])).values_list(
                    "document", flat=True
                )
            )
        )
    return counts


def location_refresh(*, location: Location, actor) -> ProcessCounts:
    """Re-read a location now (fetching its Git repository), in this request, within the time budget."""
    return location_process_tree(location, budget_seconds=settings.CATALOG_REQUEST_BUDGET_SECONDS)


def entity_refresh(*, entity: Entity, actor) -> ProcessCounts:
    """Refresh the location that emitted an entity (PRODUCT §3.2: the Refresh button and POST refresh)."""
    if entity.location_id is None:
        return ProcessCounts()
    return location_refresh(location=entity.location, actor=actor)


@transaction.atomic
def entity_delete(*, entity: Entity, actor) -> None:
    """Delete an orphaned entity ahead of its grace period (staff, or who may change the location it came
    from). A live entity is its location's to remove."""
    if not entity_may_delete(entity=entity, user=actor):
        raise PermissionDenied("only staff or the person who registered its location may delete an entity")
    if not entity.orphan:
        raise CatalogConflict(f"{entity.ref} is not an orphan: remove it from its file, or unregister its location")
    audit_record(actor=actor, action="entity.delete", obj=entity, before={"ref": entity.ref})
    entity.delete()
