"""Settings for the test suite.

Unless MESHFORGE_DATA_DIR is given, a fresh temporary data dir is made (and exported, so that the worker
and commands the tests start share it): the embedded database server, broker folder and Git root of a test
run never touch those of a running `make run`. ``conftest.py`` stops that server and removes the folder.
"""

import os
import tempfile
from pathlib import Path

if not os.environ.get("MESHFORGE_DATA_DIR"):
    os.environ["MESHFORGE_DATA_DIR"] = tempfile.mkdtemp(prefix="meshforge-test-")
    os.environ["MESHFORGE_TEST_OWNS_DATA_DIR"] = os.environ["MESHFORGE_DATA_DIR"]

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests hold the worker to a short heartbeat so that liveness is observable within seconds.
HEARTBEAT_INTERVAL_SECONDS = 1
# The embedded broker is polled, and a worker takes its next message only one poll after the last: at the default
# 1 s, a worker test waited a second per message that in-process tests before it had left in the queue.
if CELERY_EMBEDDED_BROKER:  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "polling_interval": 0.1}  # noqa: F405
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - WhiteNoise warns when the folder is missing

# Every allow-list of places the server reads from names only this machine, so that no test, and no request the API
# fuzzing generates, reaches another one: URL locations and Git remotes on 127.0.0.1 only (tests that need none set
# []), file locations only under the temporary folder (a root exported in the developer's shell is ignored).
# Governance remotes and tech adapters get the same treatment when they arrive.
CATALOG_URL_ALLOWED_HOSTS = ["127.0.0.1"]
CATALOG_FILE_ROOTS = [root for root in CATALOG_FILE_ROOTS if root.is_relative_to(Path(tempfile.gettempdir()).resolve())]  # noqa: F405
