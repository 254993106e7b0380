"""The end-to-end bus test's receiver: it records each enrollment it gets.

It pushes the metadata id to the list :data:`RECEIVED` of the bus's Redis through
the consumer's :func:`~event_hub.openedx.consumer.acknowledgement`, so the record
and the acknowledgement of the entry commit together.
"""

from __future__ import annotations

from typing import Any

from event_hub.openedx.consumer import acknowledgement

#: Redis list of the metadata ids the receiver got, in order.
RECEIVED = "e2e:received"


def record(sender: Any, signal: Any, metadata: Any, **kwargs: Any) -> None:
    acknowledgement().rpush(RECEIVED, str(metadata.id))
