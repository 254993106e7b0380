"""Hand-off: what a finished batch does.

With ``HANDOFF = "spool"`` (the default) the batch is appended to the process's
spool file with one write, and a thread of the process holds it in the outbox
and publishes it (:mod:`event_hub.delivery.spool`). With ``"direct"``, or when
the spool cannot be written, the request holds and publishes it itself
(:mod:`~event_hub.delivery.forward`); if the broker refuses, the batch is
parked in the outbox and, for ``BROKER_COOLDOWN_SECONDS``, further batches go
straight to the outbox instead of each waiting on a dead broker.

``sync`` mode delivers in this process; a retryable failure parks the batch
with a backoff delay, a permanent one dead-letters it.

:func:`hand_off` never raises: the caller's request must not fail because of
delivery. When the database refuses the batch (as a held, parked or dead-lettered
one), it is kept in the spool file (replayed automatically); only if that fails
too is the whole payload logged at CRITICAL level.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError

from event_hub import metrics
from event_hub.conf import hub_settings
from event_hub.delivery import outbox, spool
from event_hub.delivery.batch import Batch
from event_hub.delivery.broker import broker
from event_hub.delivery.forward import Forwarded, forward
from event_hub.exceptions import HandOffError

logger = logging.getLogger(__name__)

__all__ = ["Forwarded", "broker", "forward", "hand_off"]


def _spooled(batch: Batch, solo: bool = False) -> bool:
    """Append ``batch`` to the spool; ``False`` when it must go direct (the spool failed and said why)."""
    try:
        return spool.append(batch, solo)
    except Exception:
        logger.exception("unexpected error spooling batch %s; publishing it directly", batch.id)
        return False


def hand_off(batch: Batch) -> None:
    """Send a finished batch on, parking it when it cannot go now. Never raises.

    When the database can take neither the held row nor a parked one, the batch goes to the
    spool file as a last resort (replayed automatically once the database is back); only when
    even the spool cannot be written does the batch end as a CRITICAL log record.
    """
    started = time.perf_counter()
    try:
        if hub_settings.HANDOFF == "spool" and hub_settings.DELIVERY == "celery" and _spooled(batch):
            metrics.handoff_latency("spool", time.perf_counter() - started)
            return
        outcome = forward(batch, attempts=0)
        metrics.handoff_latency(outcome.kind, time.perf_counter() - started)
        if outcome.kind == "unheld":
            raise HandOffError(outcome.error)
        if outcome.kind in ("retried", "failed"):
            outbox.park(batch, error=outcome.error, attempts=outcome.attempts, delay=outcome.delay)
    except (HandOffError, DatabaseError) as exc:  # DatabaseError: a dead letter refused (sync delivery)
        # Solo: the outbox may hold it after all (the database answered too late), under this id.
        if _spooled(batch, solo=True):
            logger.error("%s; batch %s kept in the spool file %s", exc, batch.id, spool.current().path)
            return
        logger.critical("%s; payload follows:\n%s", exc, batch.payload)
    except Exception:
        logger.critical(
            "unexpected error handing off batch %s to %s; payload follows:\n%s",
            batch.id, batch.backend, batch.payload, exc_info=True,
        )
