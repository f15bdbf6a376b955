"""Choices of the catalog: location types and target presence."""

from django.db import models


class LocationType(models.TextChoices):
    GIT = "git", "Git"
    URL = "url", "URL"
    FILE = "file", "File"


class LocationPresence(models.TextChoices):
    REQUIRED = "required", "Required"
    OPTIONAL = "optional", "Optional (may be missing)"


class RefreshStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
