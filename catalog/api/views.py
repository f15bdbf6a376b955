"""The catalog REST API: Backstage's catalog paths and shapes under ``/api/catalog/`` (PRODUCT §3.4), plus
``POST locations/{id}/trust``. Views parse the request, call one selector or service, and render."""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
import uuid
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponseBase, StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.api import serializers as s
from catalog.api.exceptions import BackstageErrorsMixin, field_messages
from catalog.filtersets import LocationFilterSet
from catalog.models import Entity, Location
from catalog.predicates import predicate_parse
from catalog.selectors import DEFAULT_LIMIT, MAX_LIMIT, EntityQuery, QueryError
from catalog.validation import validate_entity
from core.api.parsers import JSONParser

MAX_CONDITIONS = 100  # filter conditions over all `filter` parameters: each is a subquery
MAX_ORDER_FIELDS = 10
MAX_FACETS = 20
MAX_FULL_TEXT_FIELDS = 20
MAX_PARAM_LENGTH = 1000
MAX_CURSOR_LENGTH = 20_000

# Cursors carry the whole query; signing them makes a tampered one a clear 400 instead of another query.
CURSOR_SIGNER = signing.Signer(salt="catalog.api.entities-by-query")

ERRORS = {code: OpenApiResponse(s.ErrorSerializer, description=text) for code, text in {
    400: "InputError: the message names the bad parameter or field.",
    401: "AuthenticationError",
    403: "NotAllowedError",
    404: "NotFoundError",
    409: "ConflictError",
    429: "TooManyRequestsError: try again after `Retry-After` seconds.",
}.items()}  # fmt: skip


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in (401, *codes)}


FILTER_PARAM = OpenApiParameter(
    "filter",
    str,
    many=True,
    description="`key=value,key2=value2` (AND); repeat for OR. A bare `key` matches entities that have it. "
    "Keys are dotted paths (`kind`, `spec.type`, `metadata.tags`, `relations.ownedBy`); case-insensitive.",
)
FIELDS_PARAM = OpenApiParameter(
    "fields",
    str,
    many=True,
    description="Comma-separated dotted paths to keep in each item, e.g. `kind,metadata.name`.",
)


class CatalogAPIView(BackstageErrorsMixin, APIView):
    parser_classes = [JSONParser]  # JSON bodies only, as Backstage takes them


def _text(param: str, value: str) -> str:
    """A query parameter as text PostgreSQL can compare: refuse NUL and absurd lengths by name."""
    if "\x00" in value:
        raise QueryError(param, "must not contain NUL characters")
    if len(value) > MAX_PARAM_LENGTH:
        raise QueryError(param, f"is longer than {MAX_PARAM_LENGTH} characters")
    return value


def _params(request: Request, name: str) -> list[str]:
    return [_text(name, value) for value in request.query_params.getlist(name)]


def _filters(request: Request) -> list[list[tuple[str, str | None]]]:
    filters = [selectors.parse_filter(value) for value in _params(request, "filter")]
    if sum(len(group) for group in filters) > MAX_CONDITIONS:
        raise QueryError("filter", f"at most {MAX_CONDITIONS} conditions in all")
    return filters


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.strip().isascii() or not raw.strip().isdigit():
        raise QueryError("limit", f"expected a whole number from 0 to {MAX_LIMIT}, got {raw[:50]!r}")
    return min(int(raw), MAX_LIMIT)  # as page sizes go, a larger limit is served at the maximum


def _fields(request: Request) -> list[str]:
    return s.parse_fields(_params(request, "fields"))


def _comma_list(request: Request, name: str, maximum: int) -> list[str]:
    values = [part.strip() for value in _params(request, name) for part in value.split(",") if part.strip()]
    if len(values) > maximum:
        raise QueryError(name, f"at most {maximum} values")
    return values


def _query_from_params(request: Request, limit: int) -> EntityQuery:
    order = [selectors.parse_order(value) for value in _params(request, "orderField")]
    if len(order) > MAX_ORDER_FIELDS:
        raise QueryError("orderField", f"at most {MAX_ORDER_FIELDS} fields")
    return EntityQuery(
        filters=_filters(request),
        order=order,
        full_text_term=next(reversed(_params(request, "fullTextFilterTerm")), ""),
        full_text_fields=_full_text_fields(_comma_list(request, "fullTextFilterFields", MAX_FULL_TEXT_FIELDS), order),
        limit=limit,
        offset=_whole_number(request, "offset", 0, maximum=selectors.MAX_OFFSET),
        with_total=_total_items(request),
    )


