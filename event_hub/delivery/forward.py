"""One step on for a batch: publish it (``celery``) or deliver it here (``sync``).

Used by the hand-off, the spool publisher and the outbox republisher, so all
three take the same step and report it the same way.
"""

from __future__ import annotations

import attrs

from event_hub.conf import hub_settings
from event_hub.delivery.attempt import backoff_seconds, settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.delivery.broker import broker
from event_hub.exceptions import BrokerUnavailableError


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


def forward(batch: Batch, *, attempts: int) -> Forwarded:
    """Send ``batch`` one step on, by the configured ``DELIVERY`` mode."""
    if hub_settings.DELIVERY == "sync":
        outcome = try_deliver(batch)
        made = attempts + 1
        if settle(batch, outcome, attempts_made=made):
            return Forwarded(
                "retried", made, error=str(outcome.error), delay=backoff_seconds(attempts, batch, outcome)
            )
        return Forwarded("dead" if outcome.error else "delivered", made)
    try:
        broker.publish(batch, retries=attempts)
    except BrokerUnavailableError as exc:
        return Forwarded("failed", attempts, error=str(exc))
    return Forwarded("sent", attempts)
