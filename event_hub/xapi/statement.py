"""What every statement shares: id, actor, timestamp, course context; and helpers for transforms.

A transform (one per event name, see :mod:`event_hub.xapi.registry`) takes the
envelope and a :class:`Site` and returns the statement as a dict. It calls
:func:`statement` with the parts that differ (verb, object, result, extra
context) and gets the parts every statement has:

* ``id``: a UUIDv5 of the event id (namespace :data:`STATEMENT_NAMESPACE`),
  so redelivering or replaying an event yields the same statement id and the
  LRS keeps one copy;
* ``actor``: an Agent identified by an ``account`` whose ``homePage`` is the
  LMS root and whose ``name`` is the anonymous user id; with
  ``actor="username"`` (only for a backend with ``PII: True``) the account
  name is the username instead;
* ``timestamp`` (the event's time, UTC) and ``version``;
* ``context``: the course run as parent activity, the session digest and the
  transformer version as extensions.

Missing data a statement cannot do without (no problem id, no course …) raises
:class:`~event_hub.exceptions.EventRejected`: that one event is dead-lettered
with the reason, the rest of its batch goes on. An event without a learner
(a visitor who is not signed in) raises :class:`NoActor` instead, which the
backend treats as "nothing to send": xAPI has no statement without an actor,
and such events are common, not faults.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

import attrs
import orjson

from event_hub import __version__
from event_hub.envelope import Envelope, format_time
from event_hub.exceptions import EventRejected
from event_hub.xapi import vocabulary as xv

#: Namespace of statement ids: ``uuid5(STATEMENT_NAMESPACE, event id)``. Never change it: replays
#: of events already sent would get new ids and be stored twice.
STATEMENT_NAMESPACE: Final = uuid.UUID("6f0c7a8e-2d0b-5c59-9a61-0e7a2c1f4b3d")
#: Value of the transformer-version context extension.
TRANSFORMER: Final = f"event-hub@{__version__}"
ACTOR_CHOICES: Final = ("anonymous_id", "username")


@attrs.frozen
class Site:
    """What the transforms need to know about the LMS and the backend."""

    #: LMS root URL without a trailing slash (``https://lms.example.com``): actor homePage, IRI base.
    lms_root_url: str
    #: ``"anonymous_id"`` (default) or ``"username"`` (needs ``PII: True``).
    actor: str = "anonymous_id"

    def iri(self, kind: str, key: str) -> str:
        """The activity IRI of an LMS object: ``{root}/{kind}/{key}`` (``course``, ``xblock`` …)."""
        return f"{self.lms_root_url}/{kind}/{key}"


class NoActor(EventRejected):
    """The event has no learner to name as the actor; it is skipped, not dead-lettered."""


def statement_id(event_id: str) -> str:
    """The deterministic statement id of an event."""
    return str(uuid.uuid5(STATEMENT_NAMESPACE, event_id))


def payload(envelope: Envelope) -> Mapping[str, Any]:
    """The event's payload as a mapping (browser logs carry it as a JSON string)."""
    event = envelope.event
    if isinstance(event, Mapping):
        return event
    if isinstance(event, (str, bytes)) and event[:1] in ("{", b"{"):
        try:
            decoded = orjson.loads(event)
        except orjson.JSONDecodeError:
            decoded = None
        if isinstance(decoded, Mapping):
            return decoded
    return {}


def required(data: Mapping[str, Any], key: str, envelope: Envelope) -> Any:
    """``data[key]``, or :class:`EventRejected` when it is missing or empty."""
    value = data.get(key)
    if value is None or value == "":
        raise EventRejected(f"{envelope.name}: no {key!r}, which its statement needs")
    return value


def seconds(value: Any) -> float | None:
    """A position or duration as a float of seconds (``None`` when absent or unreadable)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def actor(envelope: Envelope, site: Site) -> dict[str, Any]:
    """The Agent: an account on the LMS named by the anonymous id (or username, with PII)."""
    if site.actor == "username":
        name = envelope.username
        if not name:
            raise NoActor(f"{envelope.name}: no username (actor 'username' needs a backend with PII: True)")
    else:
        name = envelope.context.anonymous_user_id
        if not name:
            raise NoActor(f"{envelope.name}: no anonymous user id (not a signed-in user's event)")
    return {"objectType": "Agent", "account": {"homePage": site.lms_root_url, "name": name}}


def activity(iri: str, kind: str, name: str | None = None, **definition: Any) -> dict[str, Any]:
    """An Activity with its type, optional English name and further definition members."""
    body: dict[str, Any] = {"type": kind}
    if name:
        body["name"] = {"en": name}
    body.update((key, value) for key, value in definition.items() if value is not None)
    return {"objectType": "Activity", "id": iri, "definition": body}


def course_activity(envelope: Envelope, site: Site, course_id: str | None = None) -> dict[str, Any]:
    """The course run as an Activity (the course id from the payload or the context)."""
    key = course_id or envelope.context.course_id
    if not key:
        raise EventRejected(f"{envelope.name}: no course id")
    return activity(site.iri("course", key), xv.COURSE)


def extensions(values: Mapping[str, Any]) -> dict[str, Any]:
    """The members of ``values`` that are set (xAPI extensions carry no nulls here)."""
    return {key: value for key, value in values.items() if value is not None}


def statement(
    envelope: Envelope,
    site: Site,
    verb: Mapping[str, Any],
    obj: Mapping[str, Any],
    *,
    result: Mapping[str, Any] | None = None,
    context_extensions: Mapping[str, Any] | None = None,
    grouping: list[dict[str, Any]] | None = None,
    course_parent: bool = True,
) -> dict[str, Any]:
    """A whole statement: the shared parts around the verb, object and result given."""
    context: dict[str, Any] = {}
    parents: dict[str, Any] = {}
    if course_parent and envelope.context.course_id:
        parents["parent"] = [course_activity(envelope, site)]
    if grouping:
        parents["grouping"] = grouping
    if parents:
        context["contextActivities"] = parents
    ext = {xv.TRANSFORMER_VERSION: TRANSFORMER}
    if envelope.session:
        ext[xv.SESSION_ID] = envelope.session
    if context_extensions:
        ext.update(extensions(context_extensions))
    context["extensions"] = ext
    made: dict[str, Any] = {
        "id": statement_id(envelope.id),
        "actor": actor(envelope, site),
        "verb": verb,
        "object": obj,
        "context": context,
        "timestamp": format_time(envelope.time),
        "version": xv.XAPI_VERSION,
    }
    if result:
        made["result"] = result
    return made
