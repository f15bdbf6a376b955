"""gunicorn settings for `make run` and for deployments (override any of them with GUNICORN_CMD_ARGS)."""

import os

bind = f"{os.environ.get('MESHFORGE_BIND', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
timeout = 60
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'


def when_ready(server):
    """Say where Meshforge runs (and, under the dev settings after `seed_demo`, how to sign in) once the server
    listens."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from core.demo import banner

    host, _, port = bind.rpartition(":")
    shown_host = "127.0.0.1" if host in {"0.0.0.0", ""} else host  # noqa: S104 - only a display name
    print(banner(f"http://{shown_host}:{port}/"), flush=True)
