"""Celery app of the benchmarks (``celery -A bench.celery_app worker`` in bench/worker.py).

Configured from ``bench.settings`` (``CELERY_*``): Redis on 127.0.0.1:6379 db 14 unless
``BENCH_BROKER_URL`` says otherwise. Registers event_hub's delivery tasks and
event-tracking's ``send_event``.
"""

from __future__ import annotations

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

app = Celery("event_hub_bench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["event_hub.delivery"], force=True)
app.set_default()
