"""Standalone Django settings of the benchmarks (``DJANGO_SETTINGS_MODULE=bench.settings``).

Everything the benchmarks write lives in one temporary folder:

* ``BENCH_TMP``: the folder (created, and removed at exit, by :mod:`bench._common`
  when it is not given; a worker subprocess is told the parent's folder).
* SQLite database ``$BENCH_TMP/bench.sqlite3``, or the server database of
  ``BENCH_DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/event_hub_bench``; the
  worker benchmark empties its outbox first). With ``DELIVERY="celery"`` every published
  message writes an outbox row and every delivered one deletes it; connections are kept
  open (``CONN_MAX_AGE=None``), as a deployment with persistent connections does, and a
  Celery worker keeps its connection between tasks (``CELERY_DB_REUSE_MAX = 1000``, as
  docs/quickstart.rst recommends; ``BENCH_DB_REUSE_MAX=none`` leaves it unset).
* Broker: ``BENCH_BROKER_URL``, default Redis on 127.0.0.1:6379 db 14 (only the
  hand-off and worker benchmarks publish).
* ``EVENT_HUB``: ``BENCH_EVENT_HUB`` (JSON) when set (the worker subprocess gets
  its configuration this way); each benchmark otherwise switches it with
  ``override_settings``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

BENCH_TMP = Path(os.environ.get("BENCH_TMP") or tempfile.mkdtemp(prefix="event_hub_bench_"))
os.environ["BENCH_TMP"] = str(BENCH_TMP)

SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "event_hub",
]
MIDDLEWARE = ["event_hub.middleware.EventHubMiddleware"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(BENCH_TMP / "bench.sqlite3"),
        "CONN_MAX_AGE": None,
    }
}
if os.environ.get("BENCH_DATABASE_URL"):
    import dj_database_url

    DATABASES["default"] = dj_database_url.parse(os.environ["BENCH_DATABASE_URL"], conn_max_age=None)

CELERY_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# As docs/quickstart.rst recommends and system check event_hub.W004 asks: a worker keeps its database
# connection across tasks (Celery closes it around every task otherwise). BENCH_DB_REUSE_MAX=none
# measures Celery's default instead.
_DB_REUSE_MAX = os.environ.get("BENCH_DB_REUSE_MAX", "1000")
if _DB_REUSE_MAX.lower() != "none":
    CELERY_DB_REUSE_MAX = int(_DB_REUSE_MAX)

EVENT_HUB = (
    json.loads(os.environ["BENCH_EVENT_HUB"])
    if os.environ.get("BENCH_EVENT_HUB")
    else {
        "DELIVERY": "sync",
        "BACKENDS": {
            "tracking_log": {
                "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
                "OPTIONS": {"path": str(BENCH_TMP / "tracking.log")},
            },
        },
    }
)

# event-tracking is configured by each benchmark (bench/_common.py); nothing global here.
EVENT_TRACKING_ENABLED = False

LOGGING_CONFIG = None  # the benchmarks configure the few loggers they use themselves
