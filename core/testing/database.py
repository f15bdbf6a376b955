"""The test database as a ``DATABASE_URL``, for processes a test starts (a worker, a second catalog loop):
they are not under pytest-django, so they must be told where the test database is."""

from urllib.parse import quote, urlencode

from django.db import connection


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a process a test starts (a worker, a command): the test settings, data dir and database."""
    import os

    from django.conf import settings

    env = {
        **os.environ,
        "MESHFORGE_DATA_DIR": str(settings.MESHFORGE_DATA_DIR),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": subprocess_database_url(),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("MESHFORGE_TEST_OWNS_DATA_DIR", None)  # the test run owns it, not the process
    return env


def subprocess_database_url() -> str:
    connection.ensure_connection()
    db = connection.settings_dict
    user, name = quote(db["USER"] or "", safe=""), quote(db["NAME"], safe="")
    host, port = db["HOST"], str(db["PORT"] or "")
    if host.startswith("/"):
        query = {"host": host, **({"port": port} if port else {})}
        return f"postgresql://{user}@/{name}?{urlencode(query)}"
    password = quote(db["PASSWORD"] or "", safe="")
    netloc = f"[{host}]" if ":" in host else host
    return f"postgresql://{user}:{password}@{netloc}{f':{port}' if port else ''}/{name}"
