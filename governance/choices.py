"""The choices of governance's models: a policy's lifecycle, severity and timing, and what an evaluation found."""

from django.db import models

from core.problems import Severity
from dataproducts.choices import TemplateType


class Lifecycle(models.TextChoices):
    """A policy's life (PRODUCT §5): ``draft`` never runs on the gate (only on the test bench), ``grace`` and
    ``deprecated`` report their errors as warnings, ``enabled`` errors block."""

    DRAFT = "draft", "Draft"
    GRACE = "grace", "Grace"
    ENABLED = "enabled", "Enabled"
    DEPRECATED = "deprecated", "Deprecated"


class PolicySeverity(models.TextChoices):
    """How much a failure of the policy weighs: the two governance levels of :class:`core.problems.Severity`."""

    ERROR = Severity.ERROR.value, "Error"
    WARNING = Severity.WARNING.value, "Warning"


class Timing(models.TextChoices):
    """When a policy runs: on the gate (a release, a deployment request) and/or on the runtime schedule."""

    DEPLOYMENT = "deployment", "Deployment"
    RUNTIME = "runtime", "Runtime"


class EvaluationTiming(models.TextChoices):
    """What ran an evaluation: the gate, the runtime schedule, or the test bench (never stored)."""

    DEPLOYMENT = "deployment", "Deployment"
    RUNTIME = "runtime", "Runtime"
    BENCH = "bench", "Test bench"


class BenchStatus(models.TextChoices):
    """Where a test bench run too large to answer at once stands."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# What a selector's ``resource`` names: the data product, or one kind of its components (each component of that
# kind is a resource of its own).
DATA_PRODUCT_RESOURCE = TemplateType.DATAPRODUCT.value
RESOURCE_KINDS = tuple(TemplateType.values)
SELECTOR_KEYS = ("resource", "maturity", "domain", "useCaseTemplateId", "infrastructureTemplateId")
