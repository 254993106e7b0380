"""Tests of what the emit path resolves once and reuses: per-frame scopes, wire contexts, envelope slots."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import attrs
import orjson
import pytest

from event_hub import context as ctx
from event_hub import emit, tracker
from event_hub.envelope import Envelope, EventContext, make_envelope, new_event_id
from event_hub.identity import anonymous_user_id
from tests.conftest import ENROLLMENT, delivered

COURSE = "course-v1:edX+DemoX+2024"
OTHER_COURSE = "course-v1:MITx+6.002x+2025"
EVENT = "edx.course.enrollment.activated"


def fixed_anonymous_id(user: Any) -> str:
    return f"fixed-{user.pk}"


def person(pk: int) -> SimpleNamespace:
    """An authenticated user as event code sees one."""
    return SimpleNamespace(pk=pk, is_authenticated=True, get_username=lambda: f"user{pk}")


class SetHost:
    """A processor that writes its own host (each call returns a new envelope)."""

    def __init__(self, host: str) -> None:
        self.host = host

    def __call__(self, envelope: Envelope) -> Envelope:
        return attrs.evolve(envelope, host=self.host)


class TestFrameScope:
    def test_a_sign_in_during_the_request_reaches_later_events(self, memory_hub: Callable[..., None]) -> None:
        """Events of one frame follow the request's user as it changes (signed out, then in)."""
        request = SimpleNamespace(user=SimpleNamespace(pk=None, is_authenticated=False))
        with ctx.push("request", request=ctx.RequestInfo(path="/x", request=request)):
            emit(EVENT, ENROLLMENT)
            request.user = person(7)
            emit(EVENT, ENROLLMENT)
        before, after = delivered()
        assert (before["context"]["user_id"], before["context"].get("anonymous_user_id")) == (None, None)
        assert after["context"]["user_id"] == 7
        assert after["context"]["anonymous_user_id"] == anonymous_user_id(person(7))

    def test_settings_changed_inside_a_frame_apply_to_its_next_events(
        self, memory_hub: Callable[..., None]
    ) -> None:
        """A new ANONYMOUS_ID_FUNCTION takes effect for the next event of an open frame."""
        with tracker.context("grading", course_id=COURSE):
            emit(EVENT, ENROLLMENT, user=person(5))
            first = delivered()[0]["context"]["anonymous_user_id"]
            built_in = anonymous_user_id(person(5))
            memory_hub(ANONYMOUS_ID_FUNCTION="tests.test_emit_memo.fixed_anonymous_id")
            emit(EVENT, ENROLLMENT, user=person(5))
        event = delivered()[-1]
        assert first == built_in
        assert event["context"]["anonymous_user_id"] == "fixed-5"

    def test_each_course_and_user_of_a_frame_gets_its_own_context(
        self, memory_hub: Callable[..., None]
    ) -> None:
        """Alternating course ids and users inside one frame never mix their context members."""
        with tracker.context("grading", attempt=1):
            for course, pk in ((COURSE, 1), (OTHER_COURSE, 2), (COURSE, 2), (OTHER_COURSE, 1)):
                emit(EVENT, ENROLLMENT, course_id=course, user=person(pk))
        got = [
            (e["context"]["course_id"], e["context"]["org_id"], e["context"]["user_id"]) for e in delivered()
        ]
        assert got == [
            (COURSE, "edX", 1),
            (OTHER_COURSE, "MITx", 2),
            (COURSE, "edX", 2),
            (OTHER_COURSE, "MITx", 1),
        ]

    def test_the_scopes_kept_per_frame_are_bounded(self, memory_hub: Callable[..., None]) -> None:
        """Outside any frame, many users keep the shared memo at its bound, and each event is right."""
        for pk in range(100):
            emit(EVENT, ENROLLMENT, user=person(pk))
        assert 0 < len(ctx.current().memo) <= 64
        assert [e["context"]["user_id"] for e in delivered()] == list(range(100))


class TestContextPerCall:
    @pytest.mark.parametrize(
        "members",
        [
            {"attempt": 2, "grader": "auto"},
            {"course_run": "run-given", "tag": "y", "anonymous_user_id": "given"},
            {"course_id": COURSE, "attempt": 2},
            {"module": {"usage_key": "block-v1:edX+DemoX+2024+type@problem+block@p1"}, "org_id": "edX"},
        ],
        ids=["further members", "members named like wire-only fields", "course id", "modelled members"],
    )
    def test_context_per_call_writes_what_a_context_block_writes(
        self, memory_hub: Callable[..., None], members: dict[str, Any]
    ) -> None:
        """context= on the call and the same values pushed as a frame give the same members, in order."""
        with tracker.context("outer", course_id=OTHER_COURSE, attempt=1, tag="x"):
            emit(EVENT, ENROLLMENT, user=person(3), context=members)
            with tracker.context("inner", **members):
                emit(EVENT, ENROLLMENT, user=person(3))
        per_call, block = delivered()
        assert list(per_call["context"].items()) == list(block["context"].items())
        assert per_call["context"]["attempt"] == members.get("attempt", 1)

    def test_context_per_call_stays_with_its_event(self, memory_hub: Callable[..., None]) -> None:
        """The members given to one call are absent from the next event of the same frame."""
        with tracker.context("grading", course_id=COURSE):
            emit(EVENT, ENROLLMENT, context={"client_time": "2024-05-01T10:00:00.000000+00:00"})
            emit(EVENT, ENROLLMENT)
        with_members, without = delivered()
        assert with_members["context"]["client_time"] == "2024-05-01T10:00:00.000000+00:00"
        assert "client_time" not in without["context"]


