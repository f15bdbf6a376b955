"""Governance's state (PRODUCT §5): the platform team's ``Policy`` rows and their immutable ``PolicyVersion``
history, ``Waiver`` exemptions of one product from one policy, and the stored ``Evaluation`` of a policy version
against a data product's descriptor. History points at ``dataproducts.DataProductIdentity``, never at the catalog
projection, so it outlives processing."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models
from django.utils import timezone

from governance.choices import (
    RESOURCE_KINDS,
    SELECTOR_KEYS,
    BenchStatus,
    EvaluationTiming,
    Lifecycle,
    PolicySeverity,
    Timing,
)
from governance.engines import Outcome, UnknownEngine, engine_get

# The fields a PolicyVersion freezes, and a policy file carries (governance.policyfiles), in this order.
POLICY_FIELDS = ("name", "description", "engine", "severity", "lifecycle", "environments", "selector", "timing", "body")


def _default_selector() -> dict:
    return {"resource": "dataproduct"}


def _default_timing() -> list:
    return [Timing.DEPLOYMENT.value]


def selector_errors(selector: object) -> list[str]:
    """What is wrong with a selector: ``{resource, maturity?, domain?, useCaseTemplateId?,
    infrastructureTemplateId?}`` where ``resource`` is ``dataproduct`` or a component kind and every other key is a
    non-empty string or a list of them (any of which matches)."""
    if not isinstance(selector, dict):
        return ['must be an object such as {"resource": "dataproduct"}']
    errors = []
    if unknown := sorted(str(key) for key in selector if key not in SELECTOR_KEYS):
        errors.append(f"unknown key {', '.join(unknown)}; allowed: {', '.join(SELECTOR_KEYS)}")
    resource = selector.get("resource")
    if resource not in RESOURCE_KINDS:
        errors.append(f"resource must be one of {', '.join(RESOURCE_KINDS)}, got {resource!r}")
    for key in SELECTOR_KEYS[1:]:
        if key not in selector:
            continue
        value = selector[key]
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str) and item.strip() and "\x00" not in item for item in values):
            errors.append(f"{key} must be a non-empty string or a list of them, got {value!r}")
    return errors


def environments_errors(environments: object) -> list[str]:
    if not isinstance(environments, list) or not all(isinstance(item, str) for item in environments):
        return ["must be a list of environment names (empty: every environment)"]
    known = settings.MESHFORGE_ENVIRONMENTS
    if unknown := [item for item in environments if item not in known]:
        return [f"unknown environment {', '.join(map(repr, unknown))}; known: {', '.join(known)}"]
    if len(set(environments)) != len(environments):
        return ["names an environment twice"]
    return []


def timing_errors(timing: object) -> list[str]:
    if not isinstance(timing, list) or not timing:
        return [f"must be a non-empty list of {' and/or '.join(Timing.values)}"]
    if unknown := [item for item in timing if item not in Timing.values]:
        return [f"unknown timing {', '.join(map(repr, unknown))}; allowed: {', '.join(Timing.values)}"]
    if len(set(timing)) != len(timing):
        return ["names a timing twice"]
    return []


class Policy(models.Model):
    """A rule the platform team governs data products with (PRODUCT §5). ``clean()`` checks every field and has
    the engine check the body (a syntax error names its line and column); ``governance.services.policy_save``
    is the only writer, so every saved change leaves a :class:`PolicyVersion`."""

    name = models.CharField(
        max_length=100, unique=True, validators=[validate_slug], help_text="A slug: the key of import and export."
    )
    description = models.TextField(blank=True)
    engine = models.CharField(max_length=63, help_text="The engine that reads the body (GOVERNANCE_ENGINES).")
    body = models.TextField(blank=True, help_text="The policy in the engine's language (its check says what it needs).")
    severity = models.CharField(max_length=8, choices=PolicySeverity.choices, default=PolicySeverity.ERROR)
    lifecycle = models.CharField(max_length=12, choices=Lifecycle.choices, default=Lifecycle.DRAFT)
    environments = models.JSONField(default=list, blank=True, help_text="Environment names; empty: every one.")
    selector = models.JSONField(
        default=_default_selector,
        blank=True,  # clean() says what a selector needs
        help_text='{"resource": "dataproduct" or a component kind, "maturity", "domain", "useCaseTemplateId", '
        '"infrastructureTemplateId"}',
    )
    timing = models.JSONField(default=_default_timing, blank=True, help_text='"deployment" and/or "runtime".')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        for field, check in (
            ("environments", environments_errors),
            ("selector", selector_errors),
            ("timing", timing_errors),
        ):
            if problems := check(getattr(self, field)):
                errors[field] = problems
        try:
            engine = engine_get(self.engine)
        except UnknownEngine as exc:
            errors["engine"] = [str(exc.args[0])]
        else:
            if problems := [problem for problem in engine.check(self.body or "") if problem.is_error]:
                errors["body"] = [problem.message for problem in problems]
        if errors:
            raise ValidationError(errors)

    def snapshot(self) -> dict:
        """The policy's fields as plain data (a version's copy, an audit record, a policy file)."""
        return {field: getattr(self, field) for field in POLICY_FIELDS}


class PolicyVersion(models.Model):
    """A frozen copy of a policy as one save left it: evaluations point at the version they ran, so editing a
    policy never rewrites what an evaluation judged. Never changed once written (``save()`` refuses)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    engine = models.CharField(max_length=63)
    body = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=PolicySeverity.choices)
    lifecycle = models.CharField(max_length=12, choices=Lifecycle.choices)
    environments = models.JSONField(default=list, blank=True)
    selector = models.JSONField(default=dict)
    timing = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True, help_text="Kept if the account ever goes.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"],
                name="governance_policyversion_unique_number",
                violation_error_message="This policy already has a version with this number.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("A policy version is immutable: save the policy to make a new version.")
        super().save(*args, **kwargs)


