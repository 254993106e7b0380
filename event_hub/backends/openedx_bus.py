"""The event bus backend: writes stream entries to the Redis event bus.

It delivers two kinds of batch lines:

* stream entries the producer queued (:mod:`event_hub.openedx.producer`),
  written as they are;
* tracking events whose name is in the allowlist, published as the platform
  does: ``TRACKING_EVENT_EMITTED`` (``TrackingLogData`` with ``data`` and
  ``context`` as JSON text) on topic ``analytics``. A tracking event that came
  from the bus (the bridge marks it) is never published again.

Options: ``url`` (default ``EVENT_HUB["OPENEDX_BUS_REDIS_URL"]`` or
``EVENT_BUS_REDIS_CONNECTION_URL``), ``topic_prefix`` (default
``EVENT_BUS_TOPIC_PREFIX``), ``tracking_names`` (fnmatch patterns; default the
platform's ``EVENT_BUS_TRACKING_LOGS`` unless ``SEND_TRACKING_EVENT_EMITTED_SIGNAL``
is false) and ``tracking_topic``. A batch is one pipelined ``XADD`` per entry (packed here, one write);
any failed write fails the batch, which is retried (Redis errors are
retryable) and then dead-lettered. A retried batch may write some entries
twice: they carry the same metadata id, and the hub's consumer drops the
second.
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import redis
from django.conf import settings
from openedx_events.analytics.data import TrackingLogData
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.data import EventsMetadata

from event_hub import jsonio
from event_hub.backends.base import Backend
from event_hub.delivery.batch import Batch
from event_hub.envelope import SOURCES, WIRE_MEMBERS, Envelope
from event_hub.openedx import codec, connection, wire
from event_hub.openedx.bridge import FROM_BUS_MARKER
from event_hub.openedx.producer import ENTRY_MARKER, entry_from_event

Entry = tuple[str, dict[bytes, bytes]]


def _tracking_names_default() -> list[str]:
    if not getattr(settings, "SEND_TRACKING_EVENT_EMITTED_SIGNAL", True):
        return []
    return list(getattr(settings, "EVENT_BUS_TRACKING_LOGS", ()))


@functools.lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(pattern) for pattern in patterns) or r"(?!)")


class OpenedxBusBackend(Backend):
    """Writes stream entries and allowlisted tracking events to the Redis event bus."""

    retryable = (OSError, TimeoutError, ConnectionError, redis.RedisError)

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        topic_prefix: str | None = None,
        tracking_names: Sequence[str] | None = None,
        tracking_topic: str = "analytics",
    ) -> None:
        super().__init__(name)
        self.url = url
        self.topic_prefix = topic_prefix
        self.tracking_names = tuple(
            tracking_names if tracking_names is not None else _tracking_names_default()
        )
        self.tracking_topic = tracking_topic

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        names = options.get("tracking_names")
        if names is not None and (
            not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names)
        ):
            return ["tracking_names must be a list of event names or fnmatch patterns"]
        return []

    def transform(self, envelope: Envelope) -> Entry | None:
        extra = envelope.context.extra
        if extra.get(ENTRY_MARKER):
            return entry_from_event(envelope.event)
        if extra.get(FROM_BUS_MARKER) or not _matcher(self.tracking_names).fullmatch(envelope.name):
            return None
        return self.tracking_entry(envelope)

    def tracking_entry(self, envelope: Envelope) -> Entry:
        """The ``TRACKING_EVENT_EMITTED`` entry of a tracking event (its metadata id is the event's id)."""
        wire_event = envelope.to_wire()
        data = TrackingLogData(
            name=envelope.name,
            timestamp=envelope.time,
            data=orjson.dumps(wire_event["event"]).decode(),
            context=orjson.dumps(wire_event["context"]).decode(),
        )
        metadata = EventsMetadata(
            event_type=TRACKING_EVENT_EMITTED.event_type,
            id=_metadata_id(envelope.id),
            minorversion=TRACKING_EVENT_EMITTED.minor_version,
            time=envelope.time,
        )
        payload = codec.to_avro(TRACKING_EVENT_EMITTED, {"tracking_log": data})
        return wire.full_topic(self.tracking_topic, self.topic_prefix), wire.entry_fields(metadata, payload)

    def transform_line(self, line: bytes) -> Entry | None:
        """:meth:`transform` of a batch line; a queued stream entry is read without an Envelope."""
        record = jsonio.loads(line)
        if type(self).transform is OpenedxBusBackend.transform and _entry_record(record):
            return entry_from_event(record["event"])
        return self.transform(Envelope.from_wire(record))

    def send(self, items: Sequence[Entry | None], batch: Batch) -> None:
        entries = [item for item in items if item is not None]
        if not entries:
            return
        write_entries(connection.client(self.url), entries)


#: The members every wire envelope has (:meth:`Envelope.from_wire` refuses a line without one).
_WIRE_MEMBERS = frozenset(WIRE_MEMBERS)


def _entry_record(record: Any) -> bool:
    """Whether a decoded batch line is a queued stream entry that :meth:`Envelope.from_wire` accepts."""
    if not isinstance(record, dict) or not record.keys() >= _WIRE_MEMBERS:
        return False
    context = record["context"]
    if (
        not isinstance(context, dict)
        or not context.get(ENTRY_MARKER)
        or record["event_source"] not in SOURCES
    ):
        return False
    try:
        datetime.datetime.fromisoformat(record["time"])
    except (TypeError, ValueError):
        return False  # refused by Envelope.from_wire, as before
    return True


def write_entries(client: redis.Redis, entries: Sequence[Entry]) -> None:
    """``XADD`` every entry, all in one write (a pipeline), then read every reply; raise the first error.

    The commands are packed here rather than by redis-py's pipeline, which encodes each of an
    entry's seventeen arguments through several Python calls: the same bytes go out. As the
    pipeline does, a connection error is retried by the connection's own retry policy on a
    fresh connection.
    """
    packed = [b"".join(map(_packed_xadd, entries))]
    pool = client.connection_pool
    conn = pool.get_connection()

    def exchange() -> list[redis.ResponseError]:
        errors = []
        conn.send_packed_command(packed)
        for _ in entries:
            try:
                conn.read_response()
            except redis.ResponseError as exc:
                errors.append(exc)
        return errors

    try:
        errors = conn.retry.call_with_retry(exchange, lambda error: conn.disconnect())
    except BaseException:
        conn.disconnect()  # replies may be left unread: the connection is not reused as it is
        raise
    finally:
        pool.release(conn)
    if errors:
        raise errors[0]


@functools.lru_cache(maxsize=256)
def _bulk(value: bytes) -> bytes:
    """A RESP bulk string (cached: stream names and field names repeat)."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _packed_xadd(entry: Entry) -> bytes:
    """``XADD <stream> * <field> <value> ...`` in the Redis protocol."""
    stream, fields = entry
    parts = [b"*%d\r\n$4\r\nXADD\r\n" % (3 + 2 * len(fields)), _bulk(stream.encode()), b"$1\r\n*\r\n"]
    for key, value in fields.items():
        parts.append(_bulk(key))
        parts.append(b"$%d\r\n%s\r\n" % (len(value), value))
    return b"".join(parts)


def _metadata_id(event_id: str) -> uuid.UUID:
    """A metadata id that stays the same when the batch is retried."""
    try:
        return uuid.UUID(event_id)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"event-hub:{event_id}")
