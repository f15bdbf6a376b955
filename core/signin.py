"""Sign-in throttling: failed password sign-ins are counted in the database (every web process sees them) by
account and by client address. An account is slowed down, never locked: once it has LOGIN_ACCOUNT_FAILURES failures
in the window, an address that failed on it waits a delay that doubles with each of its failures, while an address
without failures signs in at once, so nobody can lock alice out. An address with LOGIN_ADDRESS_FAILURES failures in
the window (on any accounts) is refused until they age out.

Every password check goes through :class:`ThrottledModelBackend`, so the login page, the admin's and any later door
that calls ``authenticate(request, ...)`` apply the same rules.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from core.models import SignInFailure


@dataclass(frozen=True)
class SignInRefusal:
    """Why a sign-in is refused before its password is checked (HTTP 429), and in how many seconds to retry."""

    message: str
    retry_after: int


# --- the client's address ------------------------------------------------------------------------------------


def client_address(request) -> str:
    """The client's address: ``REMOTE_ADDR``, unless MESHFORGE_TRUSTED_PROXY_COUNT proxies stand in front, in which
    case the address the outermost of them saw (that many entries from the right of ``X-Forwarded-For``; the entries
    left of it are whatever the client sent and prove nothing). An IPv6 client counts as its /64 network, which one
    subscriber usually holds whole."""
    remote = request.META.get("REMOTE_ADDR", "")
    candidate = remote
    proxies = settings.MESHFORGE_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            candidate = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    return _address_key(candidate) or _address_key(remote) or "unknown"


def _address_key(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def account_key(username: str) -> str:
    """Failures count against the account as typed, case-folded: ``Alice`` and ``alice`` are one account here."""
    return username.strip().casefold()[:150]


# --- the rules -----------------------------------------------------------------------------------------------


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def signin_delay(failures: int) -> timedelta:
    """How long an address waits after its ``failures``-th failure on an account that is being guessed at."""
    return timedelta(seconds=min(settings.LOGIN_DELAY_MAX_SECONDS, 2 ** max(0, failures - 1)))


def signin_refusal(*, username: str, address: str, now: datetime | None = None) -> SignInRefusal | None:
    """Whether a sign-in as ``username`` from ``address`` is refused now, without checking its password."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    recent = SignInFailure.objects.filter(time__gt=now - window)

    limit = settings.LOGIN_ADDRESS_FAILURES
    times = list(recent.filter(address=address).order_by("-time").values_list("time", flat=True)[:limit])
    if len(times) >= limit:
        retry_after = _seconds_until(times[-1] + window, now)
        return SignInRefusal(f"Too many failed sign-ins from your address; try again in {retry_after} s.", retry_after)

    account = recent.filter(username=username)
    if account.count() < settings.LOGIN_ACCOUNT_FAILURES:
        return None
    mine = list(account.filter(address=address).order_by("-time").values_list("time", flat=True))
    if not mine:
        return None  # the account is being guessed at, but not from here: its owner signs in at once
    wait_until = mine[0] + signin_delay(len(mine))
    if wait_until <= now:
        return None
    retry_after = _seconds_until(wait_until, now)
    return SignInRefusal(
        f"Too many failed sign-ins for this account from your address; try again in {retry_after} s.", retry_after
    )


# --- counting ------------------------------------------------------------------------------------------------


def signin_attempt_begin(*, username: str, address: str) -> SignInFailure | SignInRefusal:
    """Refuse the attempt, or record it as a failure before its password is checked: under a lock per account and
    per address, so that concurrent guesses cannot all pass the check before any of them is counted."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            for key in sorted({f"core.signin.account:{username}", f"core.signin.address:{address}"}):
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
        now = timezone.now()
        refusal = signin_refusal(username=username, address=address, now=now)
        if refusal is not None:
            return refusal
        return SignInFailure.objects.create(username=username, address=address, time=now)


@transaction.atomic
def signin_attempt_succeeded(*, attempt: SignInFailure) -> None:
    """The password was right: the attempt was no failure, and this address's earlier failures on the account are
    forgiven."""
    SignInFailure.objects.filter(username=attempt.username, address=attempt.address).delete()


def signin_failures_purge(*, now: datetime | None = None) -> int:
    """Forget failures older than the window: they no longer count."""
    since = (now or timezone.now()) - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    deleted, _ = SignInFailure.objects.filter(time__lte=since).delete()
    return deleted


# --- the door every password goes through --------------------------------------------------------------------


class ThrottledModelBackend(ModelBackend):
    """Django's user/password backend behind the throttle. A refused attempt raises ``PermissionDenied`` (Django
    stops there and checks no password) and leaves the refusal on ``request.signin_refusal`` for the page to show."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is None or username is None or password is None:
            return super().authenticate(request, username, password, **kwargs)
        attempt = signin_attempt_begin(username=account_key(username), address=client_address(request))
        if isinstance(attempt, SignInRefusal):
            request.signin_refusal = attempt
            raise PermissionDenied(attempt.message)
        user = super().authenticate(request, username, password, **kwargs)
        if user is not None:
            signin_attempt_succeeded(attempt=attempt)
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend's own async version would skip the throttle
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)
