"""Segment delivery through a real Celery worker on Redis, to the sink command over loopback, with faults."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Celery
from django.contrib.auth import get_user_model

from event_hub import emit, track
from event_hub.delivery import unit_of_work
from event_hub.models import DeadLetter
from tests.conftest import ENROLLMENT, Worker
from tests.support_backends import celery_app, wait_for
from tests.support_segment import Sink, fixture_sink, segment_config  # noqa: F401 - the fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EVENT = "edx.course.enrollment.activated"
#: Short backoff so retries come quickly (a Retry-After is still the least delay).
FAST = {"RETRY_BACKOFF_SECONDS": 0.2, "RETRY_BACKOFF_MAX_SECONDS": 2.0}
VISIBILITY_TIMEOUT = 2
FAST_RESTORE = json.dumps(
    {"visibility_timeout": VISIBILITY_TIMEOUT, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
)
RETRY_LOG = "retry: Retry in"


@pytest.fixture(name="publisher")
def fixture_publisher() -> Iterator[Celery]:
    """The test process publishes to the test broker (the one the workers consume)."""
    with celery_app() as app:
        yield app


def hub_config(sink: Sink, **backend: Any) -> dict[str, Any]:
    return {"DELIVERY": "celery", "BACKENDS": {"segment": segment_config(sink, **{**FAST, **backend})}}


def emit_batch(count: int) -> list[str]:
    """Emit ``count`` events in one unit of work (one batch); return their ids."""
    with unit_of_work.unit_of_work():
        return [emit(EVENT, ENROLLMENT).id for _ in range(count)]  # type: ignore[union-attr]


class TestWhatArrives:
    def test_one_message_per_event_with_the_id_and_user_rules(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], sink: Sink
    ) -> None:
        """Through the worker: one message per event, messageId = id, userId only with a user, no PII."""
        config = hub_config(sink)
        hub(**config)
        start_worker(config)
        user = get_user_model().objects.create_user("ada", email="ada@example.org")
        with unit_of_work.unit_of_work():
            course = ENROLLMENT["course_id"]
            signed_in = [track(EVENT, user=user, data=ENROLLMENT, course_id=course) for _ in range(3)]
            anonymous = [emit(EVENT, ENROLLMENT, course_id=course) for _ in range(2)]
        messages = {m["messageId"]: m for m in sink.wait_for_messages(5)}
        assert len(messages) == 5
        for envelope in signed_in:
            message = messages[envelope.id]  # type: ignore[union-attr]
            assert message["userId"] == str(user.pk)
            assert message["anonymousId"] == envelope.context.anonymous_user_id  # type: ignore[union-attr]
        for envelope in anonymous:
            message = messages[envelope.id]  # type: ignore[union-attr]
            assert "userId" not in message
            assert message["anonymousId"] == envelope.id  # type: ignore[union-attr]
        for message in messages.values():
            assert message["event"] == EVENT
            assert message["properties"]["mode"] == ENROLLMENT["mode"]
            assert message["context"]["course_id"] == ENROLLMENT["course_id"]
            assert "ada" not in json.dumps(message)
        assert sink.stats()["duplicates"] == 0


class TestFaults:
    def test_three_500s_then_200_delivers_each_message_once(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], sink: Sink
    ) -> None:
        """The sink answers 500 three times, then 200: four requests, every messageId stored once."""
        sink.faults({"status": 500, "times": 3})
        config = hub_config(sink)
        hub(**config)
        worker = start_worker(config)
        ids = emit_batch(5)
        messages = sink.wait_for_messages(5)
        worker.wait_for_log("succeeded")
        assert sorted(m["messageId"] for m in messages) == sorted(ids)
        assert [r["status"] for r in sink.requests()] == [500, 500, 500, 200]
        assert sink.stats() == {
            "requests": 4,
            "accepted_requests": 1,
            "messages": 5,
            "distinct": 5,
            "duplicates": 0,
        }

    def test_429_retry_after_sets_the_delay_of_the_next_attempt(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], sink: Sink
    ) -> None:
        """A 429 with Retry-After: 2 makes the next attempt wait at least 2 s (backoff alone is 0.2 s)."""
        sink.faults({"status": 429, "retry_after": "2"})
        config = hub_config(sink)
        hub(**config)
        start_worker(config)
        ids = emit_batch(3)
        sink.wait_for_messages(3)
        refused, accepted = sink.requests()
        assert (refused["status"], accepted["status"]) == (429, 200)
        assert accepted["received"] - refused["received"] >= 2.0
        assert sorted(m["messageId"] for m in sink.messages()) == sorted(ids)

    def test_400_dead_letters_the_batch_with_the_sinks_reason(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], sink: Sink
    ) -> None:
        """A 400 is permanent: one request, and the dead letter carries the sink's message."""
        sink.faults({"status": 400, "message": "properties.course_id is not allowed here"})
        config = hub_config(sink)
        hub(**config)
        start_worker(config)
        ids = emit_batch(2)
        letter = wait_for(lambda: DeadLetter.objects.first(), what="the dead letter")
        assert "HTTP 400" in letter.error
        assert "properties.course_id is not allowed here" in letter.error
        assert [json.loads(line)["id"] for line in letter.payload.splitlines()] == ids
        assert sink.stats()["requests"] == 1
        assert sink.stats()["messages"] == 0

    def test_sink_down_for_30_seconds_then_back_gets_everything(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], sink: Sink
    ) -> None:
        """The sink stopped for 30 s: the worker keeps retrying; once it is back every event arrives once."""
        config = hub_config(sink, RETRY_MAX=30)
        hub(**config)
        worker = start_worker(config)
        sink.stop()
        down_since = time.monotonic()
        ids = emit_batch(4) + emit_batch(3)
        wait_for(
            lambda: worker.log().count(RETRY_LOG) >= 6 and time.monotonic() - down_since >= 30,
            timeout=90,
            what="30 s of outage with the worker retrying",
        )
        assert DeadLetter.objects.count() == 0
        sink.start()
        messages = sink.wait_for_messages(7, timeout=60)
        assert sorted(m["messageId"] for m in messages) == sorted(ids)
        assert sink.stats()["duplicates"] == 0

    def test_worker_killed_mid_batch_redelivers_the_same_message_ids(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], sink: Sink
    ) -> None:
        """A worker killed while the sink holds its answer is redelivered by the next: same messageIds."""
        sink.faults({"mode": "slow", "delay": 120})
        config = hub_config(sink)
        hub(**config)
        env = {"EVENT_HUB_TEST_TRANSPORT_OPTIONS": FAST_RESTORE}
        first = start_worker(config, extra_env=env)
        ids = emit_batch(3)
        sink.wait_for_messages(3)
        first.kill()
        sink.faults()
        second = start_worker(config, extra_env=env)
        messages = sink.wait_for_messages(6, timeout=VISIBILITY_TIMEOUT + 30)
        second.wait_for_log("succeeded")
        first_request, second_request = sorted({m["_request"] for m in messages})
        assert sorted(m["messageId"] for m in messages if m["_request"] == first_request) == sorted(ids)
        assert sorted(m["messageId"] for m in messages if m["_request"] == second_request) == sorted(ids)
        assert sink.stats() | {"requests": 0} == {
            "requests": 0,
            "accepted_requests": 2,
            "messages": 6,
            "distinct": 3,
            "duplicates": 3,
        }


class TestPrefork:
    def test_prefork_worker_with_two_children_delivers_everything(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], sink: Sink
    ) -> None:
        """Forked pool children (concurrency 2) each post with their own connections; nothing is lost."""
        config = hub_config(sink)
        hub(**config)
        worker = start_worker(config, concurrency=2)
        ids = [event_id for _ in range(20) for event_id in emit_batch(10)]
        messages = sink.wait_for_messages(200, timeout=60)
        worker.wait_for_log("succeeded", count=20)
        assert sorted(m["messageId"] for m in messages) == sorted(ids)
        assert sink.stats()["duplicates"] == 0
        assert "ForkPoolWorker-2" in worker.log()
