"""Tests of the Tracker: envelope contents, privacy defaults, context sources, processors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from django.contrib.auth.models import User
from django.test import Client

from event_hub import DropEvent, emit, track, tracker
from event_hub.envelope import Envelope
from event_hub.identity import pseudonym
from event_hub.models import InvalidEvent
from tests.conftest import ENROLLMENT, delivered

COURSE = "course-v1:edX+DemoX+2024"
PROBLEM = "block-v1:edX+DemoX+2024+type@problem+block@p1"


def drop_everything(envelope: Envelope) -> Envelope:
    raise DropEvent("test")


def mark_host(envelope: Envelope) -> Envelope:
    import attrs

    return attrs.evolve(envelope, host="processed.example")


def broken_processor(envelope: Envelope) -> Envelope:
    raise RuntimeError("a processor bug")


def unserializable_processor(envelope: Envelope) -> Envelope:
    """A processor bug of another kind: it puts into the event what JSON cannot hold."""
    return attrs.evolve(envelope, event={**envelope.event, "bad": object()})


class TestTrackAndEmit:
    def test_emit_delivers_a_complete_event(self, memory_hub: Callable[..., None]) -> None:
        """emit() outside any request produces a server event with the payload untouched."""
        envelope = emit("edx.course.enrollment.activated", ENROLLMENT)
        assert envelope is not None
        [event] = delivered()
        assert event["id"] == envelope.id
        assert (event["name"], event["event_type"], event["event_source"]) == (
            "edx.course.enrollment.activated",
            "edx.course.enrollment.activated",
            "server",
        )
        assert event["event"] == ENROLLMENT
        assert event["host"]

    def test_track_takes_the_design_note_signature(self, memory_hub: Callable[..., None]) -> None:
        """track(event_type, user, data, course_content_node) fills course and module from the node."""
        track("edx.course.enrollment.activated", None, ENROLLMENT, PROBLEM)
        [event] = delivered()
        assert event["context"]["course_id"] == COURSE
        assert event["context"]["org_id"] == "edX"
        assert event["context"]["module"] == {"usage_key": PROBLEM}

    def test_context_block_adds_members(self, memory_hub: Callable[..., None]) -> None:
        """Values pushed with tracker.context() reach the event's context; course ids are split."""
        with tracker.context("grading", course_id=COURSE, attempt=2):
            emit("edx.course.enrollment.activated", ENROLLMENT)
        [event] = delivered()
        assert event["context"]["course_id"] == COURSE
        assert event["context"]["org_id"] == "edX"
        assert event["context"]["attempt"] == 2

    def test_explicit_course_id_wins(self, memory_hub: Callable[..., None]) -> None:
        """course_id= overrides the course of the context stack."""
        with tracker.context("c", course_id=COURSE):
            emit("edx.course.enrollment.activated", ENROLLMENT, course_id="course-v1:MITx+6.002x+2025")
        assert delivered()[0]["context"]["org_id"] == "MITx"

    def test_compact_format(self, memory_hub: Callable[..., None]) -> None:
        """A backend with the compact format receives the design-note shape."""
        memory_hub(backend={"OPTIONS": {"format": "compact"}})
        track(
            "edx.course.enrollment.activated",
            None,
            ENROLLMENT,
            "block-v1:edX+DemoX+2024+type@vertical+block@u1",
        )
        [event] = delivered()
        assert event["event_type"] == "edx.course.enrollment.activated"
        assert event["course_slug"] == "edX+DemoX"
        assert event["course_run"] == "2024"
        assert event["unit_id"].endswith("block@u1")
        assert event["event_data"] == ENROLLMENT


@pytest.mark.django_db
class TestUserAndPrivacy:
    @pytest.fixture(name="learner")
    def fixture_learner(self) -> User:
        return User.objects.create_user("learner", "learner@example.org", "pw")

    def test_default_output_has_no_personal_data(
        self, memory_hub: Callable[..., None], learner: User
    ) -> None:
        """By default no backend receives the username, email or IP, only the anonymous id."""
        client = Client(REMOTE_ADDR="203.0.113.7")
        client.force_login(learner)
        assert client.get("/emit/").status_code == 200
        [event] = delivered()
        text = repr(event)
        assert "learner" not in text
        assert "203.0.113.7" not in text
        assert (event["username"], event["ip"]) == ("", "")
        assert event["context"]["user_id"] == learner.pk
        assert len(event["context"]["anonymous_user_id"]) == 32

    def test_pii_backend_gets_full_fields(self, hub: Callable[..., Any], learner: User) -> None:
        """A backend with PII: True gets username and IP; its neighbour still does not."""
        hub(
            DELIVERY="sync",
            BACKENDS={
                "full": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "PII": True},
                "private": {"ENGINE": "event_hub.backends.memory.MemoryBackend"},
            },
        )
        client = Client(REMOTE_ADDR="203.0.113.7")
        client.force_login(learner)
        client.get("/emit/")
        [full] = delivered("full")
        [private] = delivered("private")
        assert (full["username"], full["ip"]) == ("learner", "203.0.113.7")
        assert (private["username"], private["ip"]) == ("", "")
        assert full["id"] == private["id"]

    def test_explicit_user_is_used_outside_requests(
        self, memory_hub: Callable[..., None], learner: User
    ) -> None:
        """track(user=...) sets user_id and anonymous id for server code without a request."""
        track("edx.course.enrollment.activated", learner, ENROLLMENT)
        [event] = delivered()
        assert event["context"]["user_id"] == learner.pk
        assert event["context"]["anonymous_user_id"]

    def test_session_is_hashed(self, memory_hub: Callable[..., None], learner: User) -> None:
        """The session field is a 32-character digest, never the session key itself."""
        client = Client()
        client.force_login(learner)
        client.get("/emit/")
        [event] = delivered()
        key = client.session.session_key
        assert len(event["session"]) == 32
        assert key
        assert key not in repr(event)


