"""The tracking-log shapes a file (or console, or memory) backend writes an envelope in.

* ``openedx`` (default): exactly the common fields of the Open edX tracking log
  and nothing else — ``name``, ``session`` and ``event`` always present, no
  top-level ``id`` and no ``context.anonymous_user_id`` unless the backend's
  ``extra_fields`` asks for them. Browser events carry ``event`` as a JSON
  string, as the platform's ``/event`` view writes it; server and mobile events
  carry it as an object.
* ``compact``: the shape of the event-tracking design note (``event_type``,
  ``anon_username``, ``course_slug`` … ``event_data``), with the event ``id``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Final

import orjson

from event_hub import jsonio
from event_hub.envelope import WIRE_MEMBERS, Envelope, checked_source, format_time, json_time

FORMATS: Final = ("openedx", "compact")
#: Members the ``openedx`` format leaves out unless a backend asks for them.
EXTRA_FIELDS: Final = ("id", "anonymous_user_id")

Renderer = Callable[[Envelope], dict[str, Any]]
#: Renders the decoded wire object of an envelope (:meth:`Envelope.to_wire`) without building the envelope.
WireRenderer = Callable[[dict[str, Any]], dict[str, Any]]
#: Renders a split wire line (:func:`event_hub.wireline.split`): its head and its payload's JSON text.
SplitRenderer = Callable[[dict[str, Any], bytes], dict[str, Any]]

#: Wire ``context`` members the ``openedx`` line leaves out (the compact format's own fields).
_NOT_IN_OPENEDX_CONTEXT: Final = frozenset(
    ("course_run", "course_slug", "module_id", "section_id", "unit_id")
)
#: The members of a split line's head (:func:`event_hub.wireline.split`): all but ``event``.
_HEAD_ORDER: Final = WIRE_MEMBERS[:-1]
#: The context members every wire object starts with.
_CONTEXT_FIRST: Final = frozenset(("course_id", "org_id", "path", "user_id"))
#: Length of a wire ``time`` in its one form (``YYYY-MM-DDThh:mm:ss.ffffff+00:00``).
_WIRE_TIME_LENGTH: Final = 32


def openedx(env: Envelope, extra_fields: Collection[str] = ()) -> dict[str, Any]:
    """The Open edX tracking-log line of ``env`` (see the module docstring)."""
    ctx = env.context
    context: dict[str, Any] = {
        "course_id": ctx.course_id,
        "org_id": ctx.org_id,
        "path": ctx.path,
        "user_id": ctx.user_id,
    }
    if ctx.anonymous_user_id and "anonymous_user_id" in extra_fields:
        context["anonymous_user_id"] = ctx.anonymous_user_id
    if ctx.module is not None:
        context["module"] = ctx.module
    if ctx.course_user_tags is not None:
        context["course_user_tags"] = ctx.course_user_tags
    if ctx.extra:
        context.update(ctx.extra)
    event = env.event
    if env.event_source == "browser" and not isinstance(event, str):
        event = jsonio.dumps(event).decode()
    line: dict[str, Any] = {"id": env.id} if "id" in extra_fields else {}
    line.update(
        name=env.name,
        event_type=env.event_type,
        event_source=env.event_source,
        time=json_time(env.time),
        username=env.username,
        ip=env.ip,
        agent=env.agent,
        host=env.host,
        referer=env.referer,
        accept_language=env.accept_language,
        page=env.page,
        session=env.session,
        context=context,
        event=event,
    )
    return line


def compact(env: Envelope) -> dict[str, Any]:
    """The shape of the event-tracking design note (anonymous id only, never PII)."""
    ctx = env.context
    return {
        "id": env.id,
        "event_type": env.name,
        "event_source": env.event_source,
        "anon_username": ctx.anonymous_user_id,
        "time": json_time(env.time),
        "course_slug": ctx.course_slug,
        "course_run": ctx.course_run,
        "module_id": ctx.module_id,
        "section_id": ctx.section_id,
        "unit_id": ctx.unit_id,
        "page_url": env.page,
        "event_data": env.event,
    }


def openedx_from_wire(wire: dict[str, Any], extra_fields: Collection[str] = ()) -> dict[str, Any]:
    """:func:`openedx` of the envelope whose decoded wire object is ``wire``, made of ``wire`` itself.

    The wire object is the tracking-log line plus the event ``id`` and the context
    members the platform does not write, in the line's order, so the line is ``wire``
    with those taken out (``wire`` is consumed: it becomes the line). A wire object in
    another shape (not written by :meth:`Envelope.to_wire`) is rendered through the
    envelope, as before.
    """
    source = checked_source(wire["event_source"])
    if tuple(wire) != WIRE_MEMBERS or not _context_first(wire):
        return openedx(Envelope.from_wire(wire), extra_fields)
    if source == "browser" and not isinstance(wire["event"], str):
        wire["event"] = jsonio.dumps(wire["event"]).decode()
    return _openedx_head(wire, extra_fields)


def openedx_from_split(
    head: dict[str, Any], payload: bytes, extra_fields: Collection[str] = ()
) -> dict[str, Any]:
    """:func:`openedx` of a split wire line (:func:`event_hub.wireline.split`): the payload's text is copied.

    A browser event's ``event`` is that text as a JSON string (kept as it is when the
    payload already is a string); a server or mobile event's is the text itself.
    """
    source = checked_source(head["event_source"])
    if tuple(head) != _HEAD_ORDER or not _context_first(head):
        return openedx(Envelope.from_wire({**head, "event": jsonio.loads(payload)}), extra_fields)
    if source == "browser" and not payload.startswith(b'"'):
        head["event"] = payload.decode()
    else:
        head["event"] = orjson.Fragment(payload)
    return _openedx_head(head, extra_fields)


def _context_first(wire: dict[str, Any]) -> bool:
    members = wire["context"]
    return isinstance(members, dict) and members.keys() >= _CONTEXT_FIRST


def _openedx_head(wire: dict[str, Any], extra_fields: Collection[str]) -> dict[str, Any]:
    """``wire`` (in the wire order, its ``event`` final) made the line: the members the platform lacks out."""
    members = wire["context"]
    for key in _NOT_IN_OPENEDX_CONTEXT:
        if key in members:
            del members[key]
    if "anonymous_user_id" in members and "anonymous_user_id" not in extra_fields:
        del members["anonymous_user_id"]
    wire["time"] = _wire_time(wire["time"])
    if "id" not in extra_fields:
        del wire["id"]
    return wire


def compact_from_wire(wire: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`compact` of the envelope whose decoded wire object is ``wire``."""
    source = checked_source(wire["event_source"])
    get = wire["context"].get
    return {
        "id": wire["id"],
        "event_type": wire["name"],
        "event_source": source,
        "anon_username": get("anonymous_user_id", ""),
        "time": _wire_time(wire["time"]),
        "course_slug": get("course_slug", ""),
        "course_run": get("course_run", ""),
        "module_id": get("module_id", ""),
        "section_id": get("section_id", ""),
        "unit_id": get("unit_id", ""),
        "page_url": wire["page"],
        "event_data": wire["event"],
    }


