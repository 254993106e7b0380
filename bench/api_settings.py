"""Django settings of ``bench/api_load.py``: the dev host, plus a bare view, in a temporary folder.

Set by ``api_load.py`` in the environment of the gunicorn process:

* ``BENCH_API_TMP``: the folder (SQLite database, JSON-lines log);
* ``BENCH_API_DATABASE_URL``: another database instead of SQLite (e.g.
  ``postgres://postgres@127.0.0.1:5432/bench``; emptied by ``bench/scaleout.py`` before use);
* ``BENCH_API_DELIVERY``: ``celery`` (publish to ``BENCH_API_BROKER``, default Redis
  127.0.0.1:6379 db 13) or ``sync`` (JSON-lines backend written in the request).
* ``BENCH_API_HANDOFF``: ``spool`` (the default of ``HANDOFF``: the request appends to a spool
  file in ``$BENCH_API_TMP/spool-spool``; a thread publishes every
  ``BENCH_API_SPOOL_FLUSH_SECONDS``, when given, else the default ``SPOOL_FLUSH_SECONDS``, or
  at once when ``BENCH_API_SPOOL_MAX_BATCH_EVENTS``, when given, else the default
  ``SPOOL_MAX_BATCH_EVENTS`` events wait) or
  ``direct`` (the request publishes). Unset: the defaults.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from devsite.settings import *  # noqa: F403 - the dev host, as served
from devsite.settings import INSTALLED_APPS, MIDDLEWARE

BENCH_API_TMP = Path(os.environ["BENCH_API_TMP"])
DELIVERY = os.environ.get("BENCH_API_DELIVERY", "celery")
HANDOFF = os.environ.get("BENCH_API_HANDOFF", "")

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.api_urls"
INSTALLED_APPS = list(INSTALLED_APPS)
MIDDLEWARE = list(MIDDLEWARE)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(BENCH_API_TMP / "db.sqlite3"),
        "CONN_MAX_AGE": None,  # as a deployment would (devsite: 60 s)
    }
}
if os.environ.get("BENCH_API_DATABASE_URL"):
    # Several gunicorn workers share the outbox: SQLite serialises their writes, a server does not.
    DATABASES["default"] = dj_database_url.parse(os.environ["BENCH_API_DATABASE_URL"], conn_max_age=None)
CELERY_BROKER_URL = os.environ.get("BENCH_API_BROKER", "redis://127.0.0.1:6379/13")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

EVENT_HUB = {
    "DELIVERY": DELIVERY,
    "SPOOL_DIR": str(BENCH_API_TMP / f"spool-{HANDOFF or 'default'}"),
    "BACKENDS": {
        "tracking_log": {
            "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
            "OPTIONS": {"path": str(BENCH_API_TMP / "tracking.log")},
        },
    },
    # The load comes from one address: throttle counters run (in the local-memory cache)
    # with rates the benchmark never reaches.
    "API_THROTTLE_RATES": {"anon": "100000000/minute", "user": "100000000/minute"},
    "API_ANONYMOUS_EVENTS": ["play_video"],
}

if HANDOFF:
    EVENT_HUB["HANDOFF"] = HANDOFF
if os.environ.get("BENCH_API_SPOOL_FLUSH_SECONDS"):
    EVENT_HUB["SPOOL_FLUSH_SECONDS"] = float(os.environ["BENCH_API_SPOOL_FLUSH_SECONDS"])
if os.environ.get("BENCH_API_SPOOL_MAX_BATCH_EVENTS"):
    EVENT_HUB["SPOOL_MAX_BATCH_EVENTS"] = int(os.environ["BENCH_API_SPOOL_MAX_BATCH_EVENTS"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
