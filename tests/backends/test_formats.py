"""The tracking-log shapes of the file backend (:mod:`event_hub.backends.formats`)."""

from __future__ import annotations

import datetime

import attrs
import orjson
import pytest

from event_hub import jsonio, wireline
from event_hub.backends.formats import (
    OpenedxSections,
    compact,
    line_renderers,
    openedx,
    renderer,
    sections_renderer,
)
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


def _variants(envelope: Envelope) -> list[Envelope]:
    """Envelopes that differ in every way the two renderings branch on."""
    fields = _fields(envelope)
    bare_context = EventContext(course_id="course-v1:a+b+c", user_id=None)
    full_context = attrs.evolve(
        envelope.context,
        anonymous_user_id="a" * 32,
        course_user_tags={"xblock.partition_service.partition_1": "2"},
        extra={"client_time": "2024-05-01T10:00:00Z", "application": {"version": "1.0"}},
    )
    return [
        envelope,
        Envelope(**{**fields, "event_source": "browser", "name": "play_video"}),
        Envelope(**{**fields, "event_source": "browser", "event": "input_p_2_1=yellow"}),
        Envelope(**{**fields, "event_source": "mobile", "context": full_context}),
        Envelope(**{**fields, "context": bare_context, "page": None, "event": {}}),
        Envelope(**{**fields, "time": datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.UTC)}),
        Envelope(**{**fields, "event": {"big": 2**70, "text": "a\u2028b", "nested": [1, {"x": None}]}}),
    ]


class TestRenderingFromTheWire:
    """A worker renders the decoded wire line, without rebuilding the envelope: the same line either way."""

    @pytest.mark.parametrize(
        ("format", "extra_fields"),
        [("openedx", ()), ("openedx", ("id",)), ("openedx", ("id", "anonymous_user_id")), ("compact", ())],
    )
    def test_same_line_as_from_the_envelope(
        self, envelope: Envelope, format: str, extra_fields: tuple
    ) -> None:
        """Every variant renders to the same bytes decoded, split, or through the envelope."""
        from_envelope = renderer(format, extra_fields)
        from_wire, from_split = line_renderers(format, extra_fields)
        for variant in _variants(envelope):
            line = wireline.encode(variant)
            expected = jsonio.dumps(from_envelope(Envelope.from_wire(jsonio.loads(line))))
            assert jsonio.dumps(from_wire(jsonio.loads(jsonio.dumps(variant.to_wire())))) == expected, variant
            split = wireline.split(line)
            if b'"event_bytes":' not in line:  # the exact path (2**70): decoded whole, as checked above
                assert split is None
                continue
            assert split is not None
            assert jsonio.dumps(from_split(*split)) == expected, variant

    def test_time_in_another_form_is_written_in_the_one_form(self, envelope: Envelope) -> None:
        """A wire ``time`` written elsewhere (``Z``, another zone, no microseconds) is normalised."""
        wire = jsonio.loads(jsonio.dumps(envelope.to_wire()))
        render = line_renderers("openedx")[0]
        for given, written in [
            ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000000+00:00"),
            ("2024-05-01T12:00:00.5+02:00", "2024-05-01T10:00:00.500000+00:00"),
        ]:
            assert render({**wire, "time": given})["time"] == written

    def test_a_line_that_is_not_an_envelope_is_refused(self, envelope: Envelope) -> None:
        """A missing member or an unknown source raises, so the backend sets that event aside."""
        wire = jsonio.loads(jsonio.dumps(envelope.to_wire()))
        render = line_renderers("openedx")[0]
        with pytest.raises(KeyError):
            render({key: value for key, value in wire.items() if key != "session"})
        with pytest.raises(ValueError, match="event_source"):
            render({**wire, "event_source": "fax"})

    def test_a_wire_object_in_another_shape_is_rendered_through_the_envelope(
        self, envelope: Envelope
    ) -> None:
        """Members in another order, or a context without its four first members: the same line as before."""
        wire = jsonio.loads(jsonio.dumps(envelope.to_wire()))
        render = line_renderers("openedx")[0]
        for changed in [
            {"event": wire["event"], **{key: value for key, value in wire.items() if key != "event"}},
            {**wire, "context": {"course_id": "course-v1:a+b+c", "client_time": "2024-05-01T10:00:00Z"}},
        ]:
            expected = jsonio.dumps(openedx(Envelope.from_wire(changed)))
            assert jsonio.dumps(render(changed)) == expected


def _fields(envelope: Envelope) -> dict:
    return attrs.asdict(envelope, recurse=False)


