"""Allow or deny events by name, with shell-style patterns (``edx.video.*``)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from event_hub.envelope import Envelope
from event_hub.exceptions import DropEvent


def _compile(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [fnmatch.translate(p) for p in patterns]
    return re.compile("|".join(parts)) if parts else None


class EventNameFilter:
    """Drop events whose ``name`` (or ``event_type``) matches ``deny``, or fails to match ``allow``.

    ``deny`` wins over ``allow``; an empty ``allow`` allows everything.
    """

    __slots__ = ("_allow", "_deny")

    def __init__(self, *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> None:
        self._allow = _compile(allow)
        self._deny = _compile(deny)

    def __call__(self, envelope: Envelope) -> Envelope:
        names = (envelope.name, envelope.event_type)
        if self._deny is not None and any(self._deny.fullmatch(n) for n in names):
            raise DropEvent(f"{envelope.name} is denied")
        if self._allow is not None and not any(self._allow.fullmatch(n) for n in names):
            raise DropEvent(f"{envelope.name} is not allowed")
        return envelope


class EventSourceFilter:
    """Keep only events whose ``event_source`` is one of ``sources``."""

    __slots__ = ("_sources",)

    def __init__(self, *, sources: Iterable[str]) -> None:
        self._sources = frozenset(sources)

    def __call__(self, envelope: Envelope) -> Envelope:
        if envelope.event_source not in self._sources:
            raise DropEvent(f"source {envelope.event_source} is filtered out")
        return envelope
