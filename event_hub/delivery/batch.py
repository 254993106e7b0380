"""A batch: the events one unit of work hands off to one backend.

A batch is JSON lines: one rendered event per line. orjson never writes a raw
newline inside a JSON document, so splitting on ``\\n`` is exact. Outbox rows
and dead letters keep that text as it is.

In a broker message (:meth:`Batch.wire`) the text is, with ``BROKER_COMPRESSION``
``"zlib"``, compressed (fast level) and base64-encoded behind a ``zlib:``
prefix: a JSON-lines payload is all quotes, which the message's own JSON
encoding would escape one by one, while base64 needs no escaping and is several
times shorter. A JSON line starts with ``{``, so the prefix is unambiguous.
"""

from __future__ import annotations

import base64
import datetime
import uuid
import zlib
from collections.abc import Iterable, Sequence

import attrs

#: Marks a compressed payload; zlib level 1 (the fastest) already shrinks JSON lines ~15 times.
ZLIB_PREFIX = "zlib:"
ZLIB_LEVEL = 1
_ZLIB_PREFIX_BYTES = ZLIB_PREFIX.encode()


def _as_tuple(lines: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(lines)


@attrs.frozen
class Batch:
    """Rendered events for one backend, with an id that follows the batch through retries."""

    backend: str
    lines: tuple[bytes, ...] = attrs.field(converter=_as_tuple)
    id: str = attrs.field(factory=lambda: uuid.uuid4().hex)

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def payload(self) -> str:
        """The JSON-lines text carried in messages and tables."""
        return b"\n".join(self.lines).decode()

    def wire(self, compression: str | None) -> str:
        """The payload as a broker message carries it (see the module docstring)."""
        if compression == "zlib":
            packed = zlib.compress(b"\n".join(self.lines), ZLIB_LEVEL)
            return ZLIB_PREFIX + base64.b64encode(packed).decode("ascii")
        return self.payload

    @classmethod
    def from_payload(cls, backend: str, payload: str | bytes, batch_id: str) -> Batch:
        """Rebuild a batch from its JSON-lines text, or from the compressed form of :meth:`wire`."""
        raw = payload.encode() if isinstance(payload, str) else payload
        if raw.startswith(_ZLIB_PREFIX_BYTES):
            raw = zlib.decompress(base64.b64decode(raw[len(_ZLIB_PREFIX_BYTES) :]))
        return cls(backend=backend, lines=[line for line in raw.split(b"\n") if line], id=batch_id)

    def age(self) -> float | None:
        """Seconds since its first event was emitted (``None`` when the first line has no readable time)."""
        if not self.lines:
            return None
        marker = self.lines[0].find(b'"time":"')
        if marker < 0:
            return None
        start = marker + 8
        try:
            emitted = datetime.datetime.fromisoformat(self.lines[0][start : start + 32].decode())
        except ValueError:
            return None
        return (datetime.datetime.now(datetime.UTC) - emitted).total_seconds()

    def subset(self, lines: Sequence[bytes]) -> Batch:
        """A batch of some of these lines, under the same id."""
        return Batch(backend=self.backend, lines=lines, id=self.id)
