"""Settings shared by every environment. Everything that differs per deployment comes from the
environment (see the README's table), parsed strictly by ``config.env``."""

import os
import re
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    check_broker_url,
    env_bool,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
    read_or_create_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# --- Deployment settings from the environment -------------------------------------------------------
MESHFORGE_DATA_DIR = env_path("MESHFORGE_DATA_DIR", BASE_DIR / "var")
MESHFORGE_HTTPS = env_bool("MESHFORGE_HTTPS", default=False)
DEBUG = env_bool("MESHFORGE_DEBUG", default=False)
ALLOWED_HOSTS = env_list("MESHFORGE_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
SECRET_KEY = env_str("MESHFORGE_SECRET_KEY") or read_or_create_secret(MESHFORGE_DATA_DIR / "secret_key")
if len(SECRET_KEY) < 32:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("MESHFORGE_SECRET_KEY: must be at least 32 characters long")

# --- Database: PostgreSQL only; embedded (pgserver) unless DATABASE_URL is set ------------------------
EMBEDDED_DATABASE_NAME = "meshforge"
_database_url = env_str("DATABASE_URL")
EMBEDDED_DATABASE = _database_url is None
if EMBEDDED_DATABASE:
    DATABASES = {
        "default": {
            "ENGINE": "core.embedded_db",
            "NAME": EMBEDDED_DATABASE_NAME,
            "USER": "postgres",
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {"default": parse_database_url("DATABASE_URL", _database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications -------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "catalog",
    "dataproducts",
    # provisioning before governance: their AppConfig.ready() add the data product page's tabs in this order,
    # Deployments before Governance (PRODUCT §9)
    "provisioning",
    "governance",
    "marketplace",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Authentication -----------------------------------------------------------------------------------
# Every password check is throttled (core.signin), counted in the database: an account with LOGIN_ACCOUNT_FAILURES
# failures in LOGIN_FAILURE_WINDOW_SECONDS is slowed down (an address that failed on it waits 1, 2, 4… s, at most
# LOGIN_DELAY_MAX_SECONDS, after each of its failures; other addresses are not slowed), and an address with
# LOGIN_ADDRESS_FAILURES failures in the window is refused until they age out.
AUTHENTICATION_BACKENDS = ["core.signin.ThrottledModelBackend"]
LOGIN_ACCOUNT_FAILURES = env_int("MESHFORGE_LOGIN_ACCOUNT_FAILURES", 5, minimum=1)
LOGIN_ADDRESS_FAILURES = env_int("MESHFORGE_LOGIN_ADDRESS_FAILURES", 20, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("MESHFORGE_LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1, maximum=86_400)
LOGIN_DELAY_MAX_SECONDS = env_int("MESHFORGE_LOGIN_DELAY_MAX_SECONDS", 300, minimum=1, maximum=86_400)
# How many reverse proxies stand in front of Meshforge, each appending to X-Forwarded-For. 0: the client's address
# is REMOTE_ADDR and X-Forwarded-For, which anyone can send, is ignored.
MESHFORGE_TRUSTED_PROXY_COUNT = env_int("MESHFORGE_TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "marketplace:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Whether the startup banner prints the demo login's password: only the workstation settings (dev.py) turn it
# on, so a deployment's log never carries a password, even of a seeded demo.
DEMO_PASSWORD_IN_BANNER = False

# --- Internationalisation -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: WhiteNoise serves them, no CDN anywhere ---------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = MESHFORGE_DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security -----------------------------------------------------------------------------------------
# Secure cookies, HSTS and the HTTPS redirect only when served over HTTPS, so that signing in works over
# plain http on 127.0.0.1.
SESSION_COOKIE_SECURE = MESHFORGE_HTTPS
CSRF_COOKIE_SECURE = MESHFORGE_HTTPS
SECURE_SSL_REDIRECT = MESHFORGE_HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if MESHFORGE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = MESHFORGE_HTTPS
SECURE_HSTS_PRELOAD = MESHFORGE_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if MESHFORGE_HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The Content-Security-Policy of every page (core.middleware): scripts, styles and images only from Meshforge itself,
# no inline scripts, styles or handlers (htmx's indicator styles are off and live in meshforge.css; the Swagger UI
# loads its start script from a URL), ReDoc's search worker from a blob: URL. MESHFORGE_CSP replaces it; "off" sends
# none.
MESHFORGE_CSP = env_str(
    "MESHFORGE_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self';"
    " connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none';"
    " worker-src 'self' blob:",
)
if MESHFORGE_CSP.lower() == "off":
    MESHFORGE_CSP = ""
CSRF_TRUSTED_ORIGINS = env_list(
    "MESHFORGE_CSRF_TRUSTED_ORIGINS",
    [f"{'https' if MESHFORGE_HTTPS else 'http'}://{host}:{PORT}" for host in ALLOWED_HOSTS if host != "*"],
)

# --- REST API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Meshforge API",
    "DESCRIPTION": "Data products from templates, kept in Git, governed, deployed and shared.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # choice sets of the same field name in several components get names of their own (not Status906Enum)
    "ENUM_NAME_OVERRIDES": {
        "DeploymentStatusEnum": "provisioning.choices.DeploymentStatus",
        "DeploymentOperationEnum": "provisioning.choices.DeploymentOperation",
        "TaskStatusEnum": "provisioning.choices.TaskStatus",
        "TaskOperationEnum": "provisioning.choices.TaskOperation",
        "UnitStatusEnum": "provisioning.choices.UnitStatus",
    },
}

# --- Git: local bare repositories (data products, templates, demo locations) under the data dir -----------
MESHFORGE_GIT_ROOT = MESHFORGE_DATA_DIR / "git"
# How the Builder creates and writes data product repositories (dataproducts.gitops.provider.GitProvider).
MESHFORGE_GIT_PROVIDER = env_str("MESHFORGE_GIT_PROVIDER") or "dataproducts.gitops.provider.LocalGitProvider"

# --- Environments a data product is described for and deployed to (PRODUCT §3.3, §4.3), in promotion order --
# The names become folder names (environments/<env>/configurations.yaml) and the descriptor's `environment`,
# so they are refused at start-up unless they are safe as both.
MESHFORGE_ENVIRONMENTS = env_list("MESHFORGE_ENVIRONMENTS", ["development", "qa", "production"])
if not MESHFORGE_ENVIRONMENTS:
    raise ImproperlyConfigured("MESHFORGE_ENVIRONMENTS: expected at least one environment name")
for _environment in MESHFORGE_ENVIRONMENTS:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", _environment):
        raise ImproperlyConfigured(
            f"MESHFORGE_ENVIRONMENTS: {_environment!r} is not a valid environment name; expected [a-z0-9][a-z0-9-]*"
        )
if len(set(MESHFORGE_ENVIRONMENTS)) != len(MESHFORGE_ENVIRONMENTS):
    raise ImproperlyConfigured(f"MESHFORGE_ENVIRONMENTS: names must be unique, got {MESHFORGE_ENVIRONMENTS!r}")

# --- Governance (PRODUCT §5): the policy engines, by dotted path of their class (governance.engines) ----------
GOVERNANCE_ENGINES = [
    "governance.engines.jsonschema.JsonSchemaEngine",
    "governance.engines.rego.RegoEngine",
    "governance.engines.remote.RemoteEngine",
    "governance.engines.breaking_change.BreakingChangeEngine",
]
# Hosts the `remote` engine may call (host or host:port); nothing else is reachable from a policy.
GOVERNANCE_REMOTE_ALLOWED_HOSTS = env_list("GOVERNANCE_REMOTE_ALLOWED_HOSTS", [])
_HOST_PORT = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::([0-9]{1,5}))?"
for _entry in GOVERNANCE_REMOTE_ALLOWED_HOSTS:
    _allowed = re.fullmatch(_HOST_PORT, _entry)
    if not _allowed or not 0 < int(_allowed.group(1) or 1) < 65536:
        raise ImproperlyConfigured(
            f"GOVERNANCE_REMOTE_ALLOWED_HOSTS: {_entry!r} is not host or host:port (no scheme, no path)"
        )
GOVERNANCE_REMOTE_TIMEOUT_SECONDS = env_int("GOVERNANCE_REMOTE_TIMEOUT_SECONDS", 5, minimum=1, maximum=120)
# Rego runs in a child process with no environment and these limits (regopy has no time limit of its own).
GOVERNANCE_REGO_TIMEOUT_SECONDS = env_int("GOVERNANCE_REGO_TIMEOUT_SECONDS", 5, minimum=1, maximum=120)
GOVERNANCE_REGO_MEMORY_MB = env_int("GOVERNANCE_REGO_MEMORY_MB", 512, minimum=64, maximum=8192)
# How often the beat re-evaluates the `runtime` policies against what each environment runs.
GOVERNANCE_RUNTIME_SECONDS = env_int("GOVERNANCE_RUNTIME_SECONDS", 3600, minimum=60, maximum=86_400 * 7)

# --- Provisioning (PRODUCT §6): the coordinator and the built-in tech adapters -------------------------------
# The address at which this server reaches itself: the built-in adapters under /tech-adapters/<name>/ are called
# over HTTP like any other adapter.
MESHFORGE_INTERNAL_URL = (env_str("MESHFORGE_INTERNAL_URL") or f"http://127.0.0.1:{PORT}").rstrip("/")
if not re.fullmatch(r"https?://[^/\s]+(/[^\s]*)?", MESHFORGE_INTERNAL_URL):
    raise ImproperlyConfigured(
        f"MESHFORGE_INTERNAL_URL: expected http(s)://host[:port][/path], got {MESHFORGE_INTERNAL_URL!r}"
    )
# The shared secret the built-in adapters require, sent as their registry rows' auth header. The rows name the
# environment variable, never the value: it is exported here, so every process of this installation has it.
MESHFORGE_ADAPTER_SECRET = env_str("MESHFORGE_ADAPTER_SECRET") or read_or_create_secret(
    MESHFORGE_DATA_DIR / "adapter_secret"
)
os.environ["MESHFORGE_ADAPTER_SECRET"] = MESHFORGE_ADAPTER_SECRET
# The adapters built into Meshforge, by name (the path under /tech-adapters/) → dotted path of their backend.
PROVISIONING_BUILTIN_ADAPTERS = {
    "mock": "provisioning.adapters.mock.MockBackend",
    "postgres": "provisioning.adapters.postgres.PostgresBackend",
}
# At most this many adapter calls of one deployment at once (independent components go together).
PROVISIONING_MAX_PARALLEL = env_int("PROVISIONING_MAX_PARALLEL", 32, minimum=1, maximum=256)
# A running deployment's coordinator beats every PROVISIONING_HEARTBEAT_SECONDS; one silent for
# PROVISIONING_STALE_SECONDS is resumed by the sweeper, which beat runs every PROVISIONING_SWEEP_SECONDS.
PROVISIONING_HEARTBEAT_SECONDS = env_int("PROVISIONING_HEARTBEAT_SECONDS", 2, minimum=1, maximum=60)
PROVISIONING_STALE_SECONDS = env_int("PROVISIONING_STALE_SECONDS", 30, minimum=2, maximum=3600)
if PROVISIONING_STALE_SECONDS <= PROVISIONING_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "PROVISIONING_STALE_SECONDS: must be longer than PROVISIONING_HEARTBEAT_SECONDS"
        f" ({PROVISIONING_HEARTBEAT_SECONDS}), got {PROVISIONING_STALE_SECONDS}"
    )
PROVISIONING_SWEEP_SECONDS = env_int("PROVISIONING_SWEEP_SECONDS", 5, minimum=1, maximum=3600)
# How long the checks of a deployment wait for this server's own (built-in) adapters to come up.
PROVISIONING_BUILTIN_WAIT_SECONDS = env_int("PROVISIONING_BUILTIN_WAIT_SECONDS", 300, minimum=0, maximum=3600)
# A preview nobody confirms gives the environment back after this long.
PROVISIONING_PREVIEW_SECONDS = env_int("PROVISIONING_PREVIEW_SECONDS", 3600, minimum=60)

# --- Provisioning: the built-in postgres adapter's target -------------------------------------------------
# Where the `postgres` tech adapter creates schemas, tables, views and roles (provisioning.adapters.postgres).
# Unset: a database `meshforge_data` on the server of DATABASES["default"], created on first use. That is the first
# environment's database; any other environment gets `<database>_<environment>` (created on first use), unless the
# URL's database name holds `{environment}`, which is then replaced (those databases are the operator's to create).
PROVISIONING_POSTGRES_URL = env_str("PROVISIONING_POSTGRES_URL")
if PROVISIONING_POSTGRES_URL is not None:
    from psycopg.pq import Conninfo

    _libpq_keywords = {option.keyword.decode() for option in Conninfo.get_defaults()}
    _unknown_options = set(parse_database_url("PROVISIONING_POSTGRES_URL", PROVISIONING_POSTGRES_URL)["OPTIONS"])
    if _unknown_options - _libpq_keywords:
        raise ImproperlyConfigured(
            "PROVISIONING_POSTGRES_URL: unknown connection options "
            f"{', '.join(sorted(_unknown_options - _libpq_keywords))} (expected libpq keywords such as sslmode)"
        )
# Roles are cluster-wide: the adapter creates and revokes only roles whose names start with this prefix.
PROVISIONING_POSTGRES_ROLE_PREFIX = env_str("PROVISIONING_POSTGRES_ROLE_PREFIX", "mf_")
if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", PROVISIONING_POSTGRES_ROLE_PREFIX):
    raise ImproperlyConfigured(
        "PROVISIONING_POSTGRES_ROLE_PREFIX: expected a lower-case letter, then up to 15 lower-case letters, digits "
        f"or underscores, got {PROVISIONING_POSTGRES_ROLE_PREFIX!r}"
    )

# --- Catalog: locations re-read about every two minutes (PRODUCT §3.2) ------------------------------------
CATALOG_REFRESH_MIN_SECONDS = env_int("CATALOG_REFRESH_MIN_SECONDS", 100, minimum=1, maximum=86_400)
CATALOG_REFRESH_MAX_SECONDS = env_int("CATALOG_REFRESH_MAX_SECONDS", 150, minimum=1, maximum=86_400)
if CATALOG_REFRESH_MAX_SECONDS < CATALOG_REFRESH_MIN_SECONDS:
    raise ImproperlyConfigured(
        f"CATALOG_REFRESH_MAX_SECONDS: must be at least CATALOG_REFRESH_MIN_SECONDS ({CATALOG_REFRESH_MIN_SECONDS}),"
        f" got {CATALOG_REFRESH_MAX_SECONDS}"
    )
CATALOG_ORPHAN_GRACE_SECONDS = env_int("CATALOG_ORPHAN_GRACE_SECONDS", 3600, minimum=0)
# Where url locations and Git remotes may point without staff rights, each entry "[scheme://]host[:port]": an
# exact host or ".example.com" for a domain and its subdomains; without a port only the scheme's default port
# (80, 443, ssh 22, git 9418), "host:*" any port (catalog.readers.targets.origin_refusal reads them).
CATALOG_URL_ALLOWED_HOSTS = env_list("CATALOG_URL_ALLOWED_HOSTS", [])
for _entry in CATALOG_URL_ALLOWED_HOSTS:
    _allowed = re.fullmatch(
        r"(?:(?:https|http|ssh|git)://)?(?:\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(?::([0-9]{1,5}|\*))?",
        _entry,
        re.IGNORECASE,
    )
    if not _allowed or (_allowed[1] not in (None, "*") and not 0 < int(_allowed[1]) < 65536):
        raise ImproperlyConfigured(
            f"CATALOG_URL_ALLOWED_HOSTS: {_entry!r} is not [scheme://]host[:port], e.g. git.example.com,"
            " .example.com, docs.example.com:8443, https://docs.example.com"
        )
# Folders under which staff may register file locations.
CATALOG_FILE_ROOTS = [Path(root).expanduser().resolve() for root in env_list("CATALOG_FILE_ROOTS", [])]
CATALOG_URL_MAX_BYTES = env_int("CATALOG_URL_MAX_BYTES", 1024 * 1024, minimum=1024)
CATALOG_URL_TIMEOUT_SECONDS = env_int("CATALOG_URL_TIMEOUT_SECONDS", 10, minimum=1, maximum=300)
# How far one registration may fan out through Location files' targets. Real index files list tens of targets
# (a whole monorepo's, hundreds) and trees go two or three levels deep (root → team index → component file);
# one hostile 300 KB file listed 20,000 targets, and files that name files multiply that, so the depth and the
# size of a tree (its registered location included) are capped too: at 50,000 locations, above a monorepo with a file
# per entity at PRODUCT §10's 20,000 entities. Over a limit the location whose file names the targets gets an error
# and keeps the child locations it had.
CATALOG_MAX_TARGETS_PER_LOCATION = env_int("CATALOG_MAX_TARGETS_PER_LOCATION", 1000, minimum=1)
CATALOG_MAX_LOCATION_DEPTH = env_int("CATALOG_MAX_LOCATION_DEPTH", 10, minimum=1)
CATALOG_MAX_LOCATIONS_PER_TREE = env_int("CATALOG_MAX_LOCATIONS_PER_TREE", 50_000, minimum=1)
# Fetched mirrors of the Git repositories that locations point into, one per repository URL.
CATALOG_MIRROR_DIR = MESHFORGE_DATA_DIR / "catalog" / "mirrors"
# A beat tick every CATALOG_TICK_SECONDS claims due locations in batches of CATALOG_BATCH_SIZE.
CATALOG_TICK_SECONDS = env_int("CATALOG_TICK_SECONDS", 10, minimum=1, maximum=3600)
CATALOG_BATCH_SIZE = 200
# Registration and the Builder's writes process in the request: the location at once, then its child locations
# for up to CATALOG_REQUEST_BUDGET_SECONDS (the loop does the rest); every read, lock wait included, ends by
# CATALOG_REQUEST_DEADLINE_SECONDS, well inside gunicorn's 60 s timeout.
CATALOG_REQUEST_BUDGET_SECONDS = 10
CATALOG_REQUEST_DEADLINE_SECONDS = env_int("CATALOG_REQUEST_DEADLINE_SECONDS", 20, minimum=1, maximum=50)
# A Git command of the loop or the worker ends after CATALOG_GIT_TIMEOUT_SECONDS; an HTTP(S) remote sending less than
# CATALOG_GIT_LOW_SPEED_BYTES per second for CATALOG_GIT_LOW_SPEED_SECONDS is cut off sooner (a tarpit).
CATALOG_GIT_TIMEOUT_SECONDS = env_int("CATALOG_GIT_TIMEOUT_SECONDS", 120, minimum=1, maximum=3600)
CATALOG_GIT_LOW_SPEED_BYTES = env_int("CATALOG_GIT_LOW_SPEED_BYTES", 1000, minimum=1)
CATALOG_GIT_LOW_SPEED_SECONDS = env_int("CATALOG_GIT_LOW_SPEED_SECONDS", 20, minimum=1, maximum=600)
# Manual refreshes of remote locations are queued for the worker (PRODUCT §3.2). People without staff rights may ask
# for at most CATALOG_REFRESH_RATE_PER_USER refreshes, and a location may be asked for at most
# CATALOG_REFRESH_RATE_PER_LOCATION times, per CATALOG_REFRESH_RATE_WINDOW_SECONDS (counted in the database).
CATALOG_REFRESH_RATE_PER_USER = env_int("CATALOG_REFRESH_RATE_PER_USER", 20, minimum=1)
CATALOG_REFRESH_RATE_PER_LOCATION = env_int("CATALOG_REFRESH_RATE_PER_LOCATION", 6, minimum=1)
CATALOG_REFRESH_RATE_WINDOW_SECONDS = env_int("CATALOG_REFRESH_RATE_WINDOW_SECONDS", 60, minimum=1, maximum=86_400)
# A queued refresh that no worker has started after this long is taken for lost: asking again queues a new one.
CATALOG_REFRESH_QUEUED_STALE_SECONDS = 300

# --- Celery: a real worker; kombu's filesystem transport under the data dir unless told otherwise -------
BROKER_DIR = MESHFORGE_DATA_DIR / "broker"
_broker_url = env_str("CELERY_BROKER_URL")
# the hostname is meaningless for the filesystem transport; naming one keeps kombu from warning about it
CELERY_BROKER_URL = check_broker_url("CELERY_BROKER_URL", _broker_url) if _broker_url else "filesystem://localhost//"
CELERY_EMBEDDED_BROKER = _broker_url is None
if CELERY_EMBEDDED_BROKER:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ["default", "catalog", "provisioning"]
CELERY_TASK_ROUTES = {
    "catalog.tasks.*": {"queue": "catalog"},
    "provisioning.tasks.*": {"queue": "provisioning"},
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "core.celery_beat.LivenessScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(MESHFORGE_DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "catalog-refresh-due-locations": {
        "task": "catalog.tasks.refresh_due_locations",
        "schedule": CATALOG_TICK_SECONDS,
        "options": {"expires": CATALOG_TICK_SECONDS},  # a tick nobody took in time is dropped, not queued up
    },
    "catalog-purge-refresh-requests": {
        "task": "catalog.tasks.purge_refresh_requests",
        "schedule": crontab(minute=23),
    },
    "catalog-delete-expired-orphans": {
        "task": "catalog.tasks.delete_expired_orphans",
        "schedule": crontab(minute="*/5"),
    },
    "governance-runtime-evaluate": {
        "task": "governance.tasks.runtime_evaluate",
        "schedule": GOVERNANCE_RUNTIME_SECONDS,
        "options": {"expires": GOVERNANCE_RUNTIME_SECONDS},  # a run nobody took before the next is dropped
    },
    "provisioning-sweep": {
        "task": "provisioning.tasks.deployments_sweep",
        "schedule": PROVISIONING_SWEEP_SECONDS,
        "options": {"expires": PROVISIONING_SWEEP_SECONDS},
    },
    "purge-signin-failures": {
        "task": "core.tasks.purge_signin_failures",
        "schedule": crontab(minute=41),
    },
    "purge-stale-heartbeats": {
        "task": "core.tasks.purge_stale_heartbeats",
        "schedule": crontab(minute=17),
    },
}
# How often the worker and beat record that they are alive, and how old a heartbeat may be: a few missed
# beats are tolerated, so a slow interval does not make health flap between two beats.
HEARTBEAT_INTERVAL_SECONDS = env_int("MESHFORGE_HEARTBEAT_SECONDS", 10, minimum=1, maximum=60)
HEARTBEAT_MAX_AGE_SECONDS = max(60, 3 * HEARTBEAT_INTERVAL_SECONDS)

# --- Logging: structured lines to stdout, with request id and user ----------------------------------------
LOG_LEVEL = env_str("MESHFORGE_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"MESHFORGE_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.logging.RequestContextFilter"}},
    "formatters": {"structured": {"()": "core.logging.StructuredFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_context"],
            "formatter": "structured",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "pgserver": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # one line per adapter call and poll otherwise
    },
}
