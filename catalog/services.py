"""Writes owned by the catalog: registering, trusting and unregistering locations, refreshing entities and
deleting orphans. Each change is audited in its own transaction; processing goes through ``catalog.processing``."""

from __future__ import annotations

import dataclasses
import logging
import math
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.choices import LocationType, RefreshStatus
from catalog.membership import repository_of
from catalog.models import Entity, Location, RefreshRequest
from catalog.processing import (
    ProcessCounts,
    entities_changed_send,
    generated_entity_create,
    location_process_tree,
    location_subtree_ids,
    locations_delete,
)
from catalog.readers import (
    DEFAULT_GIT_PATH,
    InvalidTarget,
    ReadError,
    ReadSession,
    TargetNotAllowed,
    TargetNotFound,
    check_target_allowed,
    format_git_target,
    parse_git_target,
    validate_target,
)
from catalog.readers.budget import read_deadline
from catalog.refs import RefError, parse_ref
from catalog.selectors import entity_may_delete, location_entities, location_may_change, refresh_request_pending
from catalog.teams import teams_sync
from core.errors import ServiceError
from core.services import audit_record

logger = logging.getLogger(__name__)


class CatalogConflict(ServiceError):
    """The request contradicts the catalog's state (HTTP 409): a duplicate registration, deleting a live entity."""

    status = HTTPStatus.CONFLICT


class RefreshThrottled(ServiceError):
    """Too many manual refreshes (HTTP 429); ``retry_after`` says in how many seconds one is accepted again."""

    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


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
    snapshot = {"type": location.type, "target": location.target, "trusted": location.trusted}
    if location.home_of:
        snapshot["home_of"] = location.home_of
    return snapshot


def location_register(
    *,
    type: str,
    target: str,
    actor,
    trusted: bool = False,
    dry_run: bool = False,
    owner=None,
    home: Iterable[str] = (),
) -> RegistrationResult:
    """Register a location and process it (and the child locations it names) at once. With ``dry_run`` the
    same work happens and is rolled back, so the preview shows exactly what registering would do. ``owner`` is
    recorded as the person who registered it when the actor registers on someone's behalf (the Builder).
    ``home`` names the data products (System refs) whose own repository this is: the Builder registers the
    repositories it creates so; only staff may say it (see ``catalog.membership``).

    Raises ``ValueError`` (bad type/target, naming the field), ``PermissionDenied`` (trust rules) and
    :class:`CatalogConflict` (already registered)."""
    target = _target_checked(type, target, actor)
    if trusted and not (actor and actor.is_staff):
        raise PermissionDenied("only staff may mark a location trusted")
    try:
        home = sorted({parse_ref(ref, default_kind="system").key for ref in home})
    except RefError as exc:
        raise ValueError(f"home: {exc}") from exc
    if home and not (actor and actor.is_staff):
        raise PermissionDenied("only staff may record a location as a data product's own repository")
    if home and type != LocationType.GIT:
        raise ValueError("home: only a Git repository can be a data product's own repository")
    try:
        with transaction.atomic():
            result = _register(type=type, target=target, actor=actor, trusted=trusted, owner=owner, home=home)
            if dry_run:
                result.dry_run = True
                raise _DryRun(result)
    except _DryRun as rolled_back:
        return rolled_back.result
    return result


def _target_checked(type: str, target: str, actor) -> str:
    """The target in normal form, if the actor may register it; ``ValueError`` names the field, the allow-list
    refuses with ``PermissionDenied``."""
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
    return target


