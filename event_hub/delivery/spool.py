"""The spool: a request appends its batch to a local file; a thread of the process publishes it.

With ``HANDOFF = "spool"`` (and ``DELIVERY = "celery"``) a request never talks to the broker.
:func:`append` writes the batch as one record, with one ``os.write``, to the spool file of this
process, opened with ``O_APPEND``. A daemon thread, the *publisher*, wakes every
``SPOOL_FLUSH_SECONDS`` (or at once when ``SPOOL_MAX_BATCH_EVENTS`` events are waiting), reads
what is not published yet, regroups it by backend into batches of up to
``SPOOL_MAX_BATCH_EVENTS`` events and publishes each through :mod:`~event_hub.delivery.handoff`
(compression, publish timeouts and the broker cooldown apply). When the whole file is
published it is truncated.

File format. A record is a header line ``backend<TAB>batch id<TAB>events<TAB>body bytes``
followed by the body: the batch's JSON lines, each ending with ``\\n`` (orjson never writes a
raw newline inside a document; a line holding one is not spooled but published directly).

Progress. ``<spool file>.offset`` (the *sidecar*, rewritten in place by one ``pwrite`` of a
fixed-width record: a killed process cannot leave half of one) holds four numbers: the
committed offset (everything before it is published), the end of the *window* being published
(the records read at once), how many of the window's messages are out, and the
``SPOOL_MAX_BATCH_EVENTS`` the window was cut with. Cutting a window into messages depends on
nothing else, so a crashed process' window is cut again identically and only its unpublished
messages go out. A crash between a publish and the sidecar write publishes that
message twice: delivery is at least once, and events carry an ``id`` to deduplicate on.

Liveness. A process holds an exclusive ``flock`` on its spool file for as long as it lives. A
spool file whose lock can be taken belongs to a dead process: :func:`recover_orphans` publishes
what is left of it and deletes it. The publisher runs it when it starts and every
``ORPHAN_SCAN_SECONDS`` (and then republishes the outbox's due batches too, so batches no
worker confirmed go out again even where no beat runs); so do the ``event_hub.republish_outbox`` task and
``manage.py event_hub_outbox publish``. At a normal exit the spool is published (waiting at most
``EXIT_WAIT_SECONDS``) and its file deleted; what cannot go out stays for recovery. A forked
child gets a spool file and a publisher of its own; its parent's stays the parent's.

When the spool cannot be written (disk full, read-only or missing directory) the batch takes the
direct path (publish, or the outbox), and a warning is logged once until the spool works again.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import attrs
from celery import current_app
from django.db import DatabaseError

from event_hub.conf import hub_settings, on_reload
from event_hub.delivery import outbox
from event_hub.delivery.batch import Batch
from event_hub.delivery.broker import broker
from event_hub.delivery.forward import forward
from event_hub.delivery.republish import republish
from event_hub.exceptions import HandOffError

logger = logging.getLogger(__name__)

#: Spool files are named ``<pid>-<random token>.spool``; the sidecar adds ``.offset``.
SUFFIX = ".spool"
SIDECAR_SUFFIX = ".offset"
#: The sidecar's record is padded to this width, so a shorter one overwrites all of a longer one.
SIDECAR_BYTES = 96
#: The publisher reads at most this much of a spool file at once (a bigger record is read whole).
WINDOW_BYTES = 8 * 1024 * 1024
#: How often the publisher looks for the spool files of dead processes.
ORPHAN_SCAN_SECONDS = 60.0
#: A spool file this big takes no more appends: a new one does, and it is deleted once published.
ROTATE_BYTES = 64 * 1024 * 1024
#: How long the exit handler may spend publishing the spool.
EXIT_WAIT_SECONDS = 5.0
#: After a failed publish, the publisher waits at least this long (or the broker cooldown).
RETRY_PAUSE_SECONDS = 0.5
#: After the spool file could not be created, appends go direct for this long before trying again.
REOPEN_PAUSE_SECONDS = 1.0
#: The longest header line a reader accepts.
HEADER_MAX = 1024
#: A spool file is created under a staging name and renamed at once; recovery deletes older ones.
STAGING_MAX_AGE_SECONDS = 60.0

#: The fifth header field of a record published alone (see :func:`encode`).
SOLO = b"\tsolo"

_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC

#: Descriptors this module opened: a forked child closes them (without unlocking: the parent keeps its lock).
_open_fds: set[int] = set()


@attrs.frozen
class Record:
    """One appended batch, as read back."""

    backend: str
    batch_id: str
    count: int
    body: bytes
    #: Published alone, never merged with other records (it may already have been published alone).
    solo: bool = False


class _Unreadable(Exception):
    """The bytes at ``offset`` are no record (a torn write of a killed process, or damage)."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def encode(batch: Batch, solo: bool = False) -> bytes | None:
    """The record of ``batch``, or ``None`` when it cannot be framed (a tab or newline where none may be).

    A ``solo`` record (a fifth header field) is published as a batch of its own, under its own id.
    """
    lines = batch.lines
    count = len(lines)
    size = sum(map(len, lines)) + count
    header = b"%s\t%s\t%d\t%d" % (batch.backend.encode(), batch.id.encode(), count, size)
    if solo:
        header += SOLO
    record = b"\n".join((header, *lines, b""))
    if record.count(b"\n") != count + 1 or header.count(b"\t") != 3 + solo:
        return None
    return record


