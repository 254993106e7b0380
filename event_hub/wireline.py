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
    if not line.startswith(_COUNT):
        return None
    comma = line.find(b",", _DIGITS, _DIGITS + _MAX_DIGITS + 1)
    count = line[_DIGITS:comma]
    if comma < 0 or not count.isdigit():
        return None
    payload_start = len(line) - 1 - int(count)
    event_at = payload_start - len(_EVENT)
    if event_at <= comma or line[event_at:payload_start] != _EVENT or not line.endswith(b"}"):
        return None
    try:
        head = orjson.loads(b"{" + line[comma + 1 : event_at] + b"}")  # orjson alone wrote it: exact
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict):
        return None
    return head, line[payload_start:-1]
