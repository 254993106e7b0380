"""The Segment backend with the real library against the real sink command over loopback (sync delivery)."""

from __future__ import annotations

import datetime
import gzip
import json
import os
from collections.abc import Callable
from typing import Any

import attrs
import orjson
import pytest
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.test import Client
from segment.analytics import request as segment_request

from event_hub import emit, jsonio, wireline
from event_hub.backends.base import decode
from event_hub.backends.segment import (
    LIBRARY,
    MAX_MESSAGE_BYTES,
    SegmentBackend,
    dumps_size,
    dumps_size_bound,
)
from event_hub.delivery import unit_of_work
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope, EventContext
from event_hub.exceptions import PermanentDeliveryError, RetryableDeliveryError
from event_hub.models import DeadLetter
from tests.conftest import ENROLLMENT
from tests.support_backends import as_batch, wire_line
from tests.support_segment import Sink, fixture_sink, segment_config  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

EVENT = "edx.course.enrollment.activated"
COURSE = ENROLLMENT["course_id"]
HEADERS = {
    "HTTP_USER_AGENT": "Agent/2.0",
    "HTTP_REFERER": "https://lms.example.org/from",
    "HTTP_ACCEPT_LANGUAGE": "de-CH,de;q=0.9",
    "REMOTE_ADDR": "203.0.113.9",
}


def emit_in_request(user: Any = None, count: int = 2) -> None:
    """``count`` enrollment events emitted by a request to ``/courses/<course>/emit/`` (as ``user``)."""
    client = Client(**HEADERS)
    if user is not None:
        client.force_login(user)
    assert client.get(f"/courses/{COURSE}/emit/?count={count}").status_code == 200


class TestMapping:
    def test_signed_in_events_arrive_one_message_each_with_ids_properties_and_context(
        self, hub: Callable[..., Any], sink: Sink
    ) -> None:
        """Each event is one track message: messageId = event id, userId and anonymousId, payload, context."""
        hub(DELIVERY="sync", BACKENDS={"segment": segment_config(sink)})
        user = get_user_model().objects.create_user("ada", email="ada@example.org")
        emit_in_request(user, count=2)
        messages = sink.wait_for_messages(2)
        assert len(messages) == 2
        assert len({m["messageId"] for m in messages}) == 2
        message = messages[0]
        assert message["type"] == "track"
        assert message["event"] == EVENT
        assert message["userId"] == str(user.pk)
        assert message["anonymousId"]
        assert message["anonymousId"] != str(user.pk)
        assert message["timestamp"].endswith("+00:00")
        assert message["properties"] == {
            **ENROLLMENT,
            "label": COURSE,
            "courserun_key": COURSE,
            "nonInteraction": 1,
        }
        context = message["context"]
        assert context["page"] == {
            "path": f"/courses/{COURSE}/emit/",
            "referrer": "https://lms.example.org/from",
        }
        assert context["userAgent"] == "Agent/2.0"
        assert context["locale"] == "de-CH"
        assert context["course_id"] == COURSE
        assert context["org_id"] == "edX"
        assert context["library"]["name"] == "event_hub"

    def test_no_username_email_or_ip_without_pii(self, hub: Callable[..., Any], sink: Sink) -> None:
        """Without PII: True no message carries the username, the email or the IP anywhere."""
        hub(DELIVERY="sync", BACKENDS={"segment": segment_config(sink)})
        user = get_user_model().objects.create_user("grace", email="grace@example.org")
        emit_in_request(user, count=1)
        (message,) = sink.wait_for_messages(1)
        text = str(message)
        assert "grace" not in text
        assert "203.0.113.9" not in text
        assert "ip" not in message["context"]
        assert "traits" not in message["context"]

    def test_backend_adds_no_pii_of_its_own_without_the_flag(self, sink: Sink) -> None:
        """Even an envelope that still has username and IP gives a message without them (PII off)."""
        backend = SegmentBackend("segment", write_key=sink.write_key, host=sink.url)
        envelope = attrs.evolve(decode(wire_line("e1")), username="grace", ip="203.0.113.9")
        message = backend.message(envelope)
        assert "ip" not in message["context"]
        assert "traits" not in message["context"]

    def test_pii_backend_sends_ip_and_username(self, hub: Callable[..., Any], sink: Sink) -> None:
        """With PII: True the IP goes in context.ip and the username in context.traits."""
        hub(DELIVERY="sync", BACKENDS={"segment": segment_config(sink, PII=True)})
        user = get_user_model().objects.create_user("linus")
        emit_in_request(user, count=1)
        (message,) = sink.wait_for_messages(1)
        assert message["context"]["ip"] == "203.0.113.9"
        assert message["context"]["traits"] == {"username": "linus"}

    def test_anonymous_events_are_delivered_with_an_anonymous_id(
        self, hub: Callable[..., Any], sink: Sink
    ) -> None:
        """An event without a user has no userId but always an anonymousId: it is delivered, not dropped."""
        hub(DELIVERY="sync", BACKENDS={"segment": segment_config(sink)})
        emit_in_request(None, count=1)
        (message,) = sink.wait_for_messages(1)
        assert "userId" not in message
        assert message["anonymousId"] == message["messageId"]

    def test_enterprise_events_reach_segment_under_their_names_with_their_properties(
        self, hub: Callable[..., Any], sink: Sink
    ) -> None:
        """The edx.bi.* enterprise events arrive under their names, payload members as properties."""
        hub(DELIVERY="sync", BACKENDS={"segment": segment_config(sink)})
        consent = {"deferCreation": False, "successUrl": "/ok", "failureUrl": "/no", "courseId": COURSE}
        events = {
            "edx.bi.user.enterprise.onboarding": {
                "pathway": "admin-enrollment",
                "course_run_id": COURSE,
                "url_path": None,
            },
            "edx.bi.user.enterprise.enrollment.course": {
                "label": COURSE,
                "enterprise_customer_uuid": "0f6e5c1a-6a6f-4a39-8f7b-3d0f7d0c1e2b",
                "enterprise_customer_name": "Acme",
                "mode": "verified",
            },
            "edx.bi.user.consent_form.shown": consent,
            "edx.bi.user.consent_form.accepted": consent,
            "edx.bi.user.consent_form.denied": consent,
        }
        with unit_of_work.unit_of_work():
            for name, data in events.items():
                emit(name, data)
        messages = sink.wait_for_messages(len(events))
        arrived = {m["event"]: m["properties"] for m in messages}
        assert set(arrived) == set(events)
        for name, data in events.items():
            assert {key: arrived[name][key] for key in data} == data
            assert arrived[name]["nonInteraction"] == 1