class TestDispatch:
    def test_routes_that_change_the_envelope_each_get_their_own_line(self, hub: Callable[..., Any]) -> None:
        """Three backends whose processors each return a new envelope receive their own host."""
        engine = "event_hub.backends.memory.MemoryBackend"
        hosts = ("a.example", "b.example", "c.example")
        hub(
            DELIVERY="sync",
            BACKENDS={
                host: {"ENGINE": engine, "PROCESSORS": [["tests.test_emit_memo.SetHost", {"host": host}]]}
                for host in hosts
            },
        )
        for _ in range(5):
            emit(EVENT, ENROLLMENT)
        for host in hosts:
            assert {event["host"] for event in delivered(host)} == {host}


class TestWireContext:
    def _wire(self, **extra: Any) -> dict[str, Any]:
        envelope = Envelope(
            id=new_event_id(),
            name=EVENT,
            event_type=EVENT,
            event_source="server",
            time=datetime.datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=datetime.UTC),
            event=ENROLLMENT,
            context=EventContext(course_id=COURSE, org_id="edX", path="/p", user_id=4, extra=extra),
        )
        decoded: dict[str, Any] = orjson.loads(orjson.dumps(envelope.to_wire()))
        return decoded

    def test_decoding_keeps_an_integer_and_a_float_member_apart(self) -> None:
        """Two lines in a row whose contexts differ only by 1 and 1.0 decode to an int and a float."""
        first = Envelope.from_wire(self._wire(score=1))
        second = Envelope.from_wire(self._wire(score=1.0))
        assert type(first.context.extra["score"]) is int
        assert type(second.context.extra["score"]) is float

    def test_consecutive_lines_decode_to_their_own_context(self) -> None:
        """A run of lines decodes each line's context, whether it repeats the previous one or not."""
        lines = [self._wire(step=1), self._wire(step=1), self._wire(step=2), self._wire(step=1)]
        assert [Envelope.from_wire(line).context.extra for line in lines] == [
            {"step": 1},
            {"step": 1},
            {"step": 2},
            {"step": 1},
        ]

    def test_each_wire_form_has_a_context_of_its_own(self) -> None:
        """Changing the context of one to_wire() result leaves the next one of the same envelope whole."""
        envelope = Envelope.from_wire(self._wire(step=1))
        first = envelope.to_wire()
        first["context"]["course_id"] = "changed"
        first["context"]["step"] = 99
        second = envelope.to_wire()
        assert (second["context"]["course_id"], second["context"]["step"]) == (COURSE, 1)


class TestMakeEnvelope:
    def test_it_builds_what_the_constructor_builds(self) -> None:
        """make_envelope with every field gives an envelope equal to Envelope(...) with the same fields."""
        values = [field.name for field in attrs.fields(Envelope)]
        context = EventContext(course_id=COURSE, extra={"a": 1})
        moment = datetime.datetime.now(datetime.UTC)
        given = {name: f"{name}-value" for name in values}
        given.update(event_source="browser", time=moment, event={"x": 1}, context=context, pii_fields=("x",))
        built = make_envelope(*(given[name] for name in values))
        assert built == Envelope(**given)
        assert attrs.asdict(built, recurse=False) == given

    def test_it_refuses_an_unknown_source(self) -> None:
        """make_envelope checks event_source as the Envelope validator does."""
        fields = ("i", "n", "n", "web", datetime.datetime.now(datetime.UTC), {}, EventContext())
        with pytest.raises(ValueError, match="event_source"):
            make_envelope(*fields, "", "", "", "", "", "", None, "", ())


class TestModelledContextPerCall:
    def test_new_values_on_a_call_are_never_taken_for_the_last_ones(
        self, memory_hub: Callable[..., None]
    ) -> None:
        """Each call's module and course are its own, whether the objects repeat, change or come back."""
        first = {"usage_key": "block-v1:edX+DemoX+2024+type@problem+block@p1"}
        second = {"usage_key": "block-v1:edX+DemoX+2024+type@problem+block@p2"}
        with tracker.context("grading", attempt=1):
            for module, course in ((first, COURSE), (first, COURSE), (second, COURSE), (first, OTHER_COURSE)):
                emit(EVENT, ENROLLMENT, context={"module": module, "course_id": course})
        got = [(e["context"]["module"], e["context"]["course_id"]) for e in delivered()]
        assert got == [(first, COURSE), (first, COURSE), (second, COURSE), (first, OTHER_COURSE)]

    def test_the_same_members_in_another_order_keep_their_order(
        self, memory_hub: Callable[..., None]
    ) -> None:
        """Reordered members of a repeated context= write their further members in the call's order."""
        module = {"usage_key": "block-v1:edX+DemoX+2024+type@problem+block@p1"}
        with tracker.context("grading", course_id=COURSE):
            emit(EVENT, ENROLLMENT, context={"module": module, "a": 1, "b": 2})
            emit(EVENT, ENROLLMENT, context={"module": module, "b": 2, "a": 1})
        first, second = delivered()
        assert [key for key in first["context"] if key in "ab"] == ["a", "b"]
        assert [key for key in second["context"] if key in "ab"] == ["b", "a"]

    def test_equal_but_distinct_values_are_written_as_given(self, memory_hub: Callable[..., None]) -> None:
        """A call whose module equals the last one's but holds 1.0 where it held 1 writes 1.0."""
        key = "block-v1:edX+DemoX+2024+type@problem+block@p1"
        with tracker.context("grading", course_id=COURSE):
            emit(EVENT, ENROLLMENT, context={"module": {"usage_key": key, "weight": 1}})
            emit(EVENT, ENROLLMENT, context={"module": {"usage_key": key, "weight": 1.0}})
        first, second = delivered()
        assert type(first["context"]["module"]["weight"]) is int
        assert type(second["context"]["module"]["weight"]) is float
