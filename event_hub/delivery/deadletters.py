"""Dead letters: batches (or single events) that could not be delivered.

Recording never loses the batch silently: if the database refuses the row, the
error is raised to the caller after logging the whole payload; the caller keeps
the batch (the Celery task requeues its message, a ``sync`` hand-off spools it).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator

from django.db import DatabaseError, transaction
from django.db.models import QuerySet

from event_hub.delivery.batch import Batch
from event_hub.models import DeadLetter

logger = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    """Error text for the table: the message and the chain of causes with their tracebacks."""
    return "".join(traceback.format_exception(error)).strip()


def record(batch: Batch, *, reason: str, error: str, attempts: int) -> DeadLetter:
    """Store ``batch`` as a dead letter.

    The insert runs in its own savepoint: when it fails, a transaction the
    caller has open is not left broken.
    """
    try:
        with transaction.atomic():
            return DeadLetter.objects.create(
                batch_id=batch.id,
                backend=batch.backend,
                payload=batch.payload,
                event_count=len(batch),
                reason=reason,
                error=error,
                attempts=attempts,
            )
    except DatabaseError:
        logger.error(
            "cannot store dead letter for batch %s to %s; payload follows:\n%s",
            batch.id, batch.backend, batch.payload,
        )
        raise


def _pending(backend: str | None, ids: Iterable[int] | None) -> QuerySet[DeadLetter]:
    queryset = DeadLetter.objects.filter(replayed_at__isnull=True)
    if backend:
        queryset = queryset.filter(backend=backend)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset


def pending(backend: str | None = None, ids: Iterable[int] | None = None) -> Iterator[DeadLetter]:
    """Dead letters not replayed yet, oldest first."""
    return _pending(backend, ids).order_by("created_at", "id").iterator(chunk_size=200)


def count_pending(backend: str | None = None, ids: Iterable[int] | None = None) -> int:
    """How many dead letters :func:`pending` would give."""
    return _pending(backend, ids).count()
