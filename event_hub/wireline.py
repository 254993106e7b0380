"""The wire line: one processed envelope as the JSON line a batch carries, and its cheap split.

A line is :meth:`Envelope.to_wire` written as JSON, with one member more just
before the last one: ``event_bytes``, the length in bytes of the ``event``
member's JSON text, which ends the line::

    {"id":…,"name":…,…,"context":{…},"event_bytes":27,"event":{"code":"html5",…}}

Every reader decodes it as before (:meth:`Envelope.from_wire` ignores the
extra member). A backend that only reshapes the line (the file backend) reads
the head with :func:`split` — the members before ``event``, a few hundred
bytes — and copies the payload's text as it is, instead of parsing a payload of
any size and writing it again. Lines without ``event_bytes`` are simply not
split: lines written by older versions or by hand, and lines orjson alone could
not write (an integer beyond 64 bits or an integer key), so that a split line's
head is always read exactly by orjson.
"""

from __future__ import annotations

from typing import Any

import orjson

from event_hub import jsonio
from event_hub.envelope import Envelope

#: orjson option of the fallback path: integer keys are written as strings, as ``json.dumps`` does.
_EXACT_OPTIONS = orjson.OPT_NON_STR_KEYS
_COUNT = b',"event_bytes":'
_EVENT = b',"event":'


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
        wire["event_bytes"] = len(payload)
        head = orjson.dumps(wire)
    except TypeError:  # orjson.JSONEncodeError: an integer key, a big integer, or not JSON at all
        wire.pop("event_bytes", None)
        wire["event"] = event
        return jsonio.dumps(wire, option=_EXACT_OPTIONS)
    return b"".join((head[:-1], _EVENT, payload, b"}"))


def split(line: bytes) -> tuple[dict[str, Any], bytes] | None:
    """``(head, payload)`` of a line :func:`encode` wrote; ``None`` for any other line.

    ``head`` is the decoded object without ``event`` and ``event_bytes``; ``payload``
    the ``event`` member's JSON text, exactly as written. The split is checked: the
    count must lead to ``,"event":`` and the payload must end the line, and the head
    must be a whole JSON object on its own (a lookalike inside ``context`` is not).
    """
    at = line.find(_COUNT)
    if at < 0:
        return None
    digits_start = at + len(_COUNT)
    digits_end = line.find(b",", digits_start)
    count = line[digits_start:digits_end]
    if digits_end < 0 or not count.isdigit():
        return None
    payload_start = digits_end + len(_EVENT)
    if (
        line[digits_end:payload_start] != _EVENT
        or payload_start + int(count) + 1 != len(line)
        or not line.endswith(b"}")
    ):
        return None
    try:
        head = orjson.loads(line[:at] + b"}")  # orjson alone wrote it (see encode): read exactly
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict):
        return None
    return head, line[payload_start:-1]
