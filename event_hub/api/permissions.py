"""Who may post to ``/api/tracking``: authenticated clients, and anonymous ones for allowed event types.

``EVENT_HUB["API_ANONYMOUS_EVENTS"]`` lists :func:`fnmatch.fnmatchcase`
patterns (``"page_close"``, ``"edx.ui.lms.*"``, ``"*"``); a pattern matches
the name the client sent or any name the catalog knows the event by
(``edx.video.played`` and ``play_video`` are one event type). The default,
``[]``, lets no anonymous client post.

:class:`TrackingPermission` answers 401 to an anonymous request none of whose
events may be posted anonymously; in a batch that mixes both, the serializer
rejects the others one by one.
"""

from __future__ import annotations

import functools
from fnmatch import fnmatchcase
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from event_hub.catalog import registry
from event_hub.conf import hub_settings, on_reload

#: Keys that name the event in a posted event, in order of precedence.
NAME_KEYS = ("name", "event_type", "tracking_event_type")


@functools.lru_cache(maxsize=4096)
def anonymous_allowed(name: str, source: str) -> bool:
    """May an anonymous client post event ``name`` from ``source``?"""
    patterns = hub_settings.API_ANONYMOUS_EVENTS
    if not patterns:
        return False
    spec = registry.lookup(name, source)
    names = {name, *spec.names} if spec is not None else {name}
    return any(fnmatchcase(candidate, pattern) for pattern in patterns for candidate in names)


on_reload(anonymous_allowed.cache_clear)


def posted_names(data: Any) -> list[tuple[str, str]]:
    """``(name, source)`` of each event of a request body, as far as they can be read."""
    items = data.get("events") if isinstance(data, dict) and "events" in data else [data]
    if not isinstance(items, list):
        return []
    names = []
    for item in items[: hub_settings.API_MAX_BATCH_EVENTS]:
        if not isinstance(item, dict):
            continue
        source = item.get("event_source", "browser")
        for key in NAME_KEYS:
            name = item.get(key)
            if isinstance(name, str):
                names.append((name, source if isinstance(source, str) else "browser"))
                break
    return names


class TrackingPermission(BasePermission):
    """Authenticated clients may post; anonymous ones only events ``API_ANONYMOUS_EVENTS`` allows."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user is not None and request.user.is_authenticated:
            return True
        if not hub_settings.API_ANONYMOUS_EVENTS:
            return False
        names = posted_names(request.data)
        # A body whose events cannot be named is answered by validation (400), not by a 401.
        return not names or any(anonymous_allowed(name, source) for name, source in names)
