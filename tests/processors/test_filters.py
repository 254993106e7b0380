"""Tests of the name and source filters."""

from __future__ import annotations

import datetime

import attrs
import pytest

from event_hub.envelope import Envelope, EventContext
from event_hub.exceptions import DropEvent
from event_hub.processors.filters import EventNameFilter, EventSourceFilter


def envelope(name: str, event_type: str | None = None, source: str = "server") -> Envelope:
    return Envelope(
        id="1",
        name=name,
        event_type=event_type or name,
        event_source=source,
        time=datetime.datetime.now(datetime.UTC),
        event={},
        context=EventContext(),
    )


class TestEventNameFilter:
    def test_deny_pattern_drops(self) -> None:
        """A name matching a deny pattern is dropped."""
        with pytest.raises(DropEvent):
            EventNameFilter(deny=["edx.video.*"])(envelope("edx.video.played"))

    def test_allow_list_keeps_only_matches(self) -> None:
        """With an allow list, other names are dropped and matches pass unchanged."""
        keep = EventNameFilter(allow=["edx.course.enrollment.*", "problem_check"])
        event = envelope("problem_check")
        assert keep(event) is event
        with pytest.raises(DropEvent):
            keep(envelope("seq_next"))

    def test_deny_wins_over_allow(self) -> None:
        """A name both allowed and denied is dropped."""
        with pytest.raises(DropEvent):
            EventNameFilter(allow=["edx.*"], deny=["edx.bi.*"])(envelope("edx.bi.user.consent_form.shown"))

    def test_event_type_also_matches(self) -> None:
        """Mobile video events are matched by their legacy event_type too."""
        with pytest.raises(DropEvent):
            EventNameFilter(deny=["play_video"])(envelope("edx.video.played", "play_video", "mobile"))

    def test_pattern_is_anchored(self) -> None:
        """'seq_*' does not match a name that merely contains it."""
        event = envelope("edx.seq_next_extra")
        assert EventNameFilter(deny=["seq_*"])(event) is event


class TestEventSourceFilter:
    def test_keeps_listed_sources(self) -> None:
        """Only events from the listed sources pass."""
        only_browser = EventSourceFilter(sources=["browser"])
        event = envelope("page_close", source="browser")
        assert only_browser(event) is event
        with pytest.raises(DropEvent):
            only_browser(attrs.evolve(event, event_source="server"))
