"""Stand-ins for the processors edx-platform configures on its event-tracking ``tracking_logs`` route.

The LMS/CMS settings route tracking-log events through::

    EVENT_TRACKING_BACKENDS = {
        "tracking_logs": {
            "ENGINE": "eventtracking.backends.routing.RoutingBackend",
            "OPTIONS": {
                "backends": {"logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend",
                                        "OPTIONS": {"name": "tracking", "max_event_size": 50000}}},
                "processors": [{"ENGINE": "track.shim.LegacyFieldMappingProcessor"},
                               {"ENGINE": "track.shim.PrefixedEventProcessor"}],
            },
        },
        ...
    }

edx-platform is not installable here, so these two classes do the same work
(written for the benchmark, not copied): the first lifts the request fields out
of ``context`` to the top level and renames ``data``/``timestamp`` to
``event``/``time``; the second looks the event name and its dotted prefixes up in
a transformer registry (``problem_check`` has no transformer, so it passes through).
"""

from __future__ import annotations

import json
from typing import Any

#: Request fields the tracking log carries at top level rather than in ``context``.
TOP_LEVEL_FIELDS = ("username", "session", "ip", "agent", "host", "referer", "accept_language")
_DROP_FROM_CONTEXT = frozenset({*TOP_LEVEL_FIELDS, "client_id"})


class LegacyFieldMappingProcessor:
    """Give an event-tracking event the legacy tracking-log shape."""

    def __call__(self, event: dict[str, Any]) -> None:
        context = event.get("context", {})
        if "context" in event:
            for field in TOP_LEVEL_FIELDS:
                event[field] = context.pop(field, "")
            for field in _DROP_FROM_CONTEXT:
                context.pop(field, None)
        if "data" in event:
            data = event.pop("data")
            browser = context.get("event_source", "") == "browser"
            event["event"] = json.dumps(data) if browser and isinstance(data, dict) else data
        else:
            event["event"] = {}
        if "timestamp" in context:
            event["time"] = context.pop("timestamp")
        elif "timestamp" in event:
            event["time"] = event["timestamp"]
        event.pop("timestamp", None)
        event["event_type"] = context.pop("event_type", event.get("name", ""))
        event["event_source"] = context.pop("event_source", "server")
        event["page"] = context.pop("page", None)


#: Names (and ``prefix.`` entries) that have a transformer, as in edx-platform's registry.
TRANSFORMERS: dict[str, Any] = {
    "edx.ui.lms.sequence.": object,
    "edx.ui.lms.outline.": object,
    "edx.video.": object,
    "edx.bi.": object,
    "seq_next": object,
    "seq_prev": object,
    "seq_goto": object,
}


class PrefixedEventProcessor:
    """Transform events whose name or a dotted prefix has a transformer; pass the others through."""

    def __call__(self, event: dict[str, Any]) -> None:
        name = event.get("name", "")
        if name in TRANSFORMERS:
            return
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:end]) + "." in TRANSFORMERS:
                return