class TestBatchLines:
    """A batch line becomes its message straight from its JSON, as from its decoded envelope."""

    @staticmethod
    def browser_line(**context_extra: Any) -> bytes:
        envelope = Envelope(
            id="0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            name="play_video",
            event_type="play_video",
            event_source="browser",
            time=datetime.datetime(2024, 5, 6, 7, 8, 9, 987654, tzinfo=datetime.UTC),
            event={"code": "html5", "currentTime": 12.5},
            context=EventContext(
                course_id=COURSE, org_id="edX", path="/event", user_id=7, extra=context_extra
            ),
            username="learner",
            ip="203.0.113.9",
            agent="Agent/2.0",
            referer="https://lms.example.org/from",
            accept_language="de-CH,de;q=0.9",
            page="https://lms.example.org/courses/x/video",
            session="feedface",
        )
        return orjson.dumps(envelope.to_wire())

    def test_every_member_of_a_browser_line(self, settings: Any) -> None:
        settings.EVENT_HUB = {"BACKENDS": {"seg": {"ENGINE": "x", "PII": True}}}
        backend = SegmentBackend("seg", write_key="k")
        line = self.browser_line(application={"name": "app", "version": "1.2"}, client_id="GA1.2.3")
        compact, size = backend.transform_line(line)
        message = orjson.loads(compact)
        assert message == {
            "type": "track",
            "event": "play_video",
            "messageId": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "timestamp": "2024-05-06T07:08:09.987+00:00",
            "anonymousId": "feedface",
            "properties": {"code": "html5", "currentTime": 12.5},
            "context": {
                "library": LIBRARY,
                "page": {
                    "url": "https://lms.example.org/courses/x/video",
                    "path": "/event",
                    "referrer": "https://lms.example.org/from",
                },
                "userAgent": "Agent/2.0",
                "locale": "de-CH",
                "course_id": COURSE,
                "org_id": "edX",
                "app": {"name": "app", "version": "1.2"},
                "Google Analytics": {"clientId": "GA1.2.3"},
                "ip": "203.0.113.9",
                "traits": {"username": "learner"},
            },
            "userId": "7",
        }
        assert (compact, size) == backend.transform(decode(line))  # the same bytes either way
        assert size >= dumps_size(message)

    @pytest.mark.parametrize(
        "change",
        [
            {"anonymous_user_id": "abc123"},
            {"user_id": None, "session": ""},
            {"event": [1, 2]},
            {"page": None, "referer": "", "accept_language": "", "agent": ""},
            {"time": "2024-05-06T09:08:09.5+02:00"},
        ],
    )
    def test_same_message_as_from_the_decoded_envelope(self, change: dict[str, Any]) -> None:
        record = orjson.loads(self.browser_line())
        for key, value in change.items():
            if key in ("anonymous_user_id", "user_id"):
                record["context"][key] = value
            else:
                record[key] = value
        line = orjson.dumps(record)
        backend = SegmentBackend("seg", write_key="k")
        assert backend.transform_line(line) == backend.transform(decode(line))

    @pytest.mark.parametrize(
        "event",
        [
            {"code": "html5", "currentTime": 12.5},
            {"answers": {"p1": ["a", "b"]}, "nested": {"deep": [{"x": None}]}, "n": -3},
            {"text": "naïve \u2013 文字 \u2028 end", "emoji": "🎓"},
            {},
            [1, "two", {"three": 3}],
            "a plain string",
            42,
            None,
            {"big": 2**70},
            {"1": "integer-like key"},
        ],
    )
    def test_a_tracker_line_gives_the_bytes_its_envelope_gives(self, event: Any) -> None:
        """A tracker's line (split, payload text copied) gives exactly the message bytes of its envelope."""
        envelope = attrs.evolve(decode(self.browser_line()), event=event)
        line = wireline.encode(envelope)
        backend = SegmentBackend("seg", write_key="k")
        compact, size = backend.transform_line(line)
        assert (compact, size) == backend.transform(envelope)
        assert (compact, size) == backend.transform_line(self.plain(envelope))
        message = jsonio.loads(compact)
        expected = event if isinstance(event, dict) else {"data": event}
        assert message["properties"] == expected
        assert size >= dumps_size(message)

    @staticmethod
    def plain(envelope: Envelope) -> bytes:
        """The envelope's line without ``event_bytes`` (decoded whole, never split)."""
        return jsonio.dumps(envelope.to_wire())

    def test_the_body_is_the_librarys_body(self) -> None:
        """The request body holds what segment-analytics-python's request function writes for the batch."""
        backend = SegmentBackend("seg", write_key="key-1")
        lines = [self.browser_line(), wireline.encode(decode(self.browser_line(client_id="GA1.2.3")))]
        compacts = [backend.transform_line(line)[0] for line in lines]
        body = orjson.loads(backend.body(compacts))
        messages = [orjson.loads(compact) for compact in compacts]
        library = json.loads(
            json.dumps(
                {"batch": messages, "sentAt": body["sentAt"], "writeKey": "key-1"},
                cls=segment_request.DatetimeSerializer,
            )
        )
        assert body == library
        assert list(body) == ["batch", "sentAt", "writeKey"]
        assert datetime.datetime.fromisoformat(body["sentAt"]).tzinfo is not None
        zipped = SegmentBackend("seg", write_key="key-1", gzip=True).body(compacts)
        assert orjson.loads(gzip.decompress(zipped))["batch"] == messages

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"event_source": "elsewhere"}, "ValueError"),
            ({"session": None}, "KeyError"),
            ({"time": "x"}, "ValueError"),
        ],
    )
    def test_a_line_the_envelope_refuses_is_set_aside(self, change: dict[str, Any], reason: str) -> None:
        record = orjson.loads(self.browser_line())
        record.update(change)
        if change.get("session", "") is None:
            del record["session"]
        bad = orjson.dumps(record)
        result = SegmentBackend("seg", write_key="k", host="http://127.0.0.1:9").deliver(
            Batch(backend="seg", lines=[bad])
        )
        assert result.delivered == 0
        assert [r.reason.split(":")[1].strip() for r in result.rejected] == [reason]

    def test_a_subclass_mapping_is_used_for_lines(self) -> None:
        class Renamed(SegmentBackend):
            def message(self, envelope: Envelope) -> dict[str, Any]:
                return {**super().message(envelope), "event": "renamed"}

        compact, _ = Renamed("seg", write_key="k").transform_line(self.browser_line())
        assert orjson.loads(compact)["event"] == "renamed"


