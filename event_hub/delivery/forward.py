"""One step on for a batch: hold and publish it (``celery``), or deliver it here (``sync``).

Used by the hand-off, the spool publisher and the outbox republisher, so all
three take the same step and report it the same way. In ``celery`` mode the
batch is first held in the outbox until a worker confirms it
(:func:`~event_hub.delivery.outbox.hold`), then published: the broker may lose
a message, the outbox publishes it again.
"""

from __future__ import annotations

import attrs

from event_hub import metrics
from event_hub.conf import hub_settings
from event_hub.delivery import outbox
from event_hub.delivery.attempt import backoff_seconds, settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.delivery.broker import broker
from event_hub.exceptions import BrokerUnavailableError, HandOffError


@attrs.frozen
class Forwarded:
    """What became of a batch sent on once.

    ``kind`` is ``sent`` (held and published), ``delivered``, ``dead``
    (dead-lettered), ``retried`` (failed retryably: retry after ``delay``),
    ``failed`` (held, but the broker is unavailable) or ``unheld`` (the outbox
    could not hold it: the database is unavailable; nothing was published).
    """

    kind: str
    attempts: int
    error: str = ""
    delay: float = 0.0


def forward(batch: Batch, *, attempts: int, held: bool = False) -> Forwarded:
    """Send ``batch`` one step on, by the configured ``DELIVERY`` mode (``held``: the outbox has it)."""
    if hub_settings.DELIVERY == "sync":
        outcome = try_deliver(batch)
        metrics.delivered(batch.backend, outcome.delivered, batch.age())
        made = attempts + 1
        if settle(batch, outcome, attempts_made=made):
            return Forwarded(
                "retried", made, error=str(outcome.error), delay=backoff_seconds(attempts, batch, outcome)
            )
        return Forwarded("dead" if outcome.error else "delivered", made)
    if not held:
        try:
            outbox.hold(batch, attempts=attempts)
        except HandOffError as exc:
            return Forwarded("unheld", attempts, error=str(exc))
    try:
        broker.publish(batch, retries=attempts)
    except BrokerUnavailableError as exc:
        return Forwarded("failed", attempts, error=str(exc))
    return Forwarded("sent", attempts)