def location_update(*, location: Location, type: str, target: str, actor) -> Location:
    """Point a registered location at another target (Backstage's ``PUT locations/{id}``) and re-process it: what
    only the old target held becomes orphaned. Staff or the person who registered it. The standing staff gave it
    (trusted, a data product's own repository) vouched for the old content: it stays only when staff move it."""
    if not location.is_root:
        raise CatalogConflict(f"{location} was produced by another location's targets; change that one's file")
    if not location_may_change(location=location, user=actor):
        raise PermissionDenied("only staff or the person who registered a location may change it")
    target = _target_checked(type, target, actor)
    with transaction.atomic():
        location = Location.objects.select_for_update().get(pk=location.pk)
        if (location.type, location.target) == (type, target):
            return location
        if Location.objects.filter(type=type, target=target).exists():
            raise CatalogConflict(f"location {type}:{target} is already registered")
        before = _snapshot(location)
        Entity.objects.filter(ref=location.entity_ref).delete()
        location.type, location.target = type, target
        location.source_fingerprint, location.source_revision = "", ""
        location.next_refresh_at = timezone.now()
        if not actor.is_staff:
            location.trusted, location.home_of = False, []
        location.save()
        generated_entity_create(location)
        audit_record(actor=actor, action="location.update", obj=location, before=before, after=_snapshot(location))
    location_refresh(location=location, actor=actor)
    _standing_changed(location, refs=before.get("home_of", []))
    location.refresh_from_db()
    return location


@dataclass
class LocationAnalysis:
    """What registering a target would give (Backstage's ``analyze-location``): the entities of its catalog file
    as ``(type, target of their file, registered already, entity)``, or, when it has none, the suggested
    entities to write (``generated``, each ``{"entity", "fields"}``)."""

    existing: list[tuple[str, str, bool, Entity]]
    generated: list[dict]


def location_analyze(*, type: str, target: str, actor, catalog_filename: str = DEFAULT_GIT_PATH) -> LocationAnalysis:
    """Read a target as registering it would, keeping nothing. A repository or folder target is looked for
    ``catalog_filename`` in; a target without one gets a Component to fill in. Raises as ``location_register``."""
    target = _target_checked(type, _catalog_file(type, target, catalog_filename), actor)
    registered = Location.objects.filter(type=type, target=target).first()
    if registered is not None:
        return LocationAnalysis([(type, e.source_target or target, True, e) for e in location_entities(registered)], [])
    try:
        with read_deadline(settings.CATALOG_REQUEST_DEADLINE_SECONDS), ReadSession() as session:
            session.read(type, target)
    except TargetNotFound:
        return LocationAnalysis([], [_suggested_component(type, target)])
    except ReadError as exc:
        raise ValueError(f"location.target: {exc}") from exc
    result = location_register(type=type, target=target, actor=actor, dry_run=True)
    if result.errors and not result.entities:
        raise ValueError(f"location.target: {result.errors[0]}")
    registered_targets = set(
        Location.objects.filter(target__in={e.source_target for e in result.entities}).values_list("type", "target")
    )
    return LocationAnalysis(
        [(type, e.source_target, (type, e.source_target) in registered_targets, e) for e in result.entities], []
    )


def _catalog_file(type: str, target: str, filename: str) -> str:
    """A target that names a repository or a folder, joined with the catalog file name looked for in it."""
    if type == LocationType.GIT:
        try:
            parsed = parse_git_target(validate_target(type, target))
        except InvalidTarget as exc:
            raise ValueError(f"location.target: {exc}") from exc
        path = parsed.path
        if path == DEFAULT_GIT_PATH:  # the repository itself was named
            path = filename
        elif not path.lower().endswith((".yaml", ".yml")):
            path = posixpath.join(path, filename)
        return format_git_target(dataclasses.replace(parsed, path=path))
    if target.lower().endswith((".yaml", ".yml")):
        return target
    return f"{target.rstrip('/')}/{filename}"


def _suggested_component(type: str, target: str) -> dict:
    folder = target.partition("#")[0] if type == LocationType.GIT else posixpath.dirname(target)
    base = posixpath.basename(folder.rstrip("/")).removesuffix(".git")
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:63].strip("-") or "component"
    return {
        "entity": {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name},
            "spec": {"type": "other", "lifecycle": "unknown"},
        },
        "fields": [
            {
                "field": "spec.owner",
                "state": "needsUserInput",
                "value": None,
                "description": f"No {posixpath.basename(target) or 'catalog file'} was found there: choose the"
                " group or person that owns this component, then add the file and register it.",
            }
        ],
    }


