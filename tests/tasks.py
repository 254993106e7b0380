"""A Celery task that emits events, for the task unit-of-work tests."""

from __future__ import annotations

from celery import shared_task

from event_hub import emit
from tests.conftest import ENROLLMENT


@shared_task(name="tests.emit_three")
def emit_three() -> int:
    for _ in range(3):
        emit("edx.course.enrollment.activated", ENROLLMENT)
    return 3
