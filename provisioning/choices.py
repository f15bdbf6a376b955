"""The choices of provisioning's models: what a deployment does, where it stands, and what each environment runs."""

from django.db import models


class DeploymentOperation(models.TextChoices):
    DEPLOY = "deploy", "Deploy"
    UNDEPLOY = "undeploy", "Undeploy"


class DeploymentStatus(models.TextChoices):
    """A deployment is checked in the worker (``validating``), waits for confirmation with its preview
    (``ready``), then runs. ``invalid`` and ``cancelled`` never started anything."""

    VALIDATING = "validating", "Validating"
    INVALID = "invalid", "Refused"
    READY = "ready", "Awaiting confirmation"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# at most one of these per data product and environment (a partial unique constraint)
ACTIVE_STATUSES = (DeploymentStatus.VALIDATING, DeploymentStatus.READY, DeploymentStatus.RUNNING)
FINISHED_STATUSES = (
    DeploymentStatus.INVALID,
    DeploymentStatus.SUCCEEDED,
    DeploymentStatus.FAILED,
    DeploymentStatus.CANCELLED,
)


class TaskOperation(models.TextChoices):
    PROVISION = "provision", "Provision"
    UNPROVISION = "unprovision", "Unprovision"


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class UnitStatus(models.TextChoices):
    """What an environment runs of a data product: ``partial`` while a run is part-way (or stopped part-way and
    being resumed), ``corrupt`` after a run failed having possibly changed something; a new deployment recovers."""

    NOT_DEPLOYED = "not_deployed", "Not deployed"
    PARTIAL = "partial", "Partially deployed"
    DEPLOYED = "deployed", "Deployed"
    CORRUPT = "corrupt", "Corrupt"


class ReverseProvisioningStatus(models.TextChoices):
    """A reverse provisioning asks the adapter (``running``), then holds its updates for review (``ready``) until
    they are committed (``applied``) or dropped (``discarded``); ``failed`` keeps the adapter's reason."""

    RUNNING = "running", "Running"
    READY = "ready", "Updates to review"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    DISCARDED = "discarded", "Discarded"
