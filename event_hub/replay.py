"""Backfill: the events of existing tracking logs delivered to one backend, resumably and idempotently.

This is what ``manage.py event_hub_replay`` runs. Logs are read with
:class:`~event_hub.logcheck.LogFile` (plain or gzip, syslog prefixes allowed).
Each line becomes an envelope (:func:`envelope_of`):

* its ``id`` is the line's own ``id`` when it has one, else a UUIDv5 of the
  line's bytes, so replaying a log twice gives the same ids (and an xAPI
  backend the same statement ids: the LRS keeps one copy);
* its anonymous user id is derived from ``context.user_id`` as the hub derives
  it for live events, when the line lacks one.

The envelope goes through the backend's processors (its filters, and privacy
unless the backend has ``PII: True``), then in batches to the backend, in this
process, with the backend's retry policy; what cannot be delivered ends as a
dead letter like any batch. A checkpoint file records, after each batch, how
many lines of each file are done, so an interrupted replay goes on from there.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import attrs
import orjson
from django.contrib.auth import get_user_model

from event_hub import wireline
from event_hub.delivery.attempt import backoff_seconds, settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.envelope import SOURCES, Envelope
from event_hub.identity import anonymous_user_id
from event_hub.logcheck import LogFile, parse_line
from event_hub.processors.chain import Route, routes

#: Namespace of the ids of log lines without one: ``uuid5(LINE_NAMESPACE, line bytes)``. Never change it.
LINE_NAMESPACE: Final = uuid.UUID("0d6f4a5e-8c1b-5f3e-9a27-4b6c8d0e1f2a")


_TEXT_FIELDS = ("username", "ip", "agent", "host", "referer", "accept_language", "session")


def envelope_of(data: Any, line: bytes) -> Envelope:
    """The envelope of one parsed log line; ``ValueError``/``TypeError``/``KeyError`` if it cannot be one."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    event_type = data.get("event_type") or data.get("name")
    if not isinstance(event_type, str) or not event_type:
        raise ValueError("no event_type")
    source = data.get("event_source")
    if source not in SOURCES:
        raise ValueError(f"event_source {source!r}")
    event_id = data.get("id")
    if not isinstance(event_id, str) or not event_id:
        event_id = str(uuid.uuid5(LINE_NAMESPACE, line.strip().decode("utf-8", "replace")))
    name = data.get("name")
    page = data.get("page")
    envelope = Envelope.from_wire(
        {
            "id": event_id,
            "name": name if isinstance(name, str) and name else event_type,
            "event_type": event_type,
            "event_source": source,
            "time": str(data["time"]),
            "event": data.get("event", {}),
            "context": data.get("context") or {},
            "page": page if isinstance(page, str) else None,
            **{key: str(data.get(key) or "") for key in _TEXT_FIELDS},
        }
    )
    context = envelope.context
    if not context.anonymous_user_id and isinstance(context.user_id, int):
        user = get_user_model()(pk=context.user_id)
        envelope = attrs.evolve(
            envelope, context=attrs.evolve(context, anonymous_user_id=anonymous_user_id(user))
        )
    return envelope


@attrs.define
class ReplayReport:
    """Counts of one replay."""

    lines: int = 0
    resumed: int = 0
    unreadable: int = 0
    filtered: int = 0
    sent: int = 0
    delivered: int = 0
    rejected: int = 0
    dead: int = 0
    batches: int = 0


class Checkpoint:
    """Lines done per file, kept in a JSON file rewritten atomically after each batch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, int] = orjson.loads(path.read_bytes()) if path.exists() else {}

    def get(self, log: str) -> int:
        return int(self.done.get(os.path.abspath(log), 0))

    def set(self, log: str, lines: int) -> None:
        self.done[os.path.abspath(log)] = lines
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_bytes(orjson.dumps(self.done))
        temporary.replace(self.path)


class Replay:
    """Replays logs to backend ``backend`` in batches of ``batch_size`` events."""

    def __init__(
        self,
        backend: str,
        checkpoint: Checkpoint,
        *,
        batch_size: int = 500,
        limit: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        found = [route for route in routes().routes if route.backend == backend]
        if not found:
            raise LookupError(f"no enabled backend named {backend!r}")
        self.route: Route = found[0]
        self.backend = backend
        self.checkpoint = checkpoint
        self.batch_size = batch_size
        self.limit = limit
        self.sleep = sleep
        self.report = ReplayReport()

    def run(self, log: LogFile, progress: Callable[[int], object] | None = None) -> None:
        """Replay one file from its checkpoint on (to ``limit`` lines in all, when set)."""
        skip = self.checkpoint.get(log.path)
        number = 0
        pending: list[bytes] = []
        position = 0
        for number, line in self._lines(log):
            if progress is not None:
                now = log.position()
                progress(now - position)
                position = now
            if number <= skip:
                self.report.resumed += 1
                continue
            if self.limit is not None and self.report.lines >= self.limit:
                number -= 1
                break
            self.report.lines += 1
            encoded = self._encode(line)
            if encoded is not None:
                pending.append(encoded)
            if len(pending) >= self.batch_size:
                self._deliver(pending)
                pending = []
                self.checkpoint.set(log.path, number)
        if pending:
            self._deliver(pending)
        if number > skip:
            self.checkpoint.set(log.path, number)

    @staticmethod
    def _lines(log: LogFile) -> Iterator[tuple[int, bytes]]:
        for number, line in enumerate(log.lines, start=1):
            if line.strip():
                yield number, line

    def _encode(self, line: bytes) -> bytes | None:
        try:
            envelope = envelope_of(parse_line(line), line)
        except (ValueError, TypeError, KeyError):
            self.report.unreadable += 1
            return None
        processed = self.route.apply(envelope)
        if processed is None:
            self.report.filtered += 1
            return None
        return wireline.encode(processed)

    def _deliver(self, lines: list[bytes]) -> None:
        batch = Batch(backend=self.backend, lines=lines)
        self.report.batches += 1
        self.report.sent += len(lines)
        attempts = 0
        while True:
            outcome = try_deliver(batch)
            attempts += 1
            if not settle(batch, outcome, attempts_made=attempts):
                break
            self.sleep(backoff_seconds(attempts - 1, batch, outcome))
        self.report.rejected += len(outcome.rejected)
        if outcome.error is None:
            self.report.delivered += outcome.delivered
        else:
            self.report.dead += len(batch)
