"""A processor that keeps only the events the xAPI registry can turn into statements.

Put it in the xAPI backend's ``PROCESSORS`` so other events are dropped when
they are emitted and never travel to the worker::

    "PROCESSORS": ["event_hub.xapi.allowlist.XapiEvents"]

The list is the registry's (:func:`event_hub.xapi.registry.names`), never a
separate one. Without the processor the backend skips the same events itself,
after they have made the trip.
"""

from __future__ import annotations

from event_hub.envelope import Envelope
from event_hub.exceptions import DropEvent
from event_hub.xapi import registry


class XapiEvents:
    """Drop events that have no xAPI transform."""

    __slots__ = ()

    def __call__(self, envelope: Envelope) -> Envelope:
        if registry.lookup(envelope) is None:
            raise DropEvent(f"{envelope.name} has no xAPI transform")
        return envelope
