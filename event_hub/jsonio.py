"""JSON bytes that never change a value, and lines that line-splitting tools cannot break.

orjson is fast but has two gaps that would silently alter an event:

* it reads an integer beyond 64 bits (``2**70``) as a float, losing digits;
* it refuses to write one (``TypeError: Integer exceeds 64-bit range``).

:func:`loads` and :func:`dumps` close both gaps at almost no cost: the fast path is
orjson's. Only a text holding a run of 19 or more digits is parsed again by the
standard library (which keeps every integer exact), and only a value orjson refused
for a big integer is written the slow way (each such integer is written as its exact
digits). Integers are therefore always delivered exactly, never as floats or strings.

:func:`escape_line_separators` writes U+2028 and U+2029 as ``\\u2028`` / ``\\u2029``:
JSON allows them raw, but ``str.splitlines()`` and JavaScript-era tools split lines on them.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import orjson

#: Any integer orjson cannot hold (below -2**63, above 2**64 - 1) has at least 19 digits, and a number's
#: digits follow what may stand before a JSON value (``:``, ``,``, ``[``, white space, a minus sign) or
#: start the text. In bytes such runs are found by mapping every digit to "0", those characters to "!"
#: and everything else to " " (``bytes.translate``, several times faster than a regular expression),
#: then looking for "!" and 19 zeros. Digits inside a string (a hex digest, a numeric id) are mostly
#: after a quote or a letter and do not send the text to the slow path; a string holding, say, ": "
#: and 19 digits does, which costs time and changes nothing.
_NUMBER_RUNS = bytes(
    0x30 if 0x30 <= code <= 0x39 else 0x21 if code in b":,[- \t\n\r" else 0x20 for code in range(256)
)
_NINETEEN_DIGITS = b"0" * 19
_LONG_NUMBER = b"!" + _NINETEEN_DIGITS
_LONG_DIGITS_TEXT = re.compile(r"(?:^|[:,\[\- \t\n\r])[0-9]{19}")
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
#: orjson's depth limit when writing; deeper values fail in orjson whatever we do.
_MAX_DEPTH = 256
#: A placeholder no event can contain by chance (random per process) standing for a big integer.
_MARK = f"\x00event_hub-int-{secrets.token_hex(8)}:"
_MARKED = re.compile(b'"' + re.escape(orjson.dumps(_MARK)[1:-1]) + rb'(-?\d+)"')

_LS, _PS = "\u2028".encode(), "\u2029".encode()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON like ``orjson.loads`` (same errors), but keep integers beyond 64 bits exact."""
    value = orjson.loads(data)
    if isinstance(data, str):
        if _LONG_DIGITS_TEXT.search(data) is None:
            return value
    else:
        runs = bytes(data).translate(_NUMBER_RUNS)
        if _LONG_NUMBER not in runs and not runs.startswith(_NINETEEN_DIGITS):
            return value
    # orjson validated the text; the standard library reads it again, integers exact.
    return json.loads(bytes(data) if isinstance(data, memoryview) else data, parse_constant=_refuse_constant)


def dumps(value: Any, *, option: int = 0, default: Callable[[Any], Any] | None = None) -> bytes:
    """``orjson.dumps``, except that integers beyond 64 bits are written as their exact digits."""
    try:
        return orjson.dumps(value, default=default, option=option)
    except TypeError as exc:  # orjson.JSONEncodeError
        if "64-bit" not in str(exc):
            raise
    marked = orjson.dumps(_mark_big_ints(value, 0), default=default, option=option)
    return _MARKED.sub(rb"\1", marked)


def _mark_big_ints(value: Any, depth: int) -> Any:
    """A copy of the containers of ``value`` with every big integer replaced by a marked string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _INT_MIN <= value <= _INT_MAX else f"{_MARK}{value}"
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            (str(key) if isinstance(key, int) and not _INT_MIN <= key <= _INT_MAX else key): _mark_big_ints(
                item, depth + 1
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_mark_big_ints(item, depth + 1) for item in value]
    return value


def escape_line_separators(line: bytes) -> bytes:
    """``line`` with raw U+2028 and U+2029 written as JSON escapes (the same JSON value)."""
    if line.find(b"\xe2") < 0 or b"\xe2\x80" not in line:  # find: one memchr, the common ASCII line
        return line
    return line.replace(_LS, b"\\u2028").replace(_PS, b"\\u2029")
