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
is false) and ``tracking_topic``. A batch is one pipelined ``XADD`` per entry;
any failed write fails the batch, which is retried (Redis errors are
retryable) and then dead-lettered. A retried batch may write some entries
twice: they carry the same metadata id, and the hub's consumer drops the
second.
"""

from __future__ import annotations

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

from event_hub.backends.base import Backend
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope
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

    def send(self, items: Sequence[Entry | None], batch: Batch) -> None:
        entries = [item for item in items if item is not None]
        if not entries:
            return
        pipeline = connection.client(self.url).pipeline(transaction=False)
        for stream, fields in entries:
            pipeline.xadd(stream, fields)  # type: ignore[arg-type]
        pipeline.execute(raise_on_error=True)


def _metadata_id(event_id: str) -> uuid.UUID:
    """A metadata id that stays the same when the batch is retried."""
    try:
        return uuid.UUID(event_id)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"event-hub:{event_id}")