def _register(
    *, type: str, target: str, actor, trusted: bool, owner=None, home: Iterable[str] = ()
) -> RegistrationResult:
    if Location.objects.filter(type=type, target=target).exists():
        raise CatalogConflict(f"location {type}:{target} is already registered")
    now = timezone.now()
    location = Location.objects.create(
        type=type,
        target=target,
        registered_by=next((who for who in (owner, actor) if who is not None and who.is_authenticated), None),
        trusted=trusted,
        home_of=list(home),
        next_refresh_at=now,
    )
    generated_entity_create(location)
    audit_record(actor=actor, action="location.register", obj=location, after=_snapshot(location))
    counts = location_refresh(location=location, actor=actor)
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
    counts = location_refresh(location=location, actor=actor)
    teams_sync()  # memberships drawn from this location now count, or no longer do
    _standing_changed(location)
    return counts


def _standing_changed(location: Location, refs: Iterable[str] = ()) -> None:
    """What derives from a location's standing (trusted, a data product's own repository) follows a change of it:
    the data product rules and the projections other apps draw from its entities, and from ``refs``."""
    with transaction.atomic():
        entities = Entity.objects.filter(Q(location__in=location_subtree_ids([location.pk])) | Q(ref__in=list(refs)))
        entities_changed_send(list(entities.values_list("document", flat=True)))


def location_adopt(*, location: Location, actor, adopted: bool = True) -> ProcessCounts:
    """Staff record the Git repository a location reads as the own repository of the data products it holds, as
    if Meshforge had created it for them (or, with ``adopted=False``, no longer), then re-process it: from now on
    those products count, and win their refs over untrusted locations (PRODUCT §3.2)."""
    if not (actor and actor.is_staff):
        raise PermissionDenied("only staff may adopt a repository as the own repository of its data products")
    if location.type != LocationType.GIT:
        raise CatalogConflict("only a Git repository can be a data product's own repository")
    with transaction.atomic():
        location = Location.objects.select_for_update().get(pk=location.pk)
        before = _snapshot(location)
        home = []
        if adopted:
            repository = parse_git_target(location.target).repository
            held = Entity.objects.filter(
                location__in=location_subtree_ids([location.pk]),
                kind__iexact="system",
                document__spec__type="dataproduct",
                orphan=False,
            ).values_list("ref", "source_target")
            home = sorted(ref for ref, source in held if repository_of(source) == repository)
            if not home:
                raise CatalogConflict(f"{location} holds no data product of its repository to adopt")
        location.home_of = home
        location.source_fingerprint = ""  # the same files now mean something else
        location.save(update_fields=["home_of", "source_fingerprint"])
        audit_record(actor=actor, action="location.adopt", obj=location, before=before, after=_snapshot(location))
    counts = location_refresh(location=location, actor=actor)
    _standing_changed(location, refs={*before.get("home_of", []), *home})  # its products count now, or no longer do
    return counts


def location_refresh(*, location: Location, actor) -> ProcessCounts:
    """Re-read a location now, in this request, within the request's deadline: for the Builder's writes to
    Meshforge's own repositories and for commands. A person's Refresh goes through location_refresh_request."""
    return location_process_tree(
        location,
        budget_seconds=settings.CATALOG_REQUEST_BUDGET_SECONDS,
        deadline_seconds=settings.CATALOG_REQUEST_DEADLINE_SECONDS,
    )


def location_is_remote(location: Location) -> bool:
    """Whether reading the location waits on another machine: a URL, or a Git repository not on this disk."""
    if location.type == LocationType.URL:
        return True
    if location.type == LocationType.GIT:
        repository = repository_of(location.target)  # None: reading it fails at once
        return repository is not None and not repository.startswith("file://")
    return False


def location_refresh_request(*, location: Location, actor) -> RefreshRequest:
    """A person asks to re-read a location (PRODUCT §3.2). A remote one is queued for the worker and the request
    answered at once, so a stalled remote never holds a web process; a local one (a file, a repository on this
    disk) is read now, within the request's deadline. A refresh of the location still waiting in the queue is
    answered with that one. People without staff rights are rate-limited per person and per location, counted
    in the database so that every web process sees the same counts (:class:`RefreshThrottled`)."""
    now = timezone.now()
    with transaction.atomic():
        pending = refresh_request_pending(location_id=location.pk)
        if pending is not None and pending.status == RefreshStatus.QUEUED:
            return pending
        if not getattr(actor, "is_staff", False):
            _refresh_throttle_check(location=location, actor=actor, now=now)
        remote = location_is_remote(location)
        refresh = RefreshRequest.objects.create(
            location=location,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            requested_at=now,
            status=RefreshStatus.QUEUED if remote else RefreshStatus.RUNNING,
            started_at=None if remote else now,
        )
        if remote:
            from catalog.tasks import refresh_requested_location

            transaction.on_commit(lambda: refresh_requested_location.delay(refresh.pk))
            return refresh
    counts = location_refresh(location=location, actor=actor)
    return _refresh_finish(refresh, counts=counts)


