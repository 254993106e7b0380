"""Django app configuration: system checks, Celery unit-of-work boundaries."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig

from event_hub.plugin import PLUGIN_APP


class EventHubConfig(AppConfig):
    """``event_hub`` app."""

    name = "event_hub"
    verbose_name = "Event hub"
    default_auto_field = "django.db.models.BigAutoField"
    #: Open edX plugin registration, read by edx-django-utils (event_hub/plugin/__init__.py).
    plugin_app = PLUGIN_APP

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from event_hub import (
            catalog,  # noqa: F401 - fills the registry
            checks,  # noqa: F401 - registers the system checks
        )

        _connect_openedx_signals()
        task_prerun.connect(_task_started, dispatch_uid="event_hub.task_prerun")
        task_postrun.connect(_task_finished, dispatch_uid="event_hub.task_postrun")


def _connect_openedx_signals() -> None:
    """The bridge receives every Open edX signal; without the ``openedx_events`` app, so does the producer.

    Nothing to connect where openedx-events is not installed (the ``openedx`` extra): a site that
    only writes the tracking log does without it.
    """
    import importlib.util

    from django.apps import apps

    if importlib.util.find_spec("openedx_events") is None:
        return

    from event_hub.openedx import bridge, producer
    from event_hub.openedx.signals import all_signals

    bridge.connect()
    if not apps.is_installed("openedx_events"):
        for signal in all_signals():
            uid = f"event_hub.openedx.producer:{signal.event_type}"
            signal.connect(producer.forward_to_bus, dispatch_uid=uid)


#: Open units of work of running Celery tasks, by task id.
_task_units: dict[str, Any] = {}

#: Our own tasks do not emit events, so they get no unit of work.
_OWN_TASKS = frozenset({"event_hub.deliver_batch", "event_hub.republish_outbox"})


def _task_started(sender: Any = None, task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """Events a Celery task emits carry source ``task`` and go out as one batch when it ends."""
    if task is None or task_id is None or getattr(task, "name", None) in _OWN_TASKS:
        return
    from event_hub import context
    from event_hub.delivery import unit_of_work

    frame = context.push("task", {"task_name": task.name}, source="task")
    frame.__enter__()
    work, token = unit_of_work.begin()
    _task_units[task_id] = (frame, work, token)


def _task_finished(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    if task_id is None:
        return
    entry = _task_units.pop(task_id, None)
    if entry is None:
        return
    from event_hub.delivery import unit_of_work

    frame, work, token = entry
    try:
        unit_of_work.end(work, token)
    finally:
        frame.__exit__(None, None, None)
