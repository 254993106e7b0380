"""Pre-roll (bumper) video events."""

from __future__ import annotations

import json

import pytest

import event_hub.catalog.video_bumper  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

#: ``event`` member of the document's ``edx.video.bumper.played`` example.
PLAYED_EVENT = (
    '{"duration": 10, "bumper_id": "http:\\/\\/www.w3schools.com\\/html\\/mov_bbb.webm", "code": "html5", '
    '"currentTime": 0, "host_component_id": "i4x-edX-DemoX_1-video-4e2eeecf597040e3b5e1a27600bc8ddc"}'
)

TIMED = [
    "edx.video.bumper.dismissed",
    "edx.video.bumper.played",
    "edx.video.bumper.skipped",
    "edx.video.bumper.stopped",
    "edx.video.bumper.transcript.hidden",
    "edx.video.bumper.transcript.menu.hidden",
    "edx.video.bumper.transcript.menu.shown",
    "edx.video.bumper.transcript.shown",
]


class TestBumperEvents:
    def test_document_example_validates(self):
        """The ``event`` string of the ``edx.video.bumper.played`` example validates once parsed."""
        data = json.loads(PLAYED_EVENT)
        validated = registry.validate("edx.video.bumper.played", "browser", data)
        assert validated.data is data
        assert validated.name == "edx.video.bumper.played"

    @pytest.mark.parametrize("name", TIMED)
    def test_timed_events_accept_the_full_payload(self, name):
        """Every bumper event except ``loaded`` carries ``currentTime`` with the shared members."""
        data = {
            "bumper_id": "u",
            "code": "html5",
            "currentTime": 3.5,
            "duration": 10,
            "host_component_id": "v",
        }
        assert registry.validate(name, "browser", data).data is data

    def test_loaded_has_no_current_time(self):
        """``edx.video.bumper.loaded`` accepts its four members and refuses ``currentTime``."""
        data = {"bumper_id": "u", "code": "html5", "duration": 10, "host_component_id": "v"}
        assert registry.validate("edx.video.bumper.loaded", "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.video.bumper.loaded", "browser", {**data, "currentTime": 0})
        assert excinfo.value.errors == {"currentTime": ["unknown field"]}

    def test_wrong_code_and_duration_type_name_the_fields(self):
        """A YouTube ``code`` and a fractional ``duration`` are reported under their own paths."""
        data = {
            "bumper_id": "u",
            "code": "iOOYGgLADj8",
            "currentTime": 0,
            "duration": 9.5,
            "host_component_id": "v",
        }
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.video.bumper.skipped", "browser", data)
        assert set(excinfo.value.errors) == {"code", "duration"}

    def test_bumper_events_are_browser_only(self):
        """The mobile apps never play pre-roll videos, so mobile bumper events are refused."""
        with pytest.raises(InvalidEventError):
            registry.validate("edx.video.bumper.played", "mobile", json.loads(PLAYED_EVENT))
