"""A batch: the events one unit of work hands off to one backend.

On the wire (Celery message, outbox row, dead letter) a batch is JSON lines:
one rendered event per line. orjson never writes a raw newline inside a JSON
document, so splitting on ``\\n`` is exact.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import attrs


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

    @classmethod
    def from_payload(cls, backend: str, payload: str | bytes, batch_id: str) -> Batch:
        """Rebuild a batch from its JSON-lines text."""
        raw = payload.encode() if isinstance(payload, str) else payload
        return cls(backend=backend, lines=[line for line in raw.split(b"\n") if line], id=batch_id)

    def subset(self, lines: Sequence[bytes]) -> Batch:
        """A batch of some of these lines, under the same id."""
        return Batch(backend=self.backend, lines=lines, id=self.id)
