"""Tests of the helpers event_hub offers to other projects' test suites."""

from __future__ import annotations

from event_hub import emit
from event_hub.testing import capture
from tests.conftest import ENROLLMENT


class TestCapture:
    def test_captures_events_emitted_in_the_block(self) -> None:
        """capture() collects events emitted inside it, rendered as in production."""
        with capture() as events:
            emit("edx.course.enrollment.activated", ENROLLMENT)
            assert events.names() == ["edx.course.enrollment.activated"]
        assert events[0]["event"] == ENROLLMENT
        assert events[0]["username"] == ""

    def test_compact_format_and_overrides(self) -> None:
        """capture(format=..., **EVENT_HUB keys) applies them inside the block only."""
        with capture(format="compact", UNREGISTERED_EVENTS="accept") as events:
            emit("my.custom.event", {"x": 1})
        assert events[0]["event_type"] == "my.custom.event"
        assert events[0]["event_data"] == {"x": 1}

    def test_clear(self) -> None:
        """clear() forgets what was captured so far."""
        with capture() as events:
            emit("edx.course.enrollment.activated", ENROLLMENT)
            events.clear()
            assert len(events) == 0
