"""
Settings for keel, read from the environment and nowhere else.

Real environment variables win over the env file (backend/.env by default, or
the file named by KEEL_ENV_FILE; an empty KEEL_ENV_FILE reads none). Every
problem found is reported at once, naming the variable, never a secret's value.
"""

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from configs.env import KEY_GENERATION_HINT, RENAMED, Env, read_environment
from core.logs import build_logging

BASE_DIR = Path(__file__).resolve().parent.parent


def _project_version() -> str | None:
    """Return keel's version from pyproject.toml (the checkout's, or the image's)."""
    for candidate in (BASE_DIR.parent / "pyproject.toml", BASE_DIR / "pyproject.toml"):
        if candidate.is_file():
            return str(tomllib.loads(candidate.read_text())["project"]["version"])
    return None


VERSION = _project_version()

_env_file_name = os.environ.get("KEEL_ENV_FILE", str(BASE_DIR / ".env"))
ENV_FILE = Path(_env_file_name) if _env_file_name else None
env = Env(read_environment(os.environ, ENV_FILE))
env.refuse_renamed(RENAMED)

DEBUG = env.flag("DJANGO_DEBUG", default=False)
SECRET_KEY = env.signing_key("DJANGO_SECRET_KEY", strong=not DEBUG)
ALLOWED_HOSTS = env.csv("DJANGO_ALLOWED_HOSTS")
CORS_ALLOWED_ORIGINS = env.origins("CORS_ALLOWED_ORIGINS")
CSRF_TRUSTED_ORIGINS = env.origins("CSRF_TRUSTED_ORIGINS")

for _name, _value in (
    ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS),
    ("CORS_ALLOWED_ORIGINS", CORS_ALLOWED_ORIGINS),
    ("CSRF_TRUSTED_ORIGINS", CSRF_TRUSTED_ORIGINS),
):
    env.require_when(
        not DEBUG, _name, _value, why="when DJANGO_DEBUG is off (comma-separated)"
    )

INSTALLED_APPS = [
    # Django's admin on keel's site: its login counts guesses like the API.
    "accounts.apps.KeelAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The task queue, in keel's own PostgreSQL (core.tasks, accounts.tasks).
    "procrastinate.contrib.django",
    "core",
    "accounts",
    # make app: new apps go above this line.
    "api",
]

