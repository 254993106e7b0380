"""``deliver_batch`` gives its message back to the broker when what became of the batch cannot be kept.

The task is called directly (no worker): a failure to record a dead letter, or to publish a retry
and park the batch, must end in ``Reject(requeue=True)``, never in a message acknowledged and gone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Reject
from django.db import DatabaseError

from event_hub.delivery import deadletters, outbox, tasks
from event_hub.delivery.tasks import deliver_batch
from event_hub.exceptions import HandOffError
from event_hub.models import DeadLetter, OutboxBatch
from tests.support_backends import flaky, wire_line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "REQUEUE_PAUSE", 0.0)


def payload(count: int = 2) -> str:
    return b"\n".join(wire_line(f"event-{index}") for index in range(count)).decode()


class TestRequeue:
    def test_dead_letter_refused_requeues(
        self, hub: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A permanent failure whose dead letter the database refuses goes back to the broker."""
        hub(DELIVERY="celery", BACKENDS={"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}})

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise DatabaseError("the database is down")

        monkeypatch.setattr(deadletters.DeadLetter.objects, "create", refuse)
        with pytest.raises(Reject) as raised:
            deliver_batch.run("broken", payload(), uuid.uuid4().hex)
        assert raised.value.requeue is True
        assert DeadLetter.objects.count() == 0

    def test_retry_neither_published_nor_parked_requeues(
        self, hub: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A retryable failure whose retry cannot be published, and which the outbox refuses, goes back."""
        hub(DELIVERY="celery", BACKENDS={"flaky": flaky(tmp_path, failures=5)})

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise HandOffError("the database is down")

        monkeypatch.setattr(outbox, "park", refuse)
        # Called directly, the task cannot publish its retry (Celery raises instead): it parks.
        with pytest.raises(Reject) as raised:
            deliver_batch.run("flaky", payload(), uuid.uuid4().hex)
        assert raised.value.requeue is True

    def test_retry_not_published_is_parked(self, hub: Callable[..., Any], tmp_path: Path) -> None:
        """With the database up, a retry that cannot be published is parked in the outbox, not requeued."""
        hub(DELIVERY="celery", BACKENDS={"flaky": flaky(tmp_path, failures=5)})
        batch_id = uuid.uuid4().hex
        deliver_batch.run("flaky", payload(3), batch_id)
        row = OutboxBatch.objects.get(id=batch_id)
        assert row.event_count == 3
        assert row.attempts == 1
        assert "flaky backend" in row.last_error