class TestConfiguration:
    def test_allowlist_option_keeps_other_events_from_segment(
        self, hub: Callable[..., Any], sink: Sink
    ) -> None:
        """OPTIONS['events'] lets only the listed names through (dropped at emit time)."""
        hub(DELIVERY="sync", BACKENDS={"segment": segment_config(sink, events=["edx.bi.*"])})
        with unit_of_work.unit_of_work():
            emit(EVENT, ENROLLMENT)
            emit(
                "edx.bi.user.enterprise.onboarding",
                {"pathway": "admin-enrollment", "course_run_id": COURSE, "url_path": None},
            )
        messages = sink.wait_for_messages(1)
        assert [m["event"] for m in messages] == ["edx.bi.user.enterprise.onboarding"]

    def test_open_edx_settings_give_write_key_and_allowlist(
        self, hub: Callable[..., Any], sink: Sink, settings: Any
    ) -> None:
        """Without options the Open edX settings give the write key and the allowlist."""
        settings.LMS_SEGMENT_KEY = sink.write_key
        settings.EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST = [EVENT]
        config = segment_config(sink)
        del config["OPTIONS"]["write_key"]
        hub(DELIVERY="sync", BACKENDS={"segment": config})
        with unit_of_work.unit_of_work():
            emit(EVENT, ENROLLMENT)
            emit(
                "edx.bi.user.enterprise.onboarding",
                {"pathway": "admin-enrollment", "course_run_id": COURSE, "url_path": None},
            )
        messages = sink.wait_for_messages(1)
        assert [m["event"] for m in messages] == [EVENT]

    def test_check_fails_when_enabled_without_a_write_key(
        self, hub: Callable[..., Any], settings: Any
    ) -> None:
        """The system check reports an enabled Segment backend with no write key as an error."""
        settings.LMS_SEGMENT_KEY = None
        hub(BACKENDS={"segment": {"ENGINE": "event_hub.backends.segment.SegmentBackend"}})
        errors = [m for m in run_checks() if m.id == "event_hub.E005"]
        assert any("no Segment write key" in m.msg for m in errors)

    def test_wrong_write_key_is_a_permanent_error(self, hub: Callable[..., Any], sink: Sink) -> None:
        """The sink answers 401 to a wrong key; the batch is dead-lettered with that reason."""
        hub(DELIVERY="sync", BACKENDS={"segment": segment_config(sink, write_key="wrong")})
        with unit_of_work.unit_of_work():
            emit(EVENT, ENROLLMENT)
        (letter,) = DeadLetter.objects.all()
        assert "HTTP 401" in letter.error
        assert "write key" in letter.error
        assert sink.stats()["messages"] == 0


