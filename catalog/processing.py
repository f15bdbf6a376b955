"""Catalog processing (PRODUCT §3.2): read a location, validate what it emits, and write entities, relations
and search rows in one transaction per location. The background loop, registration, the Refresh button and
the commands all come through :func:`locations_process`.

Unchanged sources are settled for a whole batch with one query and no entity writes; a location whose source
changed is planned (parsed, validated, compared with what the catalog holds) and written under a row lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import posixpath
import random
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Lookup, Q
from django.utils import timezone

from catalog.choices import LocationPresence, LocationType
from catalog.membership import component_belongs, data_product_problem, location_vouches_for
from catalog.models import Entity, EntitySearch, Location, Relation
from catalog.readers import (
    ReadError,
    ReadSession,
    TargetNotFound,
    check_target_allowed,
    parse_git_target,
    resolve_target,
    validate_target,
)
from catalog.readers.budget import read_deadline
from catalog.refs import EntityRef, RefError, parse_ref, ref_of
from catalog.signals import entities_changed
from catalog.teams import teams_sync
from catalog.validation import (
    entity_relations,
    is_data_product,
    normalize_entity,
    validate_data_product,
    validate_entity,
)
from core.bulk import copy_create, copy_insert, copy_rows, update_rows
from core.yaml import YamlError, load_all

logger = logging.getLogger(__name__)

# Kinds honoured only from trusted locations (PRODUCT §3.2).
TRUSTED_KINDS = frozenset(
    {"template", "edittemplate", "reverseprovisioningtemplate", "accesscontrolrequesttemplate", "group", "user"}
)
TEAM_KINDS = frozenset({"group", "user"})
MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN_LOCATION = "backstage.io/managed-by-origin-location"  # the registered location of the tree
ENTITY_WRITE_FIELDS = [
    *("kind", "namespace", "name", "document", "result_hash", "location", "source_target", "source_revision"),
    *("orphan", "orphaned_at", "errors", "dp_errors", "has_errors", "search_text", "source_text", "updated_at"),
]


@dataclass
class ProcessCounts:
    """What a run did, counted in entities (and locations that failed to read or validate)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    orphaned: int = 0
    locations: int = 0
    teams_changed: bool = False  # a Group or User entity changed: memberships are synced once per run

    COUNTED = ("added", "updated", "unchanged", "failed", "orphaned", "locations")

    def __iadd__(self, other: ProcessCounts) -> ProcessCounts:
        for name in self.COUNTED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.teams_changed |= other.teams_changed
        return self

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTED}


@dataclass
class _Emitted:
    ref: EntityRef
    document: dict
    result_hash: str
    source_text: str = ""


@dataclass
class _Plan:
    """What one read of a location says the catalog should hold."""

    valid: dict[str, _Emitted] = field(default_factory=dict)
    invalid: dict[str, list[str]] = field(default_factory=dict)  # ref key -> errors (last good version kept)
    children: dict[tuple[str, str], str] = field(default_factory=dict)  # (type, target) -> presence
    errors: list[str] = field(default_factory=list)
    keep_children: bool = False  # a Location document in it is invalid: keep the child locations it had
    children_refused: str = ""  # why its targets went over a limit: its Location entities stay as they were
    failed_whole: bool = False  # unreadable or not YAML: every entity of the location keeps its last good version
    keep_entities: bool = False  # a document without a usable name: orphan nothing this time
    origin: str = ""  # the registered location of the tree, for backstage.io/managed-by-origin-location


class _AnyOf(Lookup):
    """``field = ANY(%s)``, the values passed as one array: the batch queries name hundreds of ids or refs, and
    building and quoting ``IN (%s, %s, …)`` with one parameter each cost milliseconds of Python per query."""

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs, rhs: Iterable) -> None:
        super().__init__(lhs, list(rhs))

    def process_rhs(self, compiler, connection):
        return "%s", [self.rhs]

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} = ANY({rhs_sql})", [*lhs_params, *rhs_params]


def next_refresh_time(now: datetime | None = None) -> datetime:
    low, high = settings.CATALOG_REFRESH_MIN_SECONDS, settings.CATALOG_REFRESH_MAX_SECONDS
    delay = random.uniform(low, high)  # noqa: S311 - spreads the load, not a secret
    return (now or timezone.now()) + timedelta(seconds=delay)


def _fit(fingerprint: str) -> str:
    """Fingerprints are compared, never read: one longer than the column (a huge ETag) is stored as its hash."""
    if len(fingerprint) <= 200:
        return fingerprint
    return "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()


def source_name(location: Location) -> str:
    """How messages name the file a location reads: the path inside the repository for Git, else the target."""
    if location.type == LocationType.GIT:
        try:
            return parse_git_target(location.target).path
        except ReadError:
            return location.target
    return location.target


def claim_due_locations(*, limit: int) -> list[int]:
    """Claim up to ``limit`` due locations for this process: their next refresh moves to now + a random delay
    in the same statement, and rows another process holds are skipped, so no location is claimed twice."""
    low, high = settings.CATALOG_REFRESH_MIN_SECONDS, settings.CATALOG_REFRESH_MAX_SECONDS
    with transaction.atomic(), connection.cursor() as cursor:
        _commit_without_flush()
        cursor.execute(
            """
            UPDATE catalog_location
            SET next_refresh_at = %(now)s + (%(low)s + random() * %(spread)s) * interval '1 second'
            WHERE id IN (
                SELECT id FROM catalog_location WHERE next_refresh_at <= %(now)s
                ORDER BY next_refresh_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
            )
            RETURNING id
            """,
            # the clock, not now(): now() is when the surrounding transaction began
            {"now": timezone.now(), "low": low, "spread": high - low, "limit": limit},
        )
        return sorted(row[0] for row in cursor.fetchall())


