"""Django settings, read from environment variables with safe development defaults.

Nothing has to be configured for a developer machine: SQLite under `var/`, an embedded
file-system Celery broker, local-memory cache. Production sets DJANGO_DEBUG=0, a real
DJANGO_SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL and DJANGO_ALLOWED_HOSTS; with DEBUG off
the secure defaults below make `manage.py check --deploy` clean.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX
from kombu import Queue

from .env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MAS_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)

# The development key is refused by `check --deploy` (security.W009); production sets its own.
# Secrets come from the environment or from a file named by <NAME>_FILE (env_secret).
SECRET_KEY = env_secret(
    "DJANGO_SECRET_KEY", "django-insecure-development-key-do-not-use-in-production"
)
# Fernet key(s) for secrets stored encrypted (core.crypto); empty derives one from SECRET_KEY.
FIELD_ENCRYPTION_KEY = env_secret("FIELD_ENCRYPTION_KEY", "")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "import_export",
    "simple_history",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "core",
    "customers",
    "product_lifecycle",
    "fulfillment",
    "smsgw",
    "assurance",
    "billing",
    "portal",
]

# Health probes are answered first (no SSL redirect, no ALLOWED_HOSTS check, no session);
# then the request gets its trace id, so that every later log line carries it.
MIDDLEWARE = [
    "core.health.HealthCheckMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.tracing.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# Database: a SQLite file under var/ unless DATABASE_URL names another server
# (postgres://user@host:5432/name uses psycopg 3).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mas.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
# A streaming replica for read-heavy pages (core.db: `@reads_from_replica`); reads go to
# the primary unless a page opts in, and nothing uses the replica unless this is set.
_replica_url = env_str("DATABASE_REPLICA_URL", "")
if _replica_url:
    DATABASES["replica"] = dj_database_url.parse(
        _replica_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0)
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["core.auth.ThrottledModelBackend"]
LOGIN_URL = "admin:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: this many failures for one username (or one client address) within
# the window lock further attempts until the window has passed.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_ADDRESS_LIMIT = env_int("LOGIN_FAILURE_ADDRESS_LIMIT", 30)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)

_cache_url = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mas"}
    )
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("DJANGO_STATIC_MANIFEST", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security. With DEBUG off everything `check --deploy` asks for is on; a reverse proxy
# terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]  # Prometheus scrapes over the internal network
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@mas.example.cn")

# Celery. With no CELERY_BROKER_URL the embedded file-system broker under var/ lets the
# worker and beat run with nothing else installed; production names Redis or RabbitMQ.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}
# One beat at a time across machines (core.beat): a Redis key, else a PostgreSQL advisory
# lock, else a file lock; a standby beat takes over within CELERY_BEAT_LOCK_TTL seconds.
CELERY_BEAT_SCHEDULER = "core.beat:LockedScheduler"
CELERY_BEAT_LOCK_URL = env_str("CELERY_BEAT_LOCK_URL", "")
CELERY_BEAT_LOCK_TTL = env_int("CELERY_BEAT_LOCK_TTL", 60)
# Queues, so that workers can be split by kind of work (docs/deploy.md). Routes are glob
# patterns on task names, tried in order; anything unmatched goes to "default".
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "core.tasks.tmf_event_*": {"queue": "webhooks"},
    "*.tasks.*webhook*": {"queue": "webhooks"},
    "*.tasks.*callback*": {"queue": "webhooks"},
    "*.tasks.*report_push*": {"queue": "webhooks"},
    "*.tasks.*notify*": {"queue": "notifications"},
    "*.tasks.*notification*": {"queue": "notifications"},
    "*.tasks.*warning*": {"queue": "notifications"},
    "*.tasks.*email*": {"queue": "notifications"},
    "*.tasks.*_sms_*": {"queue": "notifications"},
    "fulfillment.tasks.*": {"queue": "provisioning"},
    "billing.tasks.*": {"queue": "billing"},
    "assurance.tasks.*": {"queue": "notifications"},
}
# A worker started without -Q consumes all of them (development, tests); production starts
# one worker group per queue with -Q.
CELERY_TASK_QUEUES = [
    Queue(name, routing_key=name)
    for name in ("default", "provisioning", "notifications", "billing", "webhooks")
]

REST_FRAMEWORK = {
    # API tokens first, so that an unauthenticated call is a 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "customers.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "集团短信 MAS OSS/BSS API",
    "DESCRIPTION": "TM Forum Open APIs (v4) and the enterprise SMS API.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.tmf.openapi.tmf_components_hook",
    ],
}

# TM Forum Open APIs (core.tmf). Hrefs in events are built on TMF_BASE_URL (responses use
# the request's own host); collections return at most TMF_MAX_LIMIT items per page.
TMF_BASE_URL = env_str("TMF_BASE_URL", "http://127.0.0.1:8000")
TMF_MAX_LIMIT = env_int("TMF_MAX_LIMIT", 1000)
TMF_DEFAULT_LIMIT = env_int("TMF_DEFAULT_LIMIT", 100)
TMF_REQUEST_ENTERPRISE = "customers.api.auth.request_enterprise_id"
# Hub deliveries: attempts per round, exponential back-off (base · 2^n, capped), timeout.
TMF_EVENT_MAX_ATTEMPTS = env_int("TMF_EVENT_MAX_ATTEMPTS", 8)
TMF_EVENT_RETRY_BASE_SECONDS = env_int("TMF_EVENT_RETRY_BASE_SECONDS", 30)
TMF_EVENT_RETRY_MAX_SECONDS = env_int("TMF_EVENT_RETRY_MAX_SECONDS", 3600)
TMF_EVENT_TIMEOUT_SECONDS = env_int("TMF_EVENT_TIMEOUT_SECONDS", 10)

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_FORMATS = [CSV, XLSX]
IMPORT_EXPORT_SKIP_ADMIN_LOG = True

# Logs: JSON lines with the trace id in production (LOG_FORMAT=json, the default with
# DEBUG off), readable lines in development; phone numbers masked either way (core.logging).
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "core.logging.ContextFilter"},
        "pii": {"()": "core.logging.PiiMaskingFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(trace_id)s] %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context", "pii"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Observability (docs/observability.md). /metrics answers a bearer token, a peer in these
# networks (CIDRs, only when no proxy is in between), or a logged-in staff user.
METRICS_TOKEN = env_secret("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", [])
PROMETHEUS_EXPORT_MIGRATIONS = False

# Retention of personal data (core.retention, docs/retention.md): rows past RETENTION_DAYS
# are purged or pseudonymised by a nightly job, in batches of RETENTION_BATCH_SIZE.
RETENTION_DAYS = env_int("RETENTION_DAYS", 180)
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 1000)
RETENTION_BATCH_PAUSE_SECONDS = float(env_str("RETENTION_BATCH_PAUSE_SECONDS", "0.1"))
RETENTION_PSEUDONYM_KEY = env_secret("RETENTION_PSEUDONYM_KEY", "")
CELERY_BEAT_SCHEDULE["core-retention"] = {
    "task": "core.tasks.retention_run_task",
    "schedule": crontab(hour=3, minute=30),
}

# Domain settings (each app documents its own).
SIGNATURE_MIN_MATCH_CHARS = 2

# Fulfillment (issue 5): the operator's province, the ISMG the accounts log in to, the
# inventory's reservation and quarantine periods, provisioning retries and contract warnings.
FULFILLMENT_PROVINCE = env_str("FULFILLMENT_PROVINCE", "41")  # GB/T 2260: Henan
FULFILLMENT_OPERATOR_NAME = env_str(
    "FULFILLMENT_OPERATOR_NAME", "中国移动通信集团河南有限公司郑州分公司"
)
FULFILLMENT_ISMG_HOST = env_str("FULFILLMENT_ISMG_HOST", "127.0.0.1")  # bundled simulator
FULFILLMENT_ISMG_PORT = env_int("FULFILLMENT_ISMG_PORT", 7890)
FULFILLMENT_CMPP_WINDOW = env_int("FULFILLMENT_CMPP_WINDOW", 16)
FULFILLMENT_RESERVATION_HOURS = env_int("FULFILLMENT_RESERVATION_HOURS", 48)
FULFILLMENT_QUARANTINE_DAYS = env_int("FULFILLMENT_QUARANTINE_DAYS", 90)
FULFILLMENT_STEP_MAX_RETRIES = env_int("FULFILLMENT_STEP_MAX_RETRIES", 5)
FULFILLMENT_CONTRACT_WARNING_DAYS = env_int("FULFILLMENT_CONTRACT_WARNING_DAYS", 45)
CELERY_BEAT_SCHEDULE.update(
    {
        "fulfillment-start-due-orders": {
            "task": "fulfillment.tasks.orders_start_due_task",
            "schedule": 60.0,
        },
        "fulfillment-release-expired-reservations": {
            "task": "fulfillment.tasks.reservations_release_expired_task",
            "schedule": 600.0,
        },
        "fulfillment-release-quarantined-codes": {
            "task": "fulfillment.tasks.quarantine_release_due_task",
            "schedule": crontab(hour=2, minute=0),
        },
        "fulfillment-contracts-daily": {
            "task": "fulfillment.tasks.contracts_daily_task",
            "schedule": crontab(hour=1, minute=30),
        },
    }
)

# smsgw (issue 6): sending limits, the report timeout, the operator's notice account, the
# enterprise API's limits and the churn analysis. See docs/smsgw.md.
SMSGW_MAX_SEGMENTS = env_int("SMSGW_MAX_SEGMENTS", 10)
SMSGW_MAX_RECIPIENTS = env_int("SMSGW_MAX_RECIPIENTS", 200000)
SMSGW_MAX_SCHEDULE_DAYS = env_int("SMSGW_MAX_SCHEDULE_DAYS", 30)
SMSGW_REPORT_TIMEOUT_HOURS = env_int("SMSGW_REPORT_TIMEOUT_HOURS", 48)
SMSGW_LEASE_SECONDS = env_int("SMSGW_LEASE_SECONDS", 60)
SMSGW_OPERATOR_SP_ID = env_str("SMSGW_OPERATOR_SP_ID", "")
SMSGW_API_BATCH_LIMIT = env_int("SMSGW_API_BATCH_LIMIT", 5000)
SMSGW_API_RATE = env_str("SMSGW_API_RATE", "60/min")
SMSGW_CHURN_IDLE_DAYS = env_int("SMSGW_CHURN_IDLE_DAYS", 5)
SMSGW_CHURN_DROP_SHARE = env_str("SMSGW_CHURN_DROP_SHARE", "0.5")
SMSGW_CHURN_RECENT_DAYS = env_int("SMSGW_CHURN_RECENT_DAYS", 7)
SMSGW_WEBHOOK_TIMEOUT = env_int("SMSGW_WEBHOOK_TIMEOUT", 10)
SMSGW_WEBHOOK_MAX_ATTEMPTS = env_int("SMSGW_WEBHOOK_MAX_ATTEMPTS", 8)
CELERY_BEAT_SCHEDULE.update(
    {
        "smsgw-churn-analysis": {
            "task": "smsgw.tasks.churn_analysis_task",
            "schedule": crontab(hour=6, minute=0),
        },
        "smsgw-expire-reports": {
            "task": "smsgw.tasks.segments_expire_task",
            "schedule": 900.0,
        },
    }
)

# Assurance (issue 7): a resolved ticket the enterprise does not answer closes after the
# quiet period; attachments are limited in size.
ASSURANCE_RESOLVED_QUIET_HOURS = env_int("ASSURANCE_RESOLVED_QUIET_HOURS", 72)
ASSURANCE_ATTACHMENT_MAX_BYTES = env_int("ASSURANCE_ATTACHMENT_MAX_BYTES", 10 * 2**20)
CELERY_BEAT_SCHEDULE.update(
    {
        "assurance-sla-check": {"task": "assurance.tasks.sla_check_task", "schedule": 60.0},
        "assurance-close-quiet-tickets": {
            "task": "assurance.tasks.tickets_close_quiet_task",
            "schedule": 900.0,
        },
        "assurance-notice-delivery": {
            "task": "assurance.tasks.notification_delivery_refresh_task",
            "schedule": 120.0,
        },
    }
)

# Billing (issue 8): tax, advance invoicing (第10条), late fee and dunning (第14条), and the
# operator's details printed on invoices. Amounts are tax-inclusive unless told otherwise.
BILLING_TAX_RATE = env_str("BILLING_TAX_RATE", "0.06")  # VAT on value-added telecom services
BILLING_PRICES_INCLUDE_TAX = env_bool("BILLING_PRICES_INCLUDE_TAX", True)
BILLING_LEAD_DAYS = env_int("BILLING_LEAD_DAYS", 15)  # quarterly invoice issued this early
BILLING_LATE_FEE_RATE = env_str("BILLING_LATE_FEE_RATE", "0.003")  # per day, 第14条第1款
BILLING_ALLOCATE_PRINCIPAL_FIRST = env_bool("BILLING_ALLOCATE_PRINCIPAL_FIRST", True)
# Dunning steps, in days relative to the due date (negative: before it).
BILLING_REMINDER_BEFORE_DAYS = env_int("BILLING_REMINDER_BEFORE_DAYS", 3)
BILLING_REMINDER_AFTER_DAYS = env_int("BILLING_REMINDER_AFTER_DAYS", 3)
BILLING_WRITTEN_DEMAND_DAYS = env_int("BILLING_WRITTEN_DEMAND_DAYS", 15)
BILLING_SUSPENSION_DAYS = env_int("BILLING_SUSPENSION_DAYS", 20)
BILLING_GOOD_CREDIT_GRACE_DAYS = env_int("BILLING_GOOD_CREDIT_GRACE_DAYS", 10)
BILLING_TERMINATION_DAYS = env_int("BILLING_TERMINATION_DAYS", 30)
BILLING_DEMAND_RESPONSE_DAYS = env_int("BILLING_DEMAND_RESPONSE_DAYS", 15)
BILLING_OPERATOR_TAX_ID = env_str("BILLING_OPERATOR_TAX_ID", "914101007507890123")
BILLING_OPERATOR_ADDRESS = env_str("BILLING_OPERATOR_ADDRESS", "郑州市金水区花园路 1 号")
BILLING_OPERATOR_BANK = env_str("BILLING_OPERATOR_BANK", "中国工商银行郑州花园路支行")
BILLING_OPERATOR_ACCOUNT = env_str("BILLING_OPERATOR_ACCOUNT", "1702 0201 0900 0123 456")
CELERY_BEAT_SCHEDULE.update(
    {
        "billing-rate-last-month-overage": {
            "task": "billing.tasks.overage_rate_month_task",
            "schedule": crontab(day_of_month=1, hour=3, minute=0),
        },
        "billing-quarterly-run": {
            "task": "billing.tasks.quarterly_run_due_task",
            "schedule": crontab(hour=4, minute=0),
        },
        "billing-dunning-daily": {
            "task": "billing.tasks.dunning_daily_task",
            "schedule": crontab(hour=9, minute=0),
        },
    }
)
