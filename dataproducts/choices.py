from django.db import models


class ReservationState(models.TextChoices):
    CREATING = "creating", "Creating"
    CREATED = "created", "Created"
    FAILED = "failed", "Failed, not cleaned up"


class TemplateType(models.TextChoices):
    DATAPRODUCT = "dataproduct", "Data product"
    OUTPUTPORT = "outputport", "Output port"
    WORKLOAD = "workload", "Workload"
    STORAGE = "storage", "Storage area"
    OBSERVABILITY = "observability", "Observability"


COMPONENT_TYPES = frozenset(TemplateType.values) - {TemplateType.DATAPRODUCT}


class ReleaseKind(models.TextChoices):
    DRAFT = "draft", "Draft"
    STABLE = "stable", "Stable"
