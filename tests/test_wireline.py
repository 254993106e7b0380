"""The wire line (:mod:`event_hub.wireline`): what a batch carries per event, and its checked split."""

from __future__ import annotations

import attrs
import orjson
import pytest

from event_hub import jsonio, wireline
from event_hub.envelope import Envelope


def _with(envelope: Envelope, **changes: object) -> Envelope:
    return attrs.evolve(envelope, **changes)


class TestEncode:
    def test_decodes_to_the_envelope(self, envelope: Envelope) -> None:
        """Any reader decoding the line gets the envelope back (``event_bytes`` is ignored)."""
        assert Envelope.from_wire(jsonio.loads(wireline.encode(envelope))) == envelope

    def test_is_the_wire_object_led_by_the_payload_length(self, envelope: Envelope) -> None:
        """The decoded line is ``event_bytes`` then ``to_wire()``, whose last member is ``event``."""
        line = wireline.encode(envelope)
        decoded = orjson.loads(line)
        expected = orjson.loads(orjson.dumps(envelope.to_wire()))
        assert list(decoded) == ["event_bytes", *list(expected)]
        assert decoded["event_bytes"] == len(orjson.dumps(envelope.event))
        assert line.endswith(b',"event":' + orjson.dumps(envelope.event) + b"}")
        assert {key: value for key, value in decoded.items() if key != "event_bytes"} == expected

    @pytest.mark.parametrize(
        ("event", "decoded"), [({"n": 2**70}, {"n": 2**70}), ({"answers": {1: "a"}}, {"answers": {"1": "a"}})]
    )
    def test_big_integers_and_integer_keys_are_written_exactly(
        self, envelope: Envelope, event: dict, decoded: dict
    ) -> None:
        """A payload orjson alone refuses (2**70, integer keys) is written by the exact path, never split."""
        line = wireline.encode(_with(envelope, event=event))
        assert jsonio.loads(line)["event"] == decoded
        assert "event_bytes" not in jsonio.loads(line)
        assert wireline.split(line) is None

    def test_what_json_cannot_hold_raises(self, envelope: Envelope) -> None:
        """A payload that is not JSON raises TypeError (the tracker records it as invalid)."""
        with pytest.raises(TypeError):
            wireline.encode(_with(envelope, event={"x": object()}))


class TestSplit:
    def test_head_and_payload(self, envelope: Envelope) -> None:
        """The head is the decoded object without ``event``; the payload is its JSON text as written."""
        line = wireline.encode(envelope)
        split = wireline.split(line)
        assert split is not None
        head, payload = split
        assert head == orjson.loads(
            orjson.dumps({k: v for k, v in envelope.to_wire().items() if k != "event"})
        )
        assert payload == orjson.dumps(envelope.event)

    @pytest.mark.parametrize(
        "event",
        [
            {"text": ',"event_bytes":3,"event":{}}', "nested": {"event_bytes": 1, "event": 2}},
            "a string payload",
            [1, 2, 3],
            {},
            None,
        ],
    )
    def test_any_payload_is_split_exactly(self, envelope: Envelope, event: object) -> None:
        """Payloads that mimic the markers, strings, lists, empty objects and null are split exactly."""
        line = wireline.encode(_with(envelope, event=event))
        split = wireline.split(line)
        assert split is not None
        assert orjson.loads(split[1]) == event

    def test_markers_inside_the_context_do_not_matter(self, envelope: Envelope) -> None:
        """Context members named like the markers are part of the head (the count is read at its place)."""
        context = attrs.evolve(envelope.context, extra={"event_bytes": 2, "event": {"a": 1}})
        split = wireline.split(wireline.encode(_with(envelope, context=context)))
        assert split is not None
        assert (orjson.loads(split[1]), split[0]["context"]["event"]) == (envelope.event, {"a": 1})

    @pytest.mark.parametrize(
        "damage",
        [
            lambda line: orjson.dumps({**orjson.loads(line), "event_bytes": 1}),  # a wrong count
            lambda line: line.replace(b'{"event_bytes":', b'{"event_size":'),  # no count
            lambda line: line.replace(b'{"event_bytes":', b'{"event_bytes":9999'),  # beyond the line
            lambda line: b'{"event_bytes":2,"event":{}}',  # no head at all
            lambda line: line[:-1] + b" }",  # the payload does not end the line
            lambda line: orjson.dumps({k: v for k, v in orjson.loads(line).items() if k != "event_bytes"}),
        ],
    )
    def test_other_lines_are_not_split(self, envelope: Envelope, damage: object) -> None:
        """A line whose count does not lead exactly to the end, or has none, is not split."""
        assert wireline.split(damage(wireline.encode(envelope))) is None  # type: ignore[operator]


class TestSections:
    def test_the_parts_are_the_line(self, envelope: Envelope) -> None:
        """id, lead, request, context and payload put back together are the line without its count."""
        line = wireline.encode(envelope)
        parts = wireline.sections(line)
        assert parts is not None
        id_, lead, request, context, payload = parts
        assert id_ == b'"id":' + orjson.dumps(envelope.id)
        assert lead.startswith(b'"name":')
        assert lead.endswith(orjson.dumps(envelope.to_wire()["time"]))
        assert request.startswith(b',"username":')
        rebuilt = b"".join((b"{", id_, b",", lead, request, b',"context":', context, b',"event":'))
        rebuilt += payload + b"}"
        assert orjson.loads(rebuilt) == {k: v for k, v in orjson.loads(line).items() if k != "event_bytes"}
        assert payload == wireline.split(line)[1]  # type: ignore[index]

    def test_a_known_request_part_gives_the_same_cut(self, envelope: Envelope) -> None:
        """With the request part given (found at its place), the parts are those a search finds."""
        line = wireline.encode(envelope)
        parts = wireline.sections(line)
        assert parts is not None
        assert wireline.sections(line, parts[2]) == parts
        assert wireline.sections(line, b',"username":"someone else"') == parts

    def test_markers_inside_the_context_and_payload_do_not_move_the_cuts(self, envelope: Envelope) -> None:
        """Members named like the markers after the cut points leave the parts whole."""
        context = attrs.evolve(envelope.context, extra={"name": 1, "username": 2, "context": {"event": 3}})
        line = wireline.encode(_with(envelope, context=context, event={"context": 1, "name": 2}))
        parts = wireline.sections(line)
        assert parts is not None
        assert orjson.loads(parts[3])["context"] == {"event": 3}
        assert orjson.loads(parts[4]) == {"context": 1, "name": 2}

    def test_lines_that_cannot_be_split_have_no_parts(self, envelope: Envelope) -> None:
        """No count, or a count that does not lead to the end: no parts (as no split)."""
        line = wireline.encode(envelope)
        assert wireline.sections(line.replace(b'{"event_bytes":', b'{"event_size":')) is None
        assert wireline.sections(line[:-1] + b" }") is None
        assert wireline.sections(b'{"event_bytes":2,"event":{}}') is None

    def test_a_known_request_part_reaching_past_the_head_is_not_used(self, envelope: Envelope) -> None:
        """A count pointing inside the request part: the hint is not taken past the payload's start."""
        line = wireline.encode(_with(envelope, page={"a": 1, "event": {"b": 2}}))
        parts = wireline.sections(line)
        assert parts is not None
        inner = line.index(b',"event":{"b":2}') + len(b',"event":')  # the forged payload's start
        forged = b'{"event_bytes":' + str(len(line) - 1 - inner).encode() + line[line.index(b",") :]
        assert wireline.sections(forged) is None  # no ,"context": before that point
        assert wireline.sections(forged, parts[2]) is None
