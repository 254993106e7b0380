"""Development host project: serves /api/tracking and the demo page, runs the Celery worker."""

from devsite.celery import app as celery_app

__all__ = ["celery_app"]
