"""The outbox: the database table of batches not yet confirmed delivered.

Delivery must not depend on the broker keeping its promise (a worker's main
process killed on Redis loses the messages it had fetched). So in ``celery``
mode a batch is *held* here before it is published (:func:`hold`: a row due
``CONFIRM_TIMEOUT_SECONDS`` later) and the delivery task *confirms* it when the
batch is settled — delivered, or dead-lettered (:func:`confirm` deletes the
row) — or *postpones* it while its own retry is scheduled (:func:`postpone`).
A row still there when it is due is published again by
:mod:`~event_hub.delivery.republish`, under the same batch id: backends write a
batch once (the file backend's ledger) or drop repeated event ids, so
at-least-once delivery becomes effectively once at the sink.

A batch is also *parked* here (:func:`park`, due at once or after a backoff)
when the broker refuses a publish or an in-process (``sync``) delivery failed
retryably.
"""

from __future__ import annotations

import datetime
import logging

from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from event_hub.conf import hub_settings
from event_hub.delivery.batch import Batch
from event_hub.exceptions import HandOffError
from event_hub.models import OutboxBatch

logger = logging.getLogger(__name__)


def hold(batch: Batch, *, attempts: int = 0) -> None:
    """Keep ``batch`` until a worker confirms it (due ``CONFIRM_TIMEOUT_SECONDS`` from now).

    Raises :class:`HandOffError` if the database refuses it.
    """
    _store(batch, error="", attempts=attempts, delay=float(hub_settings.CONFIRM_TIMEOUT_SECONDS))


def confirm(batch_id: str) -> bool:
    """The batch is settled (delivered or dead-lettered): forget it. ``False`` when it was not held.

    Raises :class:`HandOffError` if the database cannot be reached (the batch will be
    published again when due; its backend drops the repeat).
    """
    # One DELETE statement: the ORM's delete (a collector, a transaction around it) took ~510 µs per
    # batch on PostgreSQL over loopback where this takes ~160 µs, and every delivery task pays it.
    # No model signals are sent for outbox rows.
    connection = connections[router.db_for_write(OutboxBatch)]
    meta = OutboxBatch._meta
    table, key = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    sql = f"DELETE FROM {table} WHERE {key} = %s"  # names from the model, the id a parameter
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [meta.pk.get_db_prep_value(batch_id, connection)])
            deleted = cursor.rowcount
    except DatabaseError as exc:
        raise HandOffError(f"cannot confirm batch {batch_id}: {exc}") from exc
    return deleted > 0


def postpone(batch_id: str, seconds: float, *, error: str, attempts: int) -> None:
    """A worker retries the batch in ``seconds``: publish it again only if that retry is lost too.

    Raises :class:`HandOffError` if the database cannot be reached.
    """
    due = timezone.now() + datetime.timedelta(seconds=seconds + float(hub_settings.CONFIRM_TIMEOUT_SECONDS))
    try:
        OutboxBatch.objects.filter(id=batch_id).update(
            next_attempt_at=due, attempts=attempts, last_error=error[:10000], updated_at=timezone.now()
        )
    except DatabaseError as exc:
        raise HandOffError(f"cannot postpone batch {batch_id}: {exc}") from exc


def park(batch: Batch, *, error: str, attempts: int = 0, delay: float = 0.0) -> None:
    """Store ``batch`` for later; raise :class:`HandOffError` if the database refuses it."""
    _store(batch, error=error, attempts=attempts, delay=delay)
    logger.warning(
        "batch %s (%d events) to %s parked in the outbox: %s", batch.id, len(batch), batch.backend, error
    )


#: What storing a batch again (the same id: a spool window cut again, a retry parked) replaces.
_STORED_FIELDS = (
    "backend", "payload", "event_count", "attempts", "last_error", "next_attempt_at", "updated_at",
)  # fmt: skip


def _store(batch: Batch, *, error: str, attempts: int, delay: float) -> None:
    row = OutboxBatch(
        id=batch.id,
        backend=batch.backend,
        payload=batch.payload,
        event_count=len(batch),
        attempts=attempts,
        last_error=error[:10000],
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay),
    )
    # One upsert statement (INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE): every publish holds its
    # batch here, and update_or_create's SELECT ... FOR UPDATE, then INSERT, in a transaction cost
    # about twice the CPU (~920 against ~400 µs per batch on PostgreSQL, bench figures in the changelog).
    alias = router.db_for_write(OutboxBatch)
    # MySQL and MariaDB take no conflict target (ON DUPLICATE KEY UPDATE): the primary key is the only key.
    target = ["id"] if connections[alias].features.supports_update_conflicts_with_target else None
    try:
        # atomic: inside a caller's transaction a failure rolls back to a savepoint, leaving it usable.
        with transaction.atomic(using=alias):
            OutboxBatch.objects.using(alias).bulk_create(
                [row], update_conflicts=True, update_fields=_STORED_FIELDS, unique_fields=target
            )
    except DatabaseError as exc:
        raise HandOffError(
            f"batch {batch.id} to {batch.backend} could not be stored in the outbox ({error}): {exc}"
        ) from exc