class Waiver(models.Model):
    """Staff exempt one data product from one policy, with a reason, until a time: an expired waiver stops
    applying (nothing needs to delete it)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="waivers")
    product = models.ForeignKey("dataproducts.DataProductIdentity", on_delete=models.PROTECT, related_name="waivers")
    reason = models.TextField()
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-expires_at", "-pk"]
        indexes = [models.Index(fields=["product", "policy", "expires_at"], name="governance_waiver_active_idx")]

    def __str__(self) -> str:
        return f"{self.policy} waived for {self.product} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()

    def clean(self) -> None:
        if not (self.reason or "").strip():
            raise ValidationError({"reason": ["Say why the product is exempt."]})
        if self.pk is None and self.expires_at is not None and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": ["A waiver must expire in the future."]})


class Evaluation(models.Model):
    """One policy version judged against one resource (a data product's descriptor, or one of its components)
    in one environment: what the gate stored (passing ones with their release, blocking ones on their own), the
    runtime schedule recorded, never what the test bench tried."""

    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="evaluations")
    product = models.ForeignKey(
        "dataproducts.DataProductIdentity", on_delete=models.PROTECT, related_name="evaluations"
    )
    release = models.ForeignKey(
        "dataproducts.Release", null=True, blank=True, on_delete=models.PROTECT, related_name="evaluations"
    )
    version = models.CharField(max_length=63, blank=True, help_text="The version the evaluation was for.")
    environment = models.CharField(max_length=63)
    resource_id = models.CharField(max_length=300, help_text="The data product's or the component's id.")
    resource_kind = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    severity = models.CharField(
        max_length=8, choices=PolicySeverity.choices, help_text="After the lifecycle: grace and deprecated warn."
    )
    blocking = models.BooleanField(default=False)
    messages = models.JSONField(default=list, blank=True, help_text="[{path, message, severity}]")
    duration_ms = models.PositiveIntegerField(default=0)
    time = models.DateTimeField(default=timezone.now, db_index=True)
    timing = models.CharField(max_length=12, choices=EvaluationTiming.choices, default=EvaluationTiming.DEPLOYMENT)

    class Meta:
        ordering = ["-time", "-pk"]
        indexes = [models.Index(fields=["product", "environment", "-time"], name="governance_eval_product_idx")]

    def __str__(self) -> str:
        return f"{self.policy_version} on {self.resource_id} ({self.environment}): {self.outcome}"


class BenchRun(models.Model):
    """A test bench run too large to answer at once (``governance.tasks.bench_run``): the policy as it was tried
    (saved or not), what it ran against, its progress and the result table. It changes nothing else."""

    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    snapshot = models.JSONField(help_text="The policy's fields as tried (the unsaved form's, or the saved ones).")
    saved = models.BooleanField(default=True, help_text="The saved policy, or the unsaved values of the form.")
    source = models.CharField(max_length=8, help_text="working (copy) or release (the latest).")
    environments = models.JSONField(default=list)
    product = models.CharField(max_length=63, blank=True, help_text="The one data product judged; blank: every one.")
    status = models.CharField(max_length=8, choices=BenchStatus.choices, default=BenchStatus.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Data products to judge.")
    done = models.PositiveIntegerField(default=0, help_text="Data products judged so far.")
    results = models.JSONField(default=list, blank=True, help_text="[{product, environment, outcome, messages}]")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"bench of {self.snapshot.get('name', '?')} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (BenchStatus.DONE, BenchStatus.FAILED)
