"""One delivery attempt: backoff delays and what settle() decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from event_hub.delivery.attempt import Attempt, backoff_seconds, settle
from event_hub.delivery.batch import Batch
from event_hub.delivery.handoff import forward
from event_hub.exceptions import PermanentDeliveryError, RetryableDeliveryError
from event_hub.models import DeadLetter
from tests.support_backends import wire_line

BATCH = Batch(backend="memory", lines=[b'{"id":"a"}', b'{"id":"b"}'])


class TestBackoff:
    def test_delay_doubles_and_stays_between_half_and_full(self, memory_hub: Callable[..., None]) -> None:
        """Retry n waits between half and all of RETRY_BACKOFF_SECONDS * 2**n (float settings work)."""
        memory_hub(RETRY_BACKOFF_SECONDS=0.5, RETRY_BACKOFF_MAX_SECONDS=600.0)
        for retries in range(5):
            ceiling = 0.5 * 2**retries
            delays = [backoff_seconds(retries) for _ in range(50)]
            assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
            assert len(set(delays)) > 1  # jittered

    def test_delay_is_capped(self, memory_hub: Callable[..., None]) -> None:
        """No delay exceeds RETRY_BACKOFF_MAX_SECONDS, however many retries came before."""
        memory_hub(RETRY_BACKOFF_SECONDS=2.0, RETRY_BACKOFF_MAX_SECONDS=30.0)
        assert all(15.0 <= backoff_seconds(retries) <= 30.0 for retries in (10, 100, 10_000))


@pytest.mark.django_db
class TestSettle:
    def test_retryable_error_is_retried_up_to_retry_max(self, memory_hub: Callable[..., None]) -> None:
        """With RETRY_MAX=2, failed attempts 1 and 2 are retried and attempt 3 is dead-lettered."""
        memory_hub(RETRY_MAX=2)
        failed = Attempt(error=RetryableDeliveryError("down"))
        assert settle(BATCH, failed, attempts_made=1) is True
        assert settle(BATCH, failed, attempts_made=2) is True
        assert DeadLetter.objects.count() == 0
        assert settle(BATCH, failed, attempts_made=3) is False
        letter = DeadLetter.objects.get()
        assert (letter.reason, letter.attempts, letter.event_count) == (
            DeadLetter.Reason.RETRIES_EXHAUSTED,
            3,
            2,
        )

    def test_permanent_error_is_never_retried(self, memory_hub: Callable[..., None]) -> None:
        """A permanent error dead-letters on the first attempt."""
        assert settle(BATCH, Attempt(error=PermanentDeliveryError("no")), attempts_made=1) is False
        assert DeadLetter.objects.get().reason == DeadLetter.Reason.PERMANENT

    def test_success_records_nothing(self, memory_hub: Callable[..., None]) -> None:
        """A delivered batch is neither retried nor dead-lettered."""
        assert settle(BATCH, Attempt(delivered=2), attempts_made=1) is False
        assert DeadLetter.objects.count() == 0

    def test_sync_forward_dead_letters_after_the_last_retry(
        self, hub: Callable[..., Any], tmp_path: Any
    ) -> None:
        """forward() in sync mode turns the (RETRY_MAX+1)th retryable failure into a dead letter."""
        hub(
            DELIVERY="sync",
            RETRY_MAX=1,
            BACKENDS={
                "flaky": {
                    "ENGINE": "tests.support_backends.FlakyBackend",
                    "OPTIONS": {
                        "path": str(tmp_path / "log"),
                        "counter": str(tmp_path / "n"),
                        "failures": 99,
                    },
                }
            },
        )
        batch = Batch(backend="flaky", lines=[wire_line("a")])
        assert forward(batch, attempts=0).kind == "retried"
        outcome = forward(batch, attempts=1)
        assert (outcome.kind, outcome.attempts) == ("dead", 2)
        assert DeadLetter.objects.get().reason == DeadLetter.Reason.RETRIES_EXHAUSTED
