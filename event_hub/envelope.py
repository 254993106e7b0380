"""The envelope: one event with every common field, frozen and typed.

The fields follow the "Common Fields" of the Open edX tracking-log reference,
plus a unique ``id`` (so sinks can drop duplicates of an at-least-once
delivery) and the anonymous user id. Processors return modified copies with
``attrs.evolve``; nothing mutates an envelope.

What travels from the emitting process to a backend is the processed envelope
itself (:meth:`Envelope.to_wire` / :meth:`Envelope.from_wire`, a JSON object
with every field). Each backend turns envelopes into its own wire format: the
tracking-log and compact shapes are the file backend's
(:mod:`event_hub.backends.formats`), Segment messages and xAPI statements are
their backends'.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs
from uuid_utils import uuid7

SOURCES: Final = ("server", "browser", "mobile", "task")

_EMPTY: Mapping[str, Any] = {}


@attrs.frozen
class EventContext:
    """The ``context`` member: where and for whom the event happened."""

    course_id: str = ""
    org_id: str = ""
    path: str = ""
    user_id: int | None = None
    anonymous_user_id: str = ""
    #: Run part of the course key (``2014_T1``); rendered in the compact format.
    course_run: str = ""
    #: ``org+course`` part of the course key; rendered in the compact format.
    course_slug: str = ""
    #: Content-node ids: ``module_id`` (chapter), ``section_id`` (sequential), ``unit_id`` (vertical).
    module_id: str = ""
    section_id: str = ""
    unit_id: str = ""
    #: ``{"display_name", "usage_key", ...}`` of the component involved, when there is one.
    module: Mapping[str, Any] | None = None
    course_user_tags: Mapping[str, Any] | None = None
    #: Further members some events carry (mobile ``application``, ``received_at`` …).
    extra: Mapping[str, Any] = _EMPTY


#: EventContext fields left out of the wire form when empty (the four always-present ones are kept).
_OPTIONAL_CONTEXT = (
    "anonymous_user_id",
    "course_run",
    "course_slug",
    "module_id",
    "section_id",
    "unit_id",
    "module",
    "course_user_tags",
)
_CONTEXT_FIELDS = frozenset(("course_id", "org_id", "path", "user_id", *_OPTIONAL_CONTEXT))


@attrs.frozen
class Envelope:
    """One event and all its common fields."""

    id: str
    name: str
    event_type: str
    event_source: str = attrs.field(validator=attrs.validators.in_(SOURCES))
    time: datetime
    #: The ``event`` member: the payload, a dict (or a string for a few browser events).
    event: Any
    context: EventContext
    username: str = ""
    ip: str = ""
    agent: str = ""
    host: str = ""
    referer: str = ""
    accept_language: str = ""
    page: str | None = None
    session: str = ""
    #: Top-level keys of ``event`` that the catalog marks as personal data (emit side only).
    pii_fields: tuple[str, ...] = attrs.field(default=(), eq=False)

    def to_wire(self) -> dict[str, Any]:
        """Every field as a JSON-ready dict: what travels from the emitting process to the backends.

        The shape is the tracking-log line's, with the event ``id`` and every
        context member (``extra`` ones merged into ``context``, as the platform
        writes them).

        ``time`` stays a UTC ``datetime`` when orjson can write it exactly (see :func:`json_time`).
        """
        ctx = self.context
        context: dict[str, Any] = {
            "course_id": ctx.course_id,
            "org_id": ctx.org_id,
            "path": ctx.path,
            "user_id": ctx.user_id,
        }
        for key in _OPTIONAL_CONTEXT:
            value = getattr(ctx, key)
            if value:
                context[key] = value
        if ctx.extra:
            context.update(ctx.extra)
        return {
            "id": self.id,
            "name": self.name,
            "event_type": self.event_type,
            "event_source": self.event_source,
            "time": json_time(self.time),
            "username": self.username,
            "ip": self.ip,
            "agent": self.agent,
            "host": self.host,
            "referer": self.referer,
            "accept_language": self.accept_language,
            "page": self.page,
            "session": self.session,
            "context": context,
            "event": self.event,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Envelope:
        """The envelope :meth:`to_wire` wrote (decoded from JSON)."""
        return cls(
            id=data["id"],
            name=data["name"],
            event_type=data["event_type"],
            event_source=data["event_source"],
            time=datetime.fromisoformat(data["time"]),
            event=data["event"],
            context=_context(data["context"]),
            username=data["username"],
            ip=data["ip"],
            agent=data["agent"],
            host=data["host"],
            referer=data["referer"],
            accept_language=data["accept_language"],
            page=data["page"],
            session=data["session"],
        )


def _context(members: Mapping[str, Any]) -> EventContext:
    """The EventContext of a wire ``context``: known members become fields, the rest ``extra``."""
    fields = {key: value for key, value in members.items() if key in _CONTEXT_FIELDS}
    if len(fields) < len(members):
        fields["extra"] = {key: value for key, value in members.items() if key not in _CONTEXT_FIELDS}
    return EventContext(**fields)


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.ffffff+00:00``: UTC, always with microseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def json_time(moment: datetime) -> datetime | str:
    """The ``time`` value for a dict that orjson will serialize.

    A UTC datetime with microseconds is left for orjson, which writes exactly
    ``YYYY-MM-DDThh:mm:ss.ffffff+00:00`` several times faster than ``isoformat``;
    anything else (no microseconds, another zone) is formatted here.
    """
    if moment.microsecond and moment.tzinfo is UTC:
        return moment
    return format_time(moment)


def new_event_id() -> str:
    """A new unique event id: a time-ordered UUID (version 7, RFC 4122 variant).

    The first 48 bits are the Unix time in milliseconds, so ids sort roughly by
    creation time (handy as a database or sink key); the rest is random, with a
    counter that keeps one process's ids in order within a millisecond.
    ``uuid-utils`` reseeds its generator in every forked child, so workers forked
    from one parent never repeat each other's ids.
    """
    return str(uuid7())
