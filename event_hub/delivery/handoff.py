"""Hand-off: a finished batch goes to the broker, or to the outbox when it can't.

``celery`` mode publishes one message per batch. If the broker refuses, the
batch is parked in the outbox and, for ``BROKER_COOLDOWN_SECONDS``, further
batches go straight to the outbox instead of each waiting on a dead broker.

``sync`` mode delivers in this process; a retryable failure parks the batch
with a backoff delay, a permanent one dead-letters it.

:func:`hand_off` never raises: the caller's request must not fail because of
delivery. When even the outbox refuses a batch, the whole payload is logged at
CRITICAL level so it can be recovered from the logs.
"""

from __future__ import annotations

import logging
import threading
import time

import attrs

from event_hub.conf import hub_settings, on_reload
from event_hub.delivery import outbox
from event_hub.delivery.attempt import backoff_seconds, settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.exceptions import BrokerUnavailableError, HandOffError

logger = logging.getLogger(__name__)


@attrs.frozen
class Forwarded:
    """What became of a batch sent on once.

    ``kind`` is ``sent`` (published), ``delivered``, ``dead`` (dead-lettered),
    ``retried`` (failed retryably: retry after ``delay``) or ``failed`` (broker
    unavailable).
    """

    kind: str
    attempts: int
    error: str = ""
    delay: float = 0.0


class _Broker:
    """Remembers a refused publish so the next ones skip the broker for a while."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_until = 0.0

    def publish(self, batch: Batch, retries: int) -> None:
        if time.monotonic() < self.down_until:
            raise BrokerUnavailableError("the broker refused a publish moments ago")
        from event_hub.delivery.tasks import deliver_batch

        options = {"queue": hub_settings.CELERY_QUEUE} if hub_settings.CELERY_QUEUE else {}
        try:
            deliver_batch.apply_async(
                args=(batch.backend, batch.payload, batch.id), retries=retries, retry=False, **options
            )
        except Exception as exc:  # noqa: BLE001 - any publish failure means: park the batch
            with self._lock:
                self.down_until = time.monotonic() + hub_settings.BROKER_COOLDOWN_SECONDS
            raise BrokerUnavailableError(f"{type(exc).__name__}: {exc}") from exc

    def reset(self) -> None:
        with self._lock:
            self.down_until = 0.0


broker = _Broker()
on_reload(broker.reset)


def forward(batch: Batch, *, attempts: int) -> Forwarded:
    """Send ``batch`` one step on, by the configured ``DELIVERY`` mode."""
    if hub_settings.DELIVERY == "sync":
        outcome = try_deliver(batch)
        made = attempts + 1
        if settle(batch, outcome, attempts_made=made):
            return Forwarded("retried", made, error=str(outcome.error), delay=backoff_seconds(attempts))
        return Forwarded("dead" if outcome.error else "delivered", made)
    try:
        broker.publish(batch, retries=attempts)
    except BrokerUnavailableError as exc:
        return Forwarded("failed", attempts, error=str(exc))
    return Forwarded("sent", attempts)


def hand_off(batch: Batch) -> None:
    """Send a finished batch on, parking it when it cannot go now. Never raises."""
    try:
        outcome = forward(batch, attempts=0)
        if outcome.kind in ("retried", "failed"):
            outbox.park(batch, error=outcome.error, attempts=outcome.attempts, delay=outcome.delay)
    except HandOffError as exc:
        logger.critical("%s; payload follows:\n%s", exc, batch.payload)
    except Exception:  # noqa: BLE001 - a bug here must not break the caller's request
        logger.critical(
            "unexpected error handing off batch %s to %s; payload follows:\n%s",
            batch.id, batch.backend, batch.payload, exc_info=True,
        )
