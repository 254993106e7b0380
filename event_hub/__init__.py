"""event_hub: capture every learning event once, deliver it everywhere it must go.

Public API::

    from event_hub import track, emit, tracker, DropEvent

    track("edx.course.enrollment.activated", user=request.user,
          data={"course_id": str(course_key), "mode": "audit", "user_id": request.user.id})

    with tracker.context("grading", course_id="course-v1:edX+DemoX+2024"):
        emit("edx.grades.problem.submitted", {...})

``event_hub.tracker`` is the tracker module: ``tracker.track``, ``tracker.emit``,
``tracker.send`` and ``tracker.context`` act on the process-wide
:class:`~event_hub.tracker.Tracker`. Names are imported lazily so that
``import event_hub`` works before Django's app registry is ready (settings
files, Celery app modules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from event_hub.exceptions import (
    ConfigurationError,
    DeliveryError,
    DropEvent,
    EventHubError,
    InvalidEventError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    UnknownEventError,
)

if TYPE_CHECKING:
    from event_hub import tracker
    from event_hub.delivery.unit_of_work import unit_of_work
    from event_hub.envelope import Envelope
    from event_hub.tracker import Tracker, emit, track

__version__ = "0.1.0"

_LAZY = {
    "Envelope": "event_hub.envelope",
    "Tracker": "event_hub.tracker",
    "emit": "event_hub.tracker",
    "track": "event_hub.tracker",
    "unit_of_work": "event_hub.delivery.unit_of_work",
}


def __getattr__(name: str) -> Any:
    if name == "tracker":
        import importlib

        return importlib.import_module("event_hub.tracker")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'event_hub' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigurationError",
    "DeliveryError",
    "DropEvent",
    "Envelope",
    "EventHubError",
    "InvalidEventError",
    "PermanentDeliveryError",
    "RetryableDeliveryError",
    "Tracker",
    "UnknownEventError",
    "emit",
    "track",
    "tracker",
    "unit_of_work",
]