def entity_refresh(*, entity: Entity, actor) -> RefreshRequest | None:
    """Refresh the location that emitted an entity (the Refresh button and POST refresh); None for an orphan,
    which no location emits any more."""
    if entity.location_id is None:
        return None
    return location_refresh_request(location=entity.location, actor=actor)


def _refresh_throttle_check(*, location: Location, actor, now) -> None:
    window = settings.CATALOG_REFRESH_RATE_WINDOW_SECONDS
    since = now - timedelta(seconds=window)
    # one check at a time per person, so that concurrent requests cannot all slip under the limit
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"catalog.refresh-rate:{actor.pk}"])
    limits = (
        (
            RefreshRequest.objects.filter(requested_by=actor, requested_at__gt=since),
            settings.CATALOG_REFRESH_RATE_PER_USER,
            "you have asked for {count} refreshes",
        ),
        (
            RefreshRequest.objects.filter(location=location, requested_at__gt=since),
            settings.CATALOG_REFRESH_RATE_PER_LOCATION,
            "this location was asked to refresh {count} times",
        ),
    )
    for requests, limit, what in limits:
        times = list(requests.order_by("-requested_at").values_list("requested_at", flat=True)[:limit])
        if len(times) >= limit:
            retry_after = max(1, math.ceil((times[-1] + timedelta(seconds=window) - now).total_seconds()))
            raise RefreshThrottled(
                f"{what.format(count=limit)} in the last {window} s, the most allowed; try again in {retry_after} s"
                " (the catalog re-reads every location every few minutes anyway)",
                retry_after=retry_after,
            )


def refresh_request_run(*, refresh_id: int) -> RefreshRequest | None:
    """The worker's half of a queued refresh: take the row (compare-and-set, so a redelivered task does nothing),
    read the location and what it produced, and record the outcome on the row."""
    taken = RefreshRequest.objects.filter(pk=refresh_id, status=RefreshStatus.QUEUED).update(
        status=RefreshStatus.RUNNING, started_at=timezone.now()
    )
    if not taken:
        return None
    refresh = RefreshRequest.objects.select_related("location").get(pk=refresh_id)
    try:
        counts = location_process_tree(
            refresh.location, budget_seconds=settings.CATALOG_TICK_SECONDS * 5, deadline_seconds=None
        )
    except Exception as exc:  # recorded for the person waiting on the page, then raised for the worker's log
        RefreshRequest.objects.filter(pk=refresh_id).update(
            status=RefreshStatus.FAILED,
            finished_at=timezone.now(),
            errors=[f"the refresh failed: {exc.__class__.__name__}: {exc}"[:500]],
        )
        raise
    return _refresh_finish(refresh, counts=counts)


def _refresh_finish(refresh: RefreshRequest, *, counts: ProcessCounts) -> RefreshRequest:
    """Record what a refresh did, and the errors its location tree holds now."""
    tree = location_subtree_ids([refresh.location_id])
    errors = [
        error
        for errors in Location.objects.filter(pk__in=tree).order_by("pk").values_list("errors", flat=True)[:50]
        for error in errors
    ][:20]
    own_errors = Location.objects.filter(pk=refresh.location_id).values_list("errors", flat=True).first()
    refresh.status = RefreshStatus.FAILED if own_errors else RefreshStatus.DONE
    refresh.finished_at = timezone.now()
    refresh.counts = counts.as_dict()
    refresh.errors = errors
    refresh.save(update_fields=["status", "finished_at", "counts", "errors"])
    return refresh


def refresh_requests_purge(*, older_than: timedelta) -> int:
    """Forget finished refresh requests older than the rate-limit window needs (kept a day for the admin)."""
    return RefreshRequest.objects.filter(requested_at__lt=timezone.now() - older_than).delete()[0]


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