class TestSizes:
    @pytest.mark.parametrize(
        "properties",
        [
            {"text": "plain ascii, with: colons, and commas"},
            {"text": "é" * 100, "n": [1, 2.5, None, True]},
            {"emoji": "🎓" * 50, "cjk": "学习" * 30, "control": "\n\t\x01"},
            {"nested": {"a": [{"b": "c:d,e"}] * 20}},
        ],
    )
    def test_size_bound_is_never_below_the_librarys_measure(self, properties: dict[str, Any]) -> None:
        """The cheap bound is at least json.dumps's size, so no request can pass Segment's limits."""
        message = {
            "type": "track",
            "event": "x",
            "messageId": "m",
            "anonymousId": "a",
            "properties": properties,
        }
        assert dumps_size_bound(orjson.dumps(message)) >= dumps_size(message)

    def test_batches_over_batch_bytes_are_split_into_several_requests(self, sink: Sink) -> None:
        """A batch larger than batch_bytes goes out in several requests; every message arrives once."""
        backend = SegmentBackend(
            "segment", write_key=sink.write_key, host=sink.url, batch_bytes=MAX_MESSAGE_BYTES
        )
        lines = [wire_line(f"id-{i}", {"text": "x" * 3000}) for i in range(40)]
        result = backend.deliver(as_batch(lines, "segment"))
        assert result.delivered == 40
        requests = sink.requests()
        assert len(requests) > 1
        assert all(r["status"] == 200 for r in requests)
        assert all(r["bytes"] <= MAX_MESSAGE_BYTES + 200 for r in requests)
        assert sorted(m["messageId"] for m in sink.messages()) == sorted(f"id-{i}" for i in range(40))

    def test_message_over_32_kb_is_set_aside_with_the_reason(self, sink: Sink) -> None:
        """A message over Segment's 32 KB limit is rejected alone; the rest of the batch is delivered."""
        backend = SegmentBackend("segment", write_key=sink.write_key, host=sink.url)
        lines = [wire_line("small"), wire_line("huge", {"text": "y" * 40000})]
        result = backend.deliver(as_batch(lines, "segment"))
        assert result.delivered == 1
        (rejected,) = result.rejected
        assert "32768-byte limit" in rejected.reason
        assert rejected.line == lines[1]
        assert [m["messageId"] for m in sink.messages()] == ["small"]

    def test_truncate_option_shortens_the_largest_properties_with_a_marker(self, sink: Sink) -> None:
        """With oversize='truncate' the message arrives under 32 KB, cut strings marked and listed."""
        backend = SegmentBackend("segment", write_key=sink.write_key, host=sink.url, oversize="truncate")
        lines = [wire_line("huge", {"text": "é" * 20000, "keep": "short"})]
        assert backend.deliver(as_batch(lines, "segment")).delivered == 1
        (message,) = sink.messages()
        properties = message["properties"]
        assert properties["text"].endswith("…[truncated by event_hub]")
        assert properties["keep"] == "short"
        assert properties["event_hub_truncated"] == ["properties.text"]
        stored = {k: v for k, v in message.items() if not k.startswith("_")}
        assert dumps_size(stored) <= MAX_MESSAGE_BYTES

    def test_gzip_option_sends_compressed_bodies(self, sink: Sink) -> None:
        """gzip=True posts gzip-encoded bodies, which the sink decodes."""
        backend = SegmentBackend("segment", write_key=sink.write_key, host=sink.url, gzip=True)
        backend.deliver(as_batch([wire_line("zipped", {"a": 1})], "segment"))
        (request,) = sink.requests()
        assert request["gzip"] == 1
        assert request["status"] == 200
        assert [m["messageId"] for m in sink.messages()] == ["zipped"]


