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

import logging
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from event_hub.delivery.replay import replay as _replay
from event_hub.delivery.republish import send_on
from event_hub.models import DeadLetter, OutboxBatch

logger = logging.getLogger(__name__)


def replay_dead_letter(letter: DeadLetter) -> bool:
    """Deliver ``letter`` again here; True when all of it was delivered (see ``deadletters.replay``)."""
    return bool(_replay(letter))


def send_outbox_batch(row: OutboxBatch) -> str:
    """Send one outbox batch on now; returns the outcome (``sent``, ``delivered``, ``dead``, ``retried``...).

    The row leaves the outbox when the batch was delivered here (or dead-lettered); a published
    batch stays until a worker confirms it (see :mod:`event_hub.delivery.outbox`); a failed one
    stays with the new error and next attempt time.
    """
    with transaction.atomic():
        locked = OutboxBatch.objects.select_for_update().filter(pk=row.pk).first()
        if locked is None:
            return "gone"
        return send_on(locked).kind


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
