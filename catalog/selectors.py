"""Reads owned by the catalog: the Backstage-style entity query (filters on the flattened search rows,
full text, ordering and cursors), facets, lookups by name/uid/ref, relations and errors."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Lower
from django.db.models.lookups import In, StartsWith
from django.utils import timezone

from catalog.choices import RefreshStatus
from catalog.models import Entity, EntitySearch, Location, RefreshRequest, Relation
from catalog.predicates import AllOf, AnyOf, Condition, Node, Not, filters_to_predicate, predicate_parse
from catalog.processing import location_subtree_ids, location_subtree_root_id
from catalog.readers import (
    InvalidTarget,
    ReadError,
    parse_git_target,
    read_git_folders,
    resolve_target,
    validate_target,
)
from catalog.readers.budget import read_deadline
from catalog.refs import RefError, parse_ref
from catalog.teams import team_of_ref, user_team_names

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
    """A by-query request: Backstage's ``filter`` parameters (``filters``: each one a set of ``(key, value | None)``
    conditions, see :func:`catalog.predicates.filters_to_predicate`) and a filter predicate (``predicate``, the
    ``query`` body of the POST forms), both of which must hold; a full-text term, ordering and paging."""

    filters: list[list[tuple[str, str | None]]] = field(default_factory=list)
    predicate: dict | None = None
    order: list[tuple[str, str]] = field(default_factory=list)  # (field, "asc" | "desc")
    full_text_term: str = ""
    full_text_fields: list[str] = field(default_factory=list)
    limit: int | None = DEFAULT_LIMIT  # None: all of them (GET /entities without a limit)
    offset: int = 0
    with_total: bool = True  # Backstage's totalItems=exclude skips the count (then 0)

    def to_cursor(self, offset: int) -> str:
        payload = {
            "filters": self.filters,
            "order": self.order,
            "term": self.full_text_term,
            "fields": self.full_text_fields,
            "offset": offset,
            "total": self.with_total,
        }
        if self.predicate is not None:
            payload["query"] = self.predicate
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    @classmethod
    def from_cursor(cls, cursor: str, *, limit: int) -> EntityQuery:
        try:
            payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            query = cls(
                filters=[[(str(k), None if v is None else str(v)) for k, v in group] for group in payload["filters"]],
                predicate=payload.get("query"),
                order=[(str(f), str(d)) for f, d in payload["order"]],
                full_text_term=str(payload["term"]),
                full_text_fields=[str(f) for f in payload["fields"]],
                limit=limit,
                offset=int(payload["offset"]),
                with_total=bool(payload.get("total", True)),
            )
            query.node()  # a cursor this server signed holds a valid query; anything else is refused here
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
            raise QueryError("cursor", "is not a cursor this server gave out") from None
        if not 0 <= query.offset <= MAX_OFFSET or any(d not in ("asc", "desc") for _, d in query.order):
            raise QueryError("cursor", "is not a cursor this server gave out")
        return query

    def node(self) -> Node | None:
        """The filters and the predicate as one predicate tree (None: everything). Raises ``PredicateError``."""
        parts = [filters_to_predicate(self.filters), predicate_parse(self.predicate) if self.predicate else None]
        parts = [part for part in parts if part is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


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
# Set on orphans when they are served (the stored document is the one their file last had), so filtered here.
ORPHAN_KEY = "metadata.annotations.backstage.io/orphan"
_NOTHING = Q(pk__in=[])
# The fields Entity.search_text holds, lower-cased as written (see catalog.processing): a term in one of them is in it.
SEARCH_TEXT_KEYS = frozenset({"metadata.name", "metadata.title", "metadata.description", "metadata.tags", "spec.type"})


def relation_exists(relation_type: str, target: str | None = None) -> Exists:
    """The entity has a relation of this (case-insensitive) type, to ``target`` when given. Read from the
    relations themselves, so those another entity emitted (``hasPart`` from a component's ``system``) count."""
    return _relation_exists(Condition(f"relations.{relation_type.lower()}", None if target is None else (target,)))


def _relation_exists(condition: Condition) -> Exists:
    relations = Relation.objects.annotate(type_lower=Lower("type")).filter(
        source_ref=OuterRef("ref"), type_lower=condition.key.removeprefix("relations.")
    )
    return Exists(
        relations.filter(_value_match("target_ref", condition)) if condition.values is not None else relations
    )


def _value_match(column: str | Lower, condition: Condition) -> Q:
    """The column equals one of the condition's values (or starts with one, for ``$hasPrefix``)."""
    lhs = F(column) if isinstance(column, str) else column
    if not condition.prefix:
        return Q(In(lhs, list(condition.values or ())))
    match = _NOTHING
    for value in condition.values or ():
        match |= Q(StartsWith(lhs, value))
    return match


def _condition(condition: Condition) -> Q:
    key = condition.key
    if key == ORPHAN_KEY:
        values = condition.values
        matches = values is None or any("true".startswith(v) if condition.prefix else v == "true" for v in values)
        return Q(orphan=True) if matches else _NOTHING
    if key in _COLUMNS:
        return _value_match(Lower(_COLUMNS[key]), condition) if condition.values is not None else Q()
    if key.startswith("relations."):
        return Q(_relation_exists(condition))
    rows = EntitySearch.objects.filter(entity=OuterRef("pk"), key=key)
    if condition.values is not None:
        rows = rows.filter(_value_match("value", condition))
    return Q(Exists(rows))


def predicate_q(node: Node, leaf: Callable[[Condition], Q] = _condition) -> Q:
    """A predicate tree as a filter; ``leaf`` turns each condition into one (entities' by default)."""
    if isinstance(node, Condition):
        return leaf(node)
    if isinstance(node, Not):
        return ~predicate_q(node.item, leaf)
    if isinstance(node, AnyOf) and not node.items:  # $any of nothing holds for nothing
        return _NOTHING
    match = Q()
    for item in node.items:
        match = match & predicate_q(item, leaf) if isinstance(node, AllOf) else match | predicate_q(item, leaf)
    return match


def entity_queryset(query: EntityQuery) -> QuerySet[Entity]:
    """Raises ``PredicateError`` (a bad ``query`` body) and ``QueryError``."""
    entities = Entity.objects.all()
    node = query.node()
    if node is not None:
        entities = entities.filter(predicate_q(node))
    term = query.full_text_term.strip().lower()
    if term:
        if query.full_text_fields:
            keys = [f.lower() for f in query.full_text_fields]
            if set(keys) <= SEARCH_TEXT_KEYS:  # a cheap superset first: one text column per entity
                entities = entities.filter(search_text__contains=term)
            rows = EntitySearch.objects.filter(entity=OuterRef("pk"), key__in=keys, value__contains=term)
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
    """One page of a by-query request in three queries whatever the catalog's size: the page's ids with the total
    (one pass over the matches: a filter no index serves, such as full text, is evaluated once, not once for the
    page and again for a count), the entities, their relations."""
    entities = entity_queryset(query)
    window = slice(query.offset, query.offset + query.limit + 1)  # one more than asked: is there a next page?
    if query.with_total:
        rows = list(entities.annotate(_total=Window(Count("*"))).values_list("pk", "_total")[window])
        # past the end (or nothing matches) the window saw no row to carry the count
        total = rows[0][1] if rows else (entities.count() if query.offset else 0)
        by_pk = Entity.objects.in_bulk([pk for pk, _ in rows])
        items = [by_pk[pk] for pk, _ in rows if pk in by_pk]  # one removed in between is left out
    else:
        items, total = list(entities[window]), 0
    more = len(items) > query.limit
    items = items[: query.limit]
    relations_attach(items)
    next_offset = query.offset + query.limit
    return EntityPage(
        items=items,
        total=total,
        next_cursor=query.to_cursor(next_offset) if more and query.limit else None,  # limit 0: no endless pages
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


def entities_by_refs(refs: list[str], *, query: EntityQuery | None = None) -> list[Entity | None]:
    """Entities in the order of ``refs``, ``None`` where a ref names nothing or the entity does not match the
    query's filters and predicate (Backstage's by-refs). Raises ``PredicateError``."""
    keys = []
    for ref in refs:
        try:
            keys.append(parse_ref(ref).key)
        except RefError:
            keys.append(None)
    entities = entity_queryset(query) if query is not None and query.node() is not None else Entity.objects.all()
    found = {entity.ref: entity for entity in entities.filter(ref__in=[k for k in keys if k])}
    relations_attach(list(found.values()))
    return [found.get(key) if key else None for key in keys]


def entity_facets(*, facets: list[str], query: EntityQuery | None = None) -> dict[str, list[dict]]:
    """Counts per value of each facet key (``kind``, ``spec.type``, ``metadata.tags``, ``relations.ownedBy``…),
    values as written, over the entities the query matches (all when none). Raises ``PredicateError``."""
    entities = entity_queryset(query) if query else Entity.objects.all()
    result = {}
    for facet in facets:
        key = facet.lower()
        if key.startswith("relations."):
            rows = (
                Relation.objects.annotate(type_lower=Lower("type"))
                .filter(type_lower=key.removeprefix("relations."), source_ref__in=entities.values("ref"))
                .values(facet_value=F("target_ref"))
                .annotate(count=Count("source_ref", distinct=True))
            )
        elif key == ORPHAN_KEY:
            rows = entities.filter(orphan=True).values(facet_value=Value("true")).annotate(count=Count("pk"))
        else:
            rows = (
                EntitySearch.objects.filter(key=key, entity__in=entities.values("pk"), original_value__isnull=False)
                .values(facet_value=F("original_value"))
                .annotate(count=Count("entity", distinct=True))
            )
        rows = rows.order_by("-count", "facet_value")
        result[facet] = [{"value": row["facet_value"], "count": row["count"]} for row in rows]
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


def location_errors_for(*, user) -> QuerySet[Location]:
    """The failing locations a person can do something about: every one for staff; for others the trees they
    registered and the repositories of data products their teams own (``home_of``). A consumer has nothing to
    fix there, so the catalog shows them no error panel."""
    failing = location_list().exclude(errors=[])
    if user is None or not user.is_authenticated:
        return failing.none()
    if user.is_staff:
        return failing
    roots = list(Location.objects.filter(parent__isnull=True, registered_by=user).values_list("pk", flat=True))
    condition = Q(pk__in=location_subtree_ids(roots)) if roots else Q(pk__in=[])
    teams = user_team_names(user)
    homes = {ref for refs in failing.values_list("home_of", flat=True) for ref in refs}
    if teams and homes:
        owned = [
            ref
            for ref, owner in Entity.objects.filter(ref__in=homes).values_list("ref", "document__spec__owner")
            if team_of_ref(owner) in teams
        ]
        if owned:
            condition |= Q(home_of__overlap=owned)
    return failing.filter(condition)


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
    found = entities_source_files(entities=[entity], folder=folder, revision=revision)[entity.pk]
    if isinstance(found, ReadError):
        raise found
    return found


def entities_source_files(
    *, entities: Iterable[Entity], folder: str, revision: str | None = None
) -> dict[int, dict[str, bytes] | ReadError]:
    """:func:`entity_source_files` of several entities (by id): each one's files, or why they could not be read.
    Entities read from one commit of one repository (a data product and its components) cost one read."""
    parts = [part for part in folder.split("/") if part not in ("", ".")]
    found: dict[int, dict[str, bytes] | ReadError] = {}
    wanted: dict[tuple[str, str], dict[int, str]] = {}
    for entity in entities:
        if not entity.source_target or entity.location is None or entity.location.type != "git":
            found[entity.pk] = ReadError(f"{entity.ref} was not read from a Git repository")
        elif ".." in parts:
            found[entity.pk] = ReadError(f"{folder!r}: '..' is not allowed")
        else:
            parsed = parse_git_target(entity.source_target)
            base = posixpath.dirname(parsed.path)
            key = (parsed.repository, revision or entity.source_revision)
            wanted.setdefault(key, {})[entity.pk] = posixpath.join(base, *parts) if parts else base
    # pages read these (the wizard, the descriptor): a remote that stalls costs the request its deadline only
    with read_deadline(settings.CATALOG_REQUEST_DEADLINE_SECONDS):
        for (repository, commit), folders in wanted.items():
            try:
                files = read_git_folders(repository, revision=commit, folders=set(folders.values()))
            except ReadError as exc:
                found |= dict.fromkeys(folders, exc)
            else:
                found |= {pk: files[path] for pk, path in folders.items()}
    return found


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


# --- Backstage's remaining reads: the whole list, ancestry, locations by query and by entity ----------------


def entity_stream(query: EntityQuery, *, chunk_size: int = 500) -> Iterator[Entity]:
    """Every entity the query matches from ``query.offset`` on (``query.limit`` of them when it is not None), with
    relations, read through a server-side cursor: memory stays bounded by ``chunk_size`` whatever the catalog's
    size. Raises ``PredicateError`` before the first entity."""
    entities = entity_queryset(query)
    stop = None if query.limit is None else query.offset + query.limit
    if query.offset or stop is not None:
        entities = entities[query.offset : stop]
    return _with_relations(entities.iterator(chunk_size=chunk_size), chunk_size)


def _with_relations(entities: Iterator[Entity], chunk_size: int) -> Iterator[Entity]:
    while chunk := list(itertools.islice(entities, chunk_size)):
        relations_attach(chunk)
        yield from chunk


def entity_ref_text(entity: Entity) -> str:
    """The ref as Backstage writes it (``stringifyEntityRef``): kind and namespace lower-cased, name as written."""
    return f"{entity.kind.lower()}:{entity.namespace.lower()}/{entity.name}"


MAX_ANCESTRY_DEPTH = 20


def entity_ancestry(entity: Entity) -> list[tuple[Entity, list[str]]]:
    """The entity and the chain of Location entities that brought it into the catalog, each with its parent's
    ref (Backstage's ``ancestry``): an entity's parent is the Location entity standing for the location it was
    read from; a child location's is the Location entity whose target named it; the registered location's
    generated entity has none. Orphans have none either."""
    items: list[tuple[Entity, list[str]]] = []
    seen: set[int] = set()
    current: Entity | None = entity
    while current is not None and current.pk not in seen and len(items) < MAX_ANCESTRY_DEPTH:
        seen.add(current.pk)
        parent = _parent_entity(current)
        items.append((current, [entity_ref_text(parent)] if parent is not None else []))
        current = parent
    relations_attach([item for item, _ in items])
    return items


def _parent_entity(entity: Entity) -> Entity | None:
    location = entity.location
    if location is None or entity.orphan:
        return None
    if location.parent_id is None:
        if entity.name == location.generated_entity_name and entity.kind.lower() == "location":
            return None
        return Entity.objects.select_related("location").filter(ref=location.entity_ref).first()
    parent = location.parent
    for candidate in Entity.objects.select_related("location").filter(
        location=parent, kind__iexact="location", orphan=False
    ):
        if (location.type, location.target) in _named_targets(candidate.spec, parent):
            return candidate
    return None


def _named_targets(spec: dict, base: Location) -> set[tuple[str, str]]:
    """The ``(type, target)`` locations a Location entity's spec names, resolved as processing resolves them."""
    targets = [spec["target"]] if isinstance(spec.get("target"), str) else list(spec.get("targets") or [])
    child_type = spec.get("type") or base.type
    named = set()
    for target in targets:
        try:
            resolved = (
                resolve_target(base.type, base.target, target)
                if child_type == base.type
                else validate_target(child_type, target)
            )
        except InvalidTarget:
            continue
        named.add((child_type, resolved))
    return named


def location_by_entity(entity: Entity) -> Location | None:
    """The registered location the entity came from (its ``backstage.io/managed-by-origin-location``)."""
    if entity.location_id is None:
        return None
    return Location.objects.filter(pk=location_subtree_root_id(entity.location_id)).first()


_LOCATION_COLUMNS = {"id": "pk", "type": "type", "target": "target"}


def _location_condition(condition: Condition) -> Q:
    column = _LOCATION_COLUMNS.get(condition.key)
    if column is None:  # a location has no such field
        return _NOTHING
    if condition.values is None:
        return Q()
    return _value_match(Lower(Cast(column, CharField())) if column == "pk" else Lower(column), condition)


def location_query(*, predicate: dict | None, offset: int, limit: int) -> tuple[list[Location], int, bool]:
    """Registered locations matching a predicate on ``id``, ``type`` and ``target`` (Backstage's
    ``locations/by-query``): one page, the total, and whether more follow. Raises ``PredicateError``."""
    locations = location_list(registered_only=True)
    if predicate is not None:
        locations = locations.filter(predicate_q(predicate_parse(predicate), _location_condition))
    page = list(locations[offset : offset + limit + 1])
    return page[:limit], locations.count(), len(page) > limit


# --- Plain reads for the other apps (the Builder): by ref, by kind, locations' errors ----------------------------
# Unlike the API's lookups above, these take canonical refs (``kind:namespace/name``, lower-case) and attach no
# relations; the querysets they return are lazy, for the caller to filter further or pick columns from.


def entity_get(*, ref: str, include_orphans: bool = False, located: bool = False) -> Entity | None:
    """The entity of a canonical ref, with its location; None when there is none, when it is an orphan (unless
    ``include_orphans``) or, with ``located``, when it has no location (its location went)."""
    entities = Entity.objects.select_related("location").filter(ref=ref)
    if not include_orphans:
        entities = entities.filter(orphan=False)
    if located:
        entities = entities.filter(location__isnull=False)
    return entities.first()


def entity_exists(*, ref: str, include_orphans: bool = False) -> bool:
    """Whether the catalog has an entity of this canonical ref (an orphan counts only with ``include_orphans``)."""
    entities = Entity.objects.filter(ref=ref)
    return (entities if include_orphans else entities.filter(orphan=False)).exists()


def entity_orphan_get(*, pk: int) -> Entity | None:
    """The entity read afresh if it is an orphan now (its file no longer emits it), else None."""
    return Entity.objects.filter(pk=pk, orphan=True).first()


def entities_in_folder_besides(*, entity: Entity, prefix: str) -> bool:
    """Whether entities other than ``entity`` were read from files whose target starts with ``prefix`` (a
    folder's target, ending in ``/``)."""
    return Entity.objects.filter(source_target__startswith=prefix).exclude(pk=entity.pk).exists()


def entity_titles(*, refs: Iterable[str]) -> dict[str, str | None]:
    """The ``metadata.title`` of the entities of these canonical refs by ref (None: it has none); refs that name
    no entity are left out."""
    return dict(
        Entity.objects.filter(ref__in=refs).annotate(title=KT("document__metadata__title")).values_list("ref", "title")
    )


def entities_by_kind(*, kind: str, include_orphans: bool = False, trusted_only: bool = False) -> QuerySet[Entity]:
    """The entities of a kind (compared case-insensitively), with their locations; orphans only with
    ``include_orphans``; with ``trusted_only`` only those read from trusted locations."""
    entities = Entity.objects.filter(kind__iexact=kind)
    if not include_orphans:
        entities = entities.filter(orphan=False)
    if trusted_only:
        entities = entities.filter(location__trusted=True)
    return entities.select_related("location")


def entity_list(
    *, kinds: Iterable[str] | None = None, refs: Iterable[str] | None = None, include_orphans: bool = False
) -> QuerySet[Entity]:
    """The entities of any of ``kinds`` (compared through the index on the lower-cased kind; every kind when None
    or empty) and of ``refs`` (canonical; when given), orphans only with ``include_orphans``, in no set order."""
    entities = Entity.objects.all() if include_orphans else Entity.objects.filter(orphan=False)
    if refs is not None:
        entities = entities.filter(ref__in=refs)
    lowered = [kind.lower() for kind in kinds or ()]
    if lowered:
        entities = entities.annotate(kind_lower=Lower("kind")).filter(kind_lower__in=lowered)
    return entities


def data_product_entities(*, system_keys: Iterable[str]) -> list[Entity]:
    """The System entities of these canonical refs and the Component entities they have as parts (``hasPart``),
    orphans too, with their locations, by id, in one query: what the Builder's projections read."""
    keys = list(system_keys)
    member_refs = Relation.objects.filter(source_ref__in=keys, type="hasPart").values("target_ref")
    return list(
        Entity.objects.filter(Q(ref__in=keys) | Q(ref__in=member_refs, kind__iexact="component"))
        .select_related("location")
        .order_by("pk")
    )


def location_get(*, pk: int) -> Location:
    """A location read afresh (its errors after a refresh, say). Raises ``Location.DoesNotExist``."""
    return Location.objects.get(pk=pk)


def location_child_errors(*, location: Location) -> QuerySet:
    """The errors of the location's child locations that have any: one list of messages per failing child."""
    return Location.objects.filter(parent=location).exclude(errors=[]).values_list("errors", flat=True)
