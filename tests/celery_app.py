"""Celery app the worker tests start (``celery -A tests.celery_app worker``)."""

from __future__ import annotations

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

app = Celery("event_hub_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["event_hub.delivery"], force=True)