def parse(data: bytes, base: int = 0) -> tuple[list[Record], int]:
    """The whole records at the start of ``data`` and the bytes they take.

    A record cut short by the end of ``data`` ends the list, and so do bytes that cannot
    start a record; when those come first, :class:`_Unreadable` is raised (its offset is
    ``base`` plus their position).
    """
    records: list[Record] = []
    position = 0
    while position < len(data):
        try:
            found = _record_at(data, position)
        except _Unreadable:
            if records:
                break
            raise _Unreadable(base + position) from None
        if found is None:
            break
        record, position = found
        records.append(record)
    return records, position


def _record_at(data: bytes, position: int) -> tuple[Record, int] | None:
    """The record at ``position`` and where it ends; ``None`` if ``data`` ends inside it.

    Raises :class:`_Unreadable` when no record starts there.
    """
    newline = data.find(b"\n", position, position + HEADER_MAX)
    if newline < 0:
        if len(data) - position >= HEADER_MAX:
            raise _Unreadable(position)
        return None
    fields = data[position:newline].split(b"\t")
    solo = len(fields) == 5 and fields[4] == SOLO[1:]
    if len(fields) != 4 and not solo:
        raise _Unreadable(position)
    try:
        backend, batch_id = fields[0].decode(), fields[1].decode()
        count, length = int(fields[2]), int(fields[3])
    except ValueError:
        raise _Unreadable(position) from None
    if not backend or not batch_id or count < 1 or length < count:
        raise _Unreadable(position)
    end = newline + 1 + length
    if end > len(data):
        return None
    body = data[newline + 1 : end]
    if body.count(b"\n") != count or not body.endswith(b"\n"):
        raise _Unreadable(position)
    return Record(backend, batch_id, count, body, solo), end


def cut(records: list[Record], max_events: int) -> list[Batch]:
    """Regroup records into one batch list: by backend (first seen first), each batch at most
    ``max_events`` events (a bigger record goes alone), in record order.

    A batch takes the id of its first record, so a batch cut again after a crash has the same id.
    A ``solo`` record is a batch of its own.
    """
    groups: dict[str, list[list[Record]]] = {}
    sizes: dict[str, int] = {}
    for record in records:
        chunks = groups.setdefault(record.backend, [[]])
        last = chunks[-1]
        if last and (record.solo or last[-1].solo or sizes[record.backend] + record.count > max_events):
            chunks.append([])
            sizes[record.backend] = 0
        chunks[-1].append(record)
        sizes[record.backend] = sizes.get(record.backend, 0) + record.count
    return [
        Batch(backend=backend, lines=b"".join(r.body for r in chunk)[:-1].split(b"\n"), id=chunk[0].batch_id)
        for backend, chunks in groups.items()
        for chunk in chunks
    ]


@attrs.define
class Progress:
    """What of a spool file is published (the content of its sidecar)."""

    offset: int = 0
    window_end: int = 0
    done: int = 0
    max_events: int = 0

    def dump(self) -> bytes:
        return b"%d %d %d %d\n" % (self.offset, self.window_end, self.done, self.max_events)

    @classmethod
    def load(cls, data: bytes) -> Progress:
        offset, window_end, done, max_events = (int(field) for field in data.split())
        if not 0 <= offset <= window_end or done < 0 or (window_end > offset and max_events < 1):
            raise ValueError(f"inconsistent spool progress {data!r}")
        return cls(offset, window_end, done, max_events)


