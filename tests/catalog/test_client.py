"""Client events posted by front-end components."""

from __future__ import annotations

import pytest

import event_hub.catalog.client  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError


class TestVideoEvent:
    @pytest.mark.parametrize("source", ["browser", "mobile"])
    def test_valid_payload(self, source):
        """A ``video`` event from the browser or a mobile app validates and is returned unchanged."""
        data = {"video_id": "dQw4w9WgXcQ", "video_event_type": "pause"}
        validated = registry.validate("video", source, data)
        assert validated.data is data
        assert validated.spec.audience == "client"

    def test_server_source_is_rejected(self):
        """The server may not emit a client ``video`` event."""
        with pytest.raises(InvalidEventError):
            registry.validate("video", "server", {"video_id": "v", "video_event_type": "play"})

    def test_missing_video_event_type_names_the_field(self):
        """Leaving out ``video_event_type`` is reported under its path."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("video", "browser", {"video_id": "v"})
        assert excinfo.value.errors == {"video_event_type": ["this field is required"]}

    @pytest.mark.parametrize("value", ["", "   "])
    def test_blank_video_event_type_is_reported_on_its_path(self, value):
        """The attrs validator's refusal of a blank ``video_event_type`` lands on that field's path."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("video", "browser", {"video_id": "v", "video_event_type": value})
        assert excinfo.value.errors == {"video_event_type": ["expected a non-empty string"]}

    def test_unknown_member_is_rejected(self):
        """Members other than ``video_id`` and ``video_event_type`` are errors."""
        with pytest.raises(InvalidEventError):
            registry.validate("video", "browser", {"video_id": "v", "video_event_type": "play", "node_id": 3})
