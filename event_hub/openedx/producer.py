"""The event bus producer: signals go out through the hub's durable, batched delivery.

``EVENT_BUS_PRODUCER = "event_hub.openedx.producer.create_producer"`` makes
openedx-events hand the signals named in ``EVENT_BUS_PRODUCER_CONFIG`` to
:class:`HubEventBusProducer`. Its ``send`` encodes the data at once (an event
that cannot be encoded raises in the sender's process) and adds the stream
entry to the current unit of work for the backend named
``EVENT_HUB["OPENEDX_BUS_BACKEND"]`` (an :class:`~event_hub.backends.openedx_bus.OpenedxBusBackend`).
That backend writes the entries with one pipelined ``XADD`` per batch, and a
failed write is retried and dead-lettered like every delivery, never dropped.

Without the ``openedx_events`` Django app installed, :func:`forward_to_bus`
(connected to every signal by the app config) plays the part of its handler
and reads ``EVENT_BUS_PRODUCER_CONFIG`` at each send.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from openedx_events.data import EventsMetadata
from openedx_events.event_bus import EventBusProducer
from openedx_events.tooling import SIGNAL_PROCESSED_FROM_EVENT_BUS, OpenEdxPublicSignal

from event_hub.conf import hub_settings
from event_hub.delivery import unit_of_work
from event_hub.envelope import json_time
from event_hub.openedx import codec, wire

#: Context member marking a batch line as a ready stream entry (not a tracking event).
ENTRY_MARKER = "openedx_bus_entry"


def entry_line(stream: str, fields: Mapping[bytes, bytes], metadata: EventsMetadata) -> bytes:
    """The batch line carrying one stream entry (an envelope, so every delivery path handles it)."""
    values = {key.decode(): value.decode() for key, value in fields.items() if key != wire.EVENT_DATA_FIELD}
    return orjson.dumps(
        {
            "id": str(metadata.id),
            "name": metadata.event_type,
            "event_type": metadata.event_type,
            "event_source": "server",
            "time": json_time(metadata.time),
            "username": "",
            "ip": "",
            "agent": "",
            "host": metadata.sourcehost,
            "referer": "",
            "accept_language": "",
            "page": None,
            "session": "",
            "context": {"course_id": "", "org_id": "", "path": "", "user_id": None, ENTRY_MARKER: True},
            "event": {
                "stream": stream,
                "fields": values,
                "event_data": base64.b64encode(fields[wire.EVENT_DATA_FIELD]).decode("ascii"),
            },
        }
    )


def entry_from_event(event: Mapping[str, Any]) -> tuple[str, dict[bytes, bytes]]:
    """``(stream, fields)`` of the entry that :func:`entry_line` put in ``event``."""
    fields = {key.encode(): str(value).encode() for key, value in event["fields"].items()}
    fields[wire.EVENT_DATA_FIELD] = base64.b64decode(event["event_data"])
    return str(event["stream"]), fields


def produce(
    signal: OpenEdxPublicSignal, topic: str, data: Mapping[str, Any], metadata: EventsMetadata
) -> None:
    """Queue one signal for the bus stream of ``topic`` (handed off when the unit of work ends)."""
    event_data, content_type = codec.encode(signal, data)
    fields = wire.entry_fields(metadata, event_data, content_type)
    line = entry_line(wire.full_topic(topic), fields, metadata)
    unit_of_work.current().add(hub_settings.OPENEDX_BUS_BACKEND, line)


class HubEventBusProducer(EventBusProducer):
    """openedx-events' producer API on the hub's delivery."""

    def send(
        self,
        *,
        signal: OpenEdxPublicSignal,
        topic: str,
        event_key_field: str,
        event_data: dict[str, Any],
        event_metadata: EventsMetadata,
    ) -> None:
        """Queue the event for ``topic``; raises when its data cannot be encoded."""
        produce(signal, topic, event_data, event_metadata)


_producer = HubEventBusProducer()


def create_producer() -> HubEventBusProducer:
    """The producer (the value of ``EVENT_BUS_PRODUCER`` points here)."""
    return _producer


def forward_to_bus(sender: Any, signal: OpenEdxPublicSignal, **kwargs: Any) -> None:
    """Receiver: queue a signal for every enabled topic of ``EVENT_BUS_PRODUCER_CONFIG``.

    A signal the consumer sent (it came from the bus) is never sent back.
    """
    if kwargs.get(SIGNAL_PROCESSED_FROM_EVENT_BUS) is True:
        return
    topics = getattr(settings, "EVENT_BUS_PRODUCER_CONFIG", {}).get(signal.event_type, {})
    if not topics:
        return
    data = {key: kwargs.get(key) for key in signal.init_data}
    for topic, config in topics.items():
        if config.get("enabled") is True:
            produce(signal, topic, data, kwargs["metadata"])
