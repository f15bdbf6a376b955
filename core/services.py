"""Writes owned by core: audit events, API tokens and process heartbeats."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.choices import ProcessRole
from core.context import current_request_id
from core.models import ApiToken, AuditEvent, ProcessHeartbeat


class _Operator:
    """Who acts when an operator runs a management command: staff rights, recorded as "system"."""

    pk = None
    is_staff = True
    is_superuser = True
    is_authenticated = False
    groups = None

    def __str__(self) -> str:
        return "operator"


OPERATOR = _Operator()


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Record an audit event. Call it inside the transaction of the change it describes, so that the
    event exists if and only if the change does."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record() must run inside the transaction of the change it records")
    actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
        action=action,
        object_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        before=before,
        after=after,
        request_id=current_request_id.get() if current_request_id.get() != "-" else "",
    )


class ApiTokenExpired(Exception):
    """The key names a token whose expiry has passed: refused, with a reason the caller can show."""

    def __init__(self, token: ApiToken) -> None:
        super().__init__(
            f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one on your profile page."
        )
        self.token = token


def _token_snapshot(token: ApiToken) -> dict:
    return {
        "name": token.name,
        "key_prefix": token.key_prefix,
        "user": token.user.get_username(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


@transaction.atomic
def api_token_create(*, user, name: str, actor, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``, valid until ``expires_at`` (None: until revoked); returns the row and the
    clear-text key, which is never stored."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name.strip(), key_prefix=key[:10], key_digest=ApiToken.digest(key), expires_at=expires_at
    )
    token.full_clean()
    token.save()
    audit_record(actor=actor, action="apitoken.create", obj=token, after=_token_snapshot(token))
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> None:
    if actor.pk != token.user_id and not actor.is_staff:
        raise ValidationError("You can only revoke your own tokens.")
    audit_record(actor=actor, action="apitoken.revoke", obj=token, before=_token_snapshot(token))
    token.delete()


def api_token_authenticate(key: str) -> ApiToken | None:
    """The active token for ``key`` (with its user), or None; raises ``ApiTokenExpired`` for a token past its
    expiry, so that the caller can say why. Marks it used at most once a minute."""
    if not key.startswith(ApiToken.PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_digest=ApiToken.digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    if token.expired:
        raise ApiTokenExpired(token)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def heartbeat_record(*, role: ProcessRole, hostname: str, pid: int, started_at: datetime) -> None:
    ProcessHeartbeat.objects.update_or_create(
        role=role,
        hostname=hostname,
        defaults={"pid": pid, "started_at": started_at, "last_beat_at": timezone.now()},
    )


def heartbeat_remove(*, role: ProcessRole, hostname: str, pid: int) -> None:
    """Forget a process that stops cleanly, so health turns red at once instead of after a minute."""
    ProcessHeartbeat.objects.filter(role=role, hostname=hostname, pid=pid).delete()


def heartbeat_purge(*, older_than: timedelta) -> int:
    deleted, _ = ProcessHeartbeat.objects.filter(last_beat_at__lt=timezone.now() - older_than).delete()
    return deleted
