"""Sending on the outbox's due batches: parked ones, and held ones no worker confirmed in time.

:func:`republish` is run by the ``event_hub.republish_outbox`` periodic task, by
``manage.py event_hub_outbox publish`` and by the spool's publisher thread. In
``celery`` mode a due row is published again and kept, due once more
``CONFIRM_TIMEOUT_SECONDS`` later, until a worker confirms it; in ``sync`` mode
it is delivered here and deleted when delivered or dead-lettered. Rows are
locked with ``SKIP LOCKED``, so several processes share the work.
"""

from __future__ import annotations

import datetime
from typing import Any

import attrs
from django.db import transaction
from django.utils import timezone

from event_hub.conf import hub_settings
from event_hub.delivery.batch import Batch
from event_hub.delivery.forward import Forwarded, forward
from event_hub.models import OutboxBatch


@attrs.frozen
class RepublishReport:
    """What one :func:`republish` run did."""

    sent: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    failed: int = 0
    remaining: int = 0


def send_on(row: OutboxBatch) -> Forwarded:
    """Send one outbox row's batch on and update the row (call with the row locked).

    Published: kept, due again after the confirmation timeout. Delivered here or
    dead-lettered: deleted. Failed: kept with the error, due after the backoff.
    """
    batch = Batch.from_payload(row.backend, row.payload, row.id.hex)
    outcome = forward(batch, attempts=row.attempts, held=True)
    if outcome.kind in ("delivered", "dead"):
        row.delete()
        return outcome
    if outcome.kind == "sent":  # kept until a worker confirms it
        row.attempts += 1
        row.last_error = "awaiting confirmation"
        delay = float(hub_settings.CONFIRM_TIMEOUT_SECONDS)
    else:
        row.attempts = outcome.attempts
        row.last_error = outcome.error[:10000]
        delay = outcome.delay
    row.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
    row.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
    return outcome


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
            outcome = send_on(row)
            counts[outcome.kind] += 1
            if outcome.kind == "failed":
                break  # the broker is still down: stop here rather than fail every row
    counts["remaining"] = OutboxBatch.objects.count()
    return RepublishReport(**counts)
