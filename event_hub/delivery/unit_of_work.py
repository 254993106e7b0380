"""Units of work: events are collected per backend and handed off as one batch each.

A unit of work is a request (the middleware opens one), a Celery task (opened
on ``task_prerun``) or any block wrapped in :func:`unit_of_work`. It hands its
batches off when it ends, or earlier when one backend's batch reaches
``BATCH_MAX_EVENTS`` events or ``BATCH_MAX_SECONDS`` of age, unless the
caller is inside a database transaction: a hand-off may write an outbox row,
which a rollback would undo, so it then waits for the unit to end.

Outside any unit of work (a management command, ``manage.py shell``, a script)
events go to the process-wide ambient buffer, which hands off on the same
bounds, from a timer thread after ``BATCH_MAX_SECONDS``, and at interpreter
exit. With the spool (``HANDOFF = "spool"``) it hands off every event at once:
each is in the spool file when ``emit`` returns, so a killed script loses
nothing (inside a database transaction events wait in memory for the timer,
or for the next event once the transaction is over).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, router

from event_hub.conf import hub_settings
from event_hub.delivery.batch import Batch
from event_hub.delivery.handoff import hand_off
from event_hub.models import OutboxBatch

logger = logging.getLogger(__name__)


def inside_transaction() -> bool:
    """Whether the outbox's database connection is inside an ``atomic`` block of the caller's.

    The blocks Django's test cases wrap every test in do not count, so tests
    see the same batching as production code.
    """
    connection = connections[router.db_for_write(OutboxBatch)]
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


class UnitOfWork:
    """Lines collected for each backend until they are handed off."""

    __slots__ = ("_lines", "_max_events", "_max_seconds", "_started")

    def __init__(self) -> None:
        self._lines: dict[str, list[bytes]] = {}
        self._started: dict[str, float] = {}
        self._max_events: int = hub_settings.BATCH_MAX_EVENTS
        self._max_seconds: float = hub_settings.BATCH_MAX_SECONDS

    def add(self, backend: str, line: bytes) -> None:
        """Collect one rendered event for ``backend``; hand off its batch when full or old enough."""
        lines = self._lines.get(backend)
        if lines is None:
            lines = self._lines[backend] = []
            self._started[backend] = time.monotonic()
        lines.append(line)
        if len(lines) >= self._max_events or time.monotonic() - self._started[backend] >= self._max_seconds:
            if inside_transaction():
                # A hand-off may write the outbox or a dead letter: inside the caller's
                # transaction a rollback would take that row with it. Wait for the unit's end.
                return
            # Only this backend's batch: each backend's batch is judged when its own line of
            # an event arrives, so the backends' batches of one event stay alike.
            self._hand_off(backend)

    def pending(self) -> int:
        """Events collected and not handed off yet."""
        return sum(len(lines) for lines in self._lines.values())

    def _hand_off(self, backend: str) -> None:
        lines = self._lines.pop(backend)
        del self._started[backend]
        hand_off(Batch(backend=backend, lines=lines))

    def flush(self) -> None:
        """Hand off every collected batch now."""
        taken, self._lines, self._started = self._lines, {}, {}
        for backend, lines in taken.items():
            if lines:
                hand_off(Batch(backend=backend, lines=lines))


class AmbientBuffer(UnitOfWork):
    """The unit of work of code running outside any other: thread-safe, flushed by a timer."""

    __slots__ = ("_lock", "_timer")

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None

    def add(self, backend: str, line: bytes) -> None:
        with self._lock:
            if not self._lines:
                # A new batch starts: pick up the bounds in force now (settings may have changed).
                # With the spool, each event is appended at once: a killed script loses nothing.
                spooled = hub_settings.HANDOFF == "spool" and hub_settings.DELIVERY == "celery"
                self._max_events = 1 if spooled else hub_settings.BATCH_MAX_EVENTS
                self._max_seconds = hub_settings.BATCH_MAX_SECONDS
            super().add(backend, line)
            if self._lines and self._timer is None:
                timer = threading.Timer(self._max_seconds, self.flush)
                timer.daemon = True
                try:
                    timer.start()
                except RuntimeError as exc:
                    # No thread can start (the interpreter is exiting, perhaps after this buffer's
                    # exit handler ran, or the process is out of threads): no timer would ever
                    # hand these events off, so hand them off now.
                    logger.warning("cannot start the ambient buffer's timer (%s): handing off now", exc)
                    super().flush()
                else:
                    self._timer = timer

    def flush(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            super().flush()

    def reset_after_fork(self) -> None:
        """A forked child must not re-send what its parent collected."""
        self._lock = threading.RLock()
        self._timer = None
        self._lines, self._started = {}, {}


_current: ContextVar[UnitOfWork | None] = ContextVar("event_hub_unit_of_work", default=None)
_ambient: AmbientBuffer | None = None
_ambient_lock = threading.Lock()


def ambient() -> AmbientBuffer:
    """The process-wide buffer (created on first use)."""
    global _ambient
    if _ambient is None:
        with _ambient_lock:
            if _ambient is None:
                _ambient = AmbientBuffer()
    return _ambient


def current() -> UnitOfWork:
    """The unit of work events emitted here belong to."""
    return _current.get() or ambient()


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Collect events emitted in the block and hand them off when it ends.

    Nested blocks join the outer unit of work.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    work = UnitOfWork()
    token = _current.set(work)
    try:
        yield work
    finally:
        _current.reset(token)
        work.flush()


def begin() -> tuple[UnitOfWork, object]:
    """Open a unit of work without a ``with`` block (for signal-driven boundaries); see :func:`end`."""
    work = UnitOfWork()
    return work, _current.set(work)


def detach(token: object) -> None:
    """Make the unit of work opened with :func:`begin` no longer current (without handing off)."""
    _current.reset(token)  # type: ignore[arg-type]


def end(work: UnitOfWork, token: object) -> None:
    """Close a unit of work opened with :func:`begin` and hand off its batches."""
    try:
        detach(token)
    finally:
        work.flush()


def flush_ambient() -> None:
    """Hand off what the ambient buffer holds (at exit, and when settings change)."""
    if _ambient is not None:
        _ambient.flush()


def _after_fork() -> None:
    if _ambient is not None:
        _ambient.reset_after_fork()


atexit.register(flush_ambient)
os.register_at_fork(after_in_child=_after_fork)
