"""The outbox: parked batches are republished (celery) or delivered (sync) when due."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_hub.backends import memory
from event_hub.delivery import handoff, outbox
from event_hub.delivery.batch import Batch
from event_hub.delivery.republish import republish
from event_hub.models import DeadLetter, OutboxBatch
from tests.conftest import Worker
from tests.support_backends import celery_app, jsonl_config, read_lines, wait_for, wire_line

DEAD_BROKER = "redis://127.0.0.1:1/0"


def park(count: int, *, backend: str = "memory", delay: float = 0.0, attempts: int = 0) -> Batch:
    """Park a batch of ``count`` events, due in ``delay`` seconds."""
    batch = Batch(
        backend=backend, lines=[wire_line(f"{backend}-{n}", {"n": n}) for n in range(count)]
    )
    outbox.park(batch, error="test", attempts=attempts, delay=delay)
    return batch


@pytest.mark.django_db
class TestRepublishSync:
    def test_due_batches_are_delivered_and_deleted(self, memory_hub: Callable[..., None]) -> None:
        """In sync mode republish delivers every due batch in this process and deletes its row."""
        park(2)
        park(3)
        report = republish()
        assert (report.delivered, report.sent, report.failed, report.remaining) == (2, 0, 0, 0)
        assert len(memory.events("memory")) == 5
        assert OutboxBatch.objects.count() == 0

    def test_batches_not_due_are_skipped(self, memory_hub: Callable[..., None]) -> None:
        """A batch whose next_attempt_at is in the future stays parked, untouched."""
        later = park(2, delay=60)
        park(1)
        report = republish()
        assert (report.delivered, report.remaining) == (1, 1)
        row = OutboxBatch.objects.get()
        assert row.id.hex == later.id
        assert row.attempts == 0
        assert len(memory.events("memory")) == 1

    def test_limit_bounds_one_run(self, memory_hub: Callable[..., None]) -> None:
        """republish(limit=2) sends the two oldest due batches and leaves the rest."""
        for _ in range(5):
            park(1)
        assert republish(limit=2).delivered == 2
        assert OutboxBatch.objects.count() == 3

    def test_failing_again_counts_attempts_and_backs_off(
        self, hub: Callable[..., Any], tmp_path: Path
    ) -> None:
        """A batch that fails again keeps its row with one more attempt and a later due time."""
        hub(
            DELIVERY="sync",
            RETRY_BACKOFF_SECONDS=30,
            BACKENDS={
                "flaky": {
                    "ENGINE": "tests.support_backends.FlakyBackend",
                    "OPTIONS": {"path": str(tmp_path / "log"), "counter": str(tmp_path / "n"), "failures": 1},
                }
            },
        )
        park(2, backend="flaky", attempts=1)
        report = republish()
        assert (report.retried, report.remaining) == (1, 1)
        row = OutboxBatch.objects.get()
        assert row.attempts == 2
        assert "ConnectionError" in row.last_error
        assert republish().retried == 0  # not due again yet
        OutboxBatch.objects.update(next_attempt_at=row.created_at)
        assert republish().delivered == 1
        assert len(read_lines(tmp_path / "log")) == 2

    def test_exhausted_retries_are_dead_lettered(self, hub: Callable[..., Any]) -> None:
        """A parked batch that fails its last allowed attempt moves to the dead letters."""
        hub(
            DELIVERY="sync",
            RETRY_MAX=3,
            BACKENDS={"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}},
        )
        park(1, backend="broken", attempts=3)
        assert republish().dead == 1
        assert OutboxBatch.objects.count() == 0
        assert DeadLetter.objects.get().attempts == 4


@pytest.mark.django_db
class TestRepublishBrokerDown:
    def test_broker_still_down_stops_and_keeps_rows(self, hub: Callable[..., Any]) -> None:
        """With the broker down, republish tries one batch, stops, and keeps every row as it was."""
        hub(DELIVERY="celery", BACKENDS={"memory": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}})
        for _ in range(3):
            park(1, attempts=2)
        with celery_app(DEAD_BROKER):
            report = republish()
        assert (report.failed, report.sent, report.remaining) == (1, 0, 3)
        assert sorted(OutboxBatch.objects.values_list("attempts", flat=True)) == [2, 2, 2]
        assert "Connection refused" in OutboxBatch.objects.order_by("-updated_at")[0].last_error
        assert handoff.broker.down_until > time.monotonic()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
class TestRepublishCelery:
    def test_republished_batches_reach_a_real_worker(
        self, hub: Callable[..., Any], start_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """In celery mode republish publishes to Redis and keeps the rows; a real worker delivers the
        batches and confirms them, which deletes the rows."""
        log = tmp_path / "tracking.log"
        config = {"DELIVERY": "celery", "BACKENDS": {"log": jsonl_config(log)}}
        hub(**config)
        first, second = park(2, backend="log"), park(3, backend="log")
        with celery_app():
            report = republish()
        assert (report.sent, report.remaining) == (2, 2)
        assert set(OutboxBatch.objects.values_list("last_error", flat=True)) == {"awaiting confirmation"}
        start_worker(config)
        lines = wait_for(lambda: len(read_lines(log)) >= 5 and read_lines(log), what="5 lines in the log")
        assert sorted(orjson.loads(line)["id"] for line in lines) == sorted(
            orjson.loads(line)["id"] for line in (*first.lines, *second.lines)
        )
        wait_for(lambda: not OutboxBatch.objects.exists(), what="the worker to confirm both batches")