MIDDLEWARE = [
    # Permissions-Policy on every response, and Content-Security-Policy on
    # every HTML page (the admin, the API docs): outermost, so that the probes
    # and the static files get it too.
    "core.middleware.SecurityPolicyMiddleware",
    # Probes first: answered before anything that costs, and not logged.
    "core.middleware.ProbeMiddleware",
    "core.middleware.RequestLogMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files from the server itself, before any
    # middleware that would spend time on them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, their user and messages serve the admin and the browsable API:
    # an /api/ request without a session cookie skips them (core.middleware).
    "core.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Prometheus metrics at /metrics (core.metrics), answered only to the bearer of
# KEEL_METRICS_TOKEN: the middleware sits right after the request log, so a
# scrape is logged but skips the rest of the stack, and every other request
# but the probes (answered before both) is timed through all of it. Off, the
# middleware is not there at all.
METRICS = env.flag("KEEL_METRICS", default=False)
_metrics_token = env.text("KEEL_METRICS_TOKEN")
if METRICS:
    env.require_that(
        len(_metrics_token) >= 32,
        "KEEL_METRICS_TOKEN must be set, at least 32 characters, when KEEL_METRICS "
        f"is 1: /metrics is never served without it. {KEY_GENERATION_HINT}",
    )
    MIDDLEWARE.insert(
        MIDDLEWARE.index("core.middleware.RequestLogMiddleware") + 1,
        "core.metrics.MetricsMiddleware",
    )

ROOT_URLCONF = "configs.urls"
WSGI_APPLICATION = "configs.wsgi.application"
ASGI_APPLICATION = "configs.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_statement_timeout = env.integer("DB_STATEMENT_TIMEOUT", default=15)
# PostgreSQL itself: where migrate_locked, backups and the job worker connect.
_database: dict[str, Any] = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": env.required("DB_NAME"),
    "USER": env.required("DB_USER"),
    "PASSWORD": env.text("DB_PASSWORD"),
    "HOST": env.required(
        "DB_HOST",
        hint="Run keel with `make dev` (it starts PostgreSQL itself), or set "
        "DB_HOST to your server.",
    ),
    "PORT": env.integer("DB_PORT", default=5432, minimum=1, maximum=65535),
    "CONN_MAX_AGE": env.integer("DB_CONN_MAX_AGE", default=60),
    # A connection the server dropped (a restart) is replaced, not reused.
    "CONN_HEALTH_CHECKS": True,
    "OPTIONS": {
        "connect_timeout": env.integer("DB_CONNECT_TIMEOUT", default=3, minimum=1),
        # PostgreSQL cancels a statement that runs longer (0: never), so one
        # slow query cannot hold a worker's thread for ever; the request
        # gets a JSON 503 (core.exceptions). migrate_locked lifts it.
        "options": f"-c statement_timeout={1000 * _statement_timeout}",
    },
}
# A PgBouncer in transaction pooling between the requests and PostgreSQL
# (docs/scaling.md#pgbouncer): each transaction may run on another server
# connection, so nothing may outlive one. Hence no server-side cursors (a
# named cursor lives until closed) and no prepared statements (PgBouncer 1.18
# does not track them); PgBouncer refuses the `options` startup parameter, so
# its own connect_query sets the statement timeout instead. What needs a
# session (migrate_locked's advisory lock, the worker's LISTEN) uses
# DATABASES["direct"], PostgreSQL itself.
_pooler_host = env.text("DB_POOLER_HOST")
_pooler_port = env.integer("DB_POOLER_PORT", default=6432, minimum=1, maximum=65535)
env.require_when(
    bool(env.text("DB_POOLER_PORT")),
    "DB_POOLER_HOST",
    _pooler_host,
    why="with DB_POOLER_PORT (the PgBouncer's host, e.g. pgbouncer); unset "
    "DB_POOLER_PORT to connect to PostgreSQL directly",
)
env.require_that(
    not _pooler_host
    or (_pooler_host, _pooler_port) != (_database["HOST"], _database["PORT"]),
    "DB_POOLER_HOST and DB_POOLER_PORT name DB_HOST's PostgreSQL itself: point "
    "them at PgBouncer (port 6432 by default), or unset DB_POOLER_HOST.",
)
if _pooler_host:
    DATABASES = {
        "default": {
            **_database,
            "HOST": _pooler_host,
            "PORT": _pooler_port,
            "DISABLE_SERVER_SIDE_CURSORS": True,
            "OPTIONS": {
                "connect_timeout": _database["OPTIONS"]["connect_timeout"],
                "prepare_threshold": None,
            },
        },
        # Opened only by what needs a session; never on a request's path.
        "direct": {**_database, "TEST": {"MIRROR": "default"}},
    }
else:
    DATABASES = {"default": _database}

