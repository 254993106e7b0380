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
import orjson
from uuid_utils import uuid7

SOURCES: Final = ("server", "browser", "mobile", "task")
#: The members of :meth:`Envelope.to_wire`, in its order (the tracking-log line's, plus ``id``).
WIRE_MEMBERS: Final = (
    "id",
    "name",
    "event_type",
    "event_source",
    "time",
    "username",
    "ip",
    "agent",
    "host",
    "referer",
    "accept_language",
    "page",
    "session",
    "context",
    "event",
)


def checked_source(source: Any) -> str:
    """``source`` if it is one of :data:`SOURCES`; the ``ValueError`` an envelope gives otherwise."""
    if source not in SOURCES:
        raise ValueError(f"'event_source' must be in {SOURCES!r} (got {source!r})")
    return str(source)

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

    def with_extra(self, extra: Mapping[str, Any]) -> EventContext:
        """This context with ``extra`` as its further members (a cheaper ``attrs.evolve``)."""
        return _make_context(
            self.course_id,
            self.org_id,
            self.path,
            self.user_id,
            self.anonymous_user_id,
            self.course_run,
            self.course_slug,
            self.module_id,
            self.section_id,
            self.unit_id,
            self.module,
            self.course_user_tags,
            extra,
        )

    def extended(self, members: Mapping[str, Any]) -> EventContext:
        """This context with ``members`` added to (or replacing some of) its further members."""
        global _last_written, _last_extended
        extended = self.with_extra({**self.extra, **members})
        # Its wire form is this one's plus the members (dict updates compose), so the
        # envelope's to_wire does not rebuild it; this one's is kept apart, for the next
        # event extending the same context (each browser event of a request does).
        base = _last_extended
        if base is None or base[0] is not self:
            base = _last_extended = (self, _build_wire_context(self))
        _last_written = (extended, {**base[1], **members})
        return extended


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
        context = dict(_wire_context(self.context))
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
        make = make_envelope if cls is Envelope else cls  # a subclass gets its own constructor
        return make(
            data["id"],
            data["name"],
            data["event_type"],
            data["event_source"],
            datetime.fromisoformat(data["time"]),
            data["event"],
            _context(data["context"]),
            data["username"],
            data["ip"],
            data["agent"],
            data["host"],
            data["referer"],
            data["accept_language"],
            data["page"],
            data["session"],
            (),
        )


def _slot_setter(cls: type, prologue: str = "") -> Any:
    """A positional constructor of the frozen, slotted attrs class ``cls``, for the per-event paths.

    attrs' ``__init__`` of a frozen class sets each field with ``object.__setattr__(self,
    name, value)``, which looks the name up every time; this one calls each slot's
    descriptor directly (about half the time for the sixteen fields of an envelope). It
    takes every field, in order, and runs no converter or validator: ``prologue`` checks
    what the class's validators check.
    """
    names = [field.name for field in attrs.fields(cls)]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "SOURCES": SOURCES}
    lines = [f"def make({', '.join(names)}):", prologue, "    self = _new(_cls)"]
    for name in names:
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
        lines.append(f"    _set_{name}(self, {name})")
    lines.append("    return self")
    exec("\n".join(line for line in lines if line), namespace)  # our own code, made of field names
    return namespace["make"]


_make_context = _slot_setter(EventContext)
#: ``Envelope(*fields)`` with every field given, in order; raises ``ValueError`` for an unknown source.
make_envelope = _slot_setter(
    Envelope,
    "    if event_source not in SOURCES:\n"
    "        raise ValueError(f\"'event_source' must be in {SOURCES!r} (got {event_source!r})\")",
)


#: The last context written and read: the events of one request share their context, so a
#: batch's lines (and the envelopes of one context frame) mostly repeat the previous one.
_last_written: tuple[EventContext, dict[str, Any]] | None = None
_last_read: tuple[bytes, EventContext] | None = None
#: The last context :meth:`EventContext.extended` extended, and its wire members.
_last_extended: tuple[EventContext, dict[str, Any]] | None = None


def _wire_context(ctx: EventContext) -> dict[str, Any]:
    """The wire ``context`` members of ``ctx`` (not to be changed: :meth:`Envelope.to_wire` copies it)."""
    global _last_written
    last = _last_written
    if last is not None and last[0] is ctx:
        return last[1]
    members = _build_wire_context(ctx)
    _last_written = (ctx, members)
    return members


def _build_wire_context(ctx: EventContext) -> dict[str, Any]:
    """The wire ``context`` members of ``ctx``, built."""
    members: dict[str, Any] = {
        "course_id": ctx.course_id,
        "org_id": ctx.org_id,
        "path": ctx.path,
        "user_id": ctx.user_id,
    }
    # The optional members, in _OPTIONAL_CONTEXT order, when not empty (spelt out: this is per event).
    if ctx.anonymous_user_id:
        members["anonymous_user_id"] = ctx.anonymous_user_id
    if ctx.course_run:
        members["course_run"] = ctx.course_run
    if ctx.course_slug:
        members["course_slug"] = ctx.course_slug
    if ctx.module_id:
        members["module_id"] = ctx.module_id
    if ctx.section_id:
        members["section_id"] = ctx.section_id
    if ctx.unit_id:
        members["unit_id"] = ctx.unit_id
    if ctx.module:
        members["module"] = ctx.module
    if ctx.course_user_tags:
        members["course_user_tags"] = ctx.course_user_tags
    if ctx.extra:
        members.update(ctx.extra)
    return members


def _context(members: Mapping[str, Any]) -> EventContext:
    """The EventContext of a wire ``context``: known members become fields, the rest ``extra``.

    Consecutive lines of a batch mostly carry the same context: when ``members`` are the
    previous ones byte for byte (compared as JSON, so ``1`` and ``1.0`` stay apart) the
    previous EventContext is returned.
    """
    global _last_read
    try:
        seen: bytes | None = orjson.dumps(members)
    except TypeError:  # not decoded JSON (a caller's own mapping): build it every time
        seen = None
    last = _last_read
    if seen is not None and last is not None and last[0] == seen:
        return last[1]
    fields = {key: value for key, value in members.items() if key in _CONTEXT_FIELDS}
    if len(fields) < len(members):
        fields["extra"] = {key: value for key, value in members.items() if key not in _CONTEXT_FIELDS}
    ctx = EventContext(**fields)
    if seen is not None:
        _last_read = (seen, ctx)
    return ctx


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
