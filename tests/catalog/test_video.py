"""Video interaction events, including the mobile app's newer names and extra context."""

from __future__ import annotations

import json

import attrs
import pytest

import event_hub.catalog.video  # noqa: F401
from event_hub.catalog import registry
from event_hub.catalog.validation import check_payload
from event_hub.catalog.video import MobileVideoContext
from event_hub.exceptions import InvalidEventError

#: ``event`` members of the document's browser ``play_video`` and mobile ``edx.video.played`` examples.
BROWSER_PLAY_EVENT = (
    '{"id":"i4x-BerkeleyX-Stat_2_1x-video-58424ad2f75048798b4480aa699cc215","currentTime":243,'
    '"code":"iOOYGgLADj8"}'
)
MOBILE_PLAY_EVENT = (
    '{"code": "mobile", "id": "i4x-edX-DemoX-video-0b9e39477cf34507a7a48f74be381fdd", "currentTime": 114}'
)
#: Extra ``context`` members of the mobile example (its trailing comma removed).
MOBILE_CONTEXT = {
    "component": "videoplayer",
    "received_at": "2014-12-09T03:57:56.373000+00:00",
    "application": {"name": "edx.mobileapp.android", "version": "0.1.8"},
    "client": {
        "network": {"wifi": False, "carrier": "Android", "cellular": True, "bluetooth": False},
        "locale": "en-US",
        "os": {"version": "4.0.2", "name": "REL", "sdk": 14},
    },
}

DUAL_NAMES = {
    "hide_transcript": "edx.video.transcript.hidden",
    "load_video": "edx.video.loaded",
    "pause_video": "edx.video.paused",
    "play_video": "edx.video.played",
    "seek_video": "edx.video.position.changed",
    "show_transcript": "edx.video.transcript.shown",
    "stop_video": "edx.video.stopped",
}


class TestVideoEvents:
    def test_document_examples_validate(self):
        """The ``event`` strings of the browser and mobile ``play_video`` examples validate once parsed."""
        browser = json.loads(BROWSER_PLAY_EVENT)
        assert registry.validate("play_video", "browser", browser).data is browser
        mobile = json.loads(MOBILE_PLAY_EVENT)
        validated = registry.validate("edx.video.played", "mobile", mobile)
        assert validated.data is mobile
        assert (validated.event_type, validated.name) == ("play_video", "edx.video.played")

    @pytest.mark.parametrize(("legacy", "newer"), sorted(DUAL_NAMES.items()))
    def test_newer_names_resolve_to_the_legacy_event_type(self, legacy, newer):
        """Each mobile name maps to its legacy ``event_type``; browser events keep the legacy name."""
        spec = registry.lookup(newer, "mobile")
        assert spec is registry.lookup(legacy, "browser")
        assert (spec.name, spec.name_for("mobile"), spec.name_for("browser")) == (legacy, newer, legacy)

    def test_mobile_context_example_structures(self):
        """The mobile example's extra ``context`` members match the mobile video context class."""
        assert check_payload(MobileVideoContext, MOBILE_CONTEXT, forbid_extra_keys=False) is MOBILE_CONTEXT

    @pytest.mark.parametrize("received_at", ["2014-12-09T03:57:56.373000+00:00", 1418097476.373])
    def test_received_at_is_a_timestamp_string_or_a_number(self, received_at):
        """``received_at`` is a float in the reference's table and an ISO string in its example."""
        context = {**MOBILE_CONTEXT, "received_at": received_at}
        assert check_payload(MobileVideoContext, context, forbid_extra_keys=False) is context
        assert registry.lookup("play_video", "mobile").context is MobileVideoContext

    def test_seek_payload_is_valid(self):
        """A mobile skip-back ``seek_video`` with ``requested_skip_interval`` validates."""
        data = {
            "code": "mobile",
            "id": "abc",
            "new_time": 84,
            "old_time": 114,
            "requested_skip_interval": -30,
            "type": "onSkipSeek",
        }
        assert registry.validate("edx.video.position.changed", "mobile", data).data is data

    def test_unknown_seek_type_names_the_field(self):
        """A ``type`` outside the documented seek methods is reported under ``type``."""
        data = {"code": "html5", "id": "abc", "new_time": 1, "old_time": 2, "type": "onDrag"}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("seek_video", "browser", data)
        assert list(excinfo.value.errors) == ["type"]

    def test_current_time_must_be_a_number(self):
        """``currentTime`` sent as a string, and a missing ``id``, are each reported by path."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("pause_video", "browser", {"code": "html5", "currentTime": "12.5"})
        assert set(excinfo.value.errors) == {"currentTime", "id"}
        assert excinfo.value.errors["id"] == ["this field is required"]

    def test_cc_menu_and_speed_events_are_browser_only(self):
        """``video_show_cc_menu`` and ``speed_change_video`` validate from the browser, not from mobile."""
        assert registry.validate("video_show_cc_menu", "browser", {"code": "html5", "id": "v"})
        speed = {"current_time": 30, "new_speed": 1.5, "old_speed": 1}
        assert registry.validate("speed_change_video", "browser", speed).data is speed
        with pytest.raises(InvalidEventError):
            registry.validate("speed_change_video", "mobile", speed)

    def test_no_member_holds_personal_data(self):
        """None of the video payload fields is flagged as PII."""
        for name in [*DUAL_NAMES, "speed_change_video", "video_hide_cc_menu"]:
            payload = registry.lookup(name, "browser").payload
            assert not any(f.metadata["pii"] for f in attrs.fields(payload))