def _split_rendering(line: bytes, extra_fields: tuple = ()) -> bytes:
    """The line the split path writes for ``line`` (decoded whole when it cannot be split)."""
    from_wire, from_split = line_renderers("openedx", extra_fields)
    split = wireline.split(line)
    return jsonio.dumps(from_wire(jsonio.loads(line)) if split is None else from_split(*split))


def _hand_written(members: dict, payload: object) -> bytes:
    """A line led by a true ``event_bytes`` count but holding ``members`` as given (any shape, any order)."""
    event = orjson.dumps(payload)
    head = orjson.dumps(members)
    return b'{"event_bytes":' + str(len(event)).encode() + b"," + head[1:-1] + b',"event":' + event + b"}"


def _head_and_event(line: bytes) -> tuple[dict, object]:
    """The members of a wire line but its count and ``event``, and its ``event``."""
    wire = jsonio.loads(line)
    return {key: value for key, value in wire.items() if key not in ("event_bytes", "event")}, wire["event"]


def _sections(render: OpenedxSections, line: bytes) -> bytes | None:
    parts = wireline.sections(line, render.request)
    return None if parts is None else render(parts)


class TestRenderingFromSections:
    """The file backend copies a tracker's line into its ``openedx`` line: the split path's bytes, exactly."""

    @pytest.mark.parametrize(
        "extra_fields", [(), ("id",), ("anonymous_user_id",), ("id", "anonymous_user_id")]
    )
    def test_same_line_as_the_split_path(self, envelope: Envelope, extra_fields: tuple) -> None:
        """Every variant, in one order then the other: what is kept from a line never leaks into the next."""
        render = OpenedxSections(extra_fields)
        lines = [wireline.encode(variant) for variant in _variants(envelope)]
        lines = [line for line in lines if b'"event_bytes":' in line]  # 2**70: the exact path, never split
        assert len(lines) == len(_variants(envelope)) - 1
        for line in [*lines, *reversed(lines), *lines]:
            assert _sections(render, line) == _split_rendering(line, extra_fields), line

    def test_the_events_of_a_request_share_their_parts(self, envelope: Envelope) -> None:
        """Lines differing only in id, time, context member and payload: each its own line."""
        render = OpenedxSections()
        for n in range(5):
            variant = attrs.evolve(
                envelope,
                id=f"id-{n}",
                time=envelope.time + datetime.timedelta(seconds=n),
                context=attrs.evolve(envelope.context, extra={"client_time": f"2024-05-01T10:00:0{n}Z"}),
                event={"n": n},
            )
            line = wireline.encode(variant)
            assert _sections(render, line) == _split_rendering(line)
            assert orjson.loads(_sections(render, line) or b"{}")["context"]["client_time"].endswith(f"0{n}Z")

    @pytest.mark.parametrize(
        "change",
        [
            pytest.param({"page": {"a": 1, "context": {"b": 2}}}, id="a request member with a context key"),
            pytest.param({"id": {"k": 1, "name": "x"}}, id="an id holding a name key"),
            pytest.param({"id": 'quote"d'}, id="an id with an escaped quote"),
            pytest.param({"id": "line\nbreak"}, id="an id with an escape"),
            pytest.param({"id": "caf\u00e9"}, id="an id not in ASCII"),
            pytest.param({"id": {"a": 1}}, id="an id that is an object"),
            pytest.param({"id": None, "xid": "a"}, id="no id member"),
            pytest.param({"name": {"a": 1, "username": "u"}}, id="a name holding a username key"),
            pytest.param({"time": "2024-05-01T10:00:00Z"}, id="another time form"),
            pytest.param({"time": "2024-05-01T12:00:00.000000+02:00"}, id="another zone, same length"),
            pytest.param({"session": None, "extra": 1}, id="a member more before the context"),
            pytest.param({"context": {"course_id": "c"}}, id="a context without its first members"),
            pytest.param({"context": ["not", "an", "object"]}, id="a context that is not an object"),
        ],
    )
    def test_a_line_in_another_shape_is_left_to_the_split_path(
        self, envelope: Envelope, change: dict
    ) -> None:
        """Where a cut or a copy could be wrong the renderer says so (``None``), amid good lines."""
        good = wireline.encode(envelope)
        members, event = _head_and_event(good)
        if "extra" in change:  # a member after session, before context
            context = members.pop("context")
            members.update(extra=change.pop("extra"), context=context)
        if "xid" in change:  # another first member instead of the id
            del members["id"]
            members = {"xid": change.pop("xid"), **members}
            change.pop("id")
        members.update(change)
        line = _hand_written(members, event)
        assert wireline.split(line) is not None  # the split path takes it (and writes what it writes)
        render = OpenedxSections()
        assert _sections(render, good) == _split_rendering(good)  # a tracker's line is copied
        assert _sections(render, line) is None
        assert _sections(render, good) == _split_rendering(good)
        assert _sections(OpenedxSections(), line) is None  # nothing kept from a good line either

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param(b'"name":"a","name":"b"', id="a duplicated key"),
            pytest.param(b'"name": "play_video"', id="white space"),
            pytest.param(b'"name":"\\u0070lay_video"', id="an escape orjson would not write"),
        ],
    )
    def test_text_orjson_would_not_write_is_left_to_the_split_path(
        self, envelope: Envelope, text: bytes
    ) -> None:
        """The lead or the request's members are copied only when they are what orjson writes for them."""
        good = wireline.encode(envelope)
        name = b'"name":' + orjson.dumps(envelope.name)
        assert good.count(name) == 1
        render = OpenedxSections()
        assert _sections(render, good) == _split_rendering(good)
        odd = good.replace(name, text)
        assert wireline.split(odd) is not None
        assert _sections(render, odd) is None
        username = b'"username":' + orjson.dumps(envelope.username)
        odd_request = good.replace(username, username.replace(b":", b": "))
        assert _sections(render, odd_request) is None

    def test_unknown_source_is_refused_by_the_split_path(self, envelope: Envelope) -> None:
        """An unknown source is not copied: the split path raises for it, as before."""
        line = wireline.encode(envelope).replace(b'"event_source":"mobile"', b'"event_source":"fax"')
        assert _sections(OpenedxSections(), line) is None
        with pytest.raises(ValueError, match="event_source"):
            _split_rendering(line)

    def test_only_the_openedx_format_has_one(self) -> None:
        """The compact format is rendered from the split (it reshapes every member)."""
        assert sections_renderer("compact") is None
        assert isinstance(sections_renderer("openedx", ["id"]), OpenedxSections)


