"""Provisioning's state (PRODUCT §6): the adapter registry, deployments with one task per component and operation,
what each environment runs of each data product, and reverse provisionings awaiting review. Every step lives here,
so a worker that dies loses nothing."""

from __future__ import annotations

import json
import os
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models

from core.validation import CustomValidationMixin
from provisioning.choices import (
    ACTIVE_STATUSES,
    DeploymentOperation,
    DeploymentStatus,
    ReverseProvisioningStatus,
    TaskOperation,
    TaskStatus,
    UnitStatus,
)

ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")


def environment_problem(value: str) -> str | None:
    """Why ``value`` is not an environment of this installation (None when it is one)."""
    if value in settings.MESHFORGE_ENVIRONMENTS:
        return None
    return f"unknown environment {value!r}; expected one of {', '.join(settings.MESHFORGE_ENVIRONMENTS)}"


def validate_environment(value: str) -> None:
    if problem := environment_problem(value):
        raise ValidationError(f"{problem[0].upper()}{problem[1:]}.", code="environment")


class TechAdapter(models.Model):
    """Where the components of one infrastructure template are provisioned in one environment: a base URL speaking
    the Tech Adapter API 2.2, its time limits, and an optional auth header whose value is read from an environment
    variable named here (no secret is ever stored in the database)."""

    infrastructure_template_id = models.CharField(
        "infrastructure template id", max_length=200, help_text="e.g. urn:dmb:itm:postgres-outputport:1"
    )
    environment = models.CharField(max_length=63, validators=[validate_environment])
    url = models.CharField(
        "base URL",
        max_length=2048,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="The adapter's base URL; the client appends /v1/provision etc.",
    )
    description = models.CharField(max_length=300, blank=True)
    connect_timeout = models.FloatField(
        "connect time limit (s)", default=5.0, validators=[MinValueValidator(0.1)], help_text="Seconds."
    )
    request_timeout = models.FloatField(
        "request time limit (s)", default=30.0, validators=[MinValueValidator(0.1)], help_text="Seconds per call."
    )
    operation_timeout = models.FloatField(
        "operation time limit (s)",
        default=600.0,
        validators=[MinValueValidator(1)],
        help_text="Seconds for one operation, polling included.",
    )
    poll_interval = models.FloatField(
        "poll interval (s)", default=2.0, validators=[MinValueValidator(0.05)], help_text="Seconds between polls."
    )
    auth_header = models.CharField(
        "auth header name", max_length=100, blank=True, help_text="e.g. Authorization; blank: none."
    )
    auth_env = models.CharField(
        "auth header value from",
        max_length=100,
        blank=True,
        help_text="The environment variable holding the header's value (never the value itself).",
    )
    async_validation = models.BooleanField(
        default=False, help_text="Validate through /v2/validate and poll (falls back to /v1/validate when refused)."
    )
    async_validation_unsupported = models.BooleanField(
        default=False, editable=False, help_text="The adapter said /v2/validate is not implemented: /v1 is used."
    )
    builtin = models.CharField(
        max_length=30, blank=True, editable=False, help_text="The built-in adapter this row points at, if any."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["infrastructure_template_id", "environment"]
        constraints = [
            models.UniqueConstraint(
                fields=["infrastructure_template_id", "environment"],
                name="provisioning_adapter_unique_template_env",
                violation_error_message="An adapter is already registered for this template and environment.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.infrastructure_template_id} ({self.environment})"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.auth_header and not HEADER_NAME.fullmatch(self.auth_header):
            errors["auth_header"] = "A header name has letters, digits and dashes only."
        if self.auth_env and not ENV_NAME.fullmatch(self.auth_env):
            errors["auth_env"] = "An environment variable name: capitals, digits and underscores."
        if bool(self.auth_header) != bool(self.auth_env):
            errors["auth_env" if self.auth_header else "auth_header"] = "Give both the header and its variable."
        timeouts = (self.operation_timeout, self.request_timeout)
        if None not in timeouts and timeouts[0] < timeouts[1]:
            errors["operation_timeout"] = "The operation limit must be at least the request limit."
        if errors:
            raise ValidationError(errors)

    def auth_headers(self) -> dict[str, str]:
        """The auth header with its value read from the environment now ({} when none is set or it is empty)."""
        if not self.auth_header:
            return {}
        value = os.environ.get(self.auth_env, "")
        return {self.auth_header: value} if value else {}


class DeploymentUnit(models.Model):
    """What one environment runs of one data product: its status, the release deployed, and the enriched
    descriptor (each component's ``info`` from its adapter and ``latestProvisioningOperation``), which the next
    provision and unprovision send back as ``latestEnrichedDescriptor``."""

    product = models.ForeignKey(
        "dataproducts.DataProductIdentity", on_delete=models.PROTECT, related_name="deployment_units"
    )
    environment = models.CharField(max_length=63)
    status = models.CharField(max_length=16, choices=UnitStatus.choices, default=UnitStatus.NOT_DEPLOYED)
    release = models.ForeignKey(
        "dataproducts.Release", null=True, blank=True, on_delete=models.PROTECT, related_name="deployment_units"
    )
    enriched_descriptor = models.JSONField(default=dict, blank=True)
    last_deployment = models.ForeignKey(
        "provisioning.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deployed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "environment"]
        constraints = [
            models.UniqueConstraint(fields=["product", "environment"], name="provisioning_unit_unique_env"),
        ]

    def __str__(self) -> str:
        return f"{self.product} in {self.environment}: {self.get_status_display()}"


class Deployment(CustomValidationMixin, models.Model):
    """One deploy or undeploy of a data product in one environment: checked in the worker (descriptor, governance,
    every adapter's validate), previewed, confirmed, then run as :class:`DeploymentTask` rows.

    ``full_clean()`` of a deploy moving to ``ready`` is the governance gate (``core.validation.post_clean``):
    governance judges ``descriptor`` for ``environment`` against the previously deployed one."""

    product = models.ForeignKey(
        "dataproducts.DataProductIdentity", on_delete=models.PROTECT, related_name="deployments"
    )
    release = models.ForeignKey(
        "dataproducts.Release", null=True, blank=True, on_delete=models.PROTECT, related_name="deployments"
    )
    version = models.CharField(max_length=63, blank=True, help_text="The release's version, kept as text.")
    environment = models.CharField(max_length=63, validators=[validate_environment])
    operation = models.CharField(max_length=10, choices=DeploymentOperation.choices)
    status = models.CharField(max_length=12, choices=DeploymentStatus.choices, default=DeploymentStatus.VALIDATING)
    remove_data = models.BooleanField(default=False, help_text="Undeploy: also drop the data.")
    auto_start = models.BooleanField(default=False, help_text="Run as soon as the checks pass (no preview).")
    descriptor = models.JSONField(default=dict, blank=True, help_text="The data product descriptor deployed.")
    previous_descriptor = models.JSONField(
        null=True, blank=True, help_text="What the environment ran before (governance's breaking_change)."
    )
    problems = models.JSONField(default=list, blank=True, help_text="[{source, path, message}] that refused it.")
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed.")
    runner = models.CharField(max_length=64, blank=True, help_text="The coordinator running it now.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "environment"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="provisioning_deployment_one_active",
                violation_error_message="Another deployment of this data product to this environment is active.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="provisioning_dep_sweep_idx"),
            models.Index(fields=["product", "environment", "-created_at"], name="provisioning_dep_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.product} {self.version} to {self.environment}"

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_STATUSES

    def gate_subject(self) -> dict | None:
        """What the governance gate judges when this deployment is validated (``post_clean``): a deploy moving to
        ``ready`` — its descriptor in its environment against what that environment ran before. None otherwise."""
        if self.operation != DeploymentOperation.DEPLOY or self.status != DeploymentStatus.READY:
            return None
        if not isinstance(self.descriptor, dict) or self.product_id is None:
            return None
        return {
            "product": self.product,
            "release": self.release,
            "version": self.version,
            "environment": self.environment,
            "descriptor": self.descriptor,
            "previous": self.previous_descriptor if isinstance(self.previous_descriptor, dict) else None,
        }

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class DeploymentTask(models.Model):
    """One adapter operation of a deployment: the data-product-level call (``component_id`` blank) or one
    component's. ``layer`` is its place in the ``dependsOn`` order; tasks of one layer run at once."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="tasks")
    component_id = models.CharField(max_length=300, blank=True, help_text="Blank: the data product itself.")
    name = models.CharField(max_length=200, help_text="What the step shows.")
    kind = models.CharField(max_length=40, blank=True)
    operation = models.CharField(max_length=12, choices=TaskOperation.choices)
    layer = models.PositiveIntegerField(default=0)
    depends_on = models.JSONField(default=list, blank=True, help_text="The component ids it waits for.")
    adapter = models.ForeignKey(TechAdapter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    adapter_url = models.CharField(max_length=2048, blank=True, help_text="The adapter's URL when planned.")
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    token = models.CharField(max_length=500, blank=True, help_text="The adapter's token of a running operation.")
    request = models.JSONField(default=dict, blank=True)
    response = models.JSONField(default=dict, blank=True)
    logs = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deployment", "layer", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "component_id", "operation"], name="provisioning_task_unique_step"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.name}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class AdapterCall(models.Model):
    """A call received by a built-in adapter: counted per component (the mock's counter), and, for an operation
    answered asynchronously, the state its token polls (``ready_at`` is when it finishes)."""

    adapter = models.CharField(max_length=30)
    operation = models.CharField(max_length=20)
    component_id = models.CharField(max_length=300, blank=True)
    token = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=10, default="COMPLETED")
    outcome = models.JSONField(default=dict, blank=True, help_text="The ProvisioningStatus (or error) answered.")
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["adapter", "component_id", "operation"], name="provisioning_call_count_idx")]

    def __str__(self) -> str:
        return f"{self.adapter} {self.operation} {self.component_id}"


class ReverseProvisioning(models.Model):
    """One reverse provisioning of a component: what its adapter read back from the platform in one environment, as
    dot-path ``updates`` of the component's ``catalog-info.yaml``. Kept until reviewed, so that the commit applies
    exactly what the person previewed, not a second answer of the adapter."""

    component_ref = models.CharField(max_length=300, help_text="The component's entity ref.")
    component_name = models.CharField(max_length=255, help_text="<domain>.<name>.<major>.<component>")
    product = models.ForeignKey(
        "dataproducts.DataProductIdentity", on_delete=models.PROTECT, related_name="reverse_provisionings"
    )
    environment = models.CharField(max_length=63, validators=[validate_environment])
    adapter = models.ForeignKey(
        TechAdapter, null=True, blank=True, on_delete=models.SET_NULL, related_name="reverse_provisionings"
    )
    adapter_url = models.CharField(max_length=2048, blank=True, help_text="The adapter's URL when it was called.")
    status = models.CharField(
        max_length=10, choices=ReverseProvisioningStatus.choices, default=ReverseProvisioningStatus.RUNNING
    )
    params = models.JSONField(default=dict, blank=True, help_text="The reverse provisioning input params sent.")
    # JSON text, not jsonb: jsonb reorders an object's keys, and the adapter's order is the order the new keys of
    # catalog-info.yaml are written in
    updates_text = models.TextField(
        "updates", blank=True, default="{}", help_text="Dot path → value (JSON), as the adapter returned them."
    )
    logs = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed, as the adapter said it.")
    error_detail = models.JSONField(
        null=True, blank=True, help_text="What the adapter's error answer said, field by field (problems, solutions)."
    )
    base_revision = models.CharField(
        max_length=64, blank=True, help_text="The commit of catalog-info.yaml the adapter was given."
    )
    commit_sha = models.CharField(max_length=64, blank=True, help_text="The commit that applied the updates.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When the adapter answered.")
    decided_at = models.DateTimeField(null=True, blank=True, help_text="When it was applied or discarded.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["component_name", "-created_at"], name="provisioning_reverse_comp_idx")]

    def __str__(self) -> str:
        return f"Reverse provisioning of {self.component_name} in {self.environment}"

    @property
    def updates(self) -> dict:
        """The adapter's updates, in its order."""
        return json.loads(self.updates_text or "{}")
