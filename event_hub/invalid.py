"""The invalid-events store: events that did not match the catalog, kept with the reason.

The catalog is never the reason an event is lost. By default an unknown or
invalid event is delivered as it came and its problem is noted here
(:func:`note_delivered`): counted every time (:data:`problem_counts`), stored
and logged at most once per event name and source every
``INVALID_SAMPLE_SECONDS``, so an XBlock emitting thousands of unknown events
cannot fill the table. When a setting holds such events back instead, each is
stored (:func:`record`) and never dropped without a trace. If the database
refuses the row, the event and its errors are logged at CRITICAL level instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.db import DatabaseError, transaction
from django.db.models import JSONField, Value

from event_hub import jsonio
from event_hub.conf import hub_settings, on_reload
from event_hub.models import InvalidEvent

logger = logging.getLogger(__name__)

#: Delivered events with a catalog problem, by (name, source), since this process started.
problem_counts: Counter[tuple[str, str]] = Counter()
_last_stored: dict[tuple[str, str], float] = {}
_sample_lock = threading.Lock()


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
    """Store one invalid event; returns the row, or ``None`` when only the log could take it."""
    safe_payload = _json_safe(payload)
    safe_errors = {key: list(messages) for key, messages in errors.items()}
    logger.warning(
        "%s %s event %r recorded: %s", "delivered" if delivered else "invalid", source, name, safe_errors
    )
    try:
        # A savepoint: a refused row must not break the caller's open transaction.
        with transaction.atomic():
            return InvalidEvent.objects.create(
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
