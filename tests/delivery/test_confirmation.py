"""Delivery that does not depend on the broker keeping its promise: held, confirmed, published again.

A batch published in ``celery`` mode is held in the outbox until the delivery
task confirms it settled. A message the broker loses is published again from
the outbox; a batch delivered twice is written once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from celery import Celery
from django.utils import timezone

from event_hub import emit
from event_hub.delivery import outbox, unit_of_work
from event_hub.delivery.republish import republish
from event_hub.models import OutboxBatch
from tests.conftest import ENROLLMENT, Worker
from tests.support_backends import celery_app, flaky, jsonl_config, read_lines, wait_for

EVENT = "edx.course.enrollment.activated"


@pytest.fixture(name="publisher")
def fixture_publisher() -> Iterator[Celery]:
    with celery_app() as app:
        yield app


def make_due() -> None:
    """Pretend the confirmation timeout passed for every held batch."""
    OutboxBatch.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


def emitted(count: int) -> list[str]:
    """Emit ``count`` events in one unit of work (one batch); their ids."""
    with unit_of_work.unit_of_work():
        return [emit(EVENT, ENROLLMENT).id for _ in range(count)]  # type: ignore[union-attr]


@pytest.mark.django_db
class TestHoldAndConfirm:
    def test_confirm_and_postpone(self, hub: Callable[..., Any]) -> None:
        """hold keeps a row due after the timeout; postpone moves it past a retry; confirm deletes it."""
        from event_hub.delivery.batch import Batch
        from tests.support_backends import wire_line

        hub(CONFIRM_TIMEOUT_SECONDS=30)
        batch = Batch(backend="log", lines=[wire_line("a")])
        before = timezone.now()
        outbox.hold(batch)
        row = OutboxBatch.objects.get()
        assert row.next_attempt_at >= before + datetime.timedelta(seconds=30)
        outbox.postpone(batch.id, 600, error="rate limited", attempts=1)
        row.refresh_from_db()
        assert row.next_attempt_at >= before + datetime.timedelta(seconds=630)
        assert (row.attempts, row.last_error) == (1, "rate limited")
        other = Batch(backend="log", lines=[wire_line("b")])
        outbox.hold(other)
        assert outbox.confirm(batch.id) is True
        assert outbox.confirm(batch.id) is False
        assert [row.hex for row in OutboxBatch.objects.values_list("id", flat=True)] == [other.id]  # that one


    def test_storing_a_batch_again_replaces_its_row(self, hub: Callable[..., Any]) -> None:
        """A batch held, then parked under the same id (a spool window cut again, a retry) is one row,
        with the later values and its first creation time."""
        from event_hub.delivery.batch import Batch
        from tests.support_backends import wire_line

        batch = Batch(backend="log", lines=[wire_line("a")])
        outbox.hold(batch)
        first = OutboxBatch.objects.get()
        outbox.park(batch, error="broker down", attempts=3, delay=60)
        row = OutboxBatch.objects.get()
        assert (row.id, row.attempts, row.last_error, row.event_count) == (first.id, 3, "broker down", 1)
        assert row.created_at == first.created_at
        assert row.updated_at >= first.updated_at
        assert row.next_attempt_at != first.next_attempt_at
        assert row.payload == batch.payload


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
class TestBrokerLosesTheMessage:
    def test_lost_message_is_published_again_and_delivered_once(
        self,
        hub: Callable[..., Any],
        publisher: Celery,
        purge_broker: Callable[[], None],
        start_worker: Callable[..., Worker],
        tmp_path: Path,
    ) -> None:
        """The broker drops the published batch (as Redis does for a worker's main process killed after
        fetching it): the outbox still holds it, publishes it again when the confirmation is late, and a
        worker delivers it and confirms it."""
        log = tmp_path / "tracking.log"
        config = {"DELIVERY": "celery", "HANDOFF": "direct", "BACKENDS": {"log": jsonl_config(log)}}
        hub(**config)
        ids = emitted(3)
        held = OutboxBatch.objects.get()
        purge_broker()  # the message is gone
        make_due()
        assert republish().sent == 1
        start_worker(config)
        lines = wait_for(lambda: read_lines(log), what="the republished batch")
        assert [orjson.loads(line)["id"] for line in lines] == ids
        wait_for(lambda: not OutboxBatch.objects.filter(id=held.id).exists(), what="the confirmation")

    def test_batch_delivered_twice_is_written_once(
        self,
        hub: Callable[..., Any],
        publisher: Celery,
        start_worker: Callable[..., Worker],
        tmp_path: Path,
    ) -> None:
        """A confirmation that comes late: the batch is published a second time while the first message
        still waits; the worker delivers both and the file holds the batch once."""
        log = tmp_path / "tracking.log"
        config = {"DELIVERY": "celery", "HANDOFF": "direct", "BACKENDS": {"log": jsonl_config(log)}}
        hub(**config)
        ids = emitted(4)
        make_due()
        assert republish().sent == 1
        worker = start_worker(config)
        worker.wait_for_log("succeeded", count=2)
        assert [orjson.loads(line)["id"] for line in read_lines(log)] == ids
        assert not OutboxBatch.objects.exists()

    def test_retry_postpones_the_republish(
        self,
        hub: Callable[..., Any],
        publisher: Celery,
        start_worker: Callable[..., Worker],
        tmp_path: Path,
    ) -> None:
        """While a worker retries a failing batch, the outbox row waits past the retry's countdown, and the
        row is gone once the retry delivered it."""
        backend = flaky(tmp_path, failures=1)
        config = {
            "DELIVERY": "celery",
            "HANDOFF": "direct",
            "RETRY_BACKOFF_SECONDS": 4,
            "CONFIRM_TIMEOUT_SECONDS": 30,
            "BACKENDS": {"flaky": backend},
        }
        hub(**config)
        emitted(2)
        held = OutboxBatch.objects.get()
        worker = start_worker(config)
        worker.wait_for_log("will retry")
        postponed = wait_for(
            lambda: OutboxBatch.objects.filter(id=held.id, attempts=1).first(), what="the postponed row"
        )
        assert postponed.next_attempt_at > held.next_attempt_at
        assert "flaky backend" in postponed.last_error
        worker.wait_for_log("succeeded")
        wait_for(lambda: not OutboxBatch.objects.filter(id=held.id).exists(), what="the confirmation")
        assert len(read_lines(tmp_path / "flaky.log")) == 2
