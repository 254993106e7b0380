"""``manage.py event_hub_outbox list|publish``."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from event_hub.backends import memory
from event_hub.delivery import outbox
from event_hub.delivery.batch import Batch
from event_hub.models import OutboxBatch
from tests.support_backends import celery_app, wire_line


def park(count: int, *, delay: float = 0.0, error: str = "ConnectionError: down") -> Batch:
    batch = Batch(backend="memory", lines=[wire_line(f"e{n}") for n in range(count)])
    outbox.park(batch, error=error, delay=delay)
    return batch


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("event_hub_outbox", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
class TestList:
    def test_empty_outbox(self) -> None:
        """An empty outbox says so."""
        assert run("list")[0].strip() == "The outbox is empty."

    def test_lists_batches_with_totals(self, memory_hub: Callable[..., None]) -> None:
        """Each parked batch is a row (id, backend, events, due time, error); the last line sums them up."""
        due = park(3, error="Traceback (most recent call last):\n  ...\nOSError: disk full")
        later = park(2, delay=3600)
        out, _ = run("list")
        rows = out.splitlines()
        assert len(rows) == 4
        assert due.id in rows[1]
        assert "due now" in rows[1]
        assert "OSError: disk full" in rows[1]
        assert later.id in rows[2]
        assert "due now" not in rows[2]
        assert rows[3] == "2 batch(es), 5 event(s) in the outbox, 1 due now."

    def test_limit(self, memory_hub: Callable[..., None]) -> None:
        """--limit N shows the N next due batches and says how many there are."""
        for _ in range(3):
            park(1)
        out, _ = run("list", "--limit", "2")
        assert len(out.splitlines()) == 4
        assert out.splitlines()[-1].endswith("(first 2 shown).")

    def test_bad_arguments(self) -> None:
        """A missing action or a limit below 1 is a usage error."""
        with pytest.raises(CommandError):
            run()
        with pytest.raises(CommandError, match="at least 1"):
            run("list", "--limit", "0")


@pytest.mark.django_db
class TestPublish:
    def test_publish_delivers_due_batches_in_sync_mode(self, memory_hub: Callable[..., None]) -> None:
        """publish sends due batches on (here: delivers them in-process) and reports the counts."""
        park(2)
        park(1)
        park(1, delay=3600)
        out, _ = run("publish")
        assert out.strip() == (
            "sent 0, delivered 2, retried 0, dead-lettered 0, failed 0; 1 left in the outbox."
        )
        assert len(memory.events("memory")) == 3

    def test_publish_limit(self, memory_hub: Callable[..., None]) -> None:
        """publish --limit N sends at most N batches."""
        for _ in range(3):
            park(1)
        assert "delivered 1," in run("publish", "--limit", "1")[0]
        assert OutboxBatch.objects.count() == 2

    def test_broker_down_exits_non_zero_and_keeps_rows(self, hub: Callable[..., Any]) -> None:
        """With the broker down, publish reports the failure, exits with status 1 and keeps the batches."""
        hub(DELIVERY="celery", BACKENDS={"memory": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}})
        park(1)
        park(1)
        out = StringIO()
        with celery_app("redis://127.0.0.1:1/0"), pytest.raises(CommandError, match="unavailable") as caught:
            call_command("event_hub_outbox", "publish", stdout=out)
        assert caught.value.returncode == 1
        assert "failed 1; 2 left in the outbox." in out.getvalue()
        assert OutboxBatch.objects.count() == 2
