"""The event catalog: every event type event_hub knows, typed and documented.

Importing this package imports every domain module listed in :data:`DOMAINS`,
which registers their event types in :data:`registry`.
"""

from __future__ import annotations

import importlib

from event_hub.catalog.base import EventType, NoFields, RawString, optional, required
from event_hub.catalog.registry import Registry, Validated, event_type, registry

#: Domain modules, in the order the catalog pages list them.
DOMAINS: tuple[str, ...] = (
    # Student events
    "enrollment",
    "navigation",
    "video",
    "video_bumper",
    "textbook",
    "problem",
    "library_content",
    "forum",
    "ora",
    "poll_survey",
    "third_party",
    "content_experiments",
    "cohort",
    "teams",
    "certificate",
    "course_resources",
    "notes",
    "completion",
    "drag_and_drop",
    "peer_instruction",
    "ora_deprecated",
    "special_exam",
    # Course team events
    "instructor",
    "grades",
    # Segment events
    "segment_enterprise",
    # Client events of the event-tracking design note
    "client",
)

for _domain in DOMAINS:
    importlib.import_module(f"event_hub.catalog.{_domain}")

__all__ = [
    "DOMAINS",
    "EventType",
    "NoFields",
    "RawString",
    "Registry",
    "Validated",
    "event_type",
    "optional",
    "registry",
    "required",
]
