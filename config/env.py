"""Strict parsing of Meshforge's environment variables.

Every reader raises ``ImproperlyConfigured`` with one line naming the variable and what it expected,
so that a typo stops start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if value is None:
        return default
    if value.lower() in TRUE_VALUES:
        return True
    if value.lower() in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}: expected an integer between {minimum} and {maximum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name}: expected a comma-separated list without empty items, got {value!r}")
    return items


def env_path(name: str, default: Path) -> Path:
    value = env_str(name)
    path = Path(value).expanduser() if value is not None else default
    path = path.resolve()
    if path.exists() and not path.is_dir():
        raise ImproperlyConfigured(f"{name}: {str(path)!r} exists and is not a directory")
    return path


def parse_database_url(name: str, url: str) -> dict:
    """Turn ``postgresql://user:password@host:port/dbname?option=value`` into a DATABASES entry.

    A Unix socket is given as ``postgresql://user@/dbname?host=/path/to/socket/dir``. Only PostgreSQL is
    accepted: Meshforge relies on its full-text search, ``SKIP LOCKED`` and constraints.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: not a valid URL ({exc})") from None
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"{name}: expected a postgresql:// URL (Meshforge runs on PostgreSQL only), got scheme {parts.scheme!r}"
        )
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ImproperlyConfigured(f"{name}: the URL must name one database, e.g. postgresql://host/meshforge")
    options = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False))
    host = options.pop("host", None) or unquote(parts.hostname or "")
    query_port = options.pop("port", None)
    if query_port is not None and not query_port.isdigit():
        raise ImproperlyConfigured(f"{name}: port must be a number, got {query_port!r}")
    port = port or query_port
    if not host:
        raise ImproperlyConfigured(f"{name}: the URL must give a host (or ?host=/socket/dir for a Unix socket)")
    conn_max_age = options.pop("conn_max_age", "0")
    try:
        conn_max_age = int(conn_max_age)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: conn_max_age must be an integer, got {conn_max_age!r}") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def check_broker_url(name: str, url: str) -> str:
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: not a valid URL ({exc})") from None
    allowed = {"amqp", "amqps", "pyamqp", "redis", "rediss", "filesystem", "memory"}
    if scheme not in allowed:
        raise ImproperlyConfigured(f"{name}: expected one of {', '.join(sorted(allowed))}:// URLs, got {url!r}")
    return url


def read_or_create_secret(path: Path, *, nbytes: int = 50) -> str:
    """Return the secret stored in ``path``, generating it once with 0600 permissions.

    The secret is written to a private temporary file and hard-linked into place, so that when several
    processes start together on an empty data dir exactly one wins and nobody reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(nbytes) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    secret = path.read_text().strip()
    if not secret:
        raise ImproperlyConfigured(f"{path} is empty: delete it to generate a new secret")
    return secret
