"""The catalog's state: registered locations, the entities they emit, their relations and the flattened
key/value rows that serve case-insensitive filters (PRODUCT §3). Only catalog processing writes entities."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Lower
from django.utils import timezone

from catalog.choices import LocationPresence, LocationType, RefreshStatus


class Location(models.Model):
    """A registered pointer to where entity YAML lives. Root locations are registered by people; child
    locations come from the ``targets`` of Location entities and die with their parent."""

    type = models.CharField(max_length=8, choices=LocationType.choices)
    target = models.CharField(max_length=2048)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    presence = models.CharField(max_length=8, choices=LocationPresence.choices, default=LocationPresence.REQUIRED)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trusted = models.BooleanField(
        default=False,
        help_text="Set by staff. Only trusted locations may carry templates and drive team membership.",
    )
    home_of = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="The data products (System refs) whose own repository this is: set when Meshforge registers a "
        "repository it created for them, or when staff adopt one. Any location reading that Git repository counts.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    next_refresh_at = models.DateTimeField()
    source_fingerprint = models.CharField(
        max_length=200, blank=True, help_text="Git blob id, HTTP ETag or content hash of the last read."
    )
    source_revision = models.CharField(max_length=64, blank=True, help_text="The Git commit last read.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                "type",
                "target",
                name="catalog_location_unique_target",
                violation_error_message="This location is already registered.",
            ),
        ]
        indexes = [models.Index(fields=["next_refresh_at"], name="catalog_location_due_idx")]

    def __str__(self) -> str:
        return f"{self.type}:{self.target}"

    @property
    def generated_entity_name(self) -> str:
        """The name of the Location entity that stands for a registered (root) location, as Backstage names it."""
        return "generated-" + hashlib.sha1(f"{self.type}:{self.target}".encode(), usedforsecurity=False).hexdigest()

    @property
    def entity_ref(self) -> str:
        """The ref of the Location entity that stands for it, as Backstage's locations carry it."""
        return f"location:default/{self.generated_entity_name}"

    @property
    def is_root(self) -> bool:
        return self.parent_id is None


class RefreshRequest(models.Model):
    """A manual refresh of a location (the Refresh button, ``POST /api/catalog/refresh``). Remote locations are
    read by the worker, so a request is queued and answered at once; the row carries its outcome for the page
    that polls it, and the rows of the last hour are what manual refreshes are rate-limited by (PRODUCT §3.2)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="refresh_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=RefreshStatus.choices, default=RefreshStatus.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Entities added, updated, unchanged, failed…")
    errors = models.JSONField(default=list, blank=True, help_text="The location's errors after the refresh.")

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["requested_by", "requested_at"], name="catalog_refresh_user_idx"),
            models.Index(fields=["location", "requested_at"], name="catalog_refresh_location_idx"),
        ]

    def __str__(self) -> str:
        return f"refresh of {self.location_id} at {self.requested_at:%Y-%m-%d %H:%M:%S}"

    @property
    def finished(self) -> bool:
        return self.status in (RefreshStatus.DONE, RefreshStatus.FAILED)

    @property
    def counts_text(self) -> str:
        counts = self.counts or {}
        names = ("added", "updated", "unchanged", "failed", "orphaned")
        return ", ".join(f"{counts.get(name, 0)} {name}" for name in names)

    @property
    def lost(self) -> bool:
        """Queued or running for so long that the worker must have died or never took it."""
        stale = timezone.now() - timedelta(seconds=settings.CATALOG_REFRESH_QUEUED_STALE_SECONDS)
        return not self.finished and self.requested_at < stale


class Entity(models.Model):
    """An entity as the catalog serves it: the last good processed document from the location that emitted it,
    with the errors of its latest processing. ``ref`` is the canonical lower-case ``kind:namespace/name``."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=63)
    ref = models.CharField(max_length=200, unique=True, editable=False)
    document = models.JSONField()
    result_hash = models.CharField(max_length=64)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="entities")
    source_target = models.CharField(max_length=2048, blank=True, help_text="The file it was read from.")
    source_revision = models.CharField(max_length=64, blank=True, help_text="The Git commit it was read at.")
    source_text = models.TextField(blank=True, help_text="Its YAML document as written in the file.")
    orphan = models.BooleanField(default=False)
    orphaned_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="Errors of the latest read of its own file.")
    dp_errors = models.JSONField(
        default=list, blank=True, help_text="Errors of the rules spanning its data product (majors, dependsOn)."
    )
    has_errors = models.BooleanField(default=False)
    search_text = models.TextField(blank=True, help_text="Lower-case name, title, description and tags.")
    # the words of search_text (split at anything but letters and digits) for the UI's prefix search
    search_vector = models.GeneratedField(
        expression=SearchVector(
            Func(
                F("search_text"),
                Value("[^a-z0-9]+"),
                Value(" "),
                Value("g"),
                function="regexp_replace",
                output_field=models.TextField(),
            ),
            config="simple",
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "namespace", "name"]
        verbose_name_plural = "entities"
        constraints = [
            models.UniqueConstraint(
                Lower("kind"),
                Lower("namespace"),
                Lower("name"),
                name="catalog_entity_unique_ref_ci",
                violation_error_message="An entity with this kind, namespace and name already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["location"], name="catalog_entity_location_idx"),
            models.Index(fields=["orphan", "orphaned_at"], name="catalog_entity_orphan_idx"),
            GinIndex(fields=["search_vector"], name="catalog_entity_search_idx"),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def metadata(self) -> dict:
        return self.document.get("metadata") or {}

    @property
    def spec(self) -> dict:
        spec = self.document.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def title(self) -> str:
        return self.metadata.get("title") or self.name

    @property
    def all_errors(self) -> list[str]:
        return [*self.errors, *self.dp_errors]


class Relation(models.Model):
    """A directed relation between two entity refs, emitted (in both directions) by the entity whose spec
    declares it; it goes when that entity goes. Targets may dangle."""

    originating = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="emitted_relations")
    source_ref = models.CharField(max_length=200)
    type = models.CharField(max_length=64)
    target_ref = models.CharField(max_length=200)

    class Meta:
        indexes = [
            models.Index(fields=["source_ref", "type"], name="catalog_relation_source_idx"),
            models.Index(fields=["target_ref", "type"], name="catalog_relation_target_idx"),
            models.Index(fields=["originating"], name="catalog_relation_origin_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_ref} {self.type} {self.target_ref}"


class EntitySearch(models.Model):
    """One lower-cased ``key = value`` row per leaf of an entity's document and per relation, as Backstage's
    ``search`` table: it serves the API's case-insensitive dotted-path filters and the facets."""

    MAX_VALUE_LENGTH = 200

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="search_rows")
    key = models.CharField(max_length=200)
    # NULL is a value of its own here (a key present with a null value), as in Backstage's table
    value = models.CharField(max_length=MAX_VALUE_LENGTH, null=True, blank=True)  # noqa: DJ001
    # the value as written, which facets show (Backstage's original_value); NULL where ``value`` is
    original_value = models.CharField(max_length=MAX_VALUE_LENGTH, null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name_plural = "entity search rows"
        indexes = [
            models.Index(fields=["key", "value", "entity"], name="catalog_search_key_value_idx"),
            models.Index(fields=["entity"], name="catalog_search_entity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class CatalogTeam(models.Model):
    """A Django group whose memberships the catalog manages, from a Group entity of a trusted location."""

    group = models.OneToOneField("auth.Group", on_delete=models.CASCADE, related_name="catalog_team")
    entity_ref = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.entity_ref
