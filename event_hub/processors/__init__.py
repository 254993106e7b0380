"""Processors: small pure callables on a frozen envelope.

A processor takes an :class:`~event_hub.envelope.Envelope` and returns one
(the same object, or a copy made with ``attrs.evolve``). It raises
:class:`~event_hub.exceptions.DropEvent` to keep the event from a backend; any
other exception is a bug and propagates.

:mod:`event_hub.processors.chain` builds, for each backend, the list that runs
before its events are handed off.
"""

from __future__ import annotations

from collections.abc import Callable

from event_hub.envelope import Envelope
from event_hub.exceptions import DropEvent

Processor = Callable[[Envelope], Envelope]

__all__ = ["DropEvent", "Processor"]
