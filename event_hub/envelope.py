"""The envelope: one event with every common field, frozen and typed.

The fields follow the "Common Fields" of the Open edX tracking-log reference,
plus a unique ``id`` (so sinks can drop duplicates of an at-least-once
delivery) and the anonymous user id. Processors return modified copies with
``attrs.evolve``; nothing mutates an envelope.

Two output formats render an envelope to a JSON-ready dict:

* ``openedx`` (default): the tracking-log shape, every common field present.
* ``compact``: the shape of the event-tracking design note (``event_type``,
  ``anon_username``, ``course_slug`` … ``event_data``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs
from uuid_utils import uuid7

SOURCES: Final = ("server", "browser", "mobile", "task")
FORMATS: Final = ("openedx", "compact")

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
    #: Top-level keys of ``event`` that the catalog marks as personal data.
    pii_fields: tuple[str, ...] = ()
    #: Output format the backend receives (set by the format processor).
    format: str = attrs.field(default="openedx", validator=attrs.validators.in_(FORMATS))

    def render(self) -> dict[str, Any]:
        """The dict to serialize with orjson, in this envelope's output format.

        ``time`` may be a UTC ``datetime`` (orjson writes it in the tracking-log
        format); serialize with ``orjson.dumps`` or use :func:`format_time`.
        """
        return RENDERERS[self.format](self)


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.ffffff+00:00``: UTC, always with microseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def _time(moment: datetime) -> datetime | str:
    """The ``time`` value for a rendered dict.

    A UTC datetime with microseconds is left for orjson, which writes exactly
    ``YYYY-MM-DDThh:mm:ss.ffffff+00:00`` several times faster than ``isoformat``;
    anything else (no microseconds, another zone) is formatted here.
    """
    if moment.microsecond and moment.tzinfo is UTC:
        return moment
    return format_time(moment)


def render_openedx(env: Envelope) -> dict[str, Any]:
    """The Open edX tracking-log shape (every common field, plus ``id``)."""
    ctx = env.context
    context: dict[str, Any] = {
        "course_id": ctx.course_id,
        "org_id": ctx.org_id,
        "path": ctx.path,
        "user_id": ctx.user_id,
    }
    if ctx.anonymous_user_id:
        context["anonymous_user_id"] = ctx.anonymous_user_id
    if ctx.module is not None:
        context["module"] = ctx.module
    if ctx.course_user_tags is not None:
        context["course_user_tags"] = ctx.course_user_tags
    if ctx.extra:
        context.update(ctx.extra)
    return {
        "id": env.id,
        "name": env.name,
        "event_type": env.event_type,
        "event_source": env.event_source,
        "time": _time(env.time),
        "username": env.username,
        "ip": env.ip,
        "agent": env.agent,
        "host": env.host,
        "referer": env.referer,
        "accept_language": env.accept_language,
        "page": env.page,
        "session": env.session,
        "context": context,
        "event": env.event,
    }


def render_compact(env: Envelope) -> dict[str, Any]:
    """The shape of the event-tracking design note (anonymous id only, never PII)."""
    ctx = env.context
    return {
        "id": env.id,
        "event_type": env.name,
        "event_source": env.event_source,
        "anon_username": ctx.anonymous_user_id,
        "time": _time(env.time),
        "course_slug": ctx.course_slug,
        "course_run": ctx.course_run,
        "module_id": ctx.module_id,
        "section_id": ctx.section_id,
        "unit_id": ctx.unit_id,
        "page_url": env.page,
        "event_data": env.event,
    }


RENDERERS: dict[str, Callable[[Envelope], dict[str, Any]]] = {
    "openedx": render_openedx,
    "compact": render_compact,
}


def new_event_id() -> str:
    """A new unique event id: a time-ordered UUID (version 7, RFC 4122 variant).

    The first 48 bits are the Unix time in milliseconds, so ids sort roughly by
    creation time (handy as a database or sink key); the rest is random, with a
    counter that keeps one process's ids in order within a millisecond.
    ``uuid-utils`` reseeds its generator in every forked child, so workers forked
    from one parent never repeat each other's ids.
    """
    return str(uuid7())
