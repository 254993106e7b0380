"""The Google Analytics fields Open edX adds to the events it sends to Segment.

Segment forwards ``track`` calls to Google Analytics, which reads a few
well-known properties. The LMS's processor for its Segment route adds, to every
event with a course:

* ``label``: the ``context.course_id`` (GA's event label);
* ``courserun_key``: the same value, but only when it is a course run key (a
  content library id, say, is not);

and to every event ``nonInteraction: 1``, so server events do not count as user
interactions in GA (bounce rates stay true).

This processor puts them beside the payload's members (the Segment backend
sends the payload as ``properties``), never over a member the payload already
has (the enterprise enrollment event carries its own ``label``). A payload that
is not an object (a few browser events carry a string) is left alone.
"""

from __future__ import annotations

import attrs
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from opaque_keys.edx.locator import LibraryLocator

from event_hub.envelope import Envelope


def is_course_run_key(value: str) -> bool:
    """Whether ``value`` is a course run key (``course-v1:Org+Course+Run`` or ``Org/Course/Run``).

    A content library key parses as a ``CourseKey`` too, but names no run.
    """
    try:
        key = CourseKey.from_string(value)
    except InvalidKeyError:
        return False
    return not isinstance(key, LibraryLocator)


class GoogleAnalytics:
    """Add ``label``, ``courserun_key`` and ``nonInteraction`` to the payload (see the module docstring)."""

    __slots__ = ()

    def __call__(self, envelope: Envelope) -> Envelope:
        if not isinstance(envelope.event, dict):
            return envelope
        event = dict(envelope.event)
        course_id = envelope.context.course_id
        if course_id:
            event.setdefault("label", course_id)
            if is_course_run_key(course_id):
                event.setdefault("courserun_key", course_id)
        event.setdefault("nonInteraction", 1)
        return attrs.evolve(envelope, event=event)
