"""The bridge: received signals become tracking events (and the platform's legacy ones)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from openedx_events.analytics.data import TrackingLogData
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.learning.signals import (
    CERTIFICATE_CREATED,
    COHORT_MEMBERSHIP_CHANGED,
    COURSE_ENROLLMENT_CREATED,
    COURSE_UNENROLLMENT_COMPLETED,
    FORUM_RESPONSE_COMMENT_CREATED,
    FORUM_THREAD_CREATED,
    FORUM_THREAD_RESPONSE_CREATED,
)

from event_hub.openedx import codec, samples, signals
from event_hub.openedx.bridge import EVENT_CONTEXT, FROM_BUS_MARKER
from tests.conftest import delivered

pytestmark = pytest.mark.django_db

LEGACY = [
    (COURSE_ENROLLMENT_CREATED, "edx.course.enrollment.activated"),
    (COURSE_UNENROLLMENT_COMPLETED, "edx.course.enrollment.deactivated"),
    (CERTIFICATE_CREATED, "edx.certificate.created"),
    (COHORT_MEMBERSHIP_CHANGED, "edx.cohort.user_added"),
    (FORUM_THREAD_CREATED, "edx.forum.thread.created"),
    (FORUM_THREAD_RESPONSE_CREATED, "edx.forum.response.created"),
    (FORUM_RESPONSE_COMMENT_CREATED, "edx.forum.comment.created"),
]


class TestBridge:
    def test_enabled_signal_becomes_a_tracking_event(self, memory_hub: Callable[..., None]) -> None:
        """A bridged signal becomes an event named by its event type, data as JSON, metadata in context."""
        memory_hub(
            OPENEDX_BRIDGE_SIGNALS=[COURSE_ENROLLMENT_CREATED.event_type], OPENEDX_BRIDGE_LEGACY_EVENTS=False
        )
        data = samples.sample_data(COURSE_ENROLLMENT_CREATED)
        responses = signals.send_signal(COURSE_ENROLLMENT_CREATED.event_type, **data)
        assert all(not isinstance(response, BaseException) for _, response in responses)
        (event,) = delivered()
        assert event["name"] == COURSE_ENROLLMENT_CREATED.event_type
        assert event["event"] == codec.jsonable(data)
        assert event["context"][EVENT_CONTEXT]["event_type"] == COURSE_ENROLLMENT_CREATED.event_type
        assert event["context"]["course_id"] == str(data["enrollment"].course.course_key)

    def test_signals_not_enabled_are_not_bridged(self, memory_hub: Callable[..., None]) -> None:
        """Only the event types listed in OPENEDX_BRIDGE_SIGNALS are bridged."""
        memory_hub(OPENEDX_BRIDGE_SIGNALS=[CERTIFICATE_CREATED.event_type])
        signals.send_signal(
            COURSE_ENROLLMENT_CREATED.event_type, **samples.sample_data(COURSE_ENROLLMENT_CREATED)
        )
        assert delivered() == []

    def test_star_bridges_every_signal(self, memory_hub: Callable[..., None]) -> None:
        """["*"] bridges all 75 signals (TRACKING_EVENT_EMITTED sent locally excepted: it is one already)."""
        memory_hub(OPENEDX_BRIDGE_SIGNALS=["*"], OPENEDX_BRIDGE_LEGACY_EVENTS=False)
        every = signals.all_signals()
        for signal in every:
            signals.send_signal(signal.event_type, **samples.sample_data(signal))
        names = sorted(event["name"] for event in delivered())
        assert names == sorted(s.event_type for s in every if s is not TRACKING_EVENT_EMITTED)

    @pytest.mark.parametrize(("signal", "legacy"), LEGACY, ids=[name for _, name in LEGACY])
    def test_legacy_event_is_emitted(self, memory_hub: Callable[..., None], signal: Any, legacy: str) -> None:
        """Where the platform writes a tracking-log event for the same action, the bridge emits it too."""
        memory_hub(OPENEDX_BRIDGE_SIGNALS=[signal.event_type])
        data = samples.sample_data(signal)
        if signal is not FORUM_THREAD_CREATED and "thread" in data:
            data["thread"] = attrs.evolve(data["thread"], discussion={"id": "t-1", "response_id": "r-1"})
        signals.send_signal(signal.event_type, **data)
        events = {event["name"]: event for event in delivered()}
        assert set(events) == {signal.event_type, legacy}
        payload = events[legacy]["event"]
        assert payload["user_id"] if "user_id" in payload else payload["id"]
        if legacy == "edx.forum.comment.created":
            assert payload["discussion"] == {"id": "t-1"}
            assert payload["response"] == {"id": "r-1"}


class TestRemoteTrackingEvents:
    def test_tracking_event_from_the_bus_is_delivered_here_and_not_republished(
        self, bus_hub: Callable[..., Any], bus_redis: Any
    ) -> None:
        """A TRACKING_EVENT_EMITTED from the bus reaches our backends under its name, never the bus."""
        bus_hub(
            OPENEDX_BRIDGE_SIGNALS=[TRACKING_EVENT_EMITTED.event_type],
            bus_options={"tracking_names": ["*"]},
        )
        log = TrackingLogData(
            name="edx.video.played",
            timestamp=samples.MOMENT,
            data='{"id": "v1", "currentTime": 0}',
            context='{"course_id": "course-v1:edX+DemoX+2024", "path": "/x"}',
        )
        metadata = TRACKING_EVENT_EMITTED.generate_signal_metadata()
        TRACKING_EVENT_EMITTED.send_event_with_custom_metadata(metadata, tracking_log=log)
        (event,) = delivered()
        assert event["name"] == "edx.video.played"
        assert event["event"] == {"id": "v1", "currentTime": 0}
        assert event["context"]["course_id"] == "course-v1:edX+DemoX+2024"
        assert event["context"][FROM_BUS_MARKER] is True
        assert bus_redis.keys("*") == []
