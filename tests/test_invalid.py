"""Invalid and unregistered events: the Tracker's policies, and the invalid-events store.

An event that does not match the catalog is never delivered as if it were
valid and never dropped without a trace: depending on ``EVENT_HUB`` and
``DEBUG`` it raises, or it is recorded in :class:`~event_hub.models.InvalidEvent`
with the field-level reasons, or (client events) both.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from event_hub import emit, tracker
from event_hub.exceptions import InvalidEventError, UnknownEventError
from event_hub.models import InvalidEvent
from tests.catalog.test_problem import SAMPLE_EVENT
from tests.conftest import ENROLLMENT, delivered

_P2 = next(iter(SAMPLE_EVENT["correct_map"]))
#: A server problem_check whose nested ``npoints`` is a string and whose ``attempts`` is missing.
BAD_PROBLEM_CHECK_ERRORS = {
    "attempts": ["this field is required"],
    f"correct_map[{_P2!r}].npoints": ["expected an integer, got string"],
}


@pytest.fixture(name="bad_problem_check")
def fixture_bad_problem_check() -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE_EVENT)
    del event["attempts"]
    event["correct_map"][_P2]["npoints"] = "1"
    return event


@pytest.fixture(name="debug")
def fixture_debug(settings: Any) -> Callable[[bool], None]:
    """Switch ``settings.DEBUG`` (EVENT_HUB's invalid-server-event default follows it)."""

    def switch(value: bool) -> None:
        settings.DEBUG = value

    return switch


@pytest.mark.django_db
class TestInvalidServerEvents:
    def test_raises_in_debug(self, memory_hub, debug, bad_problem_check):
        """With DEBUG on and no explicit policy, an invalid server event raises with field paths."""
        debug(True)
        with pytest.raises(InvalidEventError) as excinfo:
            emit("problem_check", bad_problem_check)
        assert excinfo.value.name == "problem_check"
        assert excinfo.value.errors == BAD_PROBLEM_CHECK_ERRORS
        assert delivered() == []
        assert not InvalidEvent.objects.exists()

    def test_recorded_not_delivered_in_production(self, memory_hub, debug, bad_problem_check):
        """With DEBUG off, the event lands in the invalid store with its reasons and is not delivered."""
        debug(False)
        assert emit("problem_check", bad_problem_check) is None
        assert delivered() == []
        [row] = InvalidEvent.objects.all()
        assert (row.name, row.event_source) == ("problem_check", "server")
        assert row.payload == bad_problem_check
        assert row.errors == BAD_PROBLEM_CHECK_ERRORS

    def test_explicit_raise_policy_wins_over_debug_off(self, memory_hub, debug, bad_problem_check):
        """``INVALID_SERVER_EVENTS="raise"`` raises even in production."""
        debug(False)
        memory_hub(INVALID_SERVER_EVENTS="raise")
        with pytest.raises(InvalidEventError):
            emit("problem_check", bad_problem_check)
        assert not InvalidEvent.objects.exists()

    def test_explicit_record_policy_wins_over_debug_on(self, memory_hub, debug, bad_problem_check):
        """``INVALID_SERVER_EVENTS="record"`` records even with DEBUG on."""
        debug(True)
        memory_hub(INVALID_SERVER_EVENTS="record")
        assert emit("problem_check", bad_problem_check) is None
        assert InvalidEvent.objects.get().errors == BAD_PROBLEM_CHECK_ERRORS

    def test_source_not_allowed_is_invalid(self, memory_hub, debug):
        """A browser-only event emitted by the server is invalid, with the reason under ``""``."""
        debug(False)
        assert emit("page_close", {}) is None
        [row] = InvalidEvent.objects.all()
        assert row.event_source == "server"
        assert "event_source 'server' is not allowed" in row.errors[""][0]

    def test_acting_user_is_recorded(self, memory_hub, debug):
        """The row keeps the id of the user the event was about."""
        debug(False)
        user = User.objects.create_user("ana")
        tracker.track("edx.course.enrollment.activated", user, {"course_id": "c"})
        row = InvalidEvent.objects.get()
        assert row.user_id == user.pk
        assert row.errors == {"mode": ["this field is required"], "user_id": ["this field is required"]}


@pytest.mark.django_db
class TestInvalidClientEvents:
    @pytest.mark.parametrize("debug_on", [True, False])
    def test_recorded_and_raised(self, memory_hub, debug, debug_on):
        """A client event that does not validate is both kept and refused, whatever DEBUG says."""
        debug(debug_on)
        with pytest.raises(InvalidEventError) as excinfo:
            tracker.send("video", {"video_id": "v1", "video_event_type": " "}, source="browser")
        expected = {"video_event_type": ["expected a non-empty string"]}
        assert excinfo.value.errors == expected
        row = InvalidEvent.objects.get()
        assert (row.name, row.event_source, row.errors) == ("video", "browser", expected)
        assert delivered() == []

    def test_type_errors_name_their_field(self, memory_hub):
        """A wrong type is reported on its own path (validators run once the types are right)."""
        with pytest.raises(InvalidEventError) as excinfo:
            tracker.send("video", {"video_id": 7, "video_event_type": "play"}, source="browser")
        assert excinfo.value.errors == {"video_id": ["expected a string, got integer"]}

    def test_valid_client_event_is_delivered(self, memory_hub):
        """The same event with a proper payload goes through."""
        tracker.send("video", {"video_id": "v1", "video_event_type": "play"}, source="mobile")
        [event] = delivered()
        assert event["event_source"] == "mobile"
        assert event["event"] == {"video_id": "v1", "video_event_type": "play"}


@pytest.mark.django_db
class TestUnregisteredEvents:
    def test_default_policy_records(self, memory_hub, debug):
        """By default (``record``) an unknown name is kept in the invalid store and not delivered."""
        debug(False)
        assert emit("acme.widget.spun", {"rpm": 3}) is None
        assert delivered() == []
        row = InvalidEvent.objects.get()
        assert (row.name, row.payload) == ("acme.widget.spun", {"rpm": 3})
        assert row.errors == {"": ["unknown event type 'acme.widget.spun'"]}

    def test_record_policy_follows_the_invalid_server_policy_in_debug(self, memory_hub, debug):
        """``record`` treats an unknown server name as an invalid server event: in DEBUG that raises."""
        debug(True)
        with pytest.raises(UnknownEventError):
            emit("acme.widget.spun", {"rpm": 3})
        assert delivered() == []

    def test_reject_policy_raises(self, memory_hub):
        """``reject`` raises UnknownEventError and stores nothing."""
        memory_hub(UNREGISTERED_EVENTS="reject")
        with pytest.raises(UnknownEventError):
            emit("acme.widget.spun", {"rpm": 3})
        assert not InvalidEvent.objects.exists()
        assert delivered() == []

    def test_accept_policy_delivers_untyped(self, memory_hub):
        """``accept`` delivers the event as given, with no catalog type behind it."""
        memory_hub(UNREGISTERED_EVENTS="accept")
        emit("acme.widget.spun", {"rpm": 3})
        [event] = delivered()
        assert (event["name"], event["event_type"]) == ("acme.widget.spun", "acme.widget.spun")
        assert event["event"] == {"rpm": 3}
        assert not InvalidEvent.objects.exists()

    def test_unknown_client_event_is_recorded_and_raised(self, memory_hub):
        """Under ``record``, an unknown name from a client is both kept and refused."""
        with pytest.raises(UnknownEventError):
            tracker.send("acme.widget.spun", {}, source="browser")
        assert InvalidEvent.objects.get().event_source == "browser"


@pytest.mark.django_db
class TestValidationSwitches:
    def test_lenient_fields_let_unlisted_members_through(self, memory_hub):
        """With ``STRICT_FIELDS`` off, a member the catalog does not list is delivered."""
        memory_hub(STRICT_FIELDS=False)
        emit("edx.course.enrollment.activated", {**ENROLLMENT, "source": "batch"})
        [event] = delivered()
        assert event["event"]["source"] == "batch"

    def test_strict_fields_name_the_unlisted_member(self, memory_hub, debug):
        """With ``STRICT_FIELDS`` on (the default), the unlisted member is the error's path."""
        debug(True)
        with pytest.raises(InvalidEventError) as excinfo:
            emit("edx.course.enrollment.activated", {**ENROLLMENT, "source": "batch"})
        assert excinfo.value.errors == {"source": ["unknown field"]}

    def test_validation_off_delivers_anything(self, memory_hub):
        """With ``VALIDATE`` off nothing is checked (and nothing is recorded)."""
        memory_hub(VALIDATE=False)
        emit("edx.course.enrollment.activated", {"mode": 3})
        [event] = delivered()
        assert event["event"] == {"mode": 3}
        assert not InvalidEvent.objects.exists()


@pytest.mark.django_db
class TestStore:
    def test_null_payload_is_stored(self) -> None:
        """An event whose payload is JSON null is kept (as JSON null), not lost to a NOT NULL error."""
        from event_hub import invalid
        from event_hub.models import InvalidEvent

        row = invalid.record(name="x", source="browser", payload=None, errors={"": ["expected an object"]})
        assert row is not None
        assert InvalidEvent.objects.get(pk=row.pk).payload is None

    def test_refused_row_is_logged_with_its_payload(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """If the database refuses the row, record() returns None and logs the payload at CRITICAL."""
        from django.db import DatabaseError

        from event_hub import invalid
        from event_hub.models import InvalidEvent

        def refuse(**kwargs: object) -> None:
            raise DatabaseError("refused")

        monkeypatch.setattr(InvalidEvent.objects, "create", refuse)
        assert invalid.record(name="x", source="server", payload={"marker": 42}, errors={"": ["bad"]}) is None
        [critical] = [r for r in caplog.records if r.levelname == "CRITICAL"]
        assert '"marker":42' in critical.getMessage()

    def test_deep_payload_is_clipped(self) -> None:
        """A payload nested deeper than orjson writes keeps MAX_STORED_DEPTH levels instead of failing."""
        from event_hub import invalid
        from event_hub.models import InvalidEvent

        payload: Any = "leaf"
        for _ in range(300):
            payload = {"a": payload}
        row = invalid.record(name="x", source="browser", payload=payload, errors={"event": ["too deep"]})
        assert row is not None
        stored = InvalidEvent.objects.get(pk=row.pk).payload
        for _ in range(invalid.MAX_STORED_DEPTH):
            stored = stored["a"]
        assert stored == invalid.CLIPPED
