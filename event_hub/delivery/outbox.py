"""The outbox: a database table where batches wait when they cannot go on now.

A batch is parked here when the broker refuses a publish (``celery`` mode) or
when in-process delivery failed with a retryable error (``sync`` mode).
:func:`republish` (run by the ``event_hub.republish_outbox`` periodic task and
by ``manage.py event_hub_outbox publish``) sends parked batches on.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import attrs
from django.db import DatabaseError, transaction
from django.utils import timezone

from event_hub.conf import hub_settings
from event_hub.delivery.batch import Batch
from event_hub.delivery.forward import forward
from event_hub.exceptions import HandOffError
from event_hub.models import OutboxBatch

logger = logging.getLogger(__name__)


def park(batch: Batch, *, error: str, attempts: int = 0, delay: float = 0.0) -> None:
    """Store ``batch`` for later; raise :class:`HandOffError` if the database refuses it."""
    try:
        OutboxBatch.objects.update_or_create(
            id=batch.id,
            defaults={
                "backend": batch.backend,
                "payload": batch.payload,
                "event_count": len(batch),
                "attempts": attempts,
                "last_error": error[:10000],
                "next_attempt_at": timezone.now() + datetime.timedelta(seconds=delay),
            },
        )
    except DatabaseError as exc:
        raise HandOffError(
            f"batch {batch.id} to {batch.backend} could not be parked ({error}): {exc}"
        ) from exc
    logger.warning(
        "batch %s (%d events) to %s parked in the outbox: %s", batch.id, len(batch), batch.backend, error
    )


@attrs.frozen
class RepublishReport:
    """What one :func:`republish` run did."""

    sent: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    failed: int = 0
    remaining: int = 0


def republish(limit: int | None = None) -> RepublishReport:
    """Send due outbox batches on: publish them (``celery``) or deliver them here (``sync``)."""
    limit = hub_settings.OUTBOX_REPUBLISH_LIMIT if limit is None else limit
    counts: dict[str, Any] = {"sent": 0, "delivered": 0, "retried": 0, "dead": 0, "failed": 0}
    with transaction.atomic():
        due = (
            OutboxBatch.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=timezone.now())
            .order_by("next_attempt_at", "created_at")[:limit]
        )
        for row in due:
            batch = Batch.from_payload(row.backend, row.payload, row.id.hex)
            outcome = forward(batch, attempts=row.attempts)
            counts[outcome.kind] += 1
            if outcome.kind in ("sent", "delivered", "dead"):
                row.delete()
            else:
                row.attempts = outcome.attempts
                row.last_error = outcome.error[:10000]
                row.next_attempt_at = timezone.now() + datetime.timedelta(seconds=outcome.delay)
                row.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
                if outcome.kind == "failed":
                    # The broker is still down: stop here rather than fail every row.
                    break
    counts["remaining"] = OutboxBatch.objects.count()
    return RepublishReport(**counts)