def _send(batch: Batch) -> str | None:
    """Hold and publish ``batch`` as a hand-off would, but never park it for a broker or database
    refusal: ``None`` when it went on, else the error (the batch stays in the spool)."""
    try:
        outcome = forward(batch, attempts=0)
    except DatabaseError as exc:  # in-process (sync) delivery: a dead letter the database refused
        return f"cannot record the outcome of batch {batch.id}: {exc}"
    if outcome.kind in ("failed", "unheld"):  # broker or database unavailable: keep it here
        return outcome.error
    if outcome.kind == "retried":  # in-process delivery (DELIVERY changed to sync) failed retryably
        try:
            outbox.park(batch, error=outcome.error, attempts=outcome.attempts, delay=outcome.delay)
        except HandOffError as exc:
            return str(exc)
    return None


class SpoolFile:
    """An open spool file this process holds the lock of, and what of it is published."""

    __slots__ = ("_sidecar_fd", "error", "fd", "path", "progress", "published", "sidecar")

    def __init__(self, path: Path, fd: int, progress: Progress) -> None:
        self.path = path
        self.fd = fd
        self.progress = progress
        self.published = 0
        self.error = ""
        #: Where the progress is kept, and its descriptor once a save opened it (kept open: the
        #: publisher saves after every message).
        self.sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        self._sidecar_fd = -1

    @classmethod
    def create(cls, directory: Path) -> SpoolFile:
        """A new, locked, empty spool file in ``directory`` (created if missing)."""
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(6)}"
        # Locked under a name recovery ignores, then renamed: no one can see it unlocked.
        staging = directory / f".{name}.new"
        fd = os.open(staging, _OPEN_FLAGS, 0o600)
        _open_fds.add(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path = directory / f"{name}{SUFFIX}"
            os.rename(staging, path)
        except OSError:
            _close_fd(fd)
            with contextlib.suppress(OSError):
                staging.unlink()
            raise
        return cls(path, fd, Progress())

    @classmethod
    def take_over(cls, path: Path) -> SpoolFile | None:
        """The spool file at ``path`` if its process is gone (its lock is free), else ``None``."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("cannot open the spool file %s: %s", path, exc)
            return None
        _open_fds.add(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            opened, named = os.fstat(fd), os.stat(path)
        except (BlockingIOError, FileNotFoundError):
            _close_fd(fd)
            return None  # alive, or recovered and deleted by someone else meanwhile
        except OSError as exc:
            _close_fd(fd)
            logger.warning("cannot take over the spool file %s: %s", path, exc)
            return None
        if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            _close_fd(fd)
            return None
        orphan = cls(path, fd, Progress())
        orphan.progress = orphan._load_progress(opened.st_size)
        return orphan

    def _load_progress(self, size: int) -> Progress:
        try:
            progress = Progress.load(self.sidecar.read_bytes())
        except FileNotFoundError:
            return Progress()
        except (OSError, ValueError) as exc:
            logger.warning("spool %s: unreadable sidecar (%s); publishing it from the start", self.path, exc)
            return Progress()
        if progress.offset > size:
            logger.warning("spool %s: sidecar offset beyond the end; publishing it from the start", self.path)
            return Progress()
        if progress.window_end > size:
            return Progress(progress.offset, progress.offset)
        return progress

    def save(self) -> None:
        """Write the progress over the sidecar's: one ``pwrite`` of :data:`SIDECAR_BYTES` at its start.

        Writing a new file and renaming it over the old one cost 140 µs of CPU here against 1.3 µs
        (ext4 flushes a file renamed over another), and the publisher saves after every message.
        One ``pwrite`` is never half done when the process is killed. (Like the spool file, the
        sidecar is not synced: a machine crash is beyond the spool's guarantee; an unreadable
        sidecar makes recovery publish the file from its start.)
        """
        if self._sidecar_fd < 0:
            self._sidecar_fd = os.open(self.sidecar, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            _open_fds.add(self._sidecar_fd)
        record = self.progress.dump()
        os.pwrite(self._sidecar_fd, record[:-1].ljust(SIDECAR_BYTES - 1) + b"\n", 0)

    def publish(self, end: int, deadline: float | None = None, cancel: threading.Event | None = None) -> bool:
        """Publish the records before ``end``; ``False`` (with :attr:`error`) when a publish failed, or
        ``deadline`` (a ``time.monotonic()`` value) passed or ``cancel`` was set first."""
        while self.progress.offset < end:
            progress = self.progress
            try:
                records = self._window(end)
            except _Unreadable as exc:
                self._quarantine(exc.offset, end)
                continue
            batches = cut(records, progress.max_events)
            for index in range(progress.done, len(batches)):
                if deadline is not None and time.monotonic() > deadline:
                    self.error = "out of time"
                    return False
                if cancel is not None and cancel.is_set():
                    self.error = "cancelled"
                    return False
                error = _send(batches[index])
                if error is not None:
                    self.error = error
                    return False
                self.published += len(batches[index])
                if index + 1 < len(batches):
                    progress.done = index + 1
                else:
                    progress.offset, progress.done = progress.window_end, 0
                self._save_quietly()
            if progress.offset < progress.window_end:  # a sidecar counting more messages than there are
                progress.offset, progress.done = progress.window_end, 0
                self._save_quietly()
        return True

    def _window(self, end: int) -> list[Record]:
        """The records of the window being published (a new one starts when none is)."""
        progress = self.progress
        if progress.window_end > progress.offset:
            data = os.pread(self.fd, progress.window_end - progress.offset, progress.offset)
            try:
                records, used = parse(data, progress.offset)
            except _Unreadable:
                used = -1
            if used == len(data) == progress.window_end - progress.offset:
                return records
            logger.warning("spool %s: its window changed; cutting a new one", self.path)
            progress.window_end, progress.done = progress.offset, 0
        start = progress.offset
        data = os.pread(self.fd, min(end - start, WINDOW_BYTES), start)
        records, used = parse(data, start)
        if not records and len(data) < end - start:
            # The first record is bigger than a window: read exactly that record.
            header = data[: data.find(b"\n")].split(b"\t")
            data = os.pread(self.fd, len(data) + int(header[3]) + 1, start)
            records, used = parse(data, start)
        if not records:
            raise _Unreadable(start)  # a record cut short where the file (or the appended part) ends
        progress.window_end, progress.done = start + used, 0
        progress.max_events = hub_settings.SPOOL_MAX_BATCH_EVENTS
        return records

    def _quarantine(self, start: int, end: int) -> None:
        """Move unreadable bytes out of the way (into ``<spool>.<offset>.corrupt``) and go on after them."""
        data = os.pread(self.fd, end - start, start)
        target = self.path.with_name(f"{self.path.name}.{start}.corrupt")
        try:
            with open(target, "xb") as handle:
                handle.write(data)
        except OSError as exc:
            logger.critical(
                "spool %s: %d unreadable bytes at offset %d could not be kept (%s); they follow:\n%r",
                self.path,
                len(data),
                start,
                exc,
                data,
            )
        else:
            logger.critical(
                "spool %s: %d unreadable bytes at offset %d moved to %s", self.path, len(data), start, target
            )
        self.progress = Progress(end, end)
        self._save_quietly()

    def _save_quietly(self) -> None:
        try:
            self.save()
        except OSError as exc:
            # The published part may be published again after a crash; nothing is lost.
            logger.warning("spool %s: cannot write its offset (%s)", self.path, exc)

    def remove(self) -> None:
        """Delete the file, then its sidecar (the other order could republish everything after a crash)."""
        self.path.unlink(missing_ok=True)
        self.sidecar.unlink(missing_ok=True)

    def close(self) -> None:
        _close_fd(self.fd)
        if self._sidecar_fd >= 0:
            _close_fd(self._sidecar_fd)
            self._sidecar_fd = -1


def _close_fd(fd: int) -> None:
    _open_fds.discard(fd)
    with contextlib.suppress(OSError):
        os.close(fd)


class Spool:
    """The spool file of this process, the lock of its appends and its publisher thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pid = os.getpid()
        self._lock = threading.Lock()  # appends, truncation, closing
        self._publishing = threading.Lock()  # one publishing pass at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._detached = threading.Event()
        self._file: SpoolFile | None = None
        self._end = 0  # bytes appended (always a record boundary)
        #: Files appends moved on from (ROTATE_BYTES), with their final size: published, then deleted.
        self._draining: list[tuple[SpoolFile, int]] = []
        self._unsignalled = 0  # events appended since the publisher was last woken
        self._thread: threading.Thread | None = None
        self._closed = False
        self._reopen_at = 0.0
        self._warned = False
        self._failing = False

    @property
    def path(self) -> Path | None:
        """The spool file (``None`` before the first append)."""
        return self._file.path if self._file is not None else None

    def pending_bytes(self) -> int:
        """Bytes appended and not published yet."""
        file = self._file
        draining = sum(end - old.progress.offset for old, end in self._draining)
        return draining + (0 if file is None else max(0, self._end - file.progress.offset))

    def append(self, batch: Batch, solo: bool = False) -> bool:
        """Add ``batch`` to the spool with one write; ``False`` when it must take the direct path."""
        if not batch.lines:
            return True
        record = encode(batch, solo)
        if record is None:
            return False
        wake = False
        with self._lock:
            if self._closed or (self._file is None and not self._open()):
                return False
            assert self._file is not None
            fd = self._file.fd
            try:
                written = os.write(fd, record)
            except OSError as exc:
                self._undo(fd)
                self._warn(f"cannot write to {self._file.path}: {exc}")
                return False
            if written != len(record):
                self._undo(fd)
                self._warn(f"short write to {self._file.path} (disk full?)")
                return False
            self._end += written
            if self._end >= ROTATE_BYTES:
                # Under steady load the file is never wholly published at once, so it is never
                # truncated: the next append starts a new one, this one is deleted once published.
                self._draining.append((self._file, self._end))
                self._file, self._end = None, 0
            self._unsignalled += len(batch)
            if self._unsignalled >= hub_settings.SPOOL_MAX_BATCH_EVENTS:
                self._unsignalled, wake = 0, True
        self._warned = False
        if wake:
            self._wake.set()
        return True

    def _open(self) -> bool:
        now = time.monotonic()
        if now < self._reopen_at:
            return False
        try:
            self._file = SpoolFile.create(self.directory)
        except OSError as exc:
            self._reopen_at = now + REOPEN_PAUSE_SECONDS
            self._warn(f"cannot create a spool file in {self.directory}: {exc}")
            return False
        self._end = 0
        # Once the main thread has ended (the interpreter is exiting) no thread can start: the
        # exit handler, which runs after the ambient buffer's, publishes what is spooled then.
        if self._thread is None and threading.main_thread().is_alive():
            try:
                self._start_publisher()
            except RuntimeError as exc:
                logger.warning(
                    "cannot start the spool publisher (%s): %s is published at exit, or recovered",
                    exc,
                    self._file.path,
                )
        return True

    def _undo(self, fd: int) -> None:
        """Cut a failed write back to the last whole record; stop appending if even that fails."""
        try:
            os.ftruncate(fd, self._end)
        except OSError:
            self._closed = True

    def _warn(self, problem: str) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("%s; batches are published directly until the spool works again", problem)

    # --- the publisher ---------------------------------------------------------------------------------

    def _start_publisher(self) -> None:
        # Celery's current app is per thread: publish with the app of the thread that spools.
        app = current_app._get_current_object()
        thread = threading.Thread(
            target=self._run, args=(app,), name=f"event_hub-spool-{os.getpid()}", daemon=True
        )
        thread.start()
        self._thread = thread

    def _run(self, app: Any) -> None:
        app.set_current()
        self._recover_orphans()
        next_scan = time.monotonic() + ORPHAN_SCAN_SECONDS
        pause = 0.0
        while not self._stop.is_set():
            if pause:
                self._stop.wait(pause)
            else:
                self._wake.wait(hub_settings.SPOOL_FLUSH_SECONDS)
                self._wake.clear()
            if self._stop.is_set():
                break
            try:
                done = self.publish()
            except Exception:
                logger.exception("the spool publisher failed; it goes on after a pause")
                done = False
            pause = 0.0 if done else self._pause()
            if done and time.monotonic() >= next_scan:
                next_scan = time.monotonic() + ORPHAN_SCAN_SECONDS
                self._recover_orphans()
                self._republish_outbox()
        if self._detached.is_set():
            with self._publishing, self._lock:
                self._close()
        # else finish() (at exit) publishes what is left and closes the file.

    def _pause(self) -> float:
        return max(
            hub_settings.SPOOL_FLUSH_SECONDS,
            RETRY_PAUSE_SECONDS,
            broker.down_until - time.monotonic(),
        )

    def _republish_outbox(self) -> None:
        """Send on the outbox's due batches, so unconfirmed ones go out again even without a beat."""
        try:
            republish()
        except Exception:
            logger.exception("republishing the outbox from the spool publisher failed")

    def _recover_orphans(self) -> None:
        try:
            recover_orphans(self.directory)
        except Exception:
            logger.exception("recovering orphaned spool files in %s failed", self.directory)

    def publish(self, deadline: float | None = None, wait: float | None = None) -> bool:
        """Publish what was appended so far; ``True`` when nothing is left.

        ``wait`` bounds the wait for a publishing pass already running (``None``: no bound).
        """
        if not self._publishing.acquire(timeout=-1 if wait is None else wait):
            return False
        try:
            return self._publish(deadline)
        finally:
            self._publishing.release()

    def _publish(self, deadline: float | None) -> bool:
        while self._draining:
            old, old_end = self._draining[0]
            if not old.publish(old_end, deadline, self._detached):
                self._warn_failing(old, old_end)
                return False
            with self._lock:
                self._draining.pop(0)
                old.remove()
                old.close()
        file = self._file
        if file is None:
            return True
        with self._lock:
            end = self._end
        if not file.publish(end, deadline, self._detached):
            self._warn_failing(file, end)
            return False
        if self._failing:
            self._failing = False
            logger.info("the spool %s is published again", file.path)
        with self._lock:
            if self._end == file.progress.offset and self._end and not self._closed:
                self._truncate(file)
        return True

    def _warn_failing(self, file: SpoolFile, end: int) -> None:
        if not self._failing:
            self._failing = True
            waiting = end - file.progress.offset
            logger.warning(
                "cannot publish the spool (%s); %d bytes wait in %s", file.error, waiting, file.path
            )

    def _truncate(self, file: SpoolFile) -> None:
        """Empty the published file. The sidecar says 0 first: a crash in between republishes, never skips."""
        published = file.progress
        file.progress = Progress()
        try:
            file.save()
            os.ftruncate(file.fd, 0)
        except OSError as exc:
            file.progress = published
            file._save_quietly()
            logger.warning("cannot truncate the spool %s: %s", file.path, exc)
            return
        self._end = 0

    def finish(self, timeout: float) -> None:
        """Publish what is left (for at most ``timeout`` seconds) and close; delete the file if it is empty.

        What cannot be published stays in the file for :func:`recover_orphans`.
        """
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        if not self._publishing.acquire(timeout=timeout):
            logger.warning("the spool %s is left for recovery: its publisher is busy", self.path)
            return
        try:
            with self._lock:
                self._closed = True  # later batches go direct
            done = self._publish(deadline)
            with self._lock:
                file = self._file
                if file is not None and done and file.progress.offset >= self._end:
                    file.remove()
                elif file is not None:
                    logger.warning(
                        "%d bytes are left in the spool %s for recovery",
                        self._end - file.progress.offset,
                        file.path,
                    )
                self._close()
        finally:
            self._publishing.release()

    def detach(self) -> None:
        """Stop using the spool file: appends go elsewhere, what it holds is left to :func:`recover_orphans`.

        (Settings changed. Only tests change them at run time.)
        """
        with self._lock:
            self._closed = True
        self._detached.set()
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None or not thread.is_alive():
            with self._publishing, self._lock:
                self._close()
        # else: the publisher closes the file on its way out.

    def _close(self) -> None:
        """Release the files and their locks (call with both locks held); what they hold is recovered."""
        self._closed = True
        for old, _ in self._draining:
            old.close()
        self._draining.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's file without touching it (closing keeps the parent's lock)."""
        for old, _ in self._draining:
            old.close()
        self._draining.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
        self._closed = True


@attrs.frozen
class RecoveryReport:
    """What one :func:`recover_orphans` run did."""

    files: int = 0  # orphaned spool files published completely and deleted
    events: int = 0  # events published from orphaned spool files
    remaining: int = 0  # orphaned spool files left (the broker refused a publish)


def recover_orphans(directory: str | os.PathLike[str] | None = None) -> RecoveryReport:
    """Publish what the spool files of dead processes hold, from their sidecar's offset, and delete them.

    A file whose lock is held belongs to a live process and is left alone. Stops publishing at
    the first refused publish (the files stay for the next run). Never creates ``directory``.
    """
    directory = Path(hub_settings.SPOOL_DIR if directory is None else directory).absolute()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return RecoveryReport()
    own = _spool.path if _spool is not None else None
    files = events = remaining = 0
    refused = False
    for name in names:
        path = directory / name
        if name.endswith(SUFFIX + SIDECAR_SUFFIX):
            if not path.with_name(name[: -len(SIDECAR_SUFFIX)]).exists():
                path.unlink(missing_ok=True)  # left by a crash between deleting a spool file and its sidecar
            continue
        if name.startswith(".") and name.endswith(".new"):
            with contextlib.suppress(OSError):  # left by a crash while creating a spool file (empty)
                if time.time() - path.stat().st_mtime > STAGING_MAX_AGE_SECONDS:
                    path.unlink()
            continue
        if not name.endswith(SUFFIX) or path == own:
            continue
        orphan = SpoolFile.take_over(path)
        if orphan is None:
            continue
        try:
            if refused:
                remaining += 1
                continue
            size = os.fstat(orphan.fd).st_size
            done = orphan.publish(size)
            events += orphan.published
            if done:
                orphan.remove()
                files += 1
                logger.info("recovered %d event(s) from the orphaned spool %s", orphan.published, path)
            else:
                refused = True
                remaining += 1
                logger.warning("orphaned spool %s kept: %s", path, orphan.error)
        finally:
            orphan.close()
    return RecoveryReport(files=files, events=events, remaining=remaining)


# --- this process's spool -----------------------------------------------------------------------------

_spool: Spool | None = None
_spool_lock = threading.Lock()


def current() -> Spool:
    """This process's spool (created on first use, in ``SPOOL_DIR``)."""
    global _spool
    spool = _spool
    if spool is None or spool.pid != os.getpid():
        if spool is not None:  # forked without Python's fork handlers (a C extension, a server's own fork)
            _after_fork_in_child()
        with _spool_lock:
            if _spool is None:
                _spool = Spool(Path(hub_settings.SPOOL_DIR).absolute())
            spool = _spool
    return spool


