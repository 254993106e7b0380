"""Settings of the test suite.

* Database: ``DATABASE_URL`` if set; PostgreSQL on 127.0.0.1:5432 when ``CI=true``;
  SQLite (a file, so worker subprocesses can share it) otherwise.
* Broker for the worker tests: ``CELERY_BROKER_URL`` if set; Redis on 127.0.0.1:6379
  when ``CI=true`` or when it answers; otherwise the worker tests skip (and fail under CI).
* ``EVENT_HUB_TEST_CONFIG`` (JSON) replaces ``EVENT_HUB``: the worker tests pass their
  configuration to the worker process this way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"
TEST_VAR = Path(os.environ.get("EVENT_HUB_TEST_VAR", BASE_DIR / "var" / "test"))
TEST_VAR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = "tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "event_hub",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "event_hub.middleware.EventHubMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
elif CI:
    DATABASES = {"default": dj_database_url.parse("postgres://postgres@127.0.0.1:5432/test")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(TEST_VAR / "db.sqlite3"),
            "TEST": {"NAME": str(TEST_VAR / "test-db.sqlite3")},
        }
    }
# A worker subprocess is told the name of the test database the suite created.
if os.environ.get("EVENT_HUB_TEST_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["EVENT_HUB_TEST_DB_NAME"]

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_TRANSPORT_OPTIONS = json.loads(
    os.environ.get("EVENT_HUB_TEST_TRANSPORT_OPTIONS", '{"visibility_timeout": 3600}')
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

EVENT_HUB = (
    json.loads(os.environ["EVENT_HUB_TEST_CONFIG"])
    if os.environ.get("EVENT_HUB_TEST_CONFIG")
    else {
        "DELIVERY": "sync",
        "BACKENDS": {"memory": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}},
    }
)
