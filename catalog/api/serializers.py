"""The catalog API's shapes, as Backstage's catalog backend answers them: entities with ``metadata.uid``,
``metadata.etag``, ``relations`` and ``status``; locations; and the request bodies it accepts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.choices import RefreshStatus
from catalog.models import Entity, Location, RefreshRequest, Relation
from catalog.processing import ProcessCounts
from catalog.refs import RefError, parse_ref

PROCESSING_STATUS = "backstage.io/catalog-processing"
ORPHAN_ANNOTATION = "backstage.io/orphan"
MAX_REFS = 10_000
MAX_FIELDS = 100
MAX_FIELD_LENGTH = 200


# --- Entities ----------------------------------------------------------------------------------------------


def relation_json(relation: Relation) -> dict:
    try:
        target = parse_ref(relation.target_ref)
        parts = {"kind": target.kind, "namespace": target.namespace, "name": target.name}
    except RefError:  # stored refs are canonical; a dangling oddity still shows as its ref
        parts = {"kind": "", "namespace": "", "name": relation.target_ref}
    return {"type": relation.type, "targetRef": relation.target_ref, "target": parts}


def entity_json(entity: Entity) -> dict:
    """The entity as Backstage serves it. Needs ``entity.relations`` (set by the selectors); no queries."""
    document = entity.document
    metadata = {**(document.get("metadata") or {}), "uid": str(entity.uid), "etag": entity.result_hash}
    if entity.orphan:  # as Backstage marks an entity no location emits any more
        metadata["annotations"] = {**(metadata.get("annotations") or {}), ORPHAN_ANNOTATION: "true"}
    data = {
        **document,
        "metadata": metadata,
        "relations": [relation_json(relation) for relation in getattr(entity, "relations", [])],
    }
    errors = entity.all_errors
    if errors:
        data["status"] = {
            "items": [
                {
                    "type": PROCESSING_STATUS,
                    "level": "error",
                    "message": message,
                    "error": {"name": "InputError", "message": message},
                }
                for message in errors
            ]
        }
    return data


def project(data: dict, fields: list[str]) -> dict:
    """Keep only the dotted ``fields`` of ``data`` (Backstage's ``fields`` parameter); missing paths are skipped."""
    if not fields:
        return data
    result: dict = {}
    for path in fields:
        parts = path.split(".")
        value = data
        for part in parts:
            if not isinstance(value, dict) or part not in value:
                break
            value = value[part]
        else:
            into = result
            for part in parts[:-1]:
                into = into.setdefault(part, {})
                if not isinstance(into, dict):
                    break
            else:
                into[parts[-1]] = value
    return result


def parse_fields(values: list[str]) -> list[str]:
    """``fields`` given repeated and/or comma-separated; raises ValidationError naming ``fields``."""
    fields = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if len(fields) > MAX_FIELDS:
        raise serializers.ValidationError({"fields": [f"at most {MAX_FIELDS} fields, got {len(fields)}"]})
    for field in fields:
        if len(field) > MAX_FIELD_LENGTH or any(not part for part in field.split(".")):
            raise serializers.ValidationError({"fields": [f"{field[:MAX_FIELD_LENGTH]!r} is not a dotted path"]})
    return fields


class RelationTargetSerializer(serializers.Serializer):
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()


class RelationSerializer(serializers.Serializer):
    type = serializers.CharField()
    targetRef = serializers.CharField()  # Backstage spells its fields in camelCase
    target = RelationTargetSerializer()


class EntityMetadataSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    etag = serializers.CharField()
    name = serializers.CharField()
    namespace = serializers.CharField()


class EntitySerializer(serializers.Serializer):
    """For the schema only: an entity document (other keys of ``metadata`` and ``spec`` as in the file)."""

    apiVersion = serializers.CharField()
    kind = serializers.CharField()
    metadata = EntityMetadataSerializer()
    spec = serializers.DictField(required=False)
    relations = RelationSerializer(many=True)
    status = serializers.DictField(required=False, help_text="Present when the entity has processing errors.")


class PageInfoSerializer(serializers.Serializer):
    nextCursor = serializers.CharField(required=False)
    prevCursor = serializers.CharField(required=False)


class EntityQueryResponseSerializer(serializers.Serializer):
    items = EntitySerializer(many=True, help_text="Projected to `fields` when given.")
    totalItems = serializers.IntegerField()
    pageInfo = PageInfoSerializer()


class EntitiesByRefsRequestSerializer(serializers.Serializer):
    entityRefs = serializers.ListField(
        child=serializers.CharField(max_length=1000, allow_blank=True), max_length=MAX_REFS
    )
    fields = serializers.ListField(
        child=serializers.CharField(max_length=MAX_FIELD_LENGTH), required=False, max_length=MAX_FIELDS
    )


class EntitiesByRefsPredicateSerializer(EntitiesByRefsRequestSerializer):
    query = serializers.JSONField(required=False, help_text="A filter predicate the entities must also match.")


class OrderBySerializer(serializers.Serializer):
    field = serializers.CharField(max_length=200)
    order = serializers.ChoiceField(choices=["asc", "desc"], default="asc")


class FullTextFilterSerializer(serializers.Serializer):
    term = serializers.CharField(max_length=1000, allow_blank=True, default="", trim_whitespace=True)
    fields = serializers.ListField(
        child=serializers.CharField(max_length=MAX_FIELD_LENGTH), required=False, default=list, max_length=20
    )


class EntityPredicateQuerySerializer(serializers.Serializer):
    """The body of ``POST entities/by-query``: the first page (``query`` and the rest) or the next (``cursor``)."""

    query = serializers.JSONField(
        required=False, help_text="A filter predicate: `{$all|$any: [...]}`, `{$not: ...}` or `{field: value}`."
    )
    cursor = serializers.CharField(required=False, max_length=20_000)
    limit = serializers.IntegerField(required=False, min_value=0)
    offset = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)
    orderBy = OrderBySerializer(many=True, required=False, max_length=10)
    fullTextFilter = FullTextFilterSerializer(required=False)
    fields = serializers.ListField(
        child=serializers.CharField(max_length=MAX_FIELD_LENGTH), required=False, max_length=MAX_FIELDS
    )
    totalItems = serializers.ChoiceField(choices=["include", "exclude"], required=False, default="include")