# A run of the loop that added this many entities was a bulk load (a large tree registered): the planner's
# statistics are refreshed at once, not when autovacuum gets to them up to a minute later, since a fresh table
# without statistics makes PostgreSQL pick plans (a full-text search starting from every search row) that cost
# several times the right one.
BULK_LOAD_ENTITIES = 5000


def statistics_refresh() -> None:
    """``ANALYZE`` the tables that catalog queries filter on (about a second at 20,000 entities)."""
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in (Entity, EntitySearch, Relation))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _commit_without_flush() -> None:
    """Let the current transaction's commit return before its WAL reaches the disk (PostgreSQL's asynchronous
    commit), for the loop's own writes only: the catalog is derived from its sources, so a server crash that loses
    the last fraction of a second of commits loses nothing but work the next refresh does again (the rows go back
    to their state before, consistent, never half-written), and the loop no longer waits on a disk flush per
    batch. Nothing outside the database is told of these commits."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def locations_process(location_ids: Iterable[int], *, session: ReadSession, force: bool = False) -> ProcessCounts:
    """Process the given locations. Unchanged sources (same fingerprint, no errors to clear) are settled in one
    query. The changed ones are planned one by one and written together in one transaction, each location's
    writes complete or absent; when that transaction fails (a concurrent write raced it), each location is
    written again in a transaction of its own so only the one concerned fails. ``force`` re-reads and
    re-plans even unchanged sources (manual refresh, trust changes)."""
    counts = ProcessCounts()
    # plain rows, not model instances: in a steady catalog nearly every location is unchanged
    rows = Location.objects.filter(_AnyOf(F("pk"), location_ids)).order_by("pk")
    settled: list[int] = []
    changed: list[tuple[int, object, str]] = []
    reads = [
        (pk, type_, target, fingerprint, None if force or errors else fingerprint or None)
        for pk, type_, target, fingerprint, errors in rows.values_list(
            "pk", "type", "target", "source_fingerprint", "errors"
        )
    ]
    session.prefetch([(type_, target, previous) for _, type_, target, _, previous in reads])
    for pk, type_, target, fingerprint, previous in reads:
        counts.locations += 1
        try:
            result = session.read(type_, target, previous=previous)
        except ReadError as exc:
            result = exc
        except Exception as exc:  # a reader's bug must cost this location, not the whole batch
            logger.exception("catalog location %s could not be read", pk)
            result = ReadError(f"unexpected error while reading: {exc.__class__.__name__}: {exc}")
        if previous is not None and not isinstance(result, ReadError) and result.unchanged:
            settled.append(pk)
            counts.unchanged += 1  # a location file holds about one entity in a large tree; counted per file
            continue
        changed.append((pk, result, fingerprint))
    if changed:
        try:
            with transaction.atomic():
                _commit_without_flush()
                counts += _process_batch(changed, session=session)
        except DatabaseError:
            logger.warning("catalog batch of %d locations failed; writing them one by one", len(changed))
            for item in changed:
                try:
                    with transaction.atomic():
                        counts += _process_batch([item], session=session)
                except DatabaseError as exc:
                    logger.exception("catalog location %s could not be written", item[0])
                    counts.failed += 1
                    message = f"the catalog could not store what this location holds: {str(exc).strip()[:300]}"
                    Location.objects.filter(pk=item[0]).update(errors=[message], last_attempt_at=timezone.now())
    if settled:
        now = timezone.now()
        Location.objects.filter(_AnyOf(F("pk"), settled)).update(last_attempt_at=now, last_success_at=now)
    if counts.teams_changed:
        teams_sync()
    return counts


def location_process_tree(
    location: Location, *, budget_seconds: float, deadline_seconds: float | None = None, force: bool = True
) -> ProcessCounts:
    """Process a location at once, then the child locations it produced that are due, breadth first, until
    the time budget is spent; the background loop picks up the rest. Used in requests, commands and the worker's
    queued refreshes. With ``deadline_seconds`` (in a request) every read, lock waits included, ends by then:
    what it cuts short is an error on its location that the loop clears later."""
    deadline = time.monotonic() + budget_seconds
    counts = ProcessCounts()
    Location.objects.filter(pk=location.pk).update(next_refresh_at=next_refresh_time())  # read now, not next tick
    hard_deadline = read_deadline(deadline_seconds) if deadline_seconds is not None else contextlib.nullcontext()
    with hard_deadline, ReadSession() as session:
        counts += locations_process([location.pk], session=session, force=force)
        frontier = [location.pk]
        while frontier and time.monotonic() < deadline:
            due = list(
                Location.objects.filter(parent_id__in=frontier, next_refresh_at__lte=timezone.now()).values_list(
                    "pk", flat=True
                )
            )
            for start in range(0, len(due), settings.CATALOG_BATCH_SIZE):
                if time.monotonic() >= deadline:
                    break
                batch = due[start : start + settings.CATALOG_BATCH_SIZE]
                Location.objects.filter(pk__in=batch).update(next_refresh_at=next_refresh_time())
                counts += locations_process(batch, session=session, force=force)
            frontier = due
    return counts


@dataclass
class _Outcome:
    location: Location
    plan: _Plan
    fingerprint: str
    revision: str


def _process_batch(changed: list[tuple[int, object, str]], *, session: ReadSession) -> ProcessCounts:
    now = timezone.now()
    locked = {
        location.pk: location
        for location in Location.objects.select_for_update(of=("self",))
        .filter(_AnyOf(F("pk"), [pk for pk, _, _ in changed]))
        .order_by("pk")
    }
    outcomes = []
    origins = location_origins(list(locked))
    for pk, result, seen_fingerprint in changed:
        location = locked.get(pk)
        if location is None:
            continue  # unregistered meanwhile
        if location.source_fingerprint != seen_fingerprint:
            continue  # another process wrote it while we read: what it wrote is as new as what we hold
        location.last_attempt_at = now
        if not isinstance(result, ReadError) and result.content is None:
            try:  # the source changed since its fingerprint was compared: read it whole
                result = session.read(location.type, location.target, previous=None)
            except ReadError as exc:
                result = exc
        if isinstance(result, TargetNotFound) and location.presence == LocationPresence.OPTIONAL:
            outcomes.append(_Outcome(location, _Plan(), "", ""))
        elif isinstance(result, ReadError):
            plan = _Plan(errors=[f"{source_name(location)}: {result}"], failed_whole=True)
            outcomes.append(_Outcome(location, plan, location.source_fingerprint, location.source_revision))
        else:
            try:
                plan = _plan(location, result.content, origin=origins.get(pk, ""))
            except Exception as exc:  # a bug in validation must cost this location, not the whole batch
                logger.exception("catalog location %s could not be planned", pk)
                plan = _Plan(errors=[f"{source_name(location)}: unexpected error: {exc.__class__.__name__}"])
                plan.failed_whole = True
            outcomes.append(_Outcome(location, plan, result.fingerprint, result.revision))
    counts = _apply(outcomes, now=now)
    for outcome in outcomes:
        location = outcome.location
        location.errors = outcome.plan.errors
        location.source_fingerprint, location.source_revision = _fit(outcome.fingerprint), outcome.revision
        if not outcome.plan.errors:
            location.last_success_at = now
    update_rows(
        [outcome.location for outcome in outcomes],
        ["last_attempt_at", "last_success_at", "errors", "source_fingerprint", "source_revision"],
    )
    return counts


def _plan(location: Location, content: bytes, *, origin: str) -> _Plan:
    plan = _Plan(origin=origin or f"{location.type}:{location.target}")
    source = source_name(location)
    try:
        documents = load_all(content, source=source)
    except YamlError as exc:
        plan.errors.append(str(exc))
        plan.failed_whole = True
        return plan
    texts = split_documents(content)
    if len(texts) != len(documents):
        texts = [""] * len(documents)  # an unusual layout: the page shows the document re-dumped instead
    for index, (document, text) in enumerate(zip(documents, texts, strict=True)):
        where = source if len(documents) == 1 else f"{source} (document {index + 1})"
        _plan_document(location, document, where, plan, text)
    return plan


_DOCUMENT_START = re.compile(r"^---(?=\s|$)", re.MULTILINE)
_DOCUMENT_END = re.compile(r"^\.\.\.(?=\s|$)", re.MULTILINE)


def split_documents(content: bytes | str) -> list[str]:
    """Each document's own text, as written (comments and key order kept), for the entity page. Documents
    start at a ``---`` line and are empty when they hold nothing but comments, like ``core.yaml.load_all``
    skips them; the caller checks that the count matches what the loader found."""
    text = content.decode("utf-8-sig", "replace") if isinstance(content, bytes) else content
    starts = [match.start() for match in _DOCUMENT_START.finditer(text)] if "---" in text else []
    documents = []
    for start, end in itertools.pairwise([0, *starts, len(text)]):
        chunk = text[start:end]
        if "..." in chunk:
            chunk = _DOCUMENT_END.split(chunk, maxsplit=1)[0]
        body = chunk[3:] if chunk.startswith("---") else chunk
        if any(line.strip() and not line.lstrip().startswith("#") for line in body.splitlines()):
            documents.append(chunk.strip("\n") + "\n")
    return documents


def _plan_document(location: Location, document: object, source: str, plan: _Plan, text: str = "") -> None:
    errors = validate_entity(document, source=source)
    try:
        ref = ref_of(document) if isinstance(document, dict) else None
    except (RefError, TypeError, AttributeError):
        ref = None
    if ref is not None and ref.kind.lower() in TRUSTED_KINDS and not location.trusted:
        plan.errors.append(
            f"{source}: kind {ref.kind} is accepted only from trusted locations (templates and team membership"
            f" come from locations a platform admin has marked trusted); {ref.key} was not added"
        )
        return
    processed = normalize_entity(document) if not errors else None
    if processed is not None:  # as Backstage annotates: clients use it to find an entity's location
        annotations = processed["metadata"].setdefault("annotations", {})
        annotations[MANAGED_BY_LOCATION] = f"{location.type}:{location.target}"
        annotations[MANAGED_BY_ORIGIN_LOCATION] = plan.origin
    canonical = _canonical_json(processed) if processed is not None else ""
    if "\\u0000" in canonical:  # PostgreSQL's jsonb cannot hold NUL
        errors = [f"{source}: contains a NUL character (\\0), which the catalog cannot store"]
    if errors:
        plan.errors.extend(errors)
        if ref is not None:
            plan.invalid.setdefault(ref.key, []).extend(errors)
        else:
            plan.keep_entities = True  # which entity broke is unknown: none of the file's is orphaned for it
        if isinstance(document, dict) and str(document.get("kind", "")).lower() == "location":
            plan.keep_children = True  # its targets are unknown: keep the child locations it had
        return
    if ref.key in plan.valid:
        plan.errors.append(f"{source}: {ref.key} appears twice in this location; the first one is kept")
        return
    # the text as written counts too: a changed comment is shown on the entity page after the next refresh
    result_hash = hashlib.sha256(f"{canonical}\n{text}".encode()).hexdigest()
    plan.valid[ref.key] = _Emitted(ref=ref, document=processed, result_hash=result_hash, source_text=text)
    if ref.kind.lower() == "location":
        _plan_children(location, processed.get("spec") or {}, source, plan)


def _plan_children(location: Location, spec: dict, source: str, plan: _Plan) -> None:
    targets = [spec["target"]] if isinstance(spec.get("target"), str) else list(spec.get("targets") or [])
    limit = settings.CATALOG_MAX_TARGETS_PER_LOCATION
    named = len(plan.children) + len(targets)  # the file's earlier Location documents count too
    if not plan.children_refused and named > limit:
        plan.children_refused = (
            f"{source}: spec.targets names {named} targets; a location file may name at most {limit}"
            " (CATALOG_MAX_TARGETS_PER_LOCATION), so none of them was added"
        )
        plan.errors.append(plan.children_refused)
    if plan.children_refused:  # refused before any target is resolved: 20,000 of them cost no more than one
        _children_refuse(plan)
        return
    child_type = spec.get("type") or location.type
    presence = spec.get("presence") or LocationPresence.REQUIRED
    for index, target in enumerate(targets):
        try:
            if child_type == location.type:
                resolved = resolve_target(location.type, location.target, target)
            else:
                resolved = validate_target(child_type, target)
            # The trust rules of registering hold for targets too. Only a trusted location (staff vouched for
            # its content) gets staff rights; others may name the same repository (or, for file locations,
            # files under the allowed roots) and the allowed hosts, whoever registered them.
            contained = child_type == location.type == LocationType.FILE or (
                child_type == location.type == LocationType.GIT
                and parse_git_target(resolved).repository == parse_git_target(location.target).repository
            )
            check_target_allowed(child_type, resolved, is_staff=location.trusted or contained)
        except ReadError as exc:
            plan.errors.append(f"{source}: spec.targets[{index}] {exc}")
            continue
        if (child_type, resolved) == (location.type, location.target):
            plan.errors.append(f"{source}: spec.targets[{index}] names this same location")
            continue
        plan.children[(child_type, resolved)] = presence


def _children_refuse(plan: _Plan) -> None:
    """A limit refused the file's targets: its child locations stay as they were, and so do its Location
    entities (their last good version, with the error), so that the catalog never holds half of the change."""
    plan.keep_children = True
    for key, emitted in list(plan.valid.items()):
        if emitted.ref.kind.lower() == "location":
            del plan.valid[key]
            plan.invalid[key] = [plan.children_refused]


def _canonical_json(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def document_hash(document: dict) -> str:
    return hashlib.sha256(_canonical_json(document).encode()).hexdigest()


def _apply(outcomes: list[_Outcome], *, now: datetime) -> ProcessCounts:
    """Compare the plans with what the catalog holds and write the difference, for a batch of locations in
    bulk. Locations earlier in the batch come first when two emit the same entity."""
    counts = ProcessCounts()
    location_ids = {outcome.location.pk for outcome in outcomes}
    refs_all = {key for outcome in outcomes for key in (*outcome.plan.valid, *outcome.plan.invalid)}
    rows = _entities_lock(location_ids, refs_all)
    holders = {outcome.location.pk: outcome.location for outcome in outcomes}
    others = {entity.location_id for entity in rows} - holders.keys() - {None}
    if others:
        holders.update(Location.objects.in_bulk(others))
    by_ref: dict[str, Entity] = {}
    by_location: dict[int, list[Entity]] = defaultdict(list)
    for entity in rows:
        by_ref[entity.ref] = entity
        if entity.location_id in location_ids:
            by_location[entity.location_id].append(entity)
    children: dict[int, dict[tuple[str, str], Location]] = defaultdict(dict)
    for child in Location.objects.filter(_AnyOf(F("parent_id"), location_ids)):
        children[child.parent_id][(child.type, child.target)] = child
    _children_limit(outcomes, children)

    claimed: dict[str, Location] = {}
    touched_docs: list[dict] = []
    to_create: list[Entity] = []
    to_update: dict[int, Entity] = {}
    gone_children: list[Location] = []
    new_children: list[tuple[Location, _Plan, str, str, str]] = []
    plans = {outcome.location.pk: outcome.plan for outcome in outcomes}
    for outcome in outcomes:
        location, plan = outcome.location, outcome.plan
        touched_before = len(touched_docs)
        generated_ref = f"location:default/{location.generated_entity_name}"
        own = [entity for entity in by_location[location.pk] if not entity.orphan and entity.ref != generated_ref]
        if plan.failed_whole:  # unreadable: every entity keeps its last good version, showing why it is stale
            plan.invalid.update({entity.ref: list(plan.errors) for entity in own})
        counts.failed += len(plan.invalid)
        for key, emitted in plan.valid.items():
            entity = by_ref.get(key)
            first = claimed.get(key)
            if first is None and entity is not None and entity.location_id != location.pk and not entity.orphan:
                first = holders.get(entity.location_id)
            if first is not None and first.pk != location.pk:
                if not _conflict_won(location, first, key):
                    _conflict_error(plan.errors, loser=location, winner=first, key=key)
                    counts.failed += 1
                    continue
                # a trusted location or the product's own repository takes the entity over from an untrusted one
                loser_plan = plans.get(first.pk)
                if loser_plan is not None:
                    _conflict_error(loser_plan.errors, loser=first, winner=location, key=key)
                else:
                    Location.objects.filter(pk=first.pk).update(
                        errors=_conflict_error(list(first.errors), loser=first, winner=location, key=key)
                    )
                counts.failed += 1
            claimed[key] = location
            if entity is None:
                entity = _new_entity(emitted, location, outcome.revision)
                by_ref[key] = entity
                to_create.append(entity)
                touched_docs.append(entity.document)
                counts.added += 1
                continue
            same = entity.result_hash == emitted.result_hash and entity.location_id == location.pk
            if same and not entity.orphan and not entity.errors:
                counts.unchanged += 1
                continue
            if not same:
                touched_docs.append(entity.document)  # its former data product, if it moved
            _fill_entity(entity, emitted, location, outcome.revision)
            to_update[id(entity)] = entity
            touched_docs.append(entity.document)
            counts.updated += 1
        for key, errors in plan.invalid.items():
            entity = by_ref.get(key)
            if entity is not None and entity.location_id == location.pk and entity.errors != errors:
                entity.errors, entity.has_errors = errors, True
                to_update[id(entity)] = entity
        emitted_refs = set(plan.valid) | set(plan.invalid)
        for entity in own:
            if entity.location_id != location.pk:
                continue  # taken over in this batch by a location that wins the conflict
            if entity.ref not in emitted_refs and not plan.keep_entities:
                entity.orphan, entity.orphaned_at = True, now
                to_update[id(entity)] = entity
                touched_docs.append(entity.document)
                counts.orphaned += 1
        if not (plan.failed_whole or plan.keep_children):
            current = children[location.pk]
            gone_children += [child for key, child in current.items() if key not in plan.children]
            new_children += [
                (location, plan, type_, target, presence)
                for (type_, target), presence in plan.children.items()
                if (type_, target) not in current
            ]
            for (type_, target), presence in plan.children.items():
                child = current.get((type_, target))
                if child is not None and child.presence != presence:
                    Location.objects.filter(pk=child.pk).update(presence=presence)
        counts.teams_changed |= _has_team_kinds(touched_docs[touched_before:])

    if to_create:
        copy_create(to_create, with_ids=True)
    if to_update:
        for entity in to_update.values():
            entity.updated_at = now
        update_rows(list(to_update.values()), ENTITY_WRITE_FIELDS)
    rewritten = [entity for entity in to_update.values() if entity.ref in claimed and not entity.orphan]
    if to_create or rewritten:
        _write_derived(to_create + rewritten, replaced=rewritten)
    if gone_children:
        counts.orphaned += locations_delete(gone_children, now=now)
    if new_children:
        _children_create(new_children, now=now)
    _entities_follow_up(touched_docs)
    return counts


def _entities_lock(location_ids: set[int], refs: set[str]) -> list[Entity]:
    """The entities of these locations and those with these refs, locked (in id order), so that two processes
    cannot both take over one orphan or both rewrite one entity. Their ids come first from two queries that each
    use an index or a hashed list: one condition ``location IN (…) OR ref IN (…)`` is checked row by row against
    both lists, which made each batch of a first ingest slower as the catalog grew."""
    ids = set(Entity.objects.filter(_AnyOf(F("location_id"), location_ids)).values_list("pk", flat=True).order_by())
    if refs:
        ids.update(Entity.objects.filter(_AnyOf(F("ref"), refs)).values_list("pk", flat=True).order_by())
    if not ids:
        return []
    return list(Entity.objects.select_for_update(of=("self",)).filter(_AnyOf(F("pk"), ids)).order_by("pk"))


def _conflict_won(challenger: Location, holder: Location, key: str) -> bool:
    """Whether ``challenger`` takes entity ``key`` from ``holder``, which emitted it first: only a location that
    vouches for it (trusted, or the data product's own repository) wins over one that does not."""
    return location_vouches_for(challenger, key) and not location_vouches_for(holder, key)


def _conflict_error(errors: list[str], *, loser: Location, winner: Location, key: str) -> list[str]:
    """Add the conflict error (naming both locations) to the loser's ``errors`` once, and return them."""
    if location_vouches_for(winner, key) and not location_vouches_for(loser, key):
        why = "a trusted location or the data product's own repository wins over an untrusted location"
    else:
        why = "the first one is kept"
    message = f"{source_name(loser)}: {key} conflicts with the same entity from location {winner}; {why}"
    if message not in errors:
        errors.append(message)
    return errors


def _entities_follow_up(documents: list[dict]) -> None:
    """What follows entities being written, orphaned or deleted: the rules of the data products they are or
    belong to, then the listeners of ``entities_changed``."""
    dp_keys = _data_product_keys(documents)
    if dp_keys:
        data_products_check(dp_keys)
    if documents:
        _changed_send(documents, dp_keys)


def entities_changed_send(documents: list[dict]) -> None:
    """Tell the listeners of ``entities_changed`` that these entities changed although their documents did not
    (their location's trust did, or whose own repository it is), so that what derives from that follows: the
    data product rules, which say why a product from elsewhere is not taken, and the projections."""
    if documents:
        dp_keys = _data_product_keys(documents)
        if dp_keys:
            data_products_check(dp_keys)
        _changed_send(documents, dp_keys)


def _changed_send(documents: list[dict], system_keys: set[str]) -> None:
    refs = set()
    for document in documents:
        try:
            refs.add(ref_of(document).key)
        except (RefError, TypeError, AttributeError):
            continue
    entities_changed.send(sender=Entity, refs=frozenset(refs), system_keys=frozenset(system_keys))


def _children_limit(outcomes: list[_Outcome], children: dict[int, dict[tuple[str, str], Location]]) -> None:
    """Refuse the targets of a location file that would make its tree deeper or larger than allowed, before
    anything is written. Trees are measured only when a location gains child locations, which a steady catalog
    seldom does. Locations of one tree written at the same time by two processes may overshoot the size a little:
    the limit stops runaway fan-out, it is not an exact count."""
    growing: list[tuple[_Outcome, int]] = []
    for outcome in outcomes:
        plan = outcome.plan
        if plan.failed_whole or plan.keep_children:
            continue
        current = children[outcome.location.pk]
        added = sum(1 for key in plan.children if key not in current)
        if added:  # a dropped child counts as one location less, whatever hangs below it
            growing.append((outcome, added - sum(1 for key in current if key not in plan.children)))
    if not growing:
        return
    places = _location_places([outcome.location.pk for outcome, _ in growing])
    sizes = _tree_sizes({root for root, _ in places.values()})
    max_depth, max_size = settings.CATALOG_MAX_LOCATION_DEPTH, settings.CATALOG_MAX_LOCATIONS_PER_TREE
    for outcome, growth in growing:
        root, depth = places[outcome.location.pk]
        source = source_name(outcome.location)
        if depth + 1 > max_depth:
            message = (
                f"{source}: spec.targets would add locations {depth + 1} levels below the registered location;"
                f" a location tree may be at most {max_depth} levels deep (CATALOG_MAX_LOCATION_DEPTH),"
                " so none of them was added"
            )
        elif sizes[root] + growth > max_size:
            message = (
                f"{source}: spec.targets would make this location tree {sizes[root] + growth} locations;"
                f" a tree may hold at most {max_size} (CATALOG_MAX_LOCATIONS_PER_TREE), so none of them was added"
            )
        else:
            sizes[root] += growth
            continue
        outcome.plan.children_refused = message
        outcome.plan.errors.append(message)
        _children_refuse(outcome.plan)


def _location_places(location_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each location's registered (root) location and how many levels below it the location is."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE up(start, id, parent_id, depth) AS (
                SELECT id, id, parent_id, 0 FROM catalog_location WHERE id = ANY(%s)
                UNION ALL
                SELECT up.start, parent.id, parent.parent_id, up.depth + 1
                FROM catalog_location parent JOIN up ON parent.id = up.parent_id
            )
            SELECT start, id, depth FROM up WHERE parent_id IS NULL
            """,
            [location_ids],
        )
        return {start: (root, depth) for start, root, depth in cursor.fetchall()}


def _tree_sizes(root_ids: set[int]) -> dict[int, int]:
    """How many locations each tree holds, its registered location included."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE tree(root, id) AS (
                SELECT id, id FROM catalog_location WHERE id = ANY(%s)
                UNION ALL
                SELECT tree.root, child.id FROM catalog_location child JOIN tree ON child.parent_id = tree.id
            )
            SELECT root, count(*) FROM tree GROUP BY root
            """,
            [sorted(root_ids)],
        )
        return dict(cursor.fetchall())


def _children_create(new_children: list[tuple[Location, _Plan, str, str, str]], *, now: datetime) -> None:
    """Child locations for new targets, first-come: a target already registered elsewhere is an error on the
    location that names it."""
    types, targets = {child[2] for child in new_children}, {child[3] for child in new_children}
    taken = set(
        Location.objects.filter(_AnyOf(F("type"), types), _AnyOf(F("target"), targets)).values_list("type", "target")
    )
    rows = []
    for parent, plan, type_, target, presence in new_children:
        if (type_, target) in taken:
            plan.errors.append(f"{source_name(parent)}: target {type_}:{target} is already registered elsewhere")
            continue
        taken.add((type_, target))
        rows.append(
            {
                "type": type_,
                "target": target,
                "parent_id": parent.pk,
                "presence": presence,
                "registered_by_id": parent.registered_by_id,
                "trusted": parent.trusted,
                "next_refresh_at": now,
            }
        )
    copy_insert(Location, rows)  # a shard of a large tree names thousands: rows, not model objects


def _has_team_kinds(documents: list[dict]) -> bool:
    return any(str(document.get("kind", "")).lower() in TEAM_KINDS for document in documents)


def _new_entity(emitted: _Emitted, location: Location, revision: str) -> Entity:
    entity = Entity(ref=emitted.ref.key)
    _fill_entity(entity, emitted, location, revision)
    return entity


def _fill_entity(entity: Entity, emitted: _Emitted, location: Location, revision: str) -> None:
    metadata = emitted.document.get("metadata") or {}
    entity.kind = emitted.ref.kind
    entity.namespace = emitted.ref.namespace
    entity.name = emitted.ref.name
    entity.document = emitted.document
    entity.result_hash = emitted.result_hash
    entity.location = location
    entity.source_target = location.target
    entity.source_revision = revision
    entity.source_text = emitted.source_text
    entity.orphan, entity.orphaned_at = False, None
    entity.errors = []
    entity.dp_errors = []  # re-evaluated for its data product right after the write
    entity.has_errors = False
    spec = emitted.document.get("spec") if isinstance(emitted.document.get("spec"), dict) else {}
    words = [metadata.get("name"), metadata.get("title"), metadata.get("description"), spec.get("type")]
    words += [tag for tag in metadata.get("tags") or [] if isinstance(tag, str)]
    entity.search_text = " ".join(str(word) for word in words if word).lower()


def _write_derived(entities: list[Entity], *, replaced: list[Entity] | None = None) -> None:
    """Write the relations and search rows of entities whose document changed (COPY: the hot path of ingest),
    replacing those of ``replaced`` (all of them when not given; a new entity has none yet)."""
    ids = [entity.pk for entity in (entities if replaced is None else replaced)]
    if ids:
        Relation.objects.filter(_AnyOf(F("originating_id"), ids)).delete()
        EntitySearch.objects.filter(_AnyOf(F("entity_id"), ids)).delete()
    relations: list[tuple] = []
    rows: list[tuple] = []
    for entity in entities:
        relations += [(entity.pk, *triple) for triple in entity_relations(entity.document)]
        rows += [(entity.pk, *row) for row in search_rows(entity)]
    copy_rows(Relation, ["originating_id", "source_ref", "type", "target_ref"], relations)
    copy_rows(EntitySearch, ["entity_id", "key", "value", "original_value"], rows)


# Roots that Backstage's search table leaves out: they are the catalog's own output, not the entity's data.
_SEARCH_SKIPPED_ROOTS = frozenset({"attachments", "relations", "status"})


def search_rows(entity: Entity) -> list[tuple[str, str | None, str | None]]:
    """The ``(key, lower-cased value, value as written)`` rows of an entity's document, as Backstage's search
    table holds them: a list of strings also gives ``<key>.<item> = true`` per item, so that a filter can ask
    for two tags at once. (``relations.<type>`` filters and facets read the relation rows themselves.)"""
    rows: dict[tuple[str, str | None], str | None] = {}

    def leaf(key: str, value: object) -> None:
        if len(key) > 200:
            return
        if value is None:
            rows.setdefault((key, None), None)
            return
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if len(text) <= EntitySearch.MAX_VALUE_LENGTH:
            rows.setdefault((key, text.lower()), text)
        else:  # too long to match on: the key still exists, as in Backstage
            rows.setdefault((key, None), None)

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                key = str(key).lower()
                if prefix or key not in _SEARCH_SKIPPED_ROOTS:
                    walk(f"{prefix}.{key}" if prefix else key, child)
        elif isinstance(value, list):
            for child in value:
                walk(prefix, child)
                if isinstance(child, str):
                    leaf(f"{prefix}.{child.lower()}", True)
        else:
            leaf(prefix, value)

    walk("", entity.document)
    leaf("metadata.uid", str(entity.uid))
    return [(key, value, original) for (key, value), original in rows.items()]


def locations_delete(locations: list[Location], *, now: datetime, delete_entities: bool = False) -> int:
    """Remove locations and their subtrees. Their entities become orphans (a target dropped from a Location
    file) or, when a person unregisters, are deleted with them in the same transaction. Returns how many
    entities became orphans."""
    ids = location_subtree_ids([location.pk for location in locations])
    entities = Entity.objects.filter(location_id__in=ids)
    docs = list(entities.values_list("document", flat=True))
    orphaned = 0
    if delete_entities:
        entities.delete()
    else:
        orphaned = entities.filter(orphan=False).update(orphan=True, orphaned_at=now)
        entities.update(location=None)
    Location.objects.filter(pk__in=ids).delete()
    _entities_follow_up(docs)
    if _has_team_kinds(docs):
        teams_sync()
    return orphaned


def location_origins(location_ids: list[int]) -> dict[int, str]:
    """The ``type:target`` of the registered location at the top of each location's tree: one query per level
    of the trees, each reading by primary key only the locations not seen yet (a batch's locations share their
    few parents), so that it costs the same in a catalog of any size."""
    parents: dict[int, int | None] = {}
    roots: dict[int, str] = {}
    wanted = set(location_ids)
    while wanted:
        rows = Location.objects.filter(_AnyOf(F("pk"), wanted)).values_list("pk", "parent_id", "type", "target")
        wanted = set()
        for pk, parent_id, type_, target in rows:
            parents[pk] = parent_id
            if parent_id is None:
                roots[pk] = f"{type_}:{target}"
            elif parent_id not in parents:
                wanted.add(parent_id)
        wanted -= parents.keys()
    origins = {}
    for start in location_ids:
        node, seen = start, set()
        while parents.get(node) is not None and node not in seen:
            seen.add(node)
            node = parents[node]
        if node in roots:
            origins[start] = roots[node]
    return origins


def location_subtree_root_id(location_id: int) -> int:
    """The registered location at the top of the tree that ``location_id`` belongs to."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE up(id, parent_id) AS (
                SELECT id, parent_id FROM catalog_location WHERE id = %s
                UNION
                SELECT parent.id, parent.parent_id FROM catalog_location parent JOIN up ON parent.id = up.parent_id
            )
            SELECT id FROM up WHERE parent_id IS NULL
            """,
            [location_id],
        )
        row = cursor.fetchone()
    return row[0] if row else location_id


def location_subtree_ids(root_ids: list[int]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM catalog_location WHERE id = ANY(%s)
                UNION SELECT child.id FROM catalog_location child JOIN tree ON child.parent_id = tree.id
            )
            SELECT id FROM tree
            """,
            [root_ids],
        )
        return [row[0] for row in cursor.fetchall()]


