"""Settings of the end-to-end bus test's processes: the test settings, the bus on ``E2E_BUS_REDIS_URL``.

The producer sends enrollments to topic ``learning``; the consumer runs the receiver app.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.openedx.e2e_app.E2eReceiverConfig"]  # noqa: F405
EVENT_BUS_REDIS_CONNECTION_URL = os.environ["E2E_BUS_REDIS_URL"]
EVENT_BUS_TOPIC_PREFIX = "e2e"
EVENT_BUS_PRODUCER_CONFIG = {
    "org.openedx.learning.course.enrollment.created.v1": {
        "learning": {"event_key_field": "enrollment.course.course_key", "enabled": True}
    }
}