class EntityFacetsPredicateSerializer(serializers.Serializer):
    facets = serializers.ListField(child=serializers.CharField(max_length=200), min_length=1, max_length=20)
    query = serializers.JSONField(required=False)


@extend_schema_field({"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Entity"}], "nullable": True}})
class EntityOrNullListField(serializers.ListField):
    """Entities or nulls: the generator reads no null items from ``child=EntitySerializer(allow_null=True)``."""

    child = EntitySerializer(allow_null=True)


class EntitiesByRefsResponseSerializer(serializers.Serializer):
    items = EntityOrNullListField(help_text="In the order of `entityRefs`; null where none is found.")


class FacetSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class EntityFacetsResponseSerializer(serializers.Serializer):
    facets = serializers.DictField(child=FacetSerializer(many=True))


class RefreshRequestSerializer(serializers.Serializer):
    entityRef = serializers.CharField(max_length=1000)


class RefreshResponseSerializer(serializers.Serializer):
    """A manual refresh: done at once (a local location), or queued for the worker (a remote one); the counts are
    those of the finished refresh (0 while it waits)."""

    id = serializers.IntegerField(allow_null=True, help_text="Read its outcome at refresh-requests/{id}.")
    status = serializers.ChoiceField(choices=RefreshStatus.choices)
    location = serializers.CharField(allow_null=True, help_text="`type:target` of the location re-read.")
    requestedAt = serializers.DateTimeField(allow_null=True)
    finishedAt = serializers.DateTimeField(allow_null=True)
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    orphaned = serializers.IntegerField()
    locations = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.CharField(), help_text="Errors of its locations afterwards.")


def refresh_json(refresh: RefreshRequest | None) -> dict:
    """The answer about a refresh; None stands for an orphan's, which no location emits any more."""
    counts = dict.fromkeys(ProcessCounts.COUNTED, 0) | (refresh.counts if refresh else {})
    return {
        "id": refresh.pk if refresh else None,
        "status": refresh.status if refresh else RefreshStatus.DONE,
        "location": str(refresh.location) if refresh else None,
        "requestedAt": refresh.requested_at if refresh else None,
        "finishedAt": refresh.finished_at if refresh else None,
        **{name: counts.get(name, 0) for name in ProcessCounts.COUNTED},
        "errors": refresh.errors if refresh else [],
    }


class ValidateEntityRequestSerializer(serializers.Serializer):
    entity = serializers.DictField()
    location = serializers.CharField(max_length=4096, help_text="Where the entity would come from, as `type:target`.")

    def validate_location(self, value: str) -> str:
        kind, _, target = value.partition(":")
        if not kind.strip() or not target.strip():
            raise serializers.ValidationError(f"expected <type>:<target>, got {value[:200]!r}")
        return value


class SerializedErrorSerializer(serializers.Serializer):
    name = serializers.CharField()
    message = serializers.CharField()


class ValidateEntityErrorsSerializer(serializers.Serializer):
    errors = SerializedErrorSerializer(many=True)


