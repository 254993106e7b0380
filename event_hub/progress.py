"""The workers' last word per backend: the newest batch each backend was seen to deliver.

:func:`note_delivered` is called by the delivery path after a backend delivered a batch; it
keeps one row per backend (:class:`~event_hub.models.DeliveryProgress`), written at most once
every :data:`WRITE_EVERY_SECONDS` per backend and process, so the cost is one small UPDATE per
second at most, whatever the rate. ``manage.py event_hub_status`` reads it to tell a stalled
pipeline (events waiting, nothing delivered for minutes) from a quiet one. Never raises: a
database that refuses the row costs a warning, never a batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from django.db import DatabaseError
from django.utils import timezone

from event_hub.conf import on_reload
from event_hub.models import DeliveryProgress

logger = logging.getLogger(__name__)

#: A process writes a backend's row at most this often (the status is accurate to about this).
WRITE_EVERY_SECONDS = 1.0

_last_write: dict[str, float] = {}
_lock = threading.Lock()


@on_reload
def forget() -> None:
    """Write the next delivery of every backend (settings changed; tests start clean)."""
    with _lock:
        _last_write.clear()


def note_delivered(backend: str, batch_id: str, count: int) -> bool:
    """Remember that ``backend`` delivered batch ``batch_id`` of ``count`` events just now.

    Returns True when the row was written (False: written less than a second ago, or refused).
    """
    now = time.monotonic()
    with _lock:
        last = _last_write.get(backend)
        if last is not None and now - last < WRITE_EVERY_SECONDS:
            return False
        _last_write[backend] = now
    try:
        DeliveryProgress.objects.update_or_create(
            backend=backend,
            defaults={"batch_id": str(batch_id), "event_count": count, "delivered_at": timezone.now()},
        )
    except DatabaseError as exc:
        logger.warning("cannot record the delivery of batch %s to %s: %s", batch_id, backend, exc)
        return False
    return True


def last_deliveries(backends: Iterable[str] | None = None) -> dict[str, DeliveryProgress]:
    """The newest recorded delivery of each backend (of ``backends`` only, when given)."""
    rows = DeliveryProgress.objects.all()
    if backends is not None:
        rows = rows.filter(backend__in=list(backends))
    return {row.backend: row for row in rows}
