"""The Builder's state. ``Domain``, ``DataProduct`` and ``Component`` are projections of catalog entities
(rewritten by ``dataproducts.projections`` whenever catalog processing changes the entity; never written by
forms). ``DataProductReservation`` is the Builder's own row: it claims a data product id before anything is
created, so two creations of one product cannot both proceed (PRODUCT §4.2). ``DataProductIdentity`` and
``Release`` are history (PRODUCT §4.4): they outlive the projections, which processing deletes and re-creates."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.validation import CustomValidationMixin
from dataproducts.choices import ReleaseKind, ReservationState


class Domain(models.Model):
    """A business area: the projection of a ``kind: Domain`` entity."""

    entity = models.OneToOneField("catalog.Entity", on_delete=models.CASCADE, related_name="domain_projection")
    name = models.CharField(max_length=63, unique=True)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    owner_ref = models.CharField(max_length=200, blank=True)
    parent_name = models.CharField(max_length=63, blank=True, help_text="The domain named by spec.subdomainOf.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.title or self.name


class DataProduct(models.Model):
    """A data product: the projection of a System entity with ``spec.type: dataproduct``."""

    entity = models.OneToOneField("catalog.Entity", on_delete=models.CASCADE, related_name="data_product")
    name = models.CharField(max_length=63, unique=True, help_text="The entity name <domain>.<name>.<major>.")
    dp_id = models.CharField("id", max_length=200, unique=True, help_text="urn:dmb:dp:<domain>:<name>:<major>")
    domain_name = models.CharField(max_length=63)
    slug = models.CharField(max_length=63, help_text="The <name> part of the id.")
    major = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    owner_ref = models.CharField(max_length=200, blank=True, help_text="The owner group's entity ref.")
    owner_team = models.CharField(max_length=127, blank=True, db_index=True, help_text="The Django group it maps to.")
    dev_group_ref = models.CharField(max_length=200, blank=True)
    data_product_owner = models.CharField(max_length=200, blank=True)
    maturity = models.CharField(max_length=63, blank=True)
    lifecycle = models.CharField(max_length=63, blank=True)
    version = models.CharField(max_length=63, blank=True)
    use_case_template_id = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True)
    repository_url = models.CharField(max_length=2048, blank=True, help_text="Where its catalog-info.yaml lives.")
    has_errors = models.BooleanField(default=False)
    orphan = models.BooleanField(default=False)
    search_text = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["domain_name"], name="dataproducts_dp_domain_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.title or self.slug


class Component(models.Model):
    """A part of a data product: the projection of a Component entity with ``spec.mesh``."""

    entity = models.OneToOneField("catalog.Entity", on_delete=models.CASCADE, related_name="component")
    data_product = models.ForeignKey(
        DataProduct, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    system_name = models.CharField(max_length=63, help_text="The data product entity name from spec.system.")
    name = models.CharField(max_length=63, unique=True, help_text="<domain>.<name>.<major>.<component>")
    component_id = models.CharField("id", max_length=255, unique=True)
    slug = models.CharField(max_length=63, help_text="The <component> part of the id.")
    kind = models.CharField(max_length=63)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    version = models.CharField(max_length=63, blank=True)
    infrastructure_template_id = models.CharField(max_length=200, blank=True)
    use_case_template_id = models.CharField(max_length=200, blank=True)
    depends_on = models.JSONField(default=list, blank=True, help_text="Component ids from spec.mesh.dependsOn.")
    has_errors = models.BooleanField(default=False)
    orphan = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["system_name"], name="dataproducts_cmp_system_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.title or self.slug


class DataProductReservation(models.Model):
    """Claims a data product id for a creation in progress, then records that Meshforge created it and where.

    The unique id is the lock: a second creation of the same product fails on insert (HTTP 409). A failed creation
    deletes its reservation along with everything else it made. While it works, the creating process holds a
    PostgreSQL advisory lock on the id (``dataproducts.services.creation.creation_lock_key``): a reservation still
    ``creating`` whose lock nobody holds belongs to a process that died, and the next attempt cleans up after it at
    once. The repository URL is recorded before the repository exists, and the repository carries ``mark``, so that
    clean-up removes what this reservation made and never a repository somebody else put there."""

    dp_id = models.CharField("id", max_length=200)
    entity_name = models.CharField(max_length=63)
    state = models.CharField(max_length=16, choices=ReservationState.choices, default=ReservationState.CREATING)
    repository_url = models.CharField(max_length=2048, blank=True)
    mark = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="Written into the repository when it is created; empty on reservations older than the mark.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "dp_id",
                name="dataproducts_reservation_unique_id",
                violation_error_message="This data product already exists or is being created.",
            ),
        ]

    def __str__(self) -> str:
        return self.dp_id


class DataProductIdentity(models.Model):
    """The durable identity of a data product: one row per id, made when the product is first projected and never
    deleted. History (releases, evaluations, deployments, grants) points here, never at the ``DataProduct``
    projection, so orphaning or unregistering a product keeps its history and processing never trips over it."""

    dp_id = models.CharField("id", max_length=200, unique=True, help_text="urn:dmb:dp:<domain>:<name>:<major>")
    entity_name = models.CharField(max_length=63, help_text="The System entity name <domain>.<name>.<major>.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity_name"]
        verbose_name = "data product identity"
        verbose_name_plural = "data product identities"

    def __str__(self) -> str:
        return self.entity_name


class Release(CustomValidationMixin, models.Model):
    """A frozen descriptor of a data product (PRODUCT §4.4). A *draft* ``X.Y-SNAPSHOT-N`` is the product as of a
    commit, written under ``releases/X.Y-SNAPSHOT-N/`` of its repository; a *stable* ``X.Y.Z`` is a draft
    promoted, tagged ``vX.Y.Z`` in Git, and immutable: ``clean()`` refuses any change to it and a PostgreSQL
    trigger (migration 0003) refuses UPDATE and DELETE of a stable row from any path, raw SQL included.

    ``full_clean()`` is the gate (PRODUCT §5): after these checks it sends ``core.validation.post_clean``, which
    governance answers by evaluating the applicable policies against the release's descriptors."""

    product = models.ForeignKey(DataProductIdentity, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(max_length=63, help_text="X.Y-SNAPSHOT-N (draft) or X.Y.Z (stable).")
    kind = models.CharField(max_length=8, choices=ReleaseKind.choices)
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    patch = models.PositiveIntegerField(null=True, blank=True, help_text="Stable releases only.")
    snapshot = models.PositiveIntegerField(null=True, blank=True, help_text="N of a draft X.Y-SNAPSHOT-N.")
    descriptors = models.JSONField(default=dict, help_text="The assembled descriptor of each environment.")
    commit = models.CharField(max_length=64, help_text="The commit of the product's repository it froze.")
    repository_url = models.CharField(max_length=2048, blank=True)
    promoted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="promotions"
    )
    notes = models.TextField("release notes", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True, help_text="Kept if the account ever goes.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "version"],
                name="dataproducts_release_unique_version",
                violation_error_message="This data product already has a release with this version.",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind=ReleaseKind.STABLE, patch__isnull=False, snapshot__isnull=True))
                | (models.Q(kind=ReleaseKind.DRAFT, patch__isnull=True, snapshot__isnull=False)),
                name="dataproducts_release_kind_numbers",
                violation_error_message="A stable release has a patch number and a draft a snapshot number.",
            ),
        ]
        indexes = [models.Index(fields=["product", "kind", "major", "minor"], name="dataproducts_release_ver_idx")]

    def __str__(self) -> str:
        return f"{self.product} {self.version}"

    @property
    def is_stable(self) -> bool:
        return self.kind == ReleaseKind.STABLE

    def clean(self) -> None:
        if self.pk is not None and Release.objects.filter(pk=self.pk, kind=ReleaseKind.STABLE).exists():
            raise ValidationError(f"Release {self.version} is stable: a stable release cannot be changed.")
        super().clean()