class TestProcessors:
    def test_shared_processor_drop_stops_every_backend(self, memory_hub: Callable[..., None]) -> None:
        """DropEvent from a shared processor keeps the event from all backends."""
        memory_hub(PROCESSORS=["tests.test_tracker.drop_everything"])
        assert emit("edx.course.enrollment.activated", ENROLLMENT) is not None
        assert delivered() == []

    def test_backend_processor_applies_to_its_backend_only(self, hub: Callable[..., Any]) -> None:
        """A backend's own processors change only what that backend receives."""
        hub(
            DELIVERY="sync",
            BACKENDS={
                "a": {
                    "ENGINE": "event_hub.backends.memory.MemoryBackend",
                    "PROCESSORS": ["tests.test_tracker.mark_host"],
                },
                "b": {"ENGINE": "event_hub.backends.memory.MemoryBackend"},
            },
        )
        emit("edx.course.enrollment.activated", ENROLLMENT)
        assert delivered("a")[0]["host"] == "processed.example"
        assert delivered("b")[0]["host"] != "processed.example"

    def test_name_filter_with_options(self, memory_hub: Callable[..., None]) -> None:
        """A [path, {options}] entry builds a configured processor (deny by pattern)."""
        memory_hub(
            backend={
                "PROCESSORS": [
                    ["event_hub.processors.filters.EventNameFilter", {"deny": ["edx.course.enrollment.*"]}],
                ]
            }
        )
        emit("edx.course.enrollment.activated", ENROLLMENT)
        emit("edx.instructor.report.requested", {"report_type": "grades"})
        assert [e["name"] for e in delivered()] == ["edx.instructor.report.requested"]