# --- Rules spanning a data product ---------------------------------------------------------------------------


def _data_product_keys(documents: Iterable[dict]) -> set[str]:
    """The refs of the data products (System entities) that these documents are or belong to."""
    keys: set[str] = set()
    for document in documents:
        kind = str(document.get("kind", "")).lower()
        spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
        try:
            if kind == "system" and spec.get("type") == "dataproduct":
                keys.add(ref_of(document).key)
            elif kind == "component" and isinstance(spec.get("mesh"), dict) and isinstance(spec.get("system"), str):
                namespace = (document.get("metadata") or {}).get("namespace") or "default"
                keys.add(parse_ref(spec["system"], default_kind="system", default_namespace=namespace).key)
        except (RefError, TypeError, AttributeError):
            continue
    return keys


def data_products_check(system_keys: Iterable[str]) -> None:
    """Evaluate the rules that span each data product's entities and store their errors on the DP and on the
    offending components; errors clear as soon as the DP is consistent again."""
    for system_key in sorted(system_keys):
        # one evaluation of a data product at a time, so it always sees its members' latest committed state
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"catalog.dp:{system_key}"])
        component_refs = Relation.objects.filter(source_ref=system_key, type="hasPart").values("target_ref")
        candidates = list(
            Entity.objects.filter(Q(ref=system_key) | Q(ref__in=component_refs, kind__iexact="component"))
            .filter(orphan=False)
            .select_related("location")
            .only("ref", "kind", "document", "errors", "dp_errors", "source_target", "location")
        )
        system = next((entity for entity in candidates if entity.ref == system_key), None)
        # a component from someone else's repository does not take part (nor put errors on the product)
        members = [e for e in candidates if system is None or e is system or component_belongs(e, system)]
        components = [entity for entity in members if entity.ref != system_key and "mesh" in entity.spec]
        found = validate_data_product(
            system.document if system else None,
            [entity.document for entity in components],
            sources={entity.ref: posixpath.basename(entity.source_target) or entity.ref for entity in members},
        )
        problem = data_product_problem(system) if system is not None and is_data_product(system.document) else None
        if problem is not None:  # it stays a plain entity: say why it is not on the Builder's pages
            source = posixpath.basename(system.source_target) or system.ref
            found[system.ref] = [f"{source}: {problem}", *found.get(system.ref, [])]
        changed = []
        for entity in candidates:  # outsiders keep no errors from a product they are not part of
            errors = found.get(entity.ref, [])
            if entity.dp_errors != errors:
                entity.dp_errors = errors
                entity.has_errors = bool(errors or entity.errors)
                changed.append(entity)
        if changed:
            Entity.objects.bulk_update(changed, ["dp_errors", "has_errors"])