def compact_from_split(head: dict[str, Any], payload: bytes) -> dict[str, Any]:
    """:func:`compact` of a split wire line: the payload's text is copied as ``event_data``."""
    head["event"] = orjson.Fragment(payload)
    return compact_from_wire(head)


def _wire_time(value: str) -> str:
    """The line's ``time`` for a wire ``time``: kept when in the one form :meth:`Envelope.to_wire` writes."""
    if len(value) == _WIRE_TIME_LENGTH and value.endswith("+00:00"):
        return value
    return format_time(datetime.fromisoformat(value))  # written elsewhere (another zone, no microseconds)


def _checked_extra_fields(format: str, extra_fields: Collection[str]) -> frozenset[str]:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    unknown = set(extra_fields) - set(EXTRA_FIELDS)
    if format == "openedx" and unknown:
        raise ValueError(f"extra_fields may name {EXTRA_FIELDS}, not {sorted(unknown)}")
    return frozenset(extra_fields)


def renderer(format: str, extra_fields: Collection[str] = ()) -> Renderer:
    """The function rendering envelopes in ``format`` (``extra_fields`` applies to ``openedx``)."""
    chosen = _checked_extra_fields(format, extra_fields)
    if format == "compact":
        return compact
    return lambda env: openedx(env, chosen)


def line_renderers(format: str, extra_fields: Collection[str] = ()) -> tuple[WireRenderer, SplitRenderer]:
    """The functions rendering a decoded wire object and a split wire line in ``format``.

    Both give the same line as :func:`renderer` gives for the envelope.
    """
    chosen = _checked_extra_fields(format, extra_fields)
    if format == "compact":
        return compact_from_wire, compact_from_split
    return (
        lambda wire: openedx_from_wire(wire, chosen),
        lambda head, payload: openedx_from_split(head, payload, chosen),
    )


def check_format_options(options: dict[str, Any]) -> list[str]:
    """Problems with a backend's ``format`` and ``extra_fields`` options, for the system checks."""
    try:
        renderer(options.get("format", "openedx"), options.get("extra_fields", ()))
    except (ValueError, TypeError) as exc:
        return [f"OPTIONS: {exc}"]
    return []