def _whole_number(request: Request, name: str, default: int, *, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > maximum:
        raise QueryError(name, f"expected a whole number from 0 to {maximum}, got {raw[:50]!r}")
    return int(raw)


def _total_items(request: Request) -> bool:
    raw = request.query_params.get("totalItems", "include")
    if raw not in ("include", "exclude"):
        raise QueryError("totalItems", f"expected include or exclude, got {raw[:50]!r}")
    return raw == "include"


def _query_from_cursor(cursor: str, limit: int) -> EntityQuery:
    invalid = QueryError("cursor", "is not a cursor this server gave out")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        if ":" not in cursor:  # a predicate query's: the signed cursor inside, see _sign
            cursor = json.loads(base64.b64decode(cursor, validate=True))["cursor"]
        query = EntityQuery.from_cursor(CURSOR_SIGNER.unsign(cursor), limit=limit)
    except (signing.BadSignature, ValueError, TypeError, KeyError, binascii.Error):
        raise invalid from None
    return query


def _sign(cursor: str | None, *, predicate: dict | None = None) -> str | None:
    """A cursor this server can trust again. A predicate query's is base64 JSON holding its ``query``, which is
    how Backstage's client knows to continue it with ``POST by-query`` (the signed cursor rides inside)."""
    if not cursor:
        return None
    signed = CURSOR_SIGNER.sign(cursor)
    if predicate is None:
        return signed
    return base64.b64encode(json.dumps({"query": predicate, "cursor": signed}).encode()).decode()


def _full_text_fields(fields: list[str], order: list[tuple[str, str]]) -> list[str]:
    """As Backstage: without fields, the term is looked for in the first order field, else in the uid."""
    return fields or [order[0][0] if order else "metadata.uid"]


class EntitiesByQueryView(CatalogAPIView):
    """Entities matching filters and a full-text term, ordered and paged with cursors."""

    @extend_schema(
        operation_id="catalog_entities_by_query",
        parameters=[
            FILTER_PARAM,
            FIELDS_PARAM,
            OpenApiParameter(
                "limit", int, description=f"Items per page, default {DEFAULT_LIMIT}, at most {MAX_LIMIT}."
            ),
            OpenApiParameter("orderField", str, many=True, description="`field[,asc|desc]`, repeatable."),
            OpenApiParameter("fullTextFilterTerm", str, description="Case-insensitive substring to look for."),
            OpenApiParameter(
                "fullTextFilterFields",
                str,
                description="Comma-separated fields the term is looked for in; as Backstage, by default the first "
                "`orderField`, else `metadata.uid`.",
            ),
            OpenApiParameter("cursor", str, description="From `pageInfo`; the query is then taken from the cursor."),
            OpenApiParameter("offset", int, description="Items to skip before the first one."),
            OpenApiParameter("totalItems", str, enum=["include", "exclude"], description="`exclude`: no count (0)."),
        ],
        responses={200: s.EntityQueryResponseSerializer, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        limit = _limit(request)
        fields = _fields(request)
        cursor = request.query_params.get("cursor")
        query = _query_from_cursor(cursor, limit) if cursor else _query_from_params(request, limit)
        return _query_page(query, fields)

    @extend_schema(
        operation_id="catalog_entities_by_predicate",
        description="As GET, with a filter predicate in the body (`query`), as Backstage's client sends it.",
        request=s.EntityPredicateQuerySerializer,
        responses={200: s.EntityQueryResponseSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        body = s.EntityPredicateQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        limit = min(data.get("limit", DEFAULT_LIMIT), MAX_LIMIT)
        fields = s.parse_fields(data.get("fields", []))
        if "cursor" in data:
            return _query_page(_query_from_cursor(data["cursor"], limit), fields)
        full_text = data.get("fullTextFilter") or {}
        order = [(order["field"].strip().lower(), order["order"]) for order in data.get("orderBy", [])]
        query = EntityQuery(
            predicate=_predicate(data.get("query")),
            order=order,
            full_text_term=full_text.get("term", ""),
            full_text_fields=_full_text_fields(full_text.get("fields", []), order),
            limit=limit,
            offset=data.get("offset", 0),
            with_total=data["totalItems"] == "include",
        )
        return _query_page(query, fields)


def _predicate(value: object) -> dict | None:
    """A ``query`` body checked at once (a bad one is a 400 naming where it is wrong); None when absent."""
    if value is None:
        return None
    predicate_parse(value)
    return value


def _query_page(query: EntityQuery, fields: list[str]) -> Response:
    page = selectors.entity_query(query)
    page_info = {
        "nextCursor": _sign(page.next_cursor, predicate=query.predicate),
        "prevCursor": _sign(page.prev_cursor, predicate=query.predicate),
    }
    return Response(
        {
            "items": [s.project(s.entity_json(entity), fields) for entity in page.items],
            "totalItems": page.total,
            "pageInfo": {key: value for key, value in page_info.items() if value},
        }
    )


ORDER_PARAM = OpenApiParameter(
    "order", str, many=True, description="`asc:<field>` or `desc:<field>`, repeatable (Backstage's form)."
)
AFTER_SIGNER = signing.Signer(salt="catalog.api.entities.after")


def _order(request: Request) -> list[tuple[str, str]]:
    order = []
    for value in _params(request, "order"):
        direction, colon, name = value.partition(":")
        if not colon or direction.strip().lower() not in ("asc", "desc") or not name.strip():
            raise QueryError("order", f"expected asc:<field> or desc:<field>, got {value[:200]!r}")
        order.append((name.strip().lower(), direction.strip().lower()))
    if len(order) > MAX_ORDER_FIELDS:
        raise QueryError("order", f"at most {MAX_ORDER_FIELDS} fields")
    return order


def _after(request: Request) -> int | None:
    after = request.query_params.get("after")
    if after is None:
        return None
    try:
        offset = int(AFTER_SIGNER.unsign(after[:200]))
    except (signing.BadSignature, ValueError):
        raise QueryError("after", "is not a cursor this server gave out") from None
    return offset


class EntitiesView(CatalogAPIView):
    """Backstage's ``GET /entities``: every matching entity as a JSON array, streamed from a server-side cursor
    (memory stays bounded, whatever the catalog's size); with ``limit`` one page, the next one named in a
    ``Link: <…after=…>; rel="next"`` header."""

    @extend_schema(
        operation_id="catalog_entities",
        parameters=[
            FILTER_PARAM,
            FIELDS_PARAM,
            ORDER_PARAM,
            OpenApiParameter("offset", int, description="Items to skip."),
            OpenApiParameter("limit", int, description="At most this many items; without it, all of them."),
            OpenApiParameter("after", str, description="From a previous answer's `Link` header."),
        ],
        responses={200: s.EntitySerializer(many=True), **errors(400)},
    )
    def get(self, request: Request) -> HttpResponseBase:
        fields = _fields(request)
        limit = None if request.query_params.get("limit") is None else _whole_number(request, "limit", 0, maximum=10**6)
        after = _after(request)
        offset = after if after is not None else _whole_number(request, "offset", 0, maximum=selectors.MAX_OFFSET)
        query = EntityQuery(filters=_filters(request), order=_order(request), limit=limit, offset=offset)
        query.node()  # a bad filter is a 400 before the first byte goes out
        if limit is None:
            chunks = _json_array(s.project(s.entity_json(e), fields) for e in selectors.entity_stream(query))
            return StreamingHttpResponse(chunks, content_type="application/json")
        page = list(selectors.entity_stream(EntityQuery(**{**query.__dict__, "limit": limit + 1})))
        response = Response([s.project(s.entity_json(entity), fields) for entity in page[:limit]])
        if len(page) > limit:
            params = request.query_params.copy()
            params.pop("offset", None)
            params["after"] = AFTER_SIGNER.sign(str(offset + limit))
            response["Link"] = f'<{request.path}?{params.urlencode()}>; rel="next"'
        return response


def _json_array(items: Iterable[dict]) -> Iterator[bytes]:
    """A JSON array written as its items come (one chunk per item after the first byte)."""
    yield b"["
    for index, item in enumerate(items):
        yield (b"," if index else b"") + json.dumps(item, separators=(",", ":"), cls=DjangoJSONEncoder).encode()
    yield b"]"


def _entity_or_404(entity: Entity | None, what: str) -> Entity:
    if entity is None:
        raise NotFound(f"No entity {what}")
    return entity


class EntityByNameView(CatalogAPIView):
    @extend_schema(operation_id="catalog_entity_by_name", responses={200: s.EntitySerializer, **errors(404)})
    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        return Response(s.entity_json(_entity_by_name(kind, namespace, name)))


def _entity_by_name(kind: str, namespace: str, name: str) -> Entity:
    entity = selectors.entity_get_by_name(kind=kind, namespace=namespace, name=name)
    return _entity_or_404(entity, f"named {kind}:{namespace}/{name}")


class EntityAncestryView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_entity_ancestry",
        description="The entity and the Location entities that brought it into the catalog, each with its parent.",
        responses={200: s.AncestryResponseSerializer, **errors(404)},
    )
    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        entity = _entity_by_name(kind, namespace, name)
        items = selectors.entity_ancestry(entity)
        return Response(
            {
                "rootEntityRef": selectors.entity_ref_text(entity),
                "items": [{"entity": s.entity_json(item), "parentEntityRefs": parents} for item, parents in items],
            }
        )


class EntityByUidView(CatalogAPIView):
    def _get(self, uid: str) -> Entity:
        try:
            entity = selectors.entity_get_by_uid(uid=uuid.UUID(uid))
        except ValueError:
            entity = None
        return _entity_or_404(entity, f"with uid {uid[:100]}")

    @extend_schema(operation_id="catalog_entity_by_uid", responses={200: s.EntitySerializer, **errors(404)})
    def get(self, request: Request, uid: str) -> Response:
        return Response(s.entity_json(self._get(uid)))

    @extend_schema(
        operation_id="catalog_entity_by_uid_delete",
        description="Delete an orphaned entity now; a live entity answers 409 (remove it from its file instead).",
        responses={204: None, **errors(404, 409)},
    )
    def delete(self, request: Request, uid: str) -> Response:
        services.entity_delete(entity=self._get(uid), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntitiesByRefsView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_entities_by_refs",
        description="The entities of these refs, in their order; null where a ref names none or the entity does "
        "not match the `filter` parameters or the `query` predicate.",
        parameters=[FIELDS_PARAM, FILTER_PARAM],
        request=s.EntitiesByRefsPredicateSerializer,
        responses={200: s.EntitiesByRefsResponseSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        body = s.EntitiesByRefsPredicateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = s.parse_fields([*_params(request, "fields"), *body.validated_data.get("fields", [])])
        query = EntityQuery(filters=_filters(request), predicate=_predicate(body.validated_data.get("query")))
        entities = selectors.entities_by_refs(body.validated_data["entityRefs"], query=query)
        return Response({"items": [entity and s.project(s.entity_json(entity), fields) for entity in entities]})


class EntityFacetsView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_entity_facets",
        parameters=[
            OpenApiParameter("facet", str, many=True, required=True, description="A dotted path, repeatable."),
            FILTER_PARAM,
        ],
        responses={200: s.EntityFacetsResponseSerializer, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        facets = _params(request, "facet")
        if not facets or not all(facet.strip() for facet in facets):
            raise QueryError("facet", "give at least one non-empty facet, e.g. facet=kind")
        if len(facets) > MAX_FACETS:
            raise QueryError("facet", f"at most {MAX_FACETS} facets")
        filters = _filters(request)
        query = EntityQuery(filters=filters) if filters else None
        return Response({"facets": selectors.entity_facets(facets=facets, query=query)})

    @extend_schema(
        operation_id="catalog_entity_facets_by_predicate",
        description="As GET, with the entities chosen by a filter predicate in the body (`query`).",
        request=s.EntityFacetsPredicateSerializer,
        responses={200: s.EntityFacetsResponseSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        body = s.EntityFacetsPredicateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        facets = [facet.strip() for facet in body.validated_data["facets"]]
        if not all(facets):
            raise QueryError("facets", "give non-empty facets, e.g. kind")
        predicate = _predicate(body.validated_data.get("query"))
        query = EntityQuery(predicate=predicate) if predicate is not None else None
        return Response({"facets": selectors.entity_facets(facets=facets, query=query)})


class RefreshView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_refresh",
        description="Re-read the location that emitted the entity. A location on this machine (a file, a Git "
        "repository on this disk) is read at once and the answer says what changed (`status: done|failed`); a remote "
        "one is queued for the worker and answered at once (`status: queued`: follow `refresh-requests/{id}`). "
        "200 in both cases, as Backstage answers and its client requires. People without staff rights are "
        "rate-limited per person and per location (429 with `Retry-After`).",
        request=s.RefreshRequestSerializer,
        responses={200: s.RefreshResponseSerializer, **errors(400, 404, 429)},
    )
    def post(self, request: Request) -> Response:
        body = s.RefreshRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ref = body.validated_data["entityRef"]
        entity = _entity_or_404(selectors.entity_get_by_ref(ref), f"with ref {ref[:200]}")
        refresh = services.entity_refresh(entity=entity, actor=request.user)
        return Response(s.refresh_json(refresh))


class RefreshRequestDetailView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_refresh_request",
        description="Meshforge: the state and outcome of a manual refresh (`queued`, `running`, `done`, `failed`).",
        responses={200: s.RefreshResponseSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        refresh = selectors.refresh_request_get(pk=pk)
        if refresh is None:
            raise NotFound(f"No refresh request with id {pk}")
        return Response(s.refresh_json(refresh))


def _source_name(location_ref: str) -> str:
    """The file name that messages name, from a ``type:target`` location ref: ``…/catalog-info.yaml``."""
    _, _, target = location_ref.partition(":")
    parts = urlsplit(target)
    path = parts.fragment.rpartition(":")[2] if parts.fragment else parts.path  # git: <url>#<branch>:<path>
    return posixpath.basename(path.rstrip("/")) or target


class ValidateEntityView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_validate_entity",
        description="Check an entity against the catalog's rules without storing it. 200 `{}` when valid.",
        request=s.ValidateEntityRequestSerializer,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Valid: an empty object."),
            400: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="ValidateEntityFailure",
                    serializers=[s.ValidateEntityErrorsSerializer, s.ErrorSerializer],
                    resource_type_field_name=None,
                ),
                description="Invalid entity: one InputError per broken rule. A malformed request gets the error body.",
            ),
            401: ERRORS[401],
        },
    )
    def post(self, request: Request) -> Response:
        body = s.ValidateEntityRequestSerializer(data=request.data)
        if not body.is_valid():  # in Backstage's shape too: its client shows `errors`, whatever was wrong
            return _validation_errors(field_messages(body.errors))
        location = body.validated_data["location"]
        if not location.startswith("url:"):
            return _validation_errors(
                [f"location: only url:<target> is supported, e.g. url:https://host/path, got {location[:200]!r}"]
            )
        problems = validate_entity(body.validated_data["entity"], source=_source_name(location))
        if problems:
            return _validation_errors(problems)
        return Response({})


def _validation_errors(messages: list[str]) -> Response:
    errors = [{"name": "InputError", "message": message} for message in messages]
    return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def _dry_run(request: Request) -> bool:
    raw = request.query_params.get("dryRun", "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise QueryError("dryRun", f"expected true or false, got {raw[:50]!r}")


class LocationListView(BackstageErrorsMixin, GenericAPIView):
    """Registered locations, and registering a new one. As in Backstage, the child locations that Location files'
    targets produce are not listed (a tree may hold thousands): they show as Location entities, and
    ``GET locations/{id}`` still reads one."""

    parser_classes = [JSONParser]  # JSON bodies only, as Backstage takes them
    serializer_class = s.LocationCreateRequestSerializer  # the body of POST (OPTIONS and the browsable API)
    filter_backends = [DjangoFilterBackend]
    filterset_class = LocationFilterSet
    pagination_class = None  # Backstage answers the whole list

    def get_queryset(self):
        return selectors.location_list(registered_only=True)

    @extend_schema(
        operation_id="catalog_locations_list",
        description="Every registered (root) location, each wrapped in `data` as Backstage lists them, with"
        " Meshforge's state. Child locations, produced by the targets of Location files, are not listed (so"
        " `root=false` matches none): their Location entities are in the catalog, and `GET locations/{id}` reads one.",
        responses={200: s.LocationItemSerializer(many=True), **errors(400)},
    )
    def get(self, request: Request) -> Response:
        locations = self.filter_queryset(self.get_queryset())
        return Response(s.LocationItemSerializer(locations, many=True).data)

    @extend_schema(
        operation_id="catalog_locations_create",
        description="Register a location and process it at once (201). With `dryRun=true` nothing is kept: the "
        "answer (201, as Backstage's) shows what registering would add, the errors it would record, and `exists` "
        "when it is registered already. A registered location is a 409, or with `onConflict=refresh` is refreshed "
        "and answered 201 with `exists: true`.",
        parameters=[
            OpenApiParameter("dryRun", bool, description="Preview only."),
            OpenApiParameter("onConflict", str, enum=["reject", "refresh"], description="When it is registered."),
        ],
        request=s.LocationCreateRequestSerializer,
        responses={201: s.LocationCreateResponseSerializer, **errors(400, 403, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        dry_run = _dry_run(request)
        on_conflict = request.query_params.get("onConflict", "reject")
        if on_conflict not in ("reject", "refresh"):
            raise QueryError("onConflict", f"expected reject or refresh, got {on_conflict[:50]!r}")
        body = s.LocationCreateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        type, target = body.validated_data["type"], body.validated_data["target"]
        try:
            result = services.location_register(type=type, target=target, actor=request.user, dry_run=dry_run)
        except ValueError as exc:
            raise _field_error(exc) from exc
        except services.CatalogConflict:
            existing = selectors.location_get_by_target(type=type, target=target)
            if existing is None or not (dry_run or on_conflict == "refresh"):
                raise
            if not dry_run:  # as Backstage: the registered location is refreshed instead
                services.location_refresh_request(location=existing, actor=request.user)
                existing.refresh_from_db()
            return Response(
                {
                    "location": s.LocationSerializer(existing).data,
                    "entities": [s.entity_json(entity) for entity in selectors.location_entities(existing)],
                    "exists": True,
                    "errors": [*existing.errors],
                },
                status=status.HTTP_201_CREATED,
            )
        if not dry_run:
            selectors.relations_attach(result.entities)
        data = {
            "location": s.LocationSerializer(result.location).data,
            "entities": [s.entity_json(entity) for entity in result.entities],
            "errors": result.errors,
        }
        if dry_run:
            data["exists"] = False
        return Response(data, status=status.HTTP_201_CREATED)


def _field_error(exc: ValueError, prefix: str = "") -> ValidationError:
    """A service's ``field: message`` ValueError as a 400 naming the field."""
    field, _, message = str(exc).partition(": ")
    if not message:
        return ValidationError([str(exc)])
    if prefix and not field.startswith(prefix):
        field = prefix + field
    return ValidationError({field: [message]})


class LocationsByQueryView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_locations_by_query",
        description="Registered locations matching a filter predicate on `id`, `type` and `target`, paged with "
        "cursors (Backstage's `queryLocations`).",
        request=s.LocationQueryRequestSerializer,
        responses={200: s.LocationQueryResponseSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        body = s.LocationQueryRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "cursor" in data:
            try:
                state = LOCATION_CURSOR_SIGNER.unsign_object(data["cursor"])
                predicate, offset, limit = state["query"], int(state["offset"]), int(state["limit"])
            except (signing.BadSignature, KeyError, TypeError, ValueError):
                raise QueryError("cursor", "is not a cursor this server gave out") from None
        else:
            predicate, offset, limit = data.get("query"), 0, min(data.get("limit", DEFAULT_LIMIT), MAX_LIMIT)
        items, total, more = selectors.location_query(predicate=predicate, offset=offset, limit=limit)
        page_info = {}
        if more and limit:  # limit 0 counts only: no endless pages
            state = {"query": predicate, "offset": offset + limit, "limit": limit}
            page_info["nextCursor"] = LOCATION_CURSOR_SIGNER.sign_object(state)
        return Response(
            {"items": s.BackstageLocationSerializer(items, many=True).data, "totalItems": total, "pageInfo": page_info}
        )


LOCATION_CURSOR_SIGNER = signing.Signer(salt="catalog.api.locations-by-query")


class LocationByEntityView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_location_by_entity",
        description="The registered location the entity came from (its `managed-by-origin-location`).",
        responses={200: s.BackstageLocationSerializer, **errors(404)},
    )
    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        entity = _entity_by_name(kind, namespace, name)
        location = selectors.location_by_entity(entity)
        if location is None:
            raise NotFound(f"{selectors.entity_ref_text(entity)} comes from no location (it is an orphan)")
        return Response(s.BackstageLocationSerializer(location).data)


class AnalyzeLocationView(CatalogAPIView):
    @extend_schema(
        operation_id="catalog_analyze_location",
        description="What registering a target would give, nothing kept: the entities of its catalog file (a "
        "repository or folder is looked for `catalogFilename`, default catalog-info.yaml) and whether each file is "
        "registered, or a Component to fill in when there is none.",
        request=s.AnalyzeLocationRequestSerializer,
        responses={200: s.AnalyzeLocationResponseSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        body = s.AnalyzeLocationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        location = body.validated_data["location"]
        try:
            analysis = services.location_analyze(
                type=location["type"],
                target=location["target"],
                actor=request.user,
                catalog_filename=body.validated_data["catalogFilename"],
            )
        except ValueError as exc:
            raise _field_error(exc, prefix="location.") from exc
        selectors.relations_attach([entity for *_, entity in analysis.existing])
        return Response(
            {
                "existingEntityFiles": [
                    {"location": {"type": kind, "target": target}, "isRegistered": known, "entity": s.entity_json(e)}
                    for kind, target, known, e in analysis.existing
                ],
                "generateEntities": analysis.generated,
            }
        )


def _location_or_404(pk: int) -> Location:
    location = selectors.location_list().filter(pk=pk).first()
    if location is None:
        raise NotFound(f"No location with id {pk}")
    return location


class LocationDetailView(CatalogAPIView):
    @extend_schema(operation_id="catalog_location", responses={200: s.LocationSerializer, **errors(404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.LocationSerializer(_location_or_404(pk)).data)

    @extend_schema(
        operation_id="catalog_location_update",
        description="Point a registered location at another target and re-process it (Backstage's "
        "`updateLocation`). Staff or the person who registered it; others' moves drop its trusted standing.",
        request=s.LocationCreateRequestSerializer,
        responses={200: s.LocationSerializer, **errors(400, 403, 404, 409)},
    )
    def put(self, request: Request, pk: int) -> Response:
        location = _location_or_404(pk)
        if not selectors.location_may_change(location=location, user=request.user):  # before reading the body
            raise PermissionDenied("only staff or the person who registered a location may change it")
        body = s.LocationCreateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            location = services.location_update(
                location=location,
                type=body.validated_data["type"],
                target=body.validated_data["target"],
                actor=request.user,
            )
        except ValueError as exc:
            raise _field_error(exc) from exc
        return Response(s.LocationSerializer(location).data)

    @extend_schema(
        operation_id="catalog_location_delete",
        description="Unregister a location: it, the locations its targets produced and their entities go. "
        "Staff or the person who registered it only.",
        responses={204: None, **errors(403, 404, 409)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.location_unregister(location=_location_or_404(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffOnly(IsAdminUser):
    message = "only staff may do this"


class LocationTrustView(CatalogAPIView):
    # staff only: the rest are refused before their body is read, as the other mutations refuse them
    permission_classes = [StaffOnly]

    @extend_schema(
        operation_id="catalog_location_trust",
        description="Meshforge: mark a registered location trusted (templates and team membership are honoured "
        "only from trusted locations) or not, and re-process it. Staff only.",
        request=s.LocationTrustRequestSerializer,
        responses={200: s.LocationSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        body = s.LocationTrustRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        location = _location_or_404(pk)
        services.location_trust_set(location=location, trusted=body.validated_data["trusted"], actor=request.user)
        return Response(s.LocationSerializer(_location_or_404(pk)).data)


class LocationAdoptView(CatalogAPIView):
    permission_classes = [StaffOnly]  # as trust: the rest are refused before their body is read

    @extend_schema(
        operation_id="catalog_location_adopt",
        description="Meshforge: record the Git repository a location reads as the own repository of the data "
        "products it holds (as if Meshforge had created it for them: they are projected, and win their refs over "
        "untrusted locations), or no longer with `adopted: false`, and re-process it. Staff only.",
        request=s.LocationAdoptRequestSerializer,
        responses={200: s.LocationSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        body = s.LocationAdoptRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        location = _location_or_404(pk)
        services.location_adopt(location=location, adopted=body.validated_data["adopted"], actor=request.user)
        return Response(s.LocationSerializer(_location_or_404(pk)).data)


@extend_schema(exclude=True)
class NotFoundView(CatalogAPIView):
    """Any other path under /api/catalog/: a 404 in Backstage's shape (after authentication, as the rest)."""

    def dispatch_404(self, request: Request, *args, **kwargs) -> Response:
        raise NotFound(f"No such catalog endpoint: {request.method} {request.path}")

    get = post = put = patch = delete = head = options = dispatch_404