REDIS_URL = env.text("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Short timeouts: a dead Redis must fail readiness, not hang a worker.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Per process: the throttles count in PostgreSQL instead
            # (accounts.counts). Django's default of 300 entries would let a
            # burst of requests evict what is cached here.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_USER_MODEL = "accounts.User"

# keel's PBKDF2 is Django's, hashed at a low CPU priority (accounts.hashers).
PASSWORD_HASHERS = [
    "accounts.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation"
        ".UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The database always stores UTC (USE_TZ); the zone only sets display and local dates.
TIME_ZONE = env.time_zone("DJANGO_TIME_ZONE", default="Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

# Bodies over this many bytes are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer(
    "DJANGO_MAX_REQUEST_BODY", default=1024 * 1024, minimum=1024
)

SPECTACULAR_SETTINGS = {
    "TITLE": "keel API",
    "DESCRIPTION": "REST API of keel. Authenticate with a JWT bearer token.",
    # keel's one version: pyproject.toml, this and the image's label agree
    # (configs/tests/test_version.py), and CHANGELOG.md says what it holds.
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get components of their own, so that a required text field
    # says it may not be blank (minLength 1), as the serializer enforces.
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs' assets come from keel itself, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        # The token pasted into Authorize survives a reload of the page.
        "persistAuthorization": True,
        "displayRequestDuration": True,
        # Swagger UI's default validator badge is fetched from swagger.io.
        "validatorUrl": None,
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.bearer_scheme_first",
    ],
}

# The debug error page (DEBUG on) masks credentials in values too, such as the
# password in MONGO_URL or REDIS_URL, not only settings named like a secret.
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.debug.SafeExceptionReporterFilter"

LOGGING_CONFIG = "core.logs.configure_logging"
LOGGING = build_logging(
    json=not DEBUG,
    level=env.choice(
        "DJANGO_LOG_LEVEL",
        ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        default="INFO",
    ),
)

STATIC_URL = "static/"
# Filled by collectstatic when the image is built; hashed names, compressed copies.
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Pages link only the hashed names; the originals would double the image's share.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if not DEBUG:
    # keel runs behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.flag("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.integer("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is hard to undo, so it is an explicit opt-in.
    SECURE_HSTS_PRELOAD = env.flag("DJANGO_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    # JWT for API clients; sessions only for the admin and the browsable API, and
    # no HTTP Basic, DRF's default, which would take passwords on every request.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    # Bodies are JSON only: a form body gets 415. DRF's form parsers would also
    # read an empty form field as "absent", unlike JSON's "", and let a
    # cross-site HTML form post to the API without a CORS preflight.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    # So DRF's APIClient, in tests, sends what the API takes.
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # DRF's negotiation with a shortcut for "*/*" and JSON, the usual Accept.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    # Throttles key on the socket's address unless this many trusted proxies stand
    # in front; then on the address the outermost of them saw in X-Forwarded-For.
    "NUM_PROXIES": env.integer("DJANGO_NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        # Failed password checks (login, password change) per client IP and per
        # username; a successful check is not counted.
        "login_ip": env.rate("KEEL_LOGIN_IP_THROTTLE_RATE", default="10/min"),
        "login_username": env.rate(
            "KEEL_LOGIN_USERNAME_THROTTLE_RATE", default="5/min"
        ),
        "register": env.rate("KEEL_REGISTER_THROTTLE_RATE", default="10/hour"),
        # Refreshes per user (the id in the refresh token). A client refreshes
        # once per access token's lifetime; each refresh writes two rows.
        "refresh": env.rate("KEEL_REFRESH_THROTTLE_RATE", default="30/min"),
        # Requests that send mail to an address someone types in (password
        # reset, verification resend): per client IP, and per address.
        "email_ip": env.rate("KEEL_EMAIL_IP_THROTTLE_RATE", default="10/hour"),
        "email_address": env.rate("KEEL_EMAIL_ADDRESS_THROTTLE_RATE", default="3/hour"),
    },
}

_jwt_signing_key = env.signing_key("JWT_SIGNING_KEY", strong=not DEBUG)
if _jwt_signing_key:
    # A key of its own, so that a leaked session key cannot mint API tokens.
    env.require_that(
        _jwt_signing_key != SECRET_KEY,
        f"JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY. {KEY_GENERATION_HINT}",
    )
    env.require_that(
        len(_jwt_signing_key.encode()) >= 32,
        "JWT_SIGNING_KEY is too short: HS256 needs at least 32 bytes. "
        f"{KEY_GENERATION_HINT}",
    )
_access_lifetime = env.integer("JWT_ACCESS_TOKEN_LIFETIME", default=300, minimum=1)
_refresh_lifetime = env.integer("JWT_REFRESH_TOKEN_LIFETIME", default=86400, minimum=1)
env.require_that(
    _refresh_lifetime >= _access_lifetime,
    "JWT_REFRESH_TOKEN_LIFETIME must be at least JWT_ACCESS_TOKEN_LIFETIME (seconds).",
)

SIMPLE_JWT: dict[str, Any] = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": _jwt_signing_key,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=_access_lifetime),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=_refresh_lifetime),
    # keel's refresh endpoint always rotates and blacklists, atomically; these say so
    # to Simple JWT's own code too.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "LEEWAY": env.integer("JWT_LEEWAY", default=0, maximum=30),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # keel's access token: Simple JWT's, with its claims typed strictly.
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
    # Tokens carry a digest of the password hash: a password change revokes them.
    "CHECK_REVOKE_TOKEN": True,
    "CHECK_USER_IS_ACTIVE": True,
    "UPDATE_LAST_LOGIN": True,
}

