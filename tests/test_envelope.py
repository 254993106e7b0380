"""Tests of the envelope, its wire form and event ids."""

from __future__ import annotations

import datetime
import multiprocessing
import re
import time
import uuid

import attrs
import orjson
import pytest

from event_hub.envelope import WIRE_MEMBERS, Envelope, EventContext, checked_source, format_time, new_event_id


class TestTimeFormat:
    def test_microseconds_are_always_written(self) -> None:
        """A time with zero microseconds still renders six digits and a +00:00 offset."""
        moment = datetime.datetime(2014, 3, 3, 16, 19, 5, tzinfo=datetime.UTC)
        assert format_time(moment) == "2014-03-03T16:19:05.000000+00:00"

    def test_other_zones_are_converted_to_utc(self) -> None:
        """A time in another zone is written as the same instant in UTC."""
        zone = datetime.timezone(datetime.timedelta(hours=2))
        moment = datetime.datetime(2014, 3, 3, 18, 0, 0, 584523, tzinfo=zone)
        assert format_time(moment) == "2014-03-03T16:00:00.584523+00:00"

    def test_naive_times_are_taken_as_utc(self) -> None:
        """A naive datetime is read as UTC rather than local time."""
        assert format_time(datetime.datetime(2020, 1, 2, 3, 4, 5, 6)) == "2020-01-02T03:04:05.000006+00:00"

    @pytest.mark.parametrize("microsecond", [0, 1, 584523])
    def test_serialized_time_has_the_documented_shape(self, envelope: Envelope, microsecond: int) -> None:
        """Whatever the microseconds, the wire line carries YYYY-MM-DDThh:mm:ss.ffffff+00:00."""
        moment = envelope.time.replace(microsecond=microsecond)
        line = orjson.loads(orjson.dumps(attrs.evolve(envelope, time=moment).to_wire()))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", line["time"])
        assert line["time"].endswith(f".{microsecond:06d}+00:00")


class TestWire:
    def test_round_trip_keeps_every_field(self, envelope: Envelope) -> None:
        """An envelope written with to_wire and read back with from_wire is equal to the original."""
        back = Envelope.from_wire(orjson.loads(orjson.dumps(envelope.to_wire())))
        assert back == envelope
        assert back.context.extra == {"component": "videoplayer"}
        assert back.time.tzinfo is not None

    def test_wire_members_are_those_of_to_wire_in_order(self, envelope: Envelope) -> None:
        """WIRE_MEMBERS, which the backends read lines by, is exactly what to_wire writes, in order."""
        assert tuple(envelope.to_wire()) == WIRE_MEMBERS

    def test_checked_source_refuses_as_an_envelope_does(self, envelope: Envelope) -> None:
        """An unknown source gives the same ValueError from checked_source as from reading a wire line."""
        assert checked_source("browser") == "browser"
        with pytest.raises(ValueError, match="'event_source' must be in") as from_check:
            checked_source("fax")
        wire = orjson.loads(orjson.dumps(envelope.to_wire()))
        with pytest.raises(ValueError, match="'event_source' must be in") as from_envelope:
            Envelope.from_wire({**wire, "event_source": "fax"})
        assert str(from_check.value) == str(from_envelope.value)

    def test_empty_optional_context_members_are_left_out(self, envelope: Envelope) -> None:
        """Empty context members beyond the four common ones do not travel; they come back empty."""
        bare = attrs.evolve(envelope, context=EventContext(course_id="c"))
        wire = bare.to_wire()
        assert set(wire["context"]) == {"course_id", "org_id", "path", "user_id"}
        assert Envelope.from_wire(orjson.loads(orjson.dumps(wire))).context == bare.context


class TestEnvelopeValidation:
    def test_unknown_source_is_refused(self, envelope: Envelope) -> None:
        """An event_source outside server/browser/mobile/task cannot be built."""
        with pytest.raises(ValueError, match="event_source"):
            attrs.evolve(envelope, event_source="satellite")

    def test_envelope_is_frozen(self, envelope: Envelope) -> None:
        """Processors cannot mutate an envelope in place."""
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            envelope.username = "someone"  # type: ignore[misc]


#: The low 62 bits of a version 7 UUID (``rand_b``): random, whatever the clock says.
_RANDOM_BITS = (1 << 62) - 1


def _random_parts(ids: list[str]) -> set[int]:
    return {uuid.UUID(i).int & _RANDOM_BITS for i in ids}


def _ids_in_child(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put([new_event_id() for _ in range(5000)])


class TestEventIds:
    def test_ids_are_version_7_uuids(self) -> None:
        """Every id parses as a UUID of version 7 with the RFC 4122 variant, written in canonical form."""
        for value in [new_event_id() for _ in range(1000)]:
            parsed = uuid.UUID(value)
            assert parsed.version == 7
            assert parsed.variant == uuid.RFC_4122
            assert str(parsed) == value

    def test_ids_are_unique_and_time_ordered_within_a_process(self) -> None:
        """Ids do not repeat, sort in creation order and carry the current Unix time in milliseconds."""
        before = time.time_ns() // 1_000_000
        ids = [new_event_id() for _ in range(10000)]
        after = time.time_ns() // 1_000_000
        assert len(set(ids)) == len(ids)
        assert ids == sorted(ids)
        stamps = [uuid.UUID(i).int >> 80 for i in (ids[0], ids[-1])]
        assert before <= stamps[0] <= stamps[1] <= after

    def test_forked_workers_do_not_repeat_each_other(self) -> None:
        """Workers forked from one parent draw their own random bits: no id, nor its random part, repeats."""
        new_event_id()  # the generator is in use in the parent before the fork, as in a prefork server
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        children = [context.Process(target=_ids_in_child, args=(queue,)) for _ in range(2)]
        for child in children:
            child.start()
        batches = [[new_event_id() for _ in range(5000)]]
        batches += [queue.get(timeout=30) for _ in children]
        for child in children:
            child.join(timeout=30)
        assert [child.exitcode for child in children] == [0, 0]
        assert all(uuid.UUID(i).version == 7 for batch in batches for i in batch)
        assert len({i for batch in batches for i in batch}) == 15000
        # Without a reseed after fork the workers' random parts repeat even when their clocks differ.
        parts = [_random_parts(batch) for batch in batches]
        assert sum(map(len, parts)) == len(set().union(*parts)) == 15000
