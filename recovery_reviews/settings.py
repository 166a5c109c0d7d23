"""Settings for Recovery Reviews, read from the environment (see .env.example).

With nothing set the product runs on the embedded default: SQLite, email written to files under var/mail, and
Celery on kombu's filesystem transport under var/broker. Set DATABASE_URL and CELERY_BROKER_URL for PostgreSQL
and Redis. DEBUG is off unless DJANGO_DEBUG turns it on; `manage.py
rundemo` turns it on for itself and its worker (manage.py). With DEBUG off, serving needs DJANGO_SECRET_KEY.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF

from recovery_reviews.env import SettingError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RECOVERY_REVIEWS_VAR_DIR", str(BASE_DIR / "var")))

# Off unless set: a deployment that forgets the variable must not show tracebacks (docs/design.md, How it runs).
DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Commands that serve requests or run tasks sign sessions, reset links and tokens with the key: without DEBUG they
# refuse to start without one (the web server through wsgi.py, runserver, the Celery worker). A management command
# that serves nothing (check, makemigrations, migrate, ...) signs nothing that outlives it, so it runs with a
# throwaway key of its own.
SERVING_COMMANDS = {"runserver", "rundemo", "runworker"}
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    command = os.environ.get("RECOVERY_REVIEWS_COMMAND")
    if DEBUG:
        SECRET_KEY = "insecure-embedded-default-only-for-local-demo-0123456789abcdefghijklmnop"
    elif command and command not in SERVING_COMMANDS:
        SECRET_KEY = secrets.token_urlsafe(50)
    else:
        raise SettingError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "auditlog",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "recovery_reviews",
    "patients",
    "careplans",
    "reviews",
    "interop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every page (docs/design.md, Access and audit).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, reading the device through compiled SQL (recovery_reviews/two_factor.py).
    "recovery_reviews.two_factor.OTPMiddleware",
    # Every page needs a login (docs/design.md, Access and audit); views opt out with @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # No copy of a signed-in response kept by a browser or proxy (docs/design.md, Access and audit).
    "recovery_reviews.middleware.no_store",
    # A body or a field past the limits below is refused with a page that says so, before any view runs.
    "recovery_reviews.middleware.input_limits",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signed out after SESSION_IDLE_TIMEOUT_MINUTES without a request, or SESSION_COOKIE_AGE after signing in.
    "recovery_reviews.middleware.session_limits",
    # A second factor for every signed-in page while OTP_REQUIRED (docs/design.md, Access and audit).
    "recovery_reviews.two_factor.require_second_factor",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-auditlog's, recording the client's address as the sign-in throttle reads it (behind trusted proxies).
    "recovery_reviews.middleware.AuditlogMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "recovery_reviews.urls"
WSGI_APPLICATION = "recovery_reviews.wsgi.application"

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
                "recovery_reviews.context_processors.navigation",
            ],
            "builtins": ["recovery_reviews.templatetags.clinic"],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another (postgres://user@host:5432/name).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web, worker, beat) share the file: wait for a lock rather than fail at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles a query's expressions before running it: worth it for hour-long analytics,
    # a loss of 50-150 ms on every dashboard aggregate here (measured with bench_pages on 300,000 patients).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Prepared statements: a query sent a second time on a connection is prepared (psycopg's prepare_threshold,
    # with the values bound by the server), so PostgreSQL parses it once and, once its plan settles, stops
    # planning it. The busiest pages send the same SQL on every request (recovery_reviews/compiled_queries.py):
    # under bench_load, 15% more requests a second. 0 turns it off, as a pooler in transaction mode (pgbouncer)
    # needs.
    prepare_threshold = env_int("DATABASE_PREPARE_THRESHOLD", 2, minimum=0)
    if prepare_threshold:
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=prepare_threshold)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The hot pages' queries are compiled once per process and shape (recovery_reviews/compiled_queries.py). On, each
# run compiles the query again with the ORM and refuses SQL or values that differ: the tests turn it on.
COMPILED_QUERIES_CHECK = False

AUTH_USER_MODEL = "recovery_reviews.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's, loading the person with their team (recovery_reviews/auth_backend.py).
    "recovery_reviews.auth_backend.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, recovery_reviews/login_throttle.py): a username after repeated failures from any
# address, and an address after more failures for any usernames; the client's address read behind
# TRUSTED_PROXY_COUNT reverse proxies (0: REMOTE_ADDR, X-Forwarded-For ignored).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_HANDLER = "recovery_reviews.login_throttle.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # in this order: LoginThrottle reads them so
AXES_CLIENT_IP_CALLABLE = "recovery_reviews.login_throttle.client_ip"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: files under var/mail on the embedded default; SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Recovery Reviews <reviews@localhost>")
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A reminder email says only that something needs attention, with a link (reviews/reminders/delivery.py); on, it
# carries the whole message (the patient's name, the review, missed doses): only for mail secure end to end, such
# as NHSmail to NHSmail.
REMINDER_EMAIL_DETAIL = env_bool("REMINDER_EMAIL_DETAIL", default=False)

# Input limits (recovery_reviews/middleware.py, input_limits): a form's whole body and any one field of it.
# The one file the product takes, a caseload CSV from the import page, is held to the same limit; a file is
# never kept in memory past a small size either.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FREE_TEXT_MAX_CHARS = 20_000

# Security. With DEBUG off `manage.py check --deploy` reports nothing.
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read through SQL compiled once (recovery_reviews/sessions.py).
SESSION_ENGINE = "recovery_reviews.sessions"
SESSION_COOKIE_AGE = env_int(
    "SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=60
)  # the absolute limit, from sign-in
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30, minimum=1)  # sliding, inside it
# A registration that matches someone already on record tells the user the person is known to the service: each
# match is on that patient's access log, and past this many in an hour registering pauses and managers are told.
# Two-factor sign-in (TOTP, django-otp) for every account: on unless DEBUG (the demo), or as OTP_REQUIRED says.
OTP_REQUIRED = env_bool("OTP_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = "Recovery Reviews"
PASSWORD_RESET_TIMEOUT = (
    env_int("PASSWORD_RESET_TIMEOUT_HOURS", 72, minimum=1) * 60 * 60
)  # a reset link's life
REGISTRATION_MATCHES_PER_HOUR = env_int("REGISTRATION_MATCHES_PER_HOUR", 5, minimum=1)
X_FRAME_OPTIONS = "DENY"
# Scripts, styles, fonts and images from this site only, and nothing inline: the templates keep every script and
# style in static/ (django-csp; docs/design.md, Access and audit). Bootstrap's CSS draws its icons from data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# No page needs a device or a sensor (django-permissions-policy).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "serial",
        "hid",
        "bluetooth",
        "screen-wake-lock",
        "xr-spatial-tracking",
    )
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Audit (django-auditlog): the access and change log of patient records.
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Review scheduling policy overrides, by Policy field name (reviews/scheduling.py), e.g.
# REVIEW_POLICY = {"review_interval_months": 6}. Empty: the defaults (docs/design.md, Review scheduling policy).
REVIEW_POLICY: dict = {}

# Celery. Redis in production; kombu's filesystem transport on the embedded default.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):  # kombu's filesystem transport does not create them
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables for broadcasts (worker pings); kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu polls the folder once a second when it finds nothing it may take; with one message taken at a
        # time (prefetch 1, acks late) that delivered about one reminder a second, so the demo's first sweep
        # (some 175 reminders) took three minutes to fill the inboxes. Every 0.1 s: under 20 seconds.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers an unacknowledged message after the visibility timeout. With acks_late a message
        # is only acknowledged once its task has finished, so the timeout must outlast the longest task;
        # one hour is far beyond a sweep, and reminders are claimed in the database so a redelivery is harmless.
        # It must also outlast the longest retry countdown (a worker holds an ETA message unacknowledged):
        # reminder deliveries back off for at most 30 minutes.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
    }
# Reliable delivery (Celery docs, "Should I use retry or acks_late?" and the Redis broker caveats):
# acknowledge after the task ran, so a killed worker's message is delivered again; re-queue it when the
# worker process dies; take one message at a time so a crash strands at most one.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 300, minimum=10)
# A delivery holds its reminder for this long (reviews/reminders/delivery.py): longer than the delivery task's
# time limit and the email timeout, so that the lease only lapses when the worker holding it died.
REMINDER_LEASE_SECONDS = 300
# A claimed reminder still undelivered after this long is presumed lost with its message (broker or worker
# down) and the next sweep enqueues it again; a few sweep intervals, so that a busy queue is not doubled.
REMINDER_REDELIVER_AFTER_SECONDS = 15 * 60
CELERY_BEAT_SCHEDULE = {
    "sweep-review-reminders": {
        "task": "reviews.tasks.sweep_reminders",
        "schedule": float(REMINDER_SWEEP_SECONDS),
        # A sweep left in the queue while the worker was down is dropped: the next one does the same work.
        "options": {"expires": float(REMINDER_SWEEP_SECONDS)},
    },
    "recompute-review-schedules": {
        # The safety net: every open episode recomputed nightly (docs/design.md, Review scheduling policy).
        "task": "reviews.tasks.recompute_schedules",
        "schedule": crontab(hour=2, minute=15),
    },
    "rebuild-owed-counts": {
        # The kept counts move with the date (reviews.dashboards.owed_counts): rebuilt as the day starts, and
        # when many changes have piled up since; a run with nothing to do reads one row.
        "task": "reviews.tasks.rebuild_owed_counts",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 15 * 60},
    },
    "rebuild-kept-figures": {
        # The managers' report figures for the new day (reviews.dashboards.kept_rebuild); right without it.
        "task": "reviews.tasks.rebuild_kept_figures",
        "schedule": crontab(hour=0, minute=5),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