class TestErrorClasses:
    @pytest.mark.parametrize(
        ("status", "retryable"),
        [
            (408, True),
            (410, True),
            (429, True),
            (460, True),
            (500, True),
            (503, True),
            (501, False),
            (505, False),
            (400, False),
            (413, False),
        ],
    )
    def test_status_classes_follow_the_library(self, sink: Sink, status: int, retryable: bool) -> None:
        """Statuses are retryable or permanent exactly as segment-analytics-python classifies them."""
        sink.faults({"status": status, "retry_after": "7"})
        backend = SegmentBackend("segment", write_key=sink.write_key, host=sink.url)
        with pytest.raises(RetryableDeliveryError if retryable else PermanentDeliveryError) as caught:
            backend.deliver(as_batch([wire_line("one")], "segment"))
        assert f"HTTP {status}" in str(caught.value)
        if retryable:
            assert caught.value.retry_after == 7.0  # type: ignore[attr-defined]

    def test_a_wrong_write_key_is_permanent_with_segments_code_and_message(self, sink: Sink) -> None:
        """A refused key dead-letters the batch with the answer's ``code: message`` as the reason."""
        backend = SegmentBackend("segment", write_key="not-the-key", host=sink.url)
        with pytest.raises(PermanentDeliveryError) as caught:
            backend.deliver(as_batch([wire_line("one")], "segment"))
        assert str(caught.value) == "segment: HTTP 401: unauthorized: missing or wrong write key"

    def test_forked_child_delivers_over_its_own_connection(self, sink: Sink) -> None:
        """A forked child (a prefork worker's pool child) posts through a session of its own."""
        backend = SegmentBackend("segment", write_key=sink.write_key, host=sink.url)
        backend.deliver(as_batch([wire_line("before-fork")], "segment"))
        parents = backend.session
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            result = backend.deliver(as_batch([wire_line("in-child")], "segment"))
            os.write(writer, b"new" if backend.session is not parents and result.delivered == 1 else b"same")
            os._exit(0)
        os.waitpid(child, 0)
        assert os.read(reader, 8) == b"new"
        assert backend.session is parents
        assert sorted(m["messageId"] for m in sink.wait_for_messages(2)) == ["before-fork", "in-child"]

    def test_no_answer_is_retryable(self, sink: Sink) -> None:
        """A sink that never answers makes a timeout, which is retryable."""
        sink.faults({"mode": "hang", "delay": 3})
        backend = SegmentBackend("segment", write_key=sink.write_key, host=sink.url, timeout=0.5)
        with pytest.raises(RetryableDeliveryError, match="Timeout"):
            backend.deliver(as_batch([wire_line("one")], "segment"))
