"""Settings shared by every environment. Everything that varies is read from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(str(BASE_DIR / ".env"), overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

# --- Database: SQLite by default, PostgreSQL when DATABASE_URL is set -------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their (durable) transactions
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    # ours, from the bottom up
    "core",
    "accounts",
    "sons",
    "vendors",
    "referencing_app",
    "orders",
    "payments",
    # the web portals (DSFR), last: they may use every app, none uses them
    "widget_tweaks",
    "dsfr",
    "django_htmx",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.EdgeInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Passwords: Argon2 first ---------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: after LOGIN_FAILURES_FREE failures in LOGIN_FAILURE_WINDOW seconds for one
# username or one address, each further attempt waits 2^(n - free) seconds, at most LOGIN_MAX_DELAY.
LOGIN_FAILURES_FREE = env.int("LOGIN_FAILURES_FREE", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
LOGIN_MAX_DELAY = env.int("LOGIN_MAX_DELAY", default=15 * 60)
# Reverse proxies in front of the service that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Internationalisation: French first, English available; Paris time -------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True

# --- Static and private files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private"))
        },
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
# Input limits, answered before parsing (docs/decisions/0013): a body other than a multipart
# upload up to DATA_UPLOAD_MAX_MEMORY_SIZE (else 413); a multipart upload up to UPLOAD_MAX_BYTES,
# refused as soon as it is declared or streamed past it (core.uploads), never spooled whole.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=100 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "core.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- REST framework and schema -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["core.api.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.GuardedJSONParser",
        "core.parsers.GuardedFormParser",
        "core.parsers.GuardedMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SONS referencing service API",
    "DESCRIPTION": (
        "Public API of the SONS referencing service of the Ségur du numérique en santé. "
        "Every 4xx answer has the shape "
        '`{"type": "...", "errors": [{"code": "...", "detail": "...", "attr": "field or null"}]}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DossierStateEnum": "referencing_app.models.DossierState",
        "ReferencingStateEnum": "referencing_app.models.ReferencingState",
        "OrderStateEnum": "orders.models.OrderState",
        "PaymentStateEnum": "payments.models.PaymentState",
        "PaymentKindEnum": "payments.models.PaymentKind",
        "EstablishmentKindEnum": "orders.models.EstablishmentKind",
        "SchemeAcceptanceEnum": "sons.models.Acceptance",
        "RequirementNatureEnum": "sons.models.Nature",
    },
}

# --- Celery: eager unless a broker is configured -----------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request never waits on the broker (docs/decisions/0014): publishing does not retry, and a
# broker or result store that is down is known in about a second; the outbox rows and the
# periodic pickups below deliver what could not be published.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "max_retries": 0}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    }
}
CELERY_BEAT_SCHEDULE = {
    "core-heartbeat": {"task": "core.tasks.heartbeat", "schedule": crontab(minute="*/15")},
    # The outbox: notification emails due (new, or to retry), and long launches still queued.
    "outbox-emails": {"task": "core.tasks.send_pending_notifications", "schedule": 60.0},
    "outbox-jobs": {"task": "core.tasks.run_queued_jobs", "schedule": 60.0},
    # Deadline work: idempotent sweeps over database state (docs/decisions/0002).
    "sweeps": {"task": "core.tasks.run_sweeps", "schedule": crontab(minute="*/10")},
}

# --- Mail ---------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SONS <ne-pas-repondre@sons.example.fr>")
# Outbox of notification emails: attempts before an email is dead (visible in the admin, where
# an ANS admin may retry it), and the first retry delay in seconds, doubled at each attempt.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
NOTIFICATION_EMAIL_MAX_ATTEMPTS = env.int("NOTIFICATION_EMAIL_MAX_ATTEMPTS", default=8)
NOTIFICATION_EMAIL_RETRY_SECONDS = env.int("NOTIFICATION_EMAIL_RETRY_SECONDS", default=60)

# --- Content security policy (django-csp 4): everything is served by the app itself ------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"sons.security": {"level": "INFO"}},
}

# --- Web portals (DSFR): mark optional fields, as the DSFR now advises ----------------------
DSFR_MARK_OPTIONAL_FIELDS = True

# --- Programme safety defaults -------------------------------------------------------------------
# The officer who approved a payment request cannot also mark it paid (domain.md §3).
PAYMENT_FOUR_EYES = env.bool("PAYMENT_FOUR_EYES", default=True)
# Days a vendor has to pay back what was paid on an order cancelled after payment (the recovery
# order's due date, counted from the cancellation, Paris time).
RECOVERY_DUE_DAYS = env.int("RECOVERY_DUE_DAYS", default=30)
# No one who took part in a dossier's instruction (verdicts, change requests, assigned reviewer)
# approves or rejects it (domain.md §3); the assigned reviewer never does, whatever this says.
DECISION_FOUR_EYES = env.bool("DECISION_FOUR_EYES", default=True)
# Seconds a process keeps the schemes' codes shown in the public catalogue (one statement less
# per page); a renamed scheme code may show this late in other processes (docs/benchmarks.md).
CATALOGUE_SCHEME_CODES_TTL = env.float("CATALOGUE_SCHEME_CODES_TTL", default=30.0)
# API lists of at least this many rows reuse their total (`count`) for this many seconds in
# each process (core.api.CountCachingPaginator); smaller lists are counted on every page.
PAGINATION_LARGE_COUNT = env.int("PAGINATION_LARGE_COUNT", default=10_000)
PAGINATION_LARGE_COUNT_TTL = env.float("PAGINATION_LARGE_COUNT_TTL", default=10.0)
# Issuer of SEPA credit transfers in payment batch exports.
SEPA_DEBTOR_NAME = env("SEPA_DEBTOR_NAME", default="Agence de services et de paiement")
SEPA_DEBTOR_IBAN = env("SEPA_DEBTOR_IBAN", default="FR7630001007941234567890185")
SEPA_DEBTOR_BIC = env("SEPA_DEBTOR_BIC", default="BDFEFRPPCCT")
