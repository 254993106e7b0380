"""The Google Analytics fields Open edX adds to the events of its Segment route."""

from __future__ import annotations

import datetime

import pytest

from event_hub.envelope import Envelope, EventContext
from event_hub.processors.google_analytics import GoogleAnalytics


def envelope(course_id: str, event: object) -> Envelope:
    return Envelope(
        id="e1",
        name="test.event",
        event_type="test.event",
        event_source="server",
        time=datetime.datetime(2024, 5, 6, tzinfo=datetime.UTC),
        event=event,
        context=EventContext(course_id=course_id),
    )


class TestGoogleAnalytics:
    @pytest.mark.parametrize("course_id", ["course-v1:edX+DemoX+2024", "edX/DemoX/2014_T1"])
    def test_course_run_gives_label_and_courserun_key(self, course_id: str) -> None:
        """A course run in the context becomes label and courserun_key; nonInteraction is 1."""
        processed = GoogleAnalytics()(envelope(course_id, {"a": 1}))
        assert processed.event == {
            "a": 1,
            "label": course_id,
            "courserun_key": course_id,
            "nonInteraction": 1,
        }

    def test_library_key_is_a_label_but_no_courserun_key(self) -> None:
        """A content library id is kept as label, never as courserun_key."""
        processed = GoogleAnalytics()(envelope("library-v1:edX+Lib", {}))
        assert processed.event == {"label": "library-v1:edX+Lib", "nonInteraction": 1}

    def test_no_course_only_noninteraction(self) -> None:
        """Without a course only nonInteraction is added."""
        assert GoogleAnalytics()(envelope("", {})).event == {"nonInteraction": 1}

    def test_payload_members_are_never_replaced(self) -> None:
        """A payload that has its own label (the enterprise enrollment event) keeps it."""
        processed = GoogleAnalytics()(
            envelope("course-v1:edX+DemoX+2024", {"label": "mine", "nonInteraction": 0})
        )
        assert processed.event["label"] == "mine"
        assert processed.event["nonInteraction"] == 0

    def test_string_payload_is_left_alone(self) -> None:
        """A payload that is not an object is not touched."""
        original = envelope("course-v1:edX+DemoX+2024", "input_1=a")
        assert GoogleAnalytics()(original) is original
