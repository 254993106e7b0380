"""deliver_batch through a real Celery worker process on a real Redis broker."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from celery import Celery
from django.test import Client

from event_hub import emit
from event_hub.delivery import unit_of_work
from event_hub.models import DeadLetter
from tests.conftest import COMMON_FIELDS, ENROLLMENT, Worker
from tests.support_backends import celery_app, flaky, jsonl_config, read_count, read_lines, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EVENT = "edx.course.enrollment.activated"
#: Redis hands an unacknowledged message to another consumer after this many seconds.
VISIBILITY_TIMEOUT = 2
FAST_RESTORE = json.dumps(
    {"visibility_timeout": VISIBILITY_TIMEOUT, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
)


@pytest.fixture(name="publisher")
def fixture_publisher() -> Iterator[Celery]:
    """The test process publishes to the test broker (the one the workers consume)."""
    with celery_app() as app:
        yield app


def dead_letters(count: int = 1) -> list[DeadLetter]:
    """Wait for ``count`` dead letters written by the worker."""
    return wait_for(
        lambda: (letters := list(DeadLetter.objects.all())) and len(letters) >= count and letters,
        timeout=30,
        what=f"{count} dead letter(s)",
    )


class TestDelivery:
    def test_request_events_land_in_the_log_as_complete_lines(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """A request's events reach the JSON-lines file through the worker: full lines, every field."""
        log = tmp_path / "tracking.log"
        config = {"DELIVERY": "celery", "BACKENDS": {"log": jsonl_config(log)}}
        hub(**config)
        worker = start_worker(config)
        client = Client(
            HTTP_USER_AGENT="Agent/2.0",
            HTTP_REFERER="https://lms.example.org/from",
            HTTP_ACCEPT_LANGUAGE="de-CH",
            REMOTE_ADDR="203.0.113.9",
        )
        assert client.get("/emit/?count=4").status_code == 200
        wait_for(lambda: len(read_lines(log)) >= 4, what="4 lines in the log")
        worker.wait_for_log("succeeded")
        data = log.read_bytes()
        assert data.endswith(b"\n")
        events = [orjson.loads(line) for line in data.splitlines()]
        assert len(events) == 4
        for event in events:
            assert set(event) >= COMMON_FIELDS, COMMON_FIELDS - set(event)
            assert (event["name"], event["event_type"], event["event_source"]) == (EVENT, EVENT, "server")
            assert (event["agent"], event["referer"], event["accept_language"]) == (
                "Agent/2.0",
                "https://lms.example.org/from",
                "de-CH",
            )
            assert event["ip"] == "203.0.113.9"
            assert event["context"]["path"] == "/emit/"
            assert event["event"] == ENROLLMENT
        assert len({event["id"] for event in events}) == 4
        assert worker.log().count("] received") == 1  # one request, one backend: one batch, one task

    def test_flaky_backend_is_retried_with_backoff_then_succeeds(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """A backend failing twice with a retryable error gets the batch on the third try, once."""
        config = {
            "DELIVERY": "celery",
            "RETRY_BACKOFF_SECONDS": 0.4,
            "RETRY_MAX": 5,
            "BACKENDS": {"flaky": flaky(tmp_path, failures=2)},
        }
        hub(**config)
        worker = start_worker(config)
        with unit_of_work.unit_of_work():
            ids = [emit(EVENT, ENROLLMENT).id for _ in range(3)]  # type: ignore[union-attr]
        wait_for(lambda: read_lines(tmp_path / "flaky.log"), what="the flaky backend's lines")
        assert [orjson.loads(line)["id"] for line in read_lines(tmp_path / "flaky.log")] == ids
        assert read_count(tmp_path / "flaky.count") == 3
        # Two retries, scheduled at least 0.2 s and 0.4 s later (half of 0.4 * 2**n): backoff, not
        # a tight loop. The countdowns as the worker scheduled them, not the time this test waited.
        countdowns = [float(value) for value in re.findall(r"retry: Retry in ([0-9.]+)s", worker.log())]
        assert len(countdowns) == 2, worker.log()
        assert countdowns[0] >= 0.2
        assert countdowns[1] >= 0.4
        assert DeadLetter.objects.count() == 0

    def test_backend_failing_forever_is_dead_lettered(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """After RETRY_MAX retries the batch is a dead letter (retries_exhausted) holding every event."""
        config = {
            "DELIVERY": "celery",
            "RETRY_BACKOFF_SECONDS": 0.1,
            "RETRY_MAX": 2,
            "BACKENDS": {"flaky": flaky(tmp_path, failures=10**6)},
        }
        hub(**config)
        start_worker(config)
        with unit_of_work.unit_of_work():
            ids = [emit(EVENT, ENROLLMENT).id for _ in range(2)]  # type: ignore[union-attr]
        [letter] = dead_letters()
        assert (letter.backend, letter.reason, letter.attempts, letter.event_count) == (
            "flaky",
            DeadLetter.Reason.RETRIES_EXHAUSTED,
            3,
            2,
        )
        assert [orjson.loads(line)["id"] for line in letter.payload.splitlines()] == ids
        assert "ConnectionError" in letter.error
        assert read_count(tmp_path / "flaky.count") == 3  # one try and RETRY_MAX retries

    def test_permanent_failure_is_dead_lettered_at_once(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker]
    ) -> None:
        """A permanent error in the worker dead-letters the batch on the first attempt, without retrying."""
        config = {
            "DELIVERY": "celery",
            "BACKENDS": {"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}},
        }
        hub(**config)
        worker = start_worker(config)
        with unit_of_work.unit_of_work():
            emit(EVENT, ENROLLMENT)
        [letter] = dead_letters()
        assert (letter.reason, letter.attempts) == (DeadLetter.Reason.PERMANENT, 1)
        assert "retry: Retry in" not in worker.log()

    def test_a_failing_backend_never_makes_another_send_twice(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """With one backend failing through all its retries, the other gets each event exactly once."""
        log = tmp_path / "good.log"
        config = {
            "DELIVERY": "celery",
            "RETRY_BACKOFF_SECONDS": 0.1,
            "RETRY_MAX": 2,
            "BACKENDS": {"good": jsonl_config(log), "flaky": flaky(tmp_path, failures=10**6)},
        }
        hub(**config)
        start_worker(config, concurrency=2)
        assert Client().get("/emit/?count=5").status_code == 200
        [letter] = dead_letters()
        assert letter.backend == "flaky"
        ids = [orjson.loads(line)["id"] for line in read_lines(log)]
        assert len(ids) == 5
        assert len(set(ids)) == 5
        assert sorted(ids) == sorted(orjson.loads(line)["id"] for line in letter.payload.splitlines())


class TestAcksLate:
    def test_batch_of_a_killed_worker_is_delivered_by_the_next(
        self, hub: Callable[..., Any], publisher: Celery, start_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """A worker SIGKILLed inside a batch leaves it unacked; the next worker delivers it, same ids."""
        log = tmp_path / "tracking.log"
        started = tmp_path / "started"
        slow = {
            "ENGINE": "tests.support_backends.SlowBackend",
            "OPTIONS": {"path": str(log), "started": str(started), "seconds": 120},
        }
        hub(DELIVERY="celery", BACKENDS={"log": slow})
        env = {"EVENT_HUB_TEST_TRANSPORT_OPTIONS": FAST_RESTORE}
        first = start_worker({"DELIVERY": "celery", "BACKENDS": {"log": slow}}, extra_env=env)
        with unit_of_work.unit_of_work():
            ids = [emit(EVENT, ENROLLMENT).id for _ in range(3)]  # type: ignore[union-attr]
        wait_for(started.exists, what="the first worker to enter the batch")
        first.kill()
        assert read_lines(log) == []
        second = start_worker({"DELIVERY": "celery", "BACKENDS": {"log": jsonl_config(log)}}, extra_env=env)
        lines = wait_for(
            lambda: read_lines(log), timeout=VISIBILITY_TIMEOUT + 20, what="the redelivered batch"
        )
        assert [orjson.loads(line)["id"] for line in lines] == ids
        second.wait_for_log("succeeded")
        time.sleep(VISIBILITY_TIMEOUT + 1)  # the acked message is not restored once more
        assert len(read_lines(log)) == 3