# Mail is sent by the worker's jobs (accounts.tasks), never in a request. With
# debug off there must be an SMTP server, or KEEL_EMAIL=console on purpose.
EMAIL_HOST = env.text("EMAIL_HOST")
_email_mode = env.choice(
    "KEEL_EMAIL",
    ("smtp", "console"),
    default="console" if DEBUG and not EMAIL_HOST else "smtp",
)
env.require_that(
    _email_mode == "console" or bool(EMAIL_HOST),
    "EMAIL_HOST is not set: keel sends password-reset and verification mail. Set "
    "EMAIL_HOST (with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and "
    "EMAIL_USE_TLS or EMAIL_USE_SSL as your provider says), or KEEL_EMAIL=console "
    "to write every message to the log instead, on purpose.",
)
EMAIL_BACKEND = (
    "django.core.mail.backends.console.EmailBackend"
    if _email_mode == "console"
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_USE_TLS = env.flag("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.flag("EMAIL_USE_SSL", default=False)
env.require_that(
    not (EMAIL_USE_TLS and EMAIL_USE_SSL),
    "EMAIL_USE_TLS and EMAIL_USE_SSL are both on: set one. TLS is STARTTLS "
    "(usually port 587), SSL is TLS from the first byte (usually port 465).",
)
EMAIL_PORT = env.integer(
    "EMAIL_PORT",
    default=465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25,
    minimum=1,
    maximum=65535,
)
EMAIL_HOST_USER = env.text("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.text("EMAIL_HOST_PASSWORD")
# Seconds per SMTP operation: a hung server fails the job, which is retried,
# instead of holding the worker (Django's default waits for ever).
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", default=10, minimum=1)
DEFAULT_FROM_EMAIL = env.email_address("DEFAULT_FROM_EMAIL", default="keel@localhost")
env.require_when(
    not DEBUG and _email_mode == "smtp",
    "DEFAULT_FROM_EMAIL",
    env.text("DEFAULT_FROM_EMAIL"),
    why="with EMAIL_HOST and DJANGO_DEBUG off: the sender your SMTP server accepts "
    "(e.g. Keel <noreply@example.com>)",
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds a password-reset link works; it also stops working once used.
PASSWORD_RESET_TIMEOUT = env.integer(
    "DJANGO_PASSWORD_RESET_TIMEOUT", default=3600, minimum=60
)
_frontend_url = env.url(
    "KEEL_FRONTEND_URL", default="http://localhost:3000" if DEBUG else ""
)
env.require_when(
    not DEBUG,
    "KEEL_FRONTEND_URL",
    _frontend_url,
    why="when DJANGO_DEBUG is off: the client app's URL that the links in "
    "password-reset and verification mail open (e.g. https://app.example.com)",
)

# Procrastinate's worker (manage.py procrastinate worker, bin/worker): a job
# that succeeded is deleted; a failed one stays, for the admin to show.
PROCRASTINATE_WORKER_DEFAULTS = {"delete_jobs": "successful"}

# keel's own settings, in one namespace.
KEEL: dict[str, Any] = {
    # The env-sync check compares these: backend/.env, backend/db.env beside it
    # and the compose file at the project's root, one level up.
    "ENV_FILE": ENV_FILE,
    "DB_ENV_FILE": ENV_FILE.with_name("db.env") if ENV_FILE else None,
    "COMPOSE_FILE": ENV_FILE.parent.parent / "podman-compose.yml" if ENV_FILE else None,
    "API_DOCS": env.flag("KEEL_API_DOCS", default=True),
    # The alias that reaches PostgreSQL itself, past any PgBouncer: what holds
    # a session-level advisory lock (migrate_locked) connects through it.
    "DIRECT_DATABASE": "direct" if "direct" in DATABASES else "default",
    "MONGO_URL": env.text("MONGO_URL"),
    "MONGO_DB": env.text("MONGO_DB"),
    # Seconds a user read for authentication stays cached in Redis (0: no
    # cache). The entry is dropped on every save, delete and User QuerySet
    # update, so the lifetime bounds only what bypasses the ORM (raw SQL).
    # Without Redis there is no cache: a worker's own copy could not be dropped
    # by another worker, and would serve a revoked user until it expired.
    "AUTH_CACHE_SECONDS": env.integer(
        "KEEL_AUTH_CACHE_SECONDS", default=60 if REDIS_URL else 0, maximum=300
    ),
    # Where the throttles count (accounts.counts): Redis when there is one, else
    # PostgreSQL, so that every worker and replica counts against one limit.
    "THROTTLE_COUNTS": "cache" if REDIS_URL else "database",
    # Password checks (login, password change) one worker process runs at once,
    # so a burst of logins cannot take every thread; one more waits in a queue
    # fair across client addresses for at most PASSWORD_CHECK_WAIT seconds,
    # then gets 503, counted against its address (accounts.password_checks).
    "PASSWORD_CHECKS_PER_WORKER": env.integer(
        "KEEL_PASSWORD_CHECKS_PER_WORKER", default=1, minimum=1
    ),
    "PASSWORD_CHECK_WAIT": env.integer(
        "KEEL_PASSWORD_CHECK_WAIT", default=3, minimum=0, maximum=30
    ),
    # POST /api/auth/register/ answers 404 unless this is on.
    "ALLOW_REGISTRATION": env.flag("KEEL_ALLOW_REGISTRATION", default=False),
    # The superuser `manage.py ensure_superuser` creates at start when it does not
    # exist: Django's own createsuperuser --noinput variables.
    "SUPERUSER": {
        "USERNAME": env.text("DJANGO_SUPERUSER_USERNAME"),
        "EMAIL": env.text("DJANGO_SUPERUSER_EMAIL"),
        "PASSWORD": env.text("DJANGO_SUPERUSER_PASSWORD"),
    },
    # The client app that shows the reset, verify and email-change pages.
    "FRONTEND_URL": _frontend_url,
    # Seconds an email verification or email-change link works.
    "EMAIL_TOKEN_TIMEOUT": env.integer(
        "KEEL_EMAIL_TOKEN_TIMEOUT", default=3 * 24 * 3600, minimum=60
    ),
    # Login refuses a user whose address is not verified (after the password
    # was right), with its own code.
    "REQUIRE_VERIFIED_EMAIL": env.flag("KEEL_REQUIRE_VERIFIED_EMAIL", default=False),
    "METRICS_TOKEN": _metrics_token,
    # The worker's daily backup (core.tasks.backup_database), on when DIR is
    # set: pg_dump files in DIR, the newest KEEP kept (0 keeps all), at SCHEDULE.
    "BACKUP": {
        "DIR": env.text("KEEL_BACKUP_DIR"),
        "KEEP": env.integer("KEEL_BACKUP_KEEP", default=7),
        "SCHEDULE": env.cron("KEEL_BACKUP_SCHEDULE", default="5 3 * * *"),
    },
    # Error tracking (core.sentry), on when the DSN is set.
    "SENTRY": {
        "DSN": env.text("SENTRY_DSN"),
        "ENVIRONMENT": env.text("KEEL_ENVIRONMENT", default="production"),
        "TRACES_SAMPLE_RATE": env.fraction("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        "RELEASE": f"keel@{VERSION}" if VERSION else None,
    },
}
env.require_that(
    not KEEL["BACKUP"]["DIR"] or Path(KEEL["BACKUP"]["DIR"]).is_absolute(),
    "KEEL_BACKUP_DIR must be an absolute path (e.g. /var/lib/keel/backups): the "
    "worker writes the daily backups there.",
)
env.require_when(
    bool(KEEL["SUPERUSER"]["USERNAME"]),
    "DJANGO_SUPERUSER_PASSWORD",
    KEEL["SUPERUSER"]["PASSWORD"],
    why="with DJANGO_SUPERUSER_USERNAME",
)
env.require_that(
    bool(REDIS_URL) or not KEEL["AUTH_CACHE_SECONDS"],
    "KEEL_AUTH_CACHE_SECONDS needs REDIS_URL: without Redis each worker would "
    "cache users on its own and keep serving a deactivated user, or tokens of an "
    "old password, until its copy expired. Unset it, or set REDIS_URL.",
)

env.raise_for_problems()