def append(batch: Batch, solo: bool = False) -> bool:
    """Spool ``batch`` (one write); ``False`` when it must be published directly instead.

    ``solo``: publish it as a batch of its own, never merged with others — for a batch that may
    already be in the outbox under its id (the database answered too late), so that both copies
    carry the same id and events and the backend writes it once.
    """
    spool = _spool
    if spool is None or spool.pid != os.getpid():
        spool = current()
    return spool.append(batch, solo)


def flush(timeout: float = EXIT_WAIT_SECONDS) -> bool:
    """Publish this process's spool now, in the calling thread; ``True`` when nothing is left."""
    if _spool is None:
        return True
    return _spool.publish(deadline=time.monotonic() + timeout, wait=timeout)


def pending_bytes() -> int:
    """Bytes of this process's spool not published yet."""
    return 0 if _spool is None else _spool.pending_bytes()


def detach() -> None:
    """Leave this process's spool file to recovery; the next append starts a new one (settings changed)."""
    global _spool
    with _spool_lock:
        spool, _spool = _spool, None
    if spool is not None:
        spool.detach()


def _at_exit() -> None:
    if _spool is not None:
        _spool.finish(EXIT_WAIT_SECONDS)


def _after_fork_in_child() -> None:
    global _spool, _spool_lock
    _spool_lock = threading.Lock()
    if _spool is not None:
        _spool.forget_after_fork()
        _spool = None
    for fd in list(_open_fds):  # spool files of detached spools, orphans being recovered
        _close_fd(fd)


on_reload(detach)
# Registered when this module is imported (by handoff, which unit_of_work imports), so before
# unit_of_work's exit handler: handlers run last
# registered first, so the ambient buffer is handed off (into the spool) before the spool is published.
atexit.register(_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