class TestContextsDifferingInTheirLastMember:
    """A request's browser events differ in ``client_time``, their context's last member: the rest is kept."""

    @staticmethod
    def line(envelope: Envelope, context: dict) -> bytes:
        members, event = _head_and_event(wireline.encode(envelope))
        return _hand_written({**members, "context": context}, event)

    @pytest.mark.parametrize(
        "last",
        [
            pytest.param(b'"client_time":"2024-05-01T10:00:09Z"', id="another value"),
            pytest.param(b'"course_id":"course-v1:x+y+z"', id="a key of the rest again"),
            pytest.param(b'"anonymous_user_id":"bbbb"', id="a member the line leaves out, again"),
            pytest.param(b'"course_slug":"x+y"', id="a member the line leaves out"),
            pytest.param(b'"user_id":7', id="one of the first four again"),
            pytest.param(b'"client_time":1,"x":2', id="two members"),
        ],
    )
    def test_each_context_is_rendered_as_the_split_path_renders_it(
        self, envelope: Envelope, last: bytes
    ) -> None:
        """After a context ending in ``client_time``, one differing in its last member(s): its own line."""
        first = {
            "course_id": "course-v1:a+b+c",
            "org_id": "a",
            "path": "/event",
            "user_id": 5,
            "anonymous_user_id": "a" * 32,
            "course_run": "c",
            "client_time": "2024-05-01T10:00:00Z",
        }
        line = self.line(envelope, first)
        member = b'"client_time":"2024-05-01T10:00:00Z"}'
        assert line.count(member) == 1
        lines = [line, line.replace(member, last + b"}")]
        render = OpenedxSections()
        for each in [*lines, *reversed(lines), *lines]:
            assert _sections(render, each) == _split_rendering(each)

    def test_a_last_member_not_written_as_orjson_writes_it(self, envelope: Envelope) -> None:
        """White space in the last member (of the first context or the next) is never copied."""
        context = {"course_id": "c", "org_id": "o", "path": "/p", "user_id": 1, "client_time": "t0"}
        good = self.line(envelope, context)
        spaced = good.replace(b'"client_time":"t0"', b'"client_time": "t1"')
        other = good.replace(b'"client_time":"t0"', b'"client_time":"t2"')
        render = OpenedxSections()
        for line in (spaced, other, good, spaced, other):
            rendered = _sections(render, line)
            assert rendered is None or rendered == _split_rendering(line)
            if line is spaced:
                assert rendered is None or b'"client_time":"t1"' in rendered


def _without_last(members: dict) -> dict:
    *_, last = members
    return {key: value for key, value in members.items() if key != last}