def generated_entity_create(location: Location) -> Entity:
    """The Location entity that stands for a registered location (``location:default/generated-<sha1>``)."""
    name = location.generated_entity_name
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": name,
            "namespace": "default",
            # it stands for the registered location: clients asking where it comes from get that location
            "annotations": {
                MANAGED_BY_LOCATION: f"{location.type}:{location.target}",
                MANAGED_BY_ORIGIN_LOCATION: f"{location.type}:{location.target}",
            },
        },
        "spec": {"type": location.type, "target": location.target},
    }
    emitted = _Emitted(
        ref=EntityRef("Location", "default", name), document=document, result_hash=document_hash(document)
    )
    entity = _new_entity(emitted, location, revision="")
    entity.save()
    _write_derived([entity])
    return entity


def orphans_delete_expired(*, now: datetime | None = None) -> int:
    """Delete the orphans whose grace period has passed; their data products are checked again."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CATALOG_ORPHAN_GRACE_SECONDS)
    with transaction.atomic():
        expired = list(
            Entity.objects.select_for_update(skip_locked=True)
            .filter(orphan=True, orphaned_at__lt=cutoff)
            .only("pk", "document")
        )
        docs = [entity.document for entity in expired]
        Entity.objects.filter(pk__in=[entity.pk for entity in expired]).delete()
        _entities_follow_up(docs)
        if _has_team_kinds(docs):
            teams_sync()
    return len(docs)
