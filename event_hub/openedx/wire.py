"""A stream entry of the Redis event bus, as edx-event-bus-redis writes and reads it.

Stream: ``<EVENT_BUS_TOPIC_PREFIX>-<topic>`` (the topic alone without a
prefix). Entry fields, all UTF-8 bytes: ``type``, ``id``, ``source``, ``time``
(ISO 8601), ``minorversion``, ``sourcehost``, ``sourcelib`` (``"11.2.0"``) and
``event_data`` (the Avro bytes). The hub adds ``content_type`` only for the
signals it carries as JSON; readers that do not know the field ignore it.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from openedx_events.data import EventsMetadata

#: Extra entry field naming the encoding of ``event_data`` when it is not Avro.
CONTENT_TYPE_FIELD = b"content_type"
EVENT_DATA_FIELD = b"event_data"


def full_topic(topic: str, prefix: str | None = None) -> str:
    """The stream name of ``topic``: ``<prefix>-<topic>`` (the platform's ``EVENT_BUS_TOPIC_PREFIX``)."""
    if prefix is None:
        prefix = getattr(settings, "EVENT_BUS_TOPIC_PREFIX", None)
    return f"{prefix}-{topic}" if prefix else topic


def entry_fields(
    metadata: EventsMetadata, event_data: bytes, content_type: str | None = None
) -> dict[bytes, bytes]:
    """The fields of the stream entry of one event."""
    fields = {
        b"type": metadata.event_type.encode(),
        b"id": str(metadata.id).encode(),
        b"source": metadata.source.encode(),
        b"time": metadata.time.isoformat().encode(),
        b"minorversion": str(metadata.minorversion).encode(),
        b"sourcehost": metadata.sourcehost.encode(),
        b"sourcelib": ".".join(map(str, metadata.sourcelib)).encode(),
        EVENT_DATA_FIELD: event_data,
    }
    if content_type:
        fields[CONTENT_TYPE_FIELD] = content_type.encode()
    return fields


def metadata_of(fields: Mapping[bytes, bytes]) -> EventsMetadata:
    """The metadata of a stream entry (fields missing from it take EventsMetadata's defaults)."""
    values: dict[str, Any] = {}
    if fields.get(b"type"):
        values["event_type"] = fields[b"type"].decode()
    if fields.get(b"id"):
        values["id"] = uuid.UUID(fields[b"id"].decode())
    if fields.get(b"source"):
        values["source"] = fields[b"source"].decode()
    if fields.get(b"sourcehost"):
        values["sourcehost"] = fields[b"sourcehost"].decode()
    if fields.get(b"time"):
        values["time"] = datetime.datetime.fromisoformat(fields[b"time"].decode())
    if fields.get(b"minorversion"):
        values["minorversion"] = int(fields[b"minorversion"])
    if fields.get(b"sourcelib"):
        values["sourcelib"] = tuple(int(part) for part in fields[b"sourcelib"].decode().split("."))
    return EventsMetadata(**values)
