"""Shared models: the audit trail, API tokens and the liveness heartbeats of background processes."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.choices import ProcessRole


class AuditEvent(models.Model):
    """Who did what to which object, with the object's state before and after. Written by services in
    the same transaction as the change they describe; never edited."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=100, db_index=True, help_text="e.g. apitoken.create")
    object_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=255, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-time", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id", "-time"], name="auditevent_object_idx")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest is stored; the token is shown once, at creation."""

    PREFIX = "mf_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI pipeline'.")
    key_prefix = models.CharField(max_length=12, help_text="The first characters, to recognise the token.")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Refused from then on; empty: never expires.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                "user",
                Lower("name"),
                name="apitoken_unique_name_per_user",
                violation_error_message="You already have a token with this name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class SignInFailure(models.Model):
    """A failed password sign-in, counted per account and per client address to slow guessing down (core.signin).
    An attempt is recorded before its password is checked and deleted when it succeeds, so that concurrent guesses
    count too."""

    username = models.CharField(max_length=150, help_text="The user name as typed, case-folded.")
    address = models.CharField(max_length=64, help_text="The client's address; for IPv6 its /64 network.")
    time = models.DateTimeField()

    class Meta:
        ordering = ["-time", "-pk"]
        indexes = [
            models.Index(fields=["username", "time"], name="signinfailure_username_idx"),
            models.Index(fields=["address", "time"], name="signinfailure_address_idx"),
            models.Index(fields=["time"], name="signinfailure_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.username} from {self.address}"


class ProcessHeartbeat(models.Model):
    """The last sign of life of a Celery worker or beat, recorded by the process itself on its own timer."""

    role = models.CharField(max_length=16, choices=ProcessRole.choices)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["role", "hostname"]
        constraints = [models.UniqueConstraint(fields=["role", "hostname"], name="heartbeat_unique_process")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.hostname}"
