"""The invalid-events store: events that did not match the catalog, kept with the reason.

The catalog is never the reason an event is lost. By default an unknown or
invalid event is delivered as it came and its problem is noted here
(:func:`note_delivered`): counted every time (:data:`problem_counts`), stored
and logged at most once per event name and source every
``INVALID_SAMPLE_SECONDS``, so an XBlock emitting thousands of unknown events
cannot fill the table. When a setting holds such events back instead, each is
stored (:func:`record`) and never dropped without a trace. If the database
refuses the row, the event and its errors are logged at CRITICAL level instead.

The table is bounded, so clients cannot use it to fill the database:

* a client (its user, else its IP) gets at most ``INVALID_EVENTS_CLIENT_RATE`` held-back
  browser or mobile events stored per hour; the others are counted (:data:`refused_counts`,
  metrics) and logged once per client and hour, not stored (the client was answered 400);
* :func:`prune` deletes rows older than ``INVALID_EVENTS_RETENTION_DAYS`` and the oldest rows
  beyond ``INVALID_EVENTS_MAX_ROWS``; each process runs it every :data:`PRUNE_EVERY` rows it
  stores, and ``manage.py event_hub_invalid prune`` runs it on demand.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.core.cache import caches
from django.db import DatabaseError, transaction
from django.db.models import JSONField, Value
from django.utils import timezone

from event_hub import context as ctx
from event_hub import jsonio, metrics
from event_hub.conf import hub_settings, on_reload
from event_hub.models import InvalidEvent

logger = logging.getLogger(__name__)

#: Delivered events with a catalog problem, by (name, source), since this process started.
problem_counts: Counter[tuple[str, str]] = Counter()
_last_stored: dict[tuple[str, str], float] = {}
_sample_lock = threading.Lock()
#: Held-back client events not stored because their client exceeded its rate, by (name, source).
refused_counts: Counter[tuple[str, str]] = Counter()
#: A process prunes the table every this many rows it stores.
PRUNE_EVERY = 500
_stored_since_prune = 0
#: Sources whose held-back events are rate-limited per client (server code is trusted).
CLIENT_SOURCES = frozenset({"browser", "mobile"})
RATE_WINDOW_SECONDS = 3600


#: Containers nested deeper than this are stored as a placeholder string (orjson writes at most 254 levels).
MAX_STORED_DEPTH = 64
CLIPPED = "<nested too deeply to store>"


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON types (anything orjson cannot encode becomes its ``repr``).

    A value nested too deeply for orjson to write keeps its first :data:`MAX_STORED_DEPTH`
    levels; deeper containers become :data:`CLIPPED`.
    """
    try:
        encoded = jsonio.dumps(value, default=repr, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        encoded = jsonio.dumps(clip(value, MAX_STORED_DEPTH), default=repr, option=orjson.OPT_NON_STR_KEYS)
    # Integers beyond 64 bits stay exact (jsonio), never floats.
    return jsonio.loads(encoded)


def clip(value: Any, levels: int) -> Any:
    """A copy of ``value`` with the objects and arrays deeper than ``levels`` replaced by :data:`CLIPPED`."""
    if not isinstance(value, (dict, list, tuple)):
        return value
    if levels <= 0:
        return CLIPPED
    if isinstance(value, dict):
        return {key: clip(item, levels - 1) for key, item in value.items()}
    return [clip(item, levels - 1) for item in value]


@on_reload
def forget_samples() -> None:
    """Store the next problem of every event type again (settings changed)."""
    with _sample_lock:
        _last_stored.clear()


def note_delivered(
    *,
    name: str,
    source: str,
    payload: Any,
    errors: Mapping[str, Sequence[str]],
    user_id: int | None = None,
    path: str = "",
) -> InvalidEvent | None:
    """Count a catalog problem of an event that is delivered anyway; store a sample of it.

    Returns the stored row, or ``None`` when this one was only counted.
    """
    key = (name, source)
    now = time.monotonic()
    metrics.invalid(name, source, delivered=True)
    with _sample_lock:
        problem_counts[key] += 1
        last = _last_stored.get(key)
        if last is not None and now - last < float(hub_settings.INVALID_SAMPLE_SECONDS):
            return None
        _last_stored[key] = now
    return record(
        name=name, source=source, payload=payload, errors=errors, user_id=user_id, path=path, delivered=True
    )


def record(
    *,
    name: str,
    source: str,
    payload: Any,
    errors: Mapping[str, Sequence[str]],
    user_id: int | None = None,
    path: str = "",
    delivered: bool = False,
) -> InvalidEvent | None:
    """Store one invalid event; returns the row, or ``None`` when it was not stored.

    Not stored: the client exceeded ``INVALID_EVENTS_CLIENT_RATE`` (counted and logged once an
    hour), or the database refused the row (the event is logged at CRITICAL level).
    """
    if not delivered:
        metrics.invalid(name, source, delivered=False)
        if source in CLIENT_SOURCES and not _client_may_store(name, source, user_id):
            return None
    safe_payload = _json_safe(payload)
    safe_errors = {key: list(messages) for key, messages in errors.items()}
    logger.warning(
        "%s %s event %r recorded: %s", "delivered" if delivered else "invalid", source, name, safe_errors
    )
    try:
        # A savepoint: a refused row must not break the caller's open transaction.
        with transaction.atomic():
            row = InvalidEvent.objects.create(
                name=name[:255],
                event_source=source,
                # JSON null is stored as JSON, not as SQL NULL (which the column refuses).
                payload=Value(None, JSONField()) if safe_payload is None else safe_payload,
                errors=safe_errors,
                user_id=user_id,
                path=path[:2048],
                delivered=delivered,
            )
    except DatabaseError:
        logger.critical(
            "cannot store invalid %s event %r (errors %s); payload follows:\n%s",
            source,
            name,
            safe_errors,
            jsonio.dumps(safe_payload).decode(),
            exc_info=True,
        )
        return None
    _count_stored()
    return row


def _client_key(user_id: int | None) -> str:
    """The client a held-back event is charged to: its user, else the request's IP."""
    if user_id is not None:
        return f"user:{user_id}"
    request = ctx.current().request
    return f"ip:{request.ip}" if request is not None and request.ip else "ip:unknown"


def _client_may_store(name: str, source: str, user_id: int | None) -> bool:
    """Whether this client may store one more held-back event this hour (counts it either way)."""
    limit = hub_settings.INVALID_EVENTS_CLIENT_RATE
    if limit is None:
        return True
    client = _client_key(user_id)
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"event_hub:invalid-rate:{window}:{client}"
    cache = caches[hub_settings.API_THROTTLE_CACHE]
    cache.add(key, 0, RATE_WINDOW_SECONDS + 60)
    try:
        used = cache.incr(key)
    except ValueError:  # the key expired between add and incr: a new window
        cache.set(key, 1, RATE_WINDOW_SECONDS + 60)
        used = 1
    if used <= limit:
        return True
    with _sample_lock:
        refused_counts[(name, source)] += 1
    if used == limit + 1:
        logger.warning(
            "client %s stored %d invalid events this hour (INVALID_EVENTS_CLIENT_RATE); "
            "its further invalid events this hour are refused without being stored",
            client,
            limit,
        )
    return False


def _count_stored() -> None:
    global _stored_since_prune
    with _sample_lock:
        _stored_since_prune += 1
        due = _stored_since_prune >= PRUNE_EVERY
        if due:
            _stored_since_prune = 0
    if due:
        try:
            prune()
        except DatabaseError:
            logger.warning("cannot prune the invalid-events table", exc_info=True)


def prune() -> int:
    """Delete rows past ``INVALID_EVENTS_RETENTION_DAYS`` and the oldest beyond ``INVALID_EVENTS_MAX_ROWS``.

    Returns how many rows were deleted.
    """
    deleted = 0
    days = hub_settings.INVALID_EVENTS_RETENTION_DAYS
    if days is not None:
        cutoff = timezone.now() - datetime.timedelta(days=days)
        deleted += InvalidEvent.objects.filter(created_at__lt=cutoff).delete()[0]
    cap = hub_settings.INVALID_EVENTS_MAX_ROWS
    if cap is not None:
        newest_dropped = list(
            InvalidEvent.objects.order_by("-created_at", "-id").values_list("id", "created_at")[cap : cap + 1]
        )
        if newest_dropped:
            pk, created = newest_dropped[0]
            deleted += (
                InvalidEvent.objects.filter(created_at__lt=created).delete()[0]
                + InvalidEvent.objects.filter(created_at=created, id__lte=pk).delete()[0]
            )
    if deleted:
        logger.info("pruned %d row(s) from the invalid-events table", deleted)
    return deleted
