"""The event bus consumer on Redis Streams, with the guarantees edx-event-bus-redis lacks.

``EVENT_BUS_CONSUMER = "event_hub.openedx.consumer.RedisBusConsumer"``, run by
``manage.py event_hub_consume_events -t TOPIC -g GROUP`` (the options of
openedx-events' ``consume_events``). It reads what edx-event-bus-redis
producers write, and they read what the hub writes (:mod:`event_hub.openedx.wire`).

* **Backlog**: a new consumer group starts at the beginning of the stream, an
  existing one where it stopped; this consumer's own unacknowledged entries
  are read first. ``check_backlog=False`` skips to new entries (as upstream
  does by default).
* **Receivers failing**: the signal is sent again after a backoff (exponential,
  ``OPENEDX_BUS_CONSUMER_RETRY_*``); after the last retry the entry is stored as
  a dead letter (``DeadLetter`` row, backend ``openedx_bus:<stream>:<group>``,
  with the entry id, the metadata id and the errors) and only then acknowledged.
  An entry that cannot be decoded is dead-lettered at once.
* **Duplicates**: the metadata ids of handled entries are kept in a sorted set
  per stream and group for ``OPENEDX_BUS_DEDUPE_SECONDS``; an entry whose id is
  there is acknowledged without sending the signal again.
* **Acknowledgement**: once per batch, after the receivers ran and the events
  they emitted were handed off, in one ``MULTI`` with the dedupe ids. A consumer
  killed (SIGKILL) mid-batch leaves the batch pending and it is read again at the
  next start: at-least-once for that batch; a clean stop finishes the current
  entry, acknowledges and leaves the rest pending.
* **Exactly once at a receiver**: a receiver whose effect is a Redis write on the
  bus's Redis queues it on :func:`acknowledgement` instead of writing at once; the
  queued commands run in the batch's ``MULTI`` with the dedupe ids and the
  ``XACK``, so a kill at any point leaves both the effect and the record, or
  neither. The commands an attempt queued before a receiver failed are dropped
  with the attempt. Effects outside that Redis (files, other databases, the
  tracking events the bridge emits) cannot commit with the acknowledgement: they
  are at-least-once, and receivers dedupe them by ``metadata.id`` where it matters.
* **Trimming**: at most every ``OPENEDX_BUS_TRIM_SECONDS``, when the stream is
  longer than ``OPENEDX_BUS_STREAM_MAX_LEN``, ``XTRIM MINID`` to the oldest
  entry some group still needs (its oldest pending entry, or its last delivered
  one): an entry a group has not acknowledged is never removed.
* **Stopping**: :meth:`RedisBusConsumer.stop` (the command's SIGTERM/SIGINT
  handler) ends the loop after the current entry; after
  ``OPENEDX_BUS_CONSUMER_ERRORS_LIMIT`` consecutive errors the consumer raises
  :class:`ConsumerFailed` (the command exits with status 1).
"""

from __future__ import annotations

import base64
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any

import orjson
import redis
from django.conf import settings
from openedx_events.event_bus import EventBusConsumer
from openedx_events.tooling import OpenEdxPublicSignal, prepare_for_new_work_cycle

from event_hub.conf import hub_settings
from event_hub.delivery import deadletters
from event_hub.delivery.batch import Batch
from event_hub.delivery.unit_of_work import unit_of_work
from event_hub.exceptions import EventHubError
from event_hub.models import DeadLetter
from event_hub.openedx import codec, connection, wire
from event_hub.openedx.signals import UnknownSignal, get_signal

logger = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes]]


class ConsumerFailed(EventHubError):
    """The consumer met too many consecutive errors and stopped."""


class ReceiversFailed(EventHubError):
    """One or more receivers of a signal raised."""


#: The ``MULTI`` of the batch being handled (see :func:`acknowledgement`).
_acknowledgement: ContextVar[redis.client.Pipeline | None] = ContextVar(
    "event_hub_bus_acknowledgement", default=None
)