class ErrorStatusSerializer(serializers.Serializer):
    statusCode = serializers.IntegerField()


class ErrorSerializer(serializers.Serializer):
    """Backstage's error body, for every error under /api/catalog/."""

    error = SerializedErrorSerializer()
    response = ErrorStatusSerializer()


# --- Locations ---------------------------------------------------------------------------------------------


class LocationSerializer(serializers.ModelSerializer):
    """Backstage's ``{id, type, target}`` (the id as a string, as Backstage's are) plus Meshforge's state."""

    id = serializers.CharField(source="pk", read_only=True)
    entityRef = serializers.CharField(
        source="entity_ref", read_only=True, help_text="The Location entity that stands for it."
    )
    parent = serializers.CharField(source="parent_id", read_only=True, allow_null=True)
    registeredBy = serializers.CharField(source="registered_by.username", read_only=True, allow_null=True, default=None)
    errors = serializers.ListField(child=serializers.CharField(), read_only=True)
    lastRefresh = serializers.DateTimeField(source="last_attempt_at", read_only=True, allow_null=True)
    lastSuccess = serializers.DateTimeField(source="last_success_at", read_only=True, allow_null=True)
    nextRefresh = serializers.DateTimeField(source="next_refresh_at", read_only=True)
    homeOf = serializers.ListField(
        source="home_of",
        child=serializers.CharField(),
        read_only=True,
        help_text="Meshforge: the data products (System refs) whose own repository this location reads.",
    )

    class Meta:
        model = Location
        fields = [
            *("id", "type", "target", "entityRef", "presence", "parent", "trusted", "registeredBy"),
            *("errors", "lastRefresh", "lastSuccess", "nextRefresh", "homeOf"),
        ]
        read_only_fields = fields


class LocationItemSerializer(serializers.Serializer):
    """An item of the locations list, wrapped as Backstage wraps it."""

    data = LocationSerializer(source="*")


class LocationCreateRequestSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=16)
    target = serializers.CharField(max_length=2048)


class LocationCreateResponseSerializer(serializers.Serializer):
    location = LocationSerializer()
    entities = EntitySerializer(many=True)
    exists = serializers.BooleanField(required=False, help_text="Dry runs only: the location is registered.")
    errors = serializers.ListField(child=serializers.CharField(), help_text="What processing reported.")


class LocationQueryRequestSerializer(serializers.Serializer):
    query = serializers.JSONField(required=False, help_text="A filter predicate on `id`, `type` and `target`.")
    limit = serializers.IntegerField(required=False, min_value=0)
    cursor = serializers.CharField(required=False, max_length=2000)


class BackstageLocationSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    type = serializers.CharField()
    target = serializers.CharField()
    entityRef = serializers.CharField(source="entity_ref", help_text="The Location entity that stands for it.")


class LocationQueryResponseSerializer(serializers.Serializer):
    items = BackstageLocationSerializer(many=True)
    totalItems = serializers.IntegerField()
    pageInfo = PageInfoSerializer()


class LocationSpecSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=16, required=False, default="url")
    target = serializers.CharField(max_length=2048)


class AnalyzeLocationRequestSerializer(serializers.Serializer):
    location = LocationSpecSerializer()
    catalogFilename = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$", max_length=200, required=False, default="catalog-info.yaml"
    )


class AnalyzedEntityFileSerializer(serializers.Serializer):
    location = LocationSpecSerializer()
    isRegistered = serializers.BooleanField()
    entity = serializers.DictField()


class AnalyzedFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    state = serializers.ChoiceField(choices=["analysisSuggestedValue", "analysisSuggestedNoValue", "needsUserInput"])
    value = serializers.CharField(allow_null=True)
    description = serializers.CharField()


class GeneratedEntitySerializer(serializers.Serializer):
    entity = serializers.DictField()
    fields = AnalyzedFieldSerializer(many=True)


class AnalyzeLocationResponseSerializer(serializers.Serializer):
    existingEntityFiles = AnalyzedEntityFileSerializer(many=True)
    generateEntities = GeneratedEntitySerializer(many=True)


class AncestryItemSerializer(serializers.Serializer):
    entity = EntitySerializer()
    parentEntityRefs = serializers.ListField(child=serializers.CharField())


class AncestryResponseSerializer(serializers.Serializer):
    rootEntityRef = serializers.CharField()
    items = AncestryItemSerializer(many=True)


class LocationTrustRequestSerializer(serializers.Serializer):
    trusted = serializers.BooleanField()


class LocationAdoptRequestSerializer(serializers.Serializer):
    adopted = serializers.BooleanField(
        default=True, help_text="false: the repository is no longer the own repository of its data products."
    )
