"""The registry of transforms: event name -> function building its xAPI statement.

Each family module (:mod:`~event_hub.xapi.video`, :mod:`~event_hub.xapi.forum` …)
registers its transforms with :func:`register`. The registry is the only list
of the events the xAPI backend sends: :func:`names` is its allowlist (the
:class:`~event_hub.xapi.allowlist.XapiEvents` processor and the backend both
read it), so no event is allowed that has no transform.

An envelope is looked up by its ``name`` first, then by its ``event_type``
(mobile video events are named ``edx.video.played`` and typed ``play_video``;
both are registered).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from event_hub.envelope import Envelope
from event_hub.xapi.statement import Site

Transform = Callable[[Envelope, Site], dict[str, Any]]

_transforms: dict[str, Transform] = {}
_families: dict[str, str] = {}


def register(family: str, *names: str) -> Callable[[Transform], Transform]:
    """Decorator: ``func`` builds the statement of each of ``names`` (events of ``family``)."""

    def decorate(func: Transform) -> Transform:
        for name in names:
            if name in _transforms:
                raise ValueError(f"an xAPI transform is already registered for {name!r}")
            _transforms[name] = func
            _families[name] = family
        return func

    return decorate


def lookup(envelope: Envelope) -> Transform | None:
    """The transform of this event, or ``None`` when xAPI has none for it."""
    found = _transforms.get(envelope.name)
    if found is None and envelope.event_type != envelope.name:
        found = _transforms.get(envelope.event_type)
    return found


def names() -> frozenset[str]:
    """Every event name with a transform: the xAPI allowlist."""
    return frozenset(_transforms)


def families() -> dict[str, frozenset[str]]:
    """Family -> the event names it covers."""
    grouped: dict[str, set[str]] = {}
    for name, family in _families.items():
        grouped.setdefault(family, set()).add(name)
    return {family: frozenset(members) for family, members in grouped.items()}
