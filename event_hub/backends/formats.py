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
from event_hub.envelope import SOURCES, WIRE_MEMBERS, Envelope, checked_source, format_time, json_time
from event_hub.wireline import Sections

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
    _openedx_context(wire["context"], extra_fields)
    wire["time"] = _wire_time(wire["time"])
    if "id" not in extra_fields:
        del wire["id"]
    return wire


def _openedx_context(members: dict[str, Any], extra_fields: Collection[str]) -> None:
    """Take the wire ``context`` members the platform does not write out of ``members``."""
    for key in _NOT_IN_OPENEDX_CONTEXT:
        members.pop(key, None)
    if "anonymous_user_id" not in extra_fields:
        members.pop("anonymous_user_id", None)


class OpenedxSections:
    """Writes the ``openedx`` line of a wire line from its parts (:func:`event_hub.wireline.sections`).

    The line is the wire line less ``event_bytes``, ``id`` and a few context members, so
    most of it is copied as text, each part once it is known to be exactly what orjson
    writes for the members it should hold: the name, type and source (decoded and written
    again when they differ from the last line's), the time (digits in the one wire form, in
    UTC), the request's members, username to session (checked the same way when they differ
    from the last line's: the events of a request share them), and the context, whose
    rendering is kept for the next line with the same context. The result is what
    :func:`openedx_from_split` writes, byte for byte; a part in any other shape gives
    ``None``, and the caller renders the line that way instead.

    It keeps the last parts it checked: one per backend, shared by its threads (each part
    is replaced whole, so a thread reads either the old or the new one).
    """

    __slots__ = ("_base", "_context", "_extra_fields", "_kind", "_with_id", "request")

    def __init__(self, extra_fields: Collection[str] = ()) -> None:
        self._extra_fields = frozenset(extra_fields)
        self._with_id = "id" in self._extra_fields
        #: The last name-type-source text found canonical, and whether its source is ``browser``.
        self._kind: tuple[bytes, bool] = (b"", False)
        #: The last request part found canonical (it starts with a comma, so it is never ``b""``).
        self.request = b""
        #: The last context text rendered, and its rendering.
        self._context: tuple[bytes, bytes] = (b"", b"")
        #: The text of the last context decoded up to its last member, that part's rendering (both
        #: ending with the comma before the member), and the keys the last member must not have.
        self._base: tuple[bytes, bytes, frozenset[str]] = (b"", b"", frozenset())

    def __call__(self, parts: Sections) -> bytes | None:
        """The line's JSON text (before line-separator escaping), or ``None``: render it from the split."""
        id_, lead, request, context, payload = parts
        plain_id = id_.startswith(b'"id":"') and id_.endswith(b'"') and id_.count(b'"') == 4
        if not plain_id or not id_.isascii() or id_.count(b"\\"):
            return None  # not "id":"…", an ASCII string written as it reads
        cut = len(lead) - _TIME_MEMBER
        if (
            cut <= 0
            or not lead.startswith(b',"time":"', cut)
            or lead[cut + _TIME_KEY : -1].translate(_DIGITS_AS_ZERO) != _TIME_SHAPE
            or not lead.endswith(b'+00:00"')
        ):
            return None  # the split path writes another time form in the one form
        kind, browser = self._kind
        if len(kind) != cut or not lead.startswith(kind):
            members = _canonical(b"{" + lead[:cut] + b"}", _KIND_ORDER)
            if members is None or members["event_source"] not in SOURCES:
                return None  # the split path writes it, or raises for an unknown source
            browser = members["event_source"] == "browser"
            self._kind = (lead[:cut], browser)
        if request != self.request:
            if _canonical(b"{" + request[1:] + b"}", _REQUEST_ORDER) is None:
                return None
            self.request = request
        last_context, rendered = self._context
        if context != last_context:
            found = self._last_member_changed(context) or self._rendered_context(context)
            if found is None:
                return None
            rendered = found
            self._context = (context, rendered)
        if browser and not payload.startswith(b'"'):
            payload = orjson.dumps(payload.decode())  # the payload's text as a JSON string
        tail = (lead, request, b',"context":', rendered, b',"event":', payload, b"}")
        return b"".join((b"{", id_, b",", *tail) if self._with_id else (b"{", *tail))

    def _rendered_context(self, context: bytes) -> bytes | None:
        """The ``openedx`` context of a context's text, decoded; what it shares with the next is kept."""
        try:
            values = orjson.loads(context)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(values, dict) or not values.keys() >= _CONTEXT_FIRST:
            return None
        *_, last = values
        base = {key: value for key, value in values.items() if key != last}
        _openedx_context(values, self._extra_fields)
        rendered = orjson.dumps(values)
        if last in values and last not in _CONTEXT_FIRST:  # kept by the line, not one of the first four
            base_text = orjson.dumps(base)[:-1] + b","
            member = context[len(base_text) :]  # the last member and the closing brace
            if context.startswith(base_text) and rendered.endswith(member):  # both as orjson writes them
                taken = frozenset(base) | _NOT_IN_OPENEDX_CONTEXT | {"anonymous_user_id"}
                self._base = (base_text, rendered[: len(rendered) - len(member)], taken)
        return rendered

    def _last_member_changed(self, context: bytes) -> bytes | None:
        """The ``openedx`` context of a context that is the last one decoded but for its last member.

        A request's browser events share their context except ``client_time``, its last member:
        the rest's rendering is kept, and the member, once checked, is copied after it.
        """
        base_text, base_rendered, taken = self._base
        if not base_text or not context.startswith(base_text):
            return None
        member = b"{" + context[len(base_text) :]
        try:
            values = orjson.loads(member)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(values, dict) or len(values) != 1 or not values.keys().isdisjoint(taken):
            return None
        if orjson.dumps(values) != member:
            return None
        return base_rendered + member[1:]


#: ``,"time":"`` and ``…"``: the lead's last member, its time in the one wire form.
_TIME_KEY: Final = len(b',"time":"')
_TIME_MEMBER: Final = _TIME_KEY + _WIRE_TIME_LENGTH + 1
#: A wire time with each digit read as ``0`` (its zone is checked as written):
#: ``YYYY-MM-DDThh:mm:ss.ffffff+00:00``.
_TIME_SHAPE: Final = b"0000-00-00T00:00:00.000000+00:00"
_DIGITS_AS_ZERO: Final = bytes(0x30 if 0x30 <= code <= 0x39 else code for code in range(256))
_KIND_ORDER: Final = ("name", "event_type", "event_source")
_REQUEST_ORDER: Final = ("username", "ip", "agent", "host", "referer", "accept_language", "page", "session")


def _canonical(text: bytes, keys: tuple[str, ...]) -> dict[str, Any] | None:
    """``text`` decoded, if it is an object with exactly ``keys`` in order, written as orjson writes it."""
    try:
        members = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(members, dict) or tuple(members) != keys or orjson.dumps(members) != text:
        return None
    return members


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


def sections_renderer(format: str, extra_fields: Collection[str] = ()) -> OpenedxSections | None:
    """The renderer of a wire line's parts in ``format`` (``openedx`` only; ``None`` for the others)."""
    chosen = _checked_extra_fields(format, extra_fields)
    return OpenedxSections(chosen) if format == "openedx" else None


def check_format_options(options: dict[str, Any]) -> list[str]:
    """Problems with a backend's ``format`` and ``extra_fields`` options, for the system checks."""
    try:
        renderer(options.get("format", "openedx"), options.get("extra_fields", ()))
    except (ValueError, TypeError) as exc:
        return [f"OPTIONS: {exc}"]
    return []
