"""What an operator can do to a stuck batch, in one place (the admin actions use it).

* :func:`replay_dead_letter` delivers a dead letter again in this process (the replay of
  ``manage.py event_hub_deadletters replay``).
* :func:`send_outbox_batch` sends one outbox batch on now (publish, or deliver in ``sync`` mode).
* :func:`discard` deletes rows after logging each one's payload at WARNING level, with who did it,
  so a discarded batch can still be found in the logs.

The delivery functions are imported here and nowhere else in the operator's tools, so moving
them in :mod:`event_hub.delivery` means changing this module only.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from event_hub.delivery import handoff
from event_hub.delivery.batch import Batch
from event_hub.delivery.deadletters import replay as _replay
from event_hub.models import DeadLetter, OutboxBatch

logger = logging.getLogger(__name__)


def replay_dead_letter(letter: DeadLetter) -> bool:
    """Deliver ``letter`` again here; True when all of it was delivered (see ``deadletters.replay``)."""
    return bool(_replay(letter))


def send_outbox_batch(row: OutboxBatch) -> str:
    """Send one outbox batch on now; returns the outcome (``sent``, ``delivered``, ``dead``, ``retried``...).

    The row leaves the outbox when the batch went on (or was dead-lettered); otherwise it stays
    with the new error and next attempt time.
    """
    with transaction.atomic():
        locked = OutboxBatch.objects.select_for_update().filter(pk=row.pk).first()
        if locked is None:
            return "gone"
        batch = Batch.from_payload(locked.backend, locked.payload, locked.id.hex)
        outcome = handoff.forward(batch, attempts=locked.attempts)
        if outcome.kind in ("sent", "delivered", "dead"):
            locked.delete()
        else:
            locked.attempts = outcome.attempts
            locked.last_error = outcome.error[:10000]
            locked.next_attempt_at = timezone.now() + datetime.timedelta(seconds=outcome.delay)
            locked.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
    return str(outcome.kind)


def discard(rows: QuerySet[Any], who: str) -> int:
    """Delete ``rows``, logging each one's payload first; how many were deleted."""
    count = 0
    for row in rows:
        logger.warning(
            "%s discarded %s %s by hand; payload follows:\n%s",
            who,
            row._meta.verbose_name,
            row.pk,
            row.payload,
        )
        row.delete()
        count += 1
    return count
