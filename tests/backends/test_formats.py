"""The tracking-log shapes of the file backend (:mod:`event_hub.backends.formats`)."""

from __future__ import annotations

import attrs
import orjson
import pytest

from event_hub.backends.formats import compact, openedx, renderer
from event_hub.envelope import Envelope, EventContext
from tests.catalog.reference import read_common_fields, require_documents
from tests.conftest import COMMON_FIELDS


def _line(rendered: dict) -> dict:
    return orjson.loads(orjson.dumps(rendered))


class TestOpenedxFormat:
    def test_common_fields_match_the_reference(self) -> None:
        """The common-field list the tests use is the one of the tracking-log reference."""
        require_documents()
        root, context = read_common_fields()
        assert root == COMMON_FIELDS
        assert {"course_id", "org_id", "path", "user_id"} <= context

    def test_exactly_the_common_fields(self, envelope: Envelope) -> None:
        """By default a line has exactly the platform's common fields: no ``id``, no anonymous id."""
        line = _line(openedx(envelope))
        assert set(line) == COMMON_FIELDS
        assert "anonymous_user_id" not in line["context"]
        assert {"course_id", "org_id", "path", "user_id"} <= set(line["context"])

    def test_extra_fields_add_the_id_and_the_anonymous_id(self, envelope: Envelope) -> None:
        """``extra_fields`` brings back the event id and the anonymous user id for those who want them."""
        line = _line(renderer("openedx", ["id", "anonymous_user_id"])(envelope))
        assert line["id"] == envelope.id
        assert line["context"]["anonymous_user_id"] == "a" * 32
        assert set(line) == COMMON_FIELDS | {"id"}

    def test_unknown_extra_field_is_refused(self) -> None:
        """Only the two members the platform does not write may be added."""
        with pytest.raises(ValueError, match="extra_fields"):
            renderer("openedx", ["username2"])

    def test_name_session_and_event_are_always_present(self, envelope: Envelope) -> None:
        """Even an event with no session and no payload writes ``name``, ``session`` and ``event``."""
        bare = Envelope(
            id="x",
            name="edx.course.tool.accessed",
            event_type="edx.course.tool.accessed",
            event_source="server",
            time=envelope.time,
            event={},
            context=EventContext(),
        )
        line = _line(openedx(bare))
        assert line["name"] == "edx.course.tool.accessed"
        assert line["session"] == ""
        assert line["event"] == {}

    def test_context_carries_module_and_extra_members(self, envelope: Envelope) -> None:
        """Module and extra context members appear inside ``context``."""
        context = _line(openedx(envelope))["context"]
        assert context["module"]["display_name"] == "Intro"
        assert context["component"] == "videoplayer"

    def test_browser_event_is_a_json_string(self, envelope: Envelope) -> None:
        """A browser event's ``event`` is the payload's JSON text, as the platform's /event view writes it."""
        browser = Envelope(**{**_fields(envelope), "event_source": "browser", "name": "play_video"})
        line = _line(openedx(browser))
        assert isinstance(line["event"], str)
        assert orjson.loads(line["event"]) == envelope.event

    def test_browser_string_payload_is_kept_as_is(self, envelope: Envelope) -> None:
        """A browser payload that already is a string (problem_check's form data) is not quoted again."""
        raw = "input_i4x-x-y-problem-p_2_1=yellow"
        browser = Envelope(**{**_fields(envelope), "event_source": "browser", "event": raw})
        assert _line(openedx(browser))["event"] == raw

    @pytest.mark.parametrize("source", ["server", "mobile"])
    def test_server_and_mobile_events_are_objects(self, envelope: Envelope, source: str) -> None:
        """Server and mobile events keep ``event`` as a JSON object."""
        line = _line(openedx(Envelope(**{**_fields(envelope), "event_source": source})))
        assert line["event"] == envelope.event

    def test_name_and_event_type_differ_for_mobile_video(self, envelope: Envelope) -> None:
        """The dual-named video event keeps the legacy event_type beside the newer name."""
        line = _line(openedx(envelope))
        assert (line["name"], line["event_type"]) == ("edx.video.played", "play_video")


class TestCompactFormat:
    def test_shape_of_the_design_note(self, envelope: Envelope) -> None:
        """The compact rendering has exactly the design note's fields (plus id and source)."""
        rendered = compact(envelope)
        assert set(rendered) == {
            "id",
            "event_type",
            "event_source",
            "anon_username",
            "time",
            "course_slug",
            "course_run",
            "module_id",
            "section_id",
            "unit_id",
            "page_url",
            "event_data",
        }
        assert rendered["course_slug"] == "edX+DemoX"
        assert rendered["course_run"] == "2014"
        assert rendered["unit_id"] == "vert1"
        assert rendered["id"] == envelope.id

    def test_never_carries_personal_data(self, envelope: Envelope) -> None:
        """Even an envelope holding username and IP renders neither in the compact format."""
        text = repr(compact(envelope))
        assert "learner" not in text
        assert "203.0.113.9" not in text

    def test_unknown_format_is_refused(self) -> None:
        """A format name other than openedx and compact is a configuration error."""
        with pytest.raises(ValueError, match="format"):
            renderer("xml")


def _fields(envelope: Envelope) -> dict:
    return attrs.asdict(envelope, recurse=False)
