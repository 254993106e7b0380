"""Settings of the development host.

Embedded defaults need no server: SQLite in ``var/db.sqlite3`` and Celery's
filesystem transport in ``var/broker/``. Environment variables switch to real
services:

* ``DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/test``)
* ``CELERY_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0`` or ``amqp://guest:guest@127.0.0.1:5672//``)
* ``EVENT_HUB_LOG`` (default ``var/log/tracking.log``)
* ``EVENT_HUB_SEGMENT`` (``0`` disables the Segment backend), ``EVENT_HUB_SEGMENT_HOST`` (default the
  local sink ``http://127.0.0.1:8765``), ``EVENT_HUB_SEGMENT_WRITE_KEY`` (default ``dev-write-key``)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EVENT_HUB_VAR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from static files, not a CDN
    "event_hub",
    "devsite",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "event_hub.middleware.EventHubMiddleware",
]

ROOT_URLCONF = "devsite.urls"
WSGI_APPLICATION = "devsite.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}", conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
    )
}

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "event_hub tracking API",
    "VERSION": "1",
    "DESCRIPTION": "POST /api/tracking: events from browsers and mobile apps, one at a time or in batches. "
    "Schema at /api/schema/, docs UI at /api/docs/; the guide for client developers is docs/api.rst.",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs pages load Swagger UI and Redoc from drf-spectacular-sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery: filesystem transport unless CELERY_BROKER_URL says otherwise ---------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
# Keep the worker's database connection between tasks (Celery closes it around every task otherwise;
# each delivery task confirms its batch in the outbox). See docs/scaling.rst.
CELERY_DB_REUSE_MAX = 1000
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep reconnecting to a restarted broker for as long as it takes (scripts/run also restarts a worker
# that exits).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE = {
    "event-hub-republish-outbox": {"task": "event_hub.republish_outbox", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- event_hub ----------------------------------------------------------------------------------------
EVENT_HUB = {
    "BACKENDS": {
        "tracking_log": {
            "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
            "OPTIONS": {"path": os.environ.get("EVENT_HUB_LOG", str(VAR_DIR / "log" / "tracking.log"))},
        },
        # Segment, here the local sink ./scripts/run starts (manage.py event_hub_segment_sink);
        # point EVENT_HUB_SEGMENT_HOST and EVENT_HUB_SEGMENT_WRITE_KEY at Segment to send there.
        "segment": {
            "ENGINE": "event_hub.backends.segment.SegmentBackend",
            "OPTIONS": {
                "write_key": os.environ.get("EVENT_HUB_SEGMENT_WRITE_KEY", "dev-write-key"),
                "host": os.environ.get("EVENT_HUB_SEGMENT_HOST", "http://127.0.0.1:8765"),
            },
            "ENABLED": os.environ.get("EVENT_HUB_SEGMENT", "1") == "1",
        },
    },
    # Secret of the Segment webhook for mobile apps: POST /segmentio/event?key=<secret> (docs/segment.rst).
    "SEGMENT_WEBHOOK_SECRET": os.environ.get("EVENT_HUB_SEGMENT_WEBHOOK_SECRET", "dev-webhook-secret"),
    # The design note's client event may be posted without signing in (curl against the dev
    # host); every other event type needs a session (with CSRF) or a token (docs/api.rst).
    "API_ANONYMOUS_EVENTS": ["video"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "event_hub": {"handlers": ["console"], "level": os.environ.get("EVENT_HUB_LOG_LEVEL", "INFO")}
    },
}
