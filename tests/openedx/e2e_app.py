"""A Django app for the end-to-end bus test: connects :func:`tests.openedx.e2e_receiver.record`."""

from __future__ import annotations

from django.apps import AppConfig


class E2eReceiverConfig(AppConfig):
    name = "tests.openedx.e2e_app"
    label = "event_hub_e2e_receiver"

    def ready(self) -> None:
        from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED

        from tests.openedx.e2e_receiver import record

        COURSE_ENROLLMENT_CREATED.connect(record, dispatch_uid="tests.openedx.e2e_receiver.record")
