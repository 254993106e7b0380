"""Dead letters: recording never loses a batch silently; replay delivers again in-process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.db import DatabaseError, connection

from event_hub.backends import memory
from event_hub.delivery import deadletters
from event_hub.delivery.batch import Batch
from event_hub.delivery.replay import replay
from event_hub.models import DeadLetter
from tests.support_backends import jsonl_config, read_lines, wire_line


def lines(*ids: str, size: int = 0) -> list[bytes]:
    return [wire_line(event_id, {"text": "x" * size}) for event_id in ids]


def letter(backend: str, *ids: str, size: int = 0) -> DeadLetter:
    batch = Batch(backend=backend, lines=lines(*ids, size=size))
    return deadletters.record(batch, reason=DeadLetter.Reason.PERMANENT, error="test", attempts=1)


@pytest.mark.django_db
class TestRecord:
    def test_record_keeps_the_whole_batch(self) -> None:
        """A dead letter holds the batch id, backend, payload and counts."""
        batch = Batch(backend="b", lines=lines("1", "2"))
        deadletters.record(batch, reason=DeadLetter.Reason.RETRIES_EXHAUSTED, error="boom", attempts=9)
        row = DeadLetter.objects.get()
        assert (row.batch_id.hex, row.backend, row.event_count, row.attempts) == (batch.id, "b", 2, 9)
        assert Batch.from_payload("b", row.payload, row.batch_id.hex) == batch

    def test_refused_insert_is_logged_then_raised(self, caplog: pytest.LogCaptureFixture) -> None:
        """When the table refuses the row, the payload goes to the log and the error is raised (the caller
        keeps the batch: the task requeues its message, a sync hand-off spools it)."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {DeadLetter._meta.db_table}")
        batch = Batch(backend="b", lines=lines("lost?"))
        with caplog.at_level(logging.ERROR), pytest.raises(DatabaseError):
            deadletters.record(batch, reason=DeadLetter.Reason.PERMANENT, error="x", attempts=1)
        assert batch.payload in caplog.text


@pytest.mark.django_db
class TestReplay:
    def test_replay_delivers_and_marks_the_letter(self, memory_hub: Callable[..., None]) -> None:
        """A replayed letter's events reach the backend, and the letter is marked replayed."""
        dead = letter("memory", "a", "b")
        assert replay(dead) is True
        assert [event["id"] for event in memory.events("memory")] == ["a", "b"]
        dead.refresh_from_db()
        assert dead.replayed_at is not None
        assert dead.replay_attempts == 1
        assert list(deadletters.pending()) == []

    def test_failed_replay_keeps_the_letter_with_the_error(self, hub: Callable[..., Any]) -> None:
        """A replay that fails again leaves the letter pending, with the new error and one more attempt."""
        hub(DELIVERY="sync", BACKENDS={"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}})
        dead = letter("broken", "a")
        assert replay(dead) is False
        dead.refresh_from_db()
        assert dead.replayed_at is None
        assert dead.replay_attempts == 1
        assert "broken backend" in dead.last_replay_error
        assert [row.pk for row in deadletters.pending()] == [dead.pk]

    def test_partly_rejected_replay_keeps_only_the_rejected_events(
        self, hub: Callable[..., Any], tmp_path: Path
    ) -> None:
        """When some events are rejected again, the others are delivered once; the letter keeps the rest."""
        log = tmp_path / "log"
        hub(DELIVERY="sync", BACKENDS={"log": jsonl_config(log, max_event_bytes=1024)})
        big = lines("big", size=3000)[0]
        dead = deadletters.record(
            Batch(backend="log", lines=[*lines("a"), big, *lines("b")]),
            reason=DeadLetter.Reason.PERMANENT,
            error="x",
            attempts=1,
        )
        assert replay(dead) is False
        assert [orjson.loads(raw)["id"] for raw in read_lines(log)] == ["a", "b"]
        dead.refresh_from_db()
        assert (dead.payload.encode(), dead.event_count) == (big, 1)
        assert "max_event_bytes" in dead.last_replay_error
        assert replay(dead) is False
        assert len(read_lines(log)) == 2  # a and b are not sent twice

    def test_pending_filters_by_backend_and_id(self, memory_hub: Callable[..., None]) -> None:
        """pending() and count_pending() select by backend and by id, oldest first."""
        first, second, third = letter("x", "1"), letter("y", "2"), letter("x", "3")
        assert [row.pk for row in deadletters.pending()] == [first.pk, second.pk, third.pk]
        assert [row.pk for row in deadletters.pending("x")] == [first.pk, third.pk]
        assert [row.pk for row in deadletters.pending(ids=[second.pk, third.pk])] == [second.pk, third.pk]
        assert deadletters.count_pending("x", [third.pk]) == 1