@pytest.mark.django_db
class TestFailureIsolation:
    @pytest.mark.parametrize(
        ("processor", "logged"),
        [
            ("tests.test_tracker.broken_processor", "a processor of backend 'a' failed"),
            ("tests.test_tracker.unserializable_processor", "the processors of backend 'a' made event"),
        ],
        ids=["raises", "leaves-what-json-cannot-hold"],
    )
    def test_failing_processor_stops_the_event_for_its_backend_only(
        self, hub: Callable[..., Any], caplog: pytest.LogCaptureFixture, processor: str, logged: str
    ) -> None:
        """A processor of one backend's chain that raises, or that leaves something JSON cannot hold:
        that backend misses the event (logged, counted), the others still get it, and nothing is
        recorded as invalid (the event is not)."""
        hub(
            DELIVERY="sync",
            BACKENDS={
                "a": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "PROCESSORS": [processor]},
                "b": {"ENGINE": "event_hub.backends.memory.MemoryBackend"},
            },
        )
        assert emit("edx.course.enrollment.activated", ENROLLMENT) is not None
        assert delivered("a") == []
        assert [e["name"] for e in delivered("b")] == ["edx.course.enrollment.activated"]
        assert logged in caplog.text
        assert InvalidEvent.objects.count() == 0

    def test_a_raising_processor_is_logged_with_its_traceback(
        self, hub: Callable[..., Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        hub(
            DELIVERY="sync",
            BACKENDS={
                "a": {
                    "ENGINE": "event_hub.backends.memory.MemoryBackend",
                    "PROCESSORS": ["tests.test_tracker.broken_processor"],
                },
            },
        )
        emit("edx.course.enrollment.activated", ENROLLMENT)
        [record] = [r for r in caplog.records if "backend 'a'" in r.getMessage()]
        assert record.exc_info is not None
        assert "a processor bug" in str(record.exc_info[1])

    def test_failing_shared_processor_is_not_taken_for_an_invalid_event(
        self, hub: Callable[..., Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A shared processor that raises: no backend gets the event (logged with the traceback), and the
        caller is told it was accepted, as when every backend's own chain raises, not that it was held
        back as invalid (``None``): nothing was recorded as invalid, and a client must not be told so."""
        hub(
            DELIVERY="sync",
            PROCESSORS=["tests.test_tracker.broken_processor"],
            BACKENDS={"b": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}},
        )
        envelope = emit("edx.course.enrollment.activated", ENROLLMENT)
        assert envelope is not None
        assert envelope.name == "edx.course.enrollment.activated"
        assert delivered("b") == []
        [record] = [r for r in caplog.records if "shared processor failed" in r.getMessage()]
        assert record.exc_info is not None
        assert InvalidEvent.objects.count() == 0


class TestPrivacyModes:
    def test_pseudonymise_on_a_backend_without_pii(self, memory_hub: Callable[..., None]) -> None:
        """PRIVACY "pseudonymise" keeps a keyed digest of the username (not blank, not the name) and the
        network part of the IP; no W001 warning, since no personal data leaves."""
        from event_hub.checks import check_settings

        memory_hub(backend={"PRIVACY": "pseudonymise"})
        user = User(pk=5, username="ana")
        track("edx.course.enrollment.activated", user, ENROLLMENT)
        [event] = delivered()
        assert event["username"] == pseudonym("username", "ana")
        assert event["username"] not in ("", "ana")
        assert "event_hub.W001" not in [message.id for message in check_settings()]

    def test_drop_is_the_default(self, memory_hub: Callable[..., None]) -> None:
        """Without PRIVACY, a backend without PII gets a blank username."""
        track("edx.course.enrollment.activated", User(pk=6, username="bo"), ENROLLMENT)
        assert delivered()[0]["username"] == ""


@pytest.mark.django_db
class TestPersonalMembers:
    """Payload members personal by their name are kept from backends without PII, in any event."""

    PAYLOAD = {"email": "ana@example.org", "username": "ana", "full_name": "Ana B", "score": 3}

    def test_members_of_an_unknown_event_are_blanked(self, memory_hub: Callable[..., None]) -> None:
        """An event no catalog knows (an XBlock's) is delivered, without the personal members it carries."""
        memory_hub(UNREGISTERED_EVENTS="deliver")
        emit("xblock.custom.submitted", dict(self.PAYLOAD))
        [event] = delivered()
        assert event["event"] == {"email": "", "username": "", "full_name": "", "score": 3}

    def test_undeclared_member_of_a_known_type_is_blanked(self, memory_hub: Callable[..., None]) -> None:
        """A member the event type does not declare (extra members are kept by default) is covered too."""
        emit("edx.course.enrollment.activated", {**ENROLLMENT, "email": "ana@example.org"})
        event = delivered()[0]["event"]
        assert event["email"] == ""
        assert event["course_id"] == ENROLLMENT["course_id"]

    def test_pseudonymised_where_the_backend_says_so(self, memory_hub: Callable[..., None]) -> None:
        memory_hub(UNREGISTERED_EVENTS="deliver", backend={"PRIVACY": "pseudonymise"})
        emit("xblock.custom.submitted", dict(self.PAYLOAD))
        event = delivered()[0]["event"]
        assert event["email"] == pseudonym("pii", "ana@example.org")
        assert event["score"] == 3

    def test_kept_for_a_backend_with_pii(self, memory_hub: Callable[..., None]) -> None:
        memory_hub(UNREGISTERED_EVENTS="deliver", backend={"PII": True})
        emit("xblock.custom.submitted", dict(self.PAYLOAD))
        assert delivered()[0]["event"] == self.PAYLOAD


class TestXBlockPage:
    def test_page_can_be_set_as_for_xblocks(self, memory_hub: Callable[..., None]) -> None:
        """Server code of an XBlock passes page="x_module", as the platform writes for XBlock events."""
        track("edx.done.toggled", None, {"done": True}, page="x_module")
        assert delivered()[0]["page"] == "x_module"


class TestBigIntegers:
    def test_integer_beyond_64_bits_is_delivered_exactly(self, memory_hub: Callable[..., None]) -> None:
        """A server event holding 2**70 + 1 is delivered with that exact integer, not refused or rounded."""
        memory_hub(UNREGISTERED_EVENTS="accept")
        big = 2**70 + 1
        assert emit("custom.counter", {"value": big}) is not None
        assert delivered()[0]["event"] == {"value": big}

    def test_integer_keys_are_written_as_strings(self, memory_hub: Callable[..., None]) -> None:
        """A payload keyed by integers (a dict of answers by index) is delivered, its keys as strings."""
        memory_hub(UNREGISTERED_EVENTS="accept")
        assert emit("custom.by_index", {"answers": {1: "a", 2: "b"}}) is not None
        assert delivered()[0]["event"] == {"answers": {"1": "a", "2": "b"}}


class TestBadData:
    @pytest.mark.django_db
    def test_unserializable_payload_is_recorded_not_delivered(self, memory_hub: Callable[..., None]) -> None:
        """Data orjson cannot encode (accepted as untyped) is recorded as invalid, never half-delivered."""

        memory_hub(UNREGISTERED_EVENTS="accept", INVALID_SERVER_EVENTS="record")
        assert emit("custom.untyped", {"value": object()}) is None
        assert delivered() == []
        [row] = InvalidEvent.objects.all()
        assert "JSON" in row.errors[""][0]
