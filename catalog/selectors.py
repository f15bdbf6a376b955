"""Reads owned by the catalog: the Backstage-style entity query (filters on the flattened search rows,
full text, ordering and cursors), facets, lookups by name/uid/ref, relations and errors."""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from catalog.choices import RefreshStatus
from catalog.models import Entity, EntitySearch, Location, RefreshRequest, Relation
from catalog.processing import location_subtree_ids, location_subtree_root_id
from catalog.readers import InvalidTarget, ReadError, parse_git_target, read_git_folder, validate_target
from catalog.readers.budget import read_deadline
from catalog.refs import RefError, parse_ref

DEFAULT_LIMIT = 20
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


class QueryError(ValueError):
    """A bad query parameter; ``param`` names it, for the 400 response."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass
class EntityQuery:
    """A by-query request. ``filters`` is OR of AND-ed ``(key, value | None)`` conditions, as Backstage's
    repeated ``filter=key=value,key2=value2`` parameters."""

    filters: list[list[tuple[str, str | None]]] = field(default_factory=list)
    order: list[tuple[str, str]] = field(default_factory=list)  # (field, "asc" | "desc")
    full_text_term: str = ""
    full_text_fields: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def to_cursor(self, offset: int) -> str:
        payload = {
            "filters": self.filters,
            "order": self.order,
            "term": self.full_text_term,
            "fields": self.full_text_fields,
            "offset": offset,
        }
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    @classmethod
    def from_cursor(cls, cursor: str, *, limit: int) -> EntityQuery:
        try:
            payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            query = cls(
                filters=[[(str(k), None if v is None else str(v)) for k, v in group] for group in payload["filters"]],
                order=[(str(f), str(d)) for f, d in payload["order"]],
                full_text_term=str(payload["term"]),
                full_text_fields=[str(f) for f in payload["fields"]],
                limit=limit,
                offset=int(payload["offset"]),
            )
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
            raise QueryError("cursor", "is not a cursor this server gave out") from None
        if not 0 <= query.offset <= MAX_OFFSET or any(d not in ("asc", "desc") for _, d in query.order):
            raise QueryError("cursor", "is not a cursor this server gave out")
        return query


def parse_filter(param: str) -> list[tuple[str, str | None]]:
    """``key=value,key2=value2`` (or a bare ``key`` meaning "has this key") → lower-cased conditions."""
    conditions = []
    for part in param.split(","):
        key, has_value, value = part.partition("=")
        key = key.strip().lower()
        if not key:
            raise QueryError("filter", f"{param!r} has a condition without a key")
        conditions.append((key, value.strip().lower() if has_value else None))
    return conditions


def parse_order(param: str) -> tuple[str, str]:
    name, _, direction = param.partition(",")
    direction = (direction or "asc").strip().lower()
    if not name.strip() or direction not in ("asc", "desc"):
        raise QueryError("orderField", f"expected <field>[,asc|desc], got {param!r}")
    return name.strip().lower(), direction


# Keys held in the entity's own columns: filtered and ordered through the index on their lower-cased values.
_COLUMNS = {"kind": "kind", "metadata.namespace": "namespace", "metadata.name": "name"}
_DEFAULT_ORDER = (Lower("kind"), Lower("namespace"), Lower("name"))


def relation_exists(relation_type: str, target: str | None = None) -> Exists:
    """The entity has a relation of this (case-insensitive) type, to ``target`` when given. Read from the
    relations themselves, so those another entity emitted (``hasPart`` from a component's ``system``) count."""
    relations = Relation.objects.annotate(type_lower=Lower("type")).filter(
        source_ref=OuterRef("ref"), type_lower=relation_type.lower()
    )
    if target is not None:
        relations = relations.filter(target_ref=target.lower())
    return Exists(relations)


def _condition(key: str, value: str | None) -> Q:
    if key in _COLUMNS and value is not None:
        return Q(Exact(Lower(_COLUMNS[key]), value))
    if key.startswith("relations."):
        return Q(relation_exists(key.removeprefix("relations."), value))
    rows = EntitySearch.objects.filter(entity=OuterRef("pk"), key=key)
    if value is not None:
        rows = rows.filter(value=value)
    return Q(Exists(rows))


def entity_queryset(query: EntityQuery) -> QuerySet[Entity]:
    entities = Entity.objects.all()
    if query.filters:
        match = Q()
        for group in query.filters:
            conjunction = Q()
            for key, value in group:
                conjunction &= _condition(key, value)
            match |= conjunction
        entities = entities.filter(match)
    term = query.full_text_term.strip().lower()
    if term:
        if query.full_text_fields:
            rows = EntitySearch.objects.filter(
                entity=OuterRef("pk"), key__in=[f.lower() for f in query.full_text_fields], value__contains=term
            )
            entities = entities.filter(Exists(rows))
        else:
            entities = entities.filter(search_text__contains=term)
    ordering = []
    for index, (name, direction) in enumerate(query.order):
        alias = f"_order{index}"
        value = EntitySearch.objects.filter(entity=OuterRef("pk"), key=name).order_by("value").values("value")[:1]
        entities = entities.annotate(**{alias: Subquery(value)})
        ordering.append(f"-{alias}" if direction == "desc" else alias)
    return entities.order_by(*ordering, *_DEFAULT_ORDER)


@dataclass
class EntityPage:
    items: list[Entity]
    total: int
    next_cursor: str | None
    prev_cursor: str | None


def entity_query(query: EntityQuery) -> EntityPage:
    """One page of a by-query request: three queries whatever the catalog's size (items, total, relations)."""
    entities = entity_queryset(query)
    total = entities.count()
    items = list(entities[query.offset : query.offset + query.limit])
    relations_attach(items)
    next_offset = query.offset + query.limit
    return EntityPage(
        items=items,
        total=total,
        next_cursor=query.to_cursor(next_offset) if next_offset < total else None,
        prev_cursor=query.to_cursor(max(query.offset - query.limit, 0)) if query.offset > 0 else None,
    )


def relations_attach(entities: list[Entity]) -> None:
    """Set ``entity.relations`` to its outgoing relations (both directions are stored), in one query."""
    by_ref: dict[str, list[Relation]] = defaultdict(list)
    if entities:
        for relation in Relation.objects.filter(source_ref__in=[e.ref for e in entities]).order_by(
            "type", "target_ref"
        ):
            by_ref[relation.source_ref].append(relation)
    for entity in entities:
        seen = set()
        entity.relations = []
        for relation in by_ref[entity.ref]:
            if (relation.type, relation.target_ref) not in seen:
                seen.add((relation.type, relation.target_ref))
                entity.relations.append(relation)


def _plausible_part(part: str) -> bool:
    return 0 < len(part) <= 63 and "\x00" not in part


def entity_get_by_name(*, kind: str, namespace: str, name: str) -> Entity | None:
    if not all(_plausible_part(part) for part in (kind, namespace, name)):
        return None  # no entity can have it; and PostgreSQL refuses NUL in text
    entity = Entity.objects.select_related("location").filter(ref=f"{kind}:{namespace}/{name}".lower()).first()
    if entity is not None:
        relations_attach([entity])
    return entity


def entity_get_by_uid(*, uid) -> Entity | None:
    entity = Entity.objects.select_related("location").filter(uid=uid).first()
    if entity is not None:
        relations_attach([entity])
    return entity


def entity_get_by_ref(ref: str) -> Entity | None:
    try:
        key = parse_ref(ref).key
    except RefError:
        return None
    entity = Entity.objects.select_related("location").filter(ref=key).first()
    if entity is not None:
        relations_attach([entity])
    return entity


def entities_by_refs(refs: list[str]) -> list[Entity | None]:
    """Entities in the order of ``refs``, ``None`` where a ref names nothing (Backstage's by-refs)."""
    keys = []
    for ref in refs:
        try:
            keys.append(parse_ref(ref).key)
        except RefError:
            keys.append(None)
    found = {entity.ref: entity for entity in Entity.objects.filter(ref__in=[k for k in keys if k])}
    relations_attach(list(found.values()))
    return [found.get(key) if key else None for key in keys]


def entity_facets(*, facets: list[str], query: EntityQuery | None = None) -> dict[str, list[dict]]:
    """Counts per value of each facet key (``kind``, ``spec.type``, ``metadata.tags``…), over the entities the
    query matches (all when none)."""
    entities = entity_queryset(query) if query else Entity.objects.all()
    result = {}
    for facet in facets:
        rows = (
            EntitySearch.objects.filter(key=facet.lower(), entity__in=entities.values("pk"), value__isnull=False)
            .values("value")
            .annotate(count=Count("entity", distinct=True))
            .order_by("-count", "value")
        )
        result[facet] = [{"value": row["value"], "count": row["count"]} for row in rows]
    return result


def entity_error_count() -> int:
    return Entity.objects.filter(has_errors=True).count()


def existing_refs(refs: set[str]) -> set[str]:
    """Which of these canonical refs name an entity of the catalog (the others dangle)."""
    return set(Entity.objects.filter(ref__in=refs).values_list("ref", flat=True)) if refs else set()


def location_may_change(*, location: Location, user) -> bool:
    """Staff, or the person who registered it, may unregister a registered (root) location."""
    if not location.is_root or user is None:
        return False
    return bool(user.is_staff or (location.registered_by_id and location.registered_by_id == user.pk))


def entity_may_delete(*, entity: Entity, user) -> bool:
    """Staff, or who may change the registered location the entity came from, may delete an orphan early."""
    if user is None:
        return False
    if user.is_staff:
        return True
    if entity.location_id is None:
        return False
    root = Location.objects.get(pk=location_subtree_root_id(entity.location_id))
    return location_may_change(location=root, user=user)


def location_entities(location: Location) -> list[Entity]:
    """What a location and its child locations emitted (not the Location entity standing for it), with relations."""
    entities = list(
        Entity.objects.filter(location__in=location_subtree_ids([location.pk]))
        .exclude(name=location.generated_entity_name)
        .order_by("kind", "namespace", "name")
    )
    relations_attach(entities)
    return entities


def location_entity_count(location: Location) -> int:
    return Entity.objects.filter(location__in=location_subtree_ids([location.pk])).count()


def location_child_count(location: Location) -> int:
    return len(location_subtree_ids([location.pk])) - 1


def location_get_by_target(*, type: str, target: str) -> Location | None:
    """The location registered for this target, compared in normal form (``…#main:catalog-info.yaml`` is
    ``…#main``); ``None`` when there is none or the target is not valid."""
    try:
        target = validate_target(type, target)
    except InvalidTarget:
        return None
    return Location.objects.filter(type=type, target=target).first()


def location_list(*, registered_only: bool = False) -> QuerySet[Location]:
    """Locations by id; ``registered_only`` keeps the ones people registered (the roots), as Backstage lists
    them: the child locations their targets produce may number thousands per tree."""
    locations = Location.objects.select_related("registered_by", "parent").order_by("pk")
    return locations.filter(parent__isnull=True) if registered_only else locations


def catalog_error_list() -> list[tuple[str, str]]:
    """Every current error: each location's and each entity's, as (where, message)."""
    errors = [
        (str(location), message) for location in Location.objects.exclude(errors=[]) for message in location.errors
    ]
    for entity in Entity.objects.filter(has_errors=True).only("ref", "errors", "dp_errors"):
        errors += [(entity.ref, message) for message in entity.all_errors]
    return errors


def entity_source_files(*, entity: Entity, folder: str, revision: str | None = None) -> dict[str, bytes]:
    """The files under ``folder`` (relative to the folder of the entity's own file, ``..`` not allowed) in the
    Git repository the entity was read from, at the commit it was read at (or ``revision``). For templates
    (their skeleton) and for data products (their environment files). Raises ``ReadError``."""
    if not entity.source_target or entity.location is None or entity.location.type != "git":
        raise ReadError(f"{entity.ref} was not read from a Git repository")
    parsed = parse_git_target(entity.source_target)
    parts = [part for part in folder.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ReadError(f"{folder!r}: '..' is not allowed")
    base = posixpath.dirname(parsed.path)
    # pages read these (the wizard, the descriptor): a remote that stalls costs the request its deadline only
    with read_deadline(settings.CATALOG_REQUEST_DEADLINE_SECONDS):
        return read_git_folder(
            parsed.repository,
            revision=revision or entity.source_revision,
            folder=posixpath.join(base, *parts) if parts else base,
        )


# --- Manual refreshes ----------------------------------------------------------------------------------------


def _refresh_unfinished() -> Q:
    """Queued or running, and not so old that its worker must have died (then it is shown as lost)."""
    since = timezone.now() - timedelta(seconds=settings.CATALOG_REFRESH_QUEUED_STALE_SECONDS)
    return Q(status__in=[RefreshStatus.QUEUED, RefreshStatus.RUNNING], requested_at__gt=since)


def refresh_request_pending(*, location_id: int) -> RefreshRequest | None:
    """The latest refresh of a location that has not finished yet, if any."""
    return (
        RefreshRequest.objects.filter(_refresh_unfinished(), location_id=location_id)
        .order_by("-requested_at", "-pk")
        .first()
    )


def refresh_request_list(*, location_id: int) -> QuerySet[RefreshRequest]:
    return RefreshRequest.objects.filter(location_id=location_id).select_related("requested_by")


def refresh_requests_pending(*, location_ids: list[int]) -> dict[int, RefreshRequest]:
    """The latest unfinished refresh of each of these locations (one query for a page of them)."""
    pending: dict[int, RefreshRequest] = {}
    for refresh in RefreshRequest.objects.filter(_refresh_unfinished(), location_id__in=location_ids).order_by(
        "requested_at", "pk"
    ):
        pending[refresh.location_id] = refresh
    return pending


def refresh_request_get(*, pk: object, location_id: int | None = None) -> RefreshRequest | None:
    """One refresh request (of that location when given); None for an id that is not a number."""
    if not str(pk).isascii() or not str(pk).isdigit() or len(str(pk)) > 18:
        return None
    requests = RefreshRequest.objects.select_related("location", "requested_by")
    if location_id is not None:
        requests = requests.filter(location_id=location_id)
    return requests.filter(pk=int(str(pk))).first()
