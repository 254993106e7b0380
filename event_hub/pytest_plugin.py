"""pytest plugin for projects that install event_hub: the ``event_hub_events`` fixture.

Installed with the package (entry point ``pytest11``), so a host project's tests can
ask for it without a conftest::

    def test_enrolling_emits_an_event(client, event_hub_events):
        client.post("/enroll/", {"course_id": "course-v1:edX+DemoX+2024"})
        assert event_hub_events.names() == ["edx.course.enrollment.activated"]

The fixture is :func:`event_hub.testing.capture` around the whole test: every event
the test emits is delivered in-process to memory (no broker, no worker), through the
same validation, processors and privacy as in production. A test that needs other
options (``pii=True``, a ``format``) uses ``capture`` itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def event_hub_events() -> Iterator[Any]:
    """The events the test emits (an :class:`event_hub.testing.Captured`), delivered to memory only."""
    # pytest imports plugins before Django is set up; event_hub.testing needs the app registry,
    # so it is imported when a test asks for the fixture.
    testing = importlib.import_module("event_hub.testing")
    with testing.capture() as events:
        yield events
