"""Settings for a deployment behind a proxy (gunicorn, several web processes and workers).

Identical to the base settings; the difference lives in the environment. With MESHFORGE_HTTPS on,
`manage.py check --deploy --settings config.settings.prod` passes.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import DEBUG, MESHFORGE_HTTPS

if DEBUG:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("MESHFORGE_DEBUG: must be off with the production settings")

SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_HTTPONLY = MESHFORGE_HTTPS
