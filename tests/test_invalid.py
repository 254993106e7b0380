"""Invalid and unregistered events: the Tracker's policies, and the invalid-events store.

The catalog is never the reason an event is lost: by default an unknown or
invalid event is delivered as it came and its problem recorded (counted, and a
sample stored in :class:`~event_hub.models.InvalidEvent` with the field-level
reasons). Holding it back (``record``) or raising are explicit settings.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.contrib.auth.models import User

from event_hub import emit, invalid, tracker
from event_hub.exceptions import InvalidEventError, UnknownEventError
from event_hub.models import InvalidEvent
from tests.catalog.test_problem import SAMPLE_EVENT
from tests.conftest import ENROLLMENT, delivered

_P2 = next(iter(SAMPLE_EVENT["correct_map"]))
#: A server problem_check whose nested ``npoints`` is a string and whose ``attempts`` is missing.
BAD_PROBLEM_CHECK_ERRORS = {
    "attempts": ["this field is required"],
    f"correct_map[{_P2!r}].npoints": ["expected a number or null, got string"],
}


@pytest.fixture(name="bad_problem_check")
def fixture_bad_problem_check() -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE_EVENT)
    del event["attempts"]
    event["correct_map"][_P2]["npoints"] = "1"
    return event


@pytest.mark.django_db
class TestInvalidServerEventsDeliveredByDefault:
    def test_delivered_as_it_came_and_recorded(self, memory_hub, bad_problem_check):
        """By default an invalid server event is delivered unchanged and its reasons are stored."""
        envelope = emit("problem_check", bad_problem_check)
        assert envelope is not None
        [event] = delivered()
        assert event["event"] == bad_problem_check
        assert event["name"] == "problem_check"
        [row] = InvalidEvent.objects.all()
        assert (row.name, row.event_source, row.delivered) == ("problem_check", "server", True)
        assert row.payload == bad_problem_check
        assert row.errors == BAD_PROBLEM_CHECK_ERRORS

    def test_every_problem_is_counted_but_a_sample_is_stored(self, memory_hub, bad_problem_check):
        """Repeats of one problem are all delivered and counted; one row per sampling period is stored."""
        before = invalid.problem_counts[("problem_check", "server")]
        for _ in range(5):
            emit("problem_check", bad_problem_check)
        assert len(delivered()) == 5
        assert invalid.problem_counts[("problem_check", "server")] - before == 5
        assert InvalidEvent.objects.count() == 1

    def test_sampling_period_zero_stores_each(self, memory_hub, bad_problem_check):
        """``INVALID_SAMPLE_SECONDS=0`` stores every problem."""
        memory_hub(INVALID_SAMPLE_SECONDS=0)
        emit("problem_check", bad_problem_check)
        emit("problem_check", bad_problem_check)
        assert len(delivered()) == 2
        assert InvalidEvent.objects.filter(delivered=True).count() == 2

    def test_source_not_allowed_is_delivered_and_recorded(self, memory_hub):
        """A browser-only event emitted by the server is delivered; the reason is under ``""``."""
        emit("page_close", {})
        [event] = delivered()
        assert event["event_source"] == "server"
        row = InvalidEvent.objects.get()
        assert "event_source 'server' is not allowed" in row.errors[""][0]

    def test_acting_user_is_recorded(self, memory_hub):
        """The row keeps the id of the user the event was about."""
        user = User.objects.create_user("ana")
        tracker.track("edx.course.enrollment.activated", user, {"course_id": "c"})
        row = InvalidEvent.objects.get()
        assert row.user_id == user.pk
        assert row.errors == {"mode": ["this field is required"], "user_id": ["this field is required"]}
        assert len(delivered()) == 1


@pytest.mark.django_db
class TestInvalidServerEventPolicies:
    def test_raise_policy(self, memory_hub, bad_problem_check):
        """``INVALID_SERVER_EVENTS="raise"`` raises with field paths and delivers nothing."""
        memory_hub(INVALID_SERVER_EVENTS="raise")
        with pytest.raises(InvalidEventError) as excinfo:
            emit("problem_check", bad_problem_check)
        assert excinfo.value.name == "problem_check"
        assert excinfo.value.errors == BAD_PROBLEM_CHECK_ERRORS
        assert delivered() == []
        assert not InvalidEvent.objects.exists()

    def test_record_policy_holds_the_event_back(self, memory_hub, bad_problem_check):
        """``INVALID_SERVER_EVENTS="record"`` stores every such event and delivers none."""
        memory_hub(INVALID_SERVER_EVENTS="record")
        assert emit("problem_check", bad_problem_check) is None
        assert emit("problem_check", bad_problem_check) is None
        assert delivered() == []
        rows = InvalidEvent.objects.all()
        assert [row.delivered for row in rows] == [False, False]
        assert rows[0].errors == BAD_PROBLEM_CHECK_ERRORS

    def test_per_call_override(self, memory_hub):
        """``on_invalid="record_and_raise"`` stores and raises for this call only."""
        with pytest.raises(InvalidEventError) as excinfo:
            tracker.send("video", {"video_id": "v1", "video_event_type": " "}, source="browser",
                         on_invalid="record_and_raise")
        expected = {"video_event_type": ["expected a non-empty string"]}
        assert excinfo.value.errors == expected
        row = InvalidEvent.objects.get()
        assert (row.name, row.event_source, row.errors) == ("video", "browser", expected)
        assert row.delivered is False
        assert delivered() == []

    def test_valid_client_event_is_delivered(self, memory_hub):
        """A proper client payload goes through and nothing is recorded."""
        tracker.send("video", {"video_id": "v1", "video_event_type": "play"}, source="mobile")
        [event] = delivered()
        assert event["event_source"] == "mobile"
        assert event["event"] == {"video_id": "v1", "video_event_type": "play"}
        assert not InvalidEvent.objects.exists()


@pytest.mark.django_db
class TestUnregisteredEvents:
    def test_default_policy_delivers_and_records(self, memory_hub):
        """By default (``deliver``) an unknown name (an XBlock's own event) is delivered and noted."""
        emit("acme.widget.spun", {"rpm": 3})
        [event] = delivered()
        assert (event["name"], event["event_type"], event["event"]) == (
            "acme.widget.spun", "acme.widget.spun", {"rpm": 3}
        )
        row = InvalidEvent.objects.get()
        assert (row.name, row.payload, row.delivered) == ("acme.widget.spun", {"rpm": 3}, True)
        assert row.errors == {"": ["unknown event type 'acme.widget.spun'"]}

    def test_record_policy_holds_it_back(self, memory_hub):
        """``record`` keeps an unknown name in the invalid store and does not deliver it."""
        memory_hub(UNREGISTERED_EVENTS="record")
        assert emit("acme.widget.spun", {"rpm": 3}) is None
        assert delivered() == []
        assert InvalidEvent.objects.get().delivered is False

    def test_reject_policy_raises(self, memory_hub):
        """``reject`` raises UnknownEventError and stores nothing."""
        memory_hub(UNREGISTERED_EVENTS="reject")
        with pytest.raises(UnknownEventError):
            emit("acme.widget.spun", {"rpm": 3})
        assert not InvalidEvent.objects.exists()
        assert delivered() == []

    def test_accept_policy_delivers_untyped_silently(self, memory_hub):
        """``accept`` delivers the event as given and records nothing."""
        memory_hub(UNREGISTERED_EVENTS="accept")
        emit("acme.widget.spun", {"rpm": 3})
        [event] = delivered()
        assert event["event"] == {"rpm": 3}
        assert not InvalidEvent.objects.exists()


@pytest.mark.django_db
class TestValidationSwitches:
    def test_unlisted_members_are_delivered_by_default(self, memory_hub):
        """By default a member the catalog does not list is delivered, not an error."""
        emit("edx.course.enrollment.activated", {**ENROLLMENT, "source": "batch"})
        [event] = delivered()
        assert event["event"]["source"] == "batch"
        assert not InvalidEvent.objects.exists()

    def test_strict_fields_name_the_unlisted_member(self, memory_hub):
        """With ``STRICT_FIELDS`` on, the unlisted member is the error's path."""
        memory_hub(STRICT_FIELDS=True, INVALID_SERVER_EVENTS="raise")
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
