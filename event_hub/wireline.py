"""The wire line: one processed envelope as the JSON line a batch carries, and its cheap split.

A line is :meth:`Envelope.to_wire` written as JSON, led by one member more:
``event_bytes``, the length in bytes of the ``event`` member's JSON text, which
ends the line::

    {"event_bytes":27,"id":…,"name":…,…,"context":{…},"event":{"code":"html5",…}}

Every reader decodes it as before (:meth:`Envelope.from_wire` ignores the
extra member). A backend that only reshapes the line (the file backend) reads
it with :func:`split`: the count at its fixed place gives the payload's text at
the end of the line, only the head between them is decoded (a few hundred
bytes), and the payload is copied as it is instead of being parsed and written
again. Lines without the count are simply not split: lines written by older
versions or by hand, and lines orjson alone could not write (an integer beyond
64 bits or an integer key), so that a split line's head is always read exactly
by orjson.
"""

from __future__ import annotations

from typing import Any

import orjson

from event_hub import jsonio
from event_hub.envelope import Envelope

#: orjson option of the fallback path: integer keys are written as strings, as ``json.dumps`` does.
_EXACT_OPTIONS = orjson.OPT_NON_STR_KEYS
_COUNT = b'{"event_bytes":'
_EVENT = b',"event":'
#: Where the count's digits start, and the longest count looked for (a payload under 10**12 bytes).
_DIGITS = len(_COUNT)
_MAX_DIGITS = 12


def encode(envelope: Envelope) -> bytes:
    """The wire line of ``envelope``; raises ``TypeError`` when JSON cannot hold it.

    ``event_bytes`` is written when orjson alone wrote the line, so every integer in it
    fits in 64 bits and orjson reads it back exactly. A line that needs the exact path
    (an integer beyond 64 bits, an integer key: :func:`jsonio.dumps`) has no count and
    is never split.
    """
    wire = envelope.to_wire()
    event = wire.pop("event")
    try:
        # Most lines: orjson as it is (a third faster than with the option for integer keys).
        payload = orjson.dumps(event)
        head = orjson.dumps(wire)
    except TypeError:  # orjson.JSONEncodeError: an integer key, a big integer, or not JSON at all
        wire["event"] = event
        return jsonio.dumps(wire, option=_EXACT_OPTIONS)
    return b"".join((_COUNT, str(len(payload)).encode(), b",", head[1:-1], _EVENT, payload, b"}"))


def split(line: bytes) -> tuple[dict[str, Any], bytes] | None:
    """``(head, payload)`` of a line :func:`encode` wrote; ``None`` for any other line.

    ``head`` is the decoded object without ``event_bytes`` and ``event``; ``payload``
    the ``event`` member's JSON text, exactly as written. The split is checked: the
    count must end the line exactly after ``,"event":`` and the head must be a whole
    JSON object on its own.
    """
    located = _locate(line)
    if located is None:
        return None
    comma, event_at, payload_start = located
    try:
        head = orjson.loads(b"{" + line[comma + 1 : event_at] + b"}")  # orjson alone wrote it: exact
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict):
        return None
    return head, line[payload_start:-1]


#: A wire line's parts as text (:func:`sections`): ``"id":…``;
#: ``"name":…,"event_type":…,"event_source":…,"time":…``; ``,"username":…`` to the end of
#: ``"session":…`` (the request's members, led by their comma); the ``context`` member's value;
#: the ``event`` member's value (the payload :func:`split` gives).
Sections = tuple[bytes, bytes, bytes, bytes, bytes]

_NAME = b',"name":'
_USERNAME = b',"username":'
_CONTEXT = b',"context":'


def sections(line: bytes, request: bytes = b"") -> Sections | None:
    """The parts of a line :func:`encode` wrote, as text, without decoding any; ``None`` for another line.

    The count is checked as :func:`split` checks it; the other cuts are made at the first
    ``,"name":``, ``,"username":`` and ``,"context":`` after it. No JSON string holds those
    bytes (its quotes are escaped), so each cut is the member's start whenever the text
    before it is a whole sequence of members, which is for the reader to check (by decoding
    a part, or by finding it equal to a part it checked): a member that is an object holding
    such a key would cut early, and the part before would then not be whole.

    ``request`` is the request part the reader last found whole: when the line has it at its
    place, followed by ``,"context":``, the cut after it is made without a search (a part
    found whole holds no ``,"context":``, or it would have been cut there).
    """
    located = _locate(line)
    if located is None:
        return None
    comma, event_at, payload_start = located
    name_at = line.find(_NAME, comma, event_at)
    if name_at < 0:
        return None
    username_at = line.find(_USERNAME, name_at, event_at)
    if username_at < 0:
        return None
    context_at = username_at + len(request)
    if not (
        request
        and context_at + len(_CONTEXT) <= event_at
        and line.startswith(request, username_at)
        and line.startswith(_CONTEXT, context_at)
    ):
        context_at = line.find(_CONTEXT, username_at, event_at)
        if context_at < 0:
            return None
    return (
        line[comma + 1 : name_at],
        line[name_at + 1 : username_at],
        line[username_at:context_at],
        line[context_at + len(_CONTEXT) : event_at],
        line[payload_start:-1],
    )


def _locate(line: bytes) -> tuple[int, int, int] | None:
    """Where the count's comma, ``,"event":`` and the payload are in ``line``, if its count checks out."""
    if not line.startswith(_COUNT):
        return None
    comma = line.find(b",", _DIGITS, _DIGITS + _MAX_DIGITS + 1)
    count = line[_DIGITS:comma]
    if comma < 0 or not count.isdigit():
        return None
    payload_start = len(line) - 1 - int(count)
    event_at = payload_start - len(_EVENT)
    if event_at <= comma or not line.startswith(_EVENT, event_at) or not line.endswith(b"}"):
        return None
    return comma, event_at, payload_start
