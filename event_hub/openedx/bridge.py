"""The bridge: Open edX signals received here become tracking events.

For each signal whose event type is in ``EVENT_HUB["OPENEDX_BRIDGE_SIGNALS"]``
(``["*"]``: all), a received signal becomes:

* a tracking event named by its event type, ``event`` being the signal's data
  as JSON (:func:`event_hub.openedx.codec.jsonable`: keys as strings, opaque
  keys and dates as text), delivered to every backend like any event (Segment
  included, where a Segment backend is configured);
* with ``OPENEDX_BRIDGE_LEGACY_EVENTS``, the tracking-log event the platform
  writes for the same action, where there is one (:data:`LEGACY_EVENTS`).

Both carry ``context.openedx_event`` (metadata id, event type, source, time).

A ``TRACKING_EVENT_EMITTED`` that arrives from the bus (sent by the consumer)
is the tracking event of another service: it is delivered to this service's
backends under its own name, marked so that the bus backend never publishes it
again. Events bridged from any signal that came from the bus carry the same
mark.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from opaque_keys.edx.keys import CourseKey
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.tooling import SIGNAL_PROCESSED_FROM_EVENT_BUS, OpenEdxPublicSignal

from event_hub import tracker
from event_hub.conf import hub_settings, on_reload
from event_hub.openedx import codec
from event_hub.openedx.signals import all_signals, canonical
from event_hub.plugin.receivers import bridge_dispatch_uid

#: Context member of a tracking event that came from the bus (the bus backend never sends it back).
FROM_BUS_MARKER = "openedx_event_from_bus"
#: Context member describing the signal a bridged event comes from.
EVENT_CONTEXT = "openedx_event"

Legacy = tuple[str, dict[str, Any], str]


def _user_id(user: Any) -> Any:
    return getattr(user, "id", None)


def _enrollment(name: str) -> Callable[[Mapping[str, Any]], Legacy]:
    def build(data: Mapping[str, Any]) -> Legacy:
        enrollment = data["enrollment"]
        course_id = str(enrollment.course.course_key)
        payload = {"course_id": course_id, "mode": enrollment.mode, "user_id": _user_id(enrollment.user)}
        return name, payload, course_id

    return build


def _certificate(data: Mapping[str, Any]) -> Legacy:
    # The signal has no verify uuid nor generation mode: those members are left out.
    certificate = data["certificate"]
    course_id = str(certificate.course.course_key)
    payload = {
        "certificate_url": certificate.download_url,
        "course_id": course_id,
        "enrollment_mode": certificate.mode,
        "user_id": _user_id(certificate.user),
    }
    return "edx.certificate.created", payload, course_id


def _cohort(data: Mapping[str, Any]) -> Legacy:
    # The signal has no cohort id: that member is left out.
    cohort = data["cohort"]
    payload = {"cohort_name": cohort.name, "user_id": _user_id(cohort.user)}
    return "edx.cohort.user_added", payload, str(cohort.course.course_key)


def _forum(name: str) -> Callable[[Mapping[str, Any]], Legacy]:
    def build(data: Mapping[str, Any]) -> Legacy:
        thread = data["thread"]
        payload: dict[str, Any] = {
            "body": thread.body,
            "category_id": thread.category_id,
            "category_name": thread.category_name,
            "commentable_id": thread.commentable_id,
            "id": thread.id,
            "options": dict(thread.options),
            "truncated": thread.truncated,
            "url": thread.url,
            "user_course_roles": list(thread.user_course_roles),
            "user_forums_roles": list(thread.user_forums_roles),
        }
        if thread.team_id is not None:
            payload["team_id"] = thread.team_id
        if name == "edx.forum.thread.created":
            payload.update(
                anonymous=thread.anonymous,
                anonymous_to_peers=thread.anonymous_to_peers,
                group_id=thread.group_id,
                thread_type=thread.thread_type,
                title=thread.title,
            )
        elif thread.discussion:
            payload["discussion"] = {"id": thread.discussion.get("id")}
            if "response" in thread.discussion or "response_id" in thread.discussion:
                response = thread.discussion.get("response") or thread.discussion.get("response_id")
                payload["response"] = {"id": response}
        return name, payload, str(thread.course_id)

    return build


#: Event type -> builder of the platform's tracking-log event for the same action.
LEGACY_EVENTS: Mapping[str, Callable[[Mapping[str, Any]], Legacy]] = {
    "org.openedx.learning.course.enrollment.created.v1": _enrollment("edx.course.enrollment.activated"),
    "org.openedx.learning.course.unenrollment.completed.v1": _enrollment("edx.course.enrollment.deactivated"),
    "org.openedx.learning.certificate.created.v1": _certificate,
    "org.openedx.learning.cohort_membership.changed.v1": _cohort,
    "org.openedx.learning.forum.thread.created.v1": _forum("edx.forum.thread.created"),
    "org.openedx.learning.forum.thread.response.created.v1": _forum("edx.forum.response.created"),
    "org.openedx.learning.forum.thread.response.comment.created.v1": _forum("edx.forum.comment.created"),
}


@functools.cache
def _enabled() -> frozenset[str]:
    return frozenset(canonical(name) for name in hub_settings.OPENEDX_BRIDGE_SIGNALS)


@on_reload
def _forget_enabled() -> None:
    _enabled.cache_clear()


def enabled(event_type: str) -> bool:
    """Whether received ``event_type`` signals are bridged."""
    names = _enabled()
    return "*" in names or event_type in names


def bridge_signal(sender: Any, signal: OpenEdxPublicSignal, **kwargs: Any) -> None:
    """Receiver connected to every signal: emit the tracking events of an enabled one."""
    if not enabled(signal.event_type):
        return
    metadata = kwargs["metadata"]
    from_bus = kwargs.get(SIGNAL_PROCESSED_FROM_EVENT_BUS) is True
    data = {key: kwargs.get(key) for key in signal.init_data}
    context: dict[str, Any] = {
        EVENT_CONTEXT: {
            "id": str(metadata.id),
            "event_type": metadata.event_type,
            "source": metadata.source,
            "time": metadata.time.isoformat(),
        }
    }
    if from_bus:
        context[FROM_BUS_MARKER] = True
    if signal is TRACKING_EVENT_EMITTED:
        if from_bus:
            _deliver_remote_tracking_event(data["tracking_log"], context)
        return
    tracker.emit(
        signal.event_type,
        codec.jsonable(data),
        course_id=course_of(data),
        context=context,
        on_invalid="accept",
    )
    legacy = LEGACY_EVENTS.get(signal.event_type)
    if legacy is not None and hub_settings.OPENEDX_BRIDGE_LEGACY_EVENTS:
        name, payload, course_id = legacy(data)
        tracker.emit(name, payload, course_id=course_id, context=context)


def course_of(data: Mapping[str, Any]) -> str | None:
    """The course key a signal's data names (an argument's ``course_key``/``course_id``, or its course's)."""
    for value in data.values():
        for holder in (value, getattr(value, "course", None)):
            for attribute in ("course_key", "course_id"):
                key = getattr(holder, attribute, None)
                if isinstance(key, CourseKey):
                    return str(key)
    return None


def _deliver_remote_tracking_event(log: Any, context: dict[str, Any]) -> None:
    """Another service's tracking event, delivered here under its own name (never re-published)."""
    original = orjson.loads(log.context) if log.context else {}
    if not isinstance(original, dict):
        original = {}
    event = orjson.loads(log.data) if log.data else {}
    tracker.emit(log.name, event, context={**original, **context}, on_invalid="accept")


def connect() -> None:
    """Connect :func:`bridge_signal` to every signal (it checks the settings at each send).

    The dispatch uids are those the Open edX plugin declares (:mod:`event_hub.plugin.receivers`):
    when the platform connects the plugin's receivers too, each signal still has one bridge.
    """
    for signal in all_signals():
        signal.connect(bridge_signal, dispatch_uid=bridge_dispatch_uid(signal.event_type))