def acknowledgement() -> redis.client.Pipeline:
    """The transaction that acknowledges the entry a receiver is handling (call it from a receiver).

    Commands queued on it run in one ``MULTI`` with the entry's acknowledgement and dedupe record:
    the receiver's effect happens exactly once. Raises :class:`RuntimeError` outside a receiver
    called by :class:`RedisBusConsumer`.
    """
    pipeline = _acknowledgement.get()
    if pipeline is None:
        raise RuntimeError("acknowledgement() is only available to receivers called by the bus consumer")
    return pipeline


def dead_letter_backend(stream: str, group: str) -> str:
    """The ``backend`` column of the consumer's dead letters."""
    return f"openedx_bus:{stream}:{group}"


def dedupe_key(stream: str, group: str) -> str:
    """The sorted set of metadata ids the group handled (score: when)."""
    return f"event_hub:bus:seen:{stream}:{group}"


class RedisBusConsumer(EventBusConsumer):
    """Consume one topic as one member of a consumer group; see the module docstring."""

    def __init__(
        self,
        topic: str,
        group_id: str,
        consumer_name: str | None = None,
        last_read_msg_id: str | None = None,
        check_backlog: bool = True,
        claim_msgs_older_than: int | None = None,
        url: str | None = None,
        **_: Any,
    ) -> None:
        self.topic = topic
        self.group = group_id
        self.name = consumer_name or f"{socket.gethostname()}-{os.getpid()}"
        self.stream = wire.full_topic(topic)
        self.last_read_msg_id = last_read_msg_id
        self.check_backlog = check_backlog
        self.claim_older_than = claim_msgs_older_than
        self.redis = connection.client(url)
        self._stopping = threading.Event()
        self._last_trim = 0.0
        #: Counters, for the command's last log line and for tests.
        self.handled = 0
        self.duplicates = 0
        self.dead = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the entry at hand, acknowledge what is done and return from the loop."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def consume_indefinitely(self) -> None:
        """openedx-events' API: run until stopped; exit the process with status 1 after repeated errors."""
        try:
            self.run()
        except ConsumerFailed:
            logger.exception("event bus consumer %s of %s stops", self.name, self.stream)
            raise SystemExit(1) from None

    def setup(self) -> None:
        """Create the group (at the start of the stream) if it does not exist; apply the start options."""
        start = "0" if self.check_backlog else "$"
        try:
            self.redis.xgroup_create(self.stream, self.group, id=start, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        if self.last_read_msg_id:
            self.redis.xgroup_setid(self.stream, self.group, id=self.last_read_msg_id)
        elif not self.check_backlog:
            self.redis.xgroup_setid(self.stream, self.group, id="$")

    def run(self, *, until_idle: bool = False, on_ready: Callable[[], None] | None = None) -> None:
        """Consume until :meth:`stop` (or, with ``until_idle``, until a read returns nothing).

        ``on_ready`` is called once the group exists, before the first read.
        """
        limit = self._errors_limit()
        errors = 0
        self.setup()
        if on_ready is not None:
            on_ready()
        pending = True  # this consumer's unacknowledged entries first
        while not self.stopping:
            if limit and errors >= limit:
                raise ConsumerFailed(f"{errors} consecutive errors consuming {self.stream}")
            try:
                entries = self._read(pending)
            except redis.RedisError as exc:
                errors += 1
                logger.warning("reading %s failed (%d in a row): %s", self.stream, errors, exc)
                self._stopping.wait(min(2.0**errors * 0.1, 5.0))
                continue
            if pending and not entries:
                pending = False
                continue
            if not entries:
                if until_idle:
                    return
                self._maybe_trim()
                continue
            try:
                failed = self.handle(entries)
            except redis.RedisError as exc:
                errors += 1
                logger.warning("handling entries of %s failed (%d in a row): %s", self.stream, errors, exc)
                self._stopping.wait(min(2.0**errors * 0.1, 5.0))
                pending = True  # read back what was not acknowledged
                continue
            errors = errors + failed if failed else 0
            self._maybe_trim()

    def _errors_limit(self) -> int:
        configured = getattr(settings, "EVENT_BUS_REDIS_CONSUMER_CONSECUTIVE_ERRORS_LIMIT", None)
        return int(configured or hub_settings.OPENEDX_BUS_CONSUMER_ERRORS_LIMIT or 0)

    def _read(self, pending: bool) -> list[Entry]:
        count = int(hub_settings.OPENEDX_BUS_CONSUMER_BATCH)
        if pending and self.claim_older_than is not None:
            self.redis.xautoclaim(
                self.stream, self.group, self.name, min_idle_time=int(self.claim_older_than), count=count
            )
        block = None if pending else int(float(hub_settings.OPENEDX_BUS_CONSUMER_BLOCK_SECONDS) * 1000)
        reply: Any = self.redis.xreadgroup(
            self.group, self.name, {self.stream: "0" if pending else ">"}, count=count, block=block
        )
        if not reply:
            return []
        _, entries = reply[0]
        # An own pending entry that was trimmed meanwhile comes back with no fields.
        return [(entry_id, fields) for entry_id, fields in entries if fields]

    # --- one batch ---------------------------------------------------------------------------

    def handle(self, entries: Sequence[Entry]) -> int:
        """Send the signals of ``entries`` and acknowledge the handled ones; return the dead-letter count."""
        prepare_for_new_work_cycle()
        ids = [fields.get(b"id", b"") for _, fields in entries]
        seen_scores: Any = self.redis.zmscore(dedupe_key(self.stream, self.group), ids) if ids else []  # type: ignore[arg-type]
        seen = {entry_id for entry_id, score in zip(ids, seen_scores, strict=True) if score is not None}
        done: list[bytes] = []
        done_ids: list[bytes] = []
        failed = 0
        transaction = self.redis.pipeline(transaction=True)
        token = _acknowledgement.set(transaction)
        try:
            failed = self._handle_entries(entries, ids, seen, done, done_ids)
        finally:
            _acknowledgement.reset(token)
        self._acknowledge(transaction, done, done_ids)
        return failed

    def _handle_entries(
        self,
        entries: Sequence[Entry],
        ids: Sequence[bytes],
        seen: set[bytes],
        done: list[bytes],
        done_ids: list[bytes],
    ) -> int:
        failed = 0
        with unit_of_work():
            for (entry_id, fields), metadata_id in zip(entries, ids, strict=True):
                if self.stopping and done:
                    break
                if metadata_id and metadata_id in seen:
                    self.duplicates += 1
                elif not self._handle_one(entry_id, fields):
                    failed += 1
                    if self.stopping and not self._dead_lettered:
                        break  # stopped while retrying: leave it pending
                else:
                    self.handled += 1
                done.append(entry_id)
                if metadata_id:
                    done_ids.append(metadata_id)
                    seen.add(metadata_id)
        return failed

    def _acknowledge(
        self, transaction: redis.client.Pipeline, entry_ids: Sequence[bytes], metadata_ids: Iterable[bytes]
    ) -> None:
        if not entry_ids:
            return
        now = time.time()
        marks = dict.fromkeys(metadata_ids, now)
        if marks:
            transaction.zadd(dedupe_key(self.stream, self.group), marks)
        transaction.xack(self.stream, self.group, *entry_ids)
        transaction.execute()

    def _handle_one(self, entry_id: bytes, fields: dict[bytes, bytes]) -> bool:
        """Send one entry's signal (retrying failed receivers); False when it was dead-lettered."""
        self._dead_lettered = False
        try:
            metadata = wire.metadata_of(fields)
            signal = get_signal(metadata.event_type)
            content_type = fields.get(wire.CONTENT_TYPE_FIELD)
            data = codec.decode(
                signal, fields[wire.EVENT_DATA_FIELD], content_type.decode() if content_type else None
            )
        except (UnknownSignal, codec.CodecError, KeyError, ValueError, TypeError) as exc:
            self._dead_letter(entry_id, fields, f"unusable entry: {type(exc).__name__}: {exc}", 1)
            return False
        retries = int(hub_settings.OPENEDX_BUS_CONSUMER_RETRY_MAX)
        queued = acknowledgement().command_stack
        before = len(queued)
        attempt = 0
        while True:
            attempt += 1
            errors = self._send(signal, metadata, data)
            if not errors:
                return True
            del queued[before:]  # what the failed attempt's receivers queued is not applied
            if attempt > retries:
                self._dead_letter(entry_id, fields, errors, attempt)
                return False
            delay = self._backoff(attempt - 1)
            logger.warning(
                "receivers of %s (entry %s, id %s) failed, attempt %d; retrying in %.2fs: %s",
                metadata.event_type,
                entry_id.decode(),
                metadata.id,
                attempt,
                delay,
                errors,
            )
            if self._stopping.wait(delay):
                return False

    @staticmethod
    def _send(signal: OpenEdxPublicSignal, metadata: Any, data: dict[str, Any]) -> str:
        """Send the signal as the bus does; the receivers' errors as text (empty when none failed)."""
        responses = signal.send_event_with_custom_metadata(metadata, send_robust=True, **data)
        failures = [
            f"{getattr(receiver, '__module__', '?')}.{getattr(receiver, '__qualname__', receiver)}: "
            f"{response!r}"
            for receiver, response in responses
            if isinstance(response, BaseException)
        ]
        return "; ".join(failures)

    @staticmethod
    def _backoff(retries_so_far: int) -> float:
        base = float(hub_settings.OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_SECONDS)
        ceiling = min(
            float(hub_settings.OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_MAX_SECONDS), base * 2**retries_so_far
        )
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _dead_letter(self, entry_id: bytes, fields: dict[bytes, bytes], error: str, attempts: int) -> None:
        """Store the entry (all its fields, ``event_data`` as base64) as a dead letter."""
        line = orjson.dumps(
            {
                "stream": self.stream,
                "group": self.group,
                "entry_id": entry_id.decode(),
                "fields": {
                    key.decode(): (
                        base64.b64encode(value).decode("ascii")
                        if key == wire.EVENT_DATA_FIELD
                        else value.decode(errors="replace")
                    )
                    for key, value in fields.items()
                },
            }
        )
        metadata_id = fields.get(b"id", b"").decode(errors="replace")
        deadletters.record(
            Batch(backend=dead_letter_backend(self.stream, self.group), lines=[line]),
            reason=DeadLetter.Reason.RETRIES_EXHAUSTED if attempts > 1 else DeadLetter.Reason.PERMANENT,
            error=f"entry {entry_id.decode()} (metadata id {metadata_id}) of {self.stream}: {error}",
            attempts=attempts,
        )
        logger.error(
            "entry %s of %s dead-lettered after %d attempt(s): %s",
            entry_id.decode(),
            self.stream,
            attempts,
            error,
        )
        self._dead_lettered = True
        self.dead += 1

    # --- trimming ----------------------------------------------------------------------------

    def _maybe_trim(self) -> None:
        now = time.monotonic()
        if now - self._last_trim < float(hub_settings.OPENEDX_BUS_TRIM_SECONDS):
            return
        self._last_trim = now
        if self.redis.xlen(self.stream) > int(hub_settings.OPENEDX_BUS_STREAM_MAX_LEN):
            self.trim()
        cutoff = time.time() - float(hub_settings.OPENEDX_BUS_DEDUPE_SECONDS)
        self.redis.zremrangebyscore(dedupe_key(self.stream, self.group), "-inf", cutoff)

    def trim(self) -> int:
        """Remove the entries every group has acknowledged; return how many were removed."""
        bound = safe_trim_id(self.redis, self.stream)
        if bound is None:
            return 0
        return int(self.redis.xtrim(self.stream, minid=bound, approximate=False))


def safe_trim_id(client: redis.Redis, stream: str) -> str | None:
    """The lowest entry id some consumer group of ``stream`` still needs (``None``: no group)."""
    groups = client.xinfo_groups(stream)
    if not groups:
        logger.warning("stream %s has no consumer group: not trimmed", stream)
        return None
    bounds: list[tuple[int, int]] = []
    for group in groups:
        summary = client.xpending(stream, group["name"])
        if summary["pending"]:
            bounds.append(_id_tuple(summary["min"]))
        else:
            bounds.append(_id_tuple(group["last-delivered-id"]))
    low = min(bounds)
    return f"{low[0]}-{low[1]}"


def _id_tuple(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    millis, _, seq = text.partition("-")
    return int(millis), int(seq or 0)
