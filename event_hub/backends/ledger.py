"""Which batches a JSON-lines file already holds, so a redelivered batch is written once.

Delivery is at least once: a worker killed after writing a batch but before
acknowledging it gets the batch again. The tracking-log format carries no
event id a reader could deduplicate on, so the file backend deduplicates by
batch instead. Beside ``tracking.log`` it keeps ``tracking.log.batches``: one
line ``<key> <inode> <start> <length>`` per batch written, appended *before*
the batch's data, both under the log's exclusive ``flock``. The key is the
batch id plus a CRC of the batch's bytes, so a subset of a batch (one event
set aside and replayed later) is not mistaken for the whole.

Whoever takes the lock next checks the last entry: if the log (same inode)
ends inside that batch, the writer died mid-write; the log is cut back to the
batch's start and the entry withdrawn (``- <key>``), so the retry writes the
batch whole. If the log holds the batch entirely, a redelivery is skipped.

The ledger keeps the last ``keep`` batches (rewritten atomically when it has
twice as many), enough for any redelivery the broker or the outbox can make.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple


class Entry(NamedTuple):
    """One batch written to the log."""

    key: str
    inode: int
    start: int
    length: int


class BatchLedger:
    """The sidecar of one log file. Every method must be called with the log's ``flock`` held."""

    def __init__(self, log_path: Path, keep: int = 50_000) -> None:
        self.path = log_path.with_name(log_path.name + ".batches")
        self.keep = keep
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._last: Entry | None = None
        self._identity: tuple[int, int] | None = None
        self._offset = 0
        self._lines = 0
        #: The ledger kept open for appending, and the (device, inode) it was opened on.
        self._fd: int | None = None
        self._fd_identity: tuple[int, int] | None = None

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def refresh(self) -> None:
        """Read what other processes appended since the last call (all of it after a rewrite)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._reset(None)
            return
        identity = (st.st_dev, st.st_ino)
        if identity != self._identity or st.st_size < self._offset:
            self._reset(identity)
        if st.st_size == self._offset:
            return
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        complete = data.rfind(b"\n") + 1  # a half-written last line is read once it is whole
        for raw in data[:complete].splitlines():
            self._apply(raw)
        self._offset += complete

    def recover(self, log_fd: int) -> None:
        """Cut the log back if the last batch written to it was left half-written."""
        last = self._last
        if last is None:
            return
        st = os.fstat(log_fd)
        if st.st_ino != last.inode or not last.start <= st.st_size < last.start + last.length:
            return
        os.ftruncate(log_fd, last.start)
        self._append(f"- {last.key}\n")

    def begin(self, key: str, inode: int, start: int, length: int) -> None:
        """Record that the batch ``key`` is about to be written at ``start``."""
        self._append(f"{key} {inode} {start} {length}\n")
        if self._lines > 2 * self.keep:
            self._compact()

    def _append(self, text: str) -> None:
        data = text.encode()
        fd = self._writable()
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a writer died mid-line: start on a line of our own
        write_all(fd, data)
        if size == self._offset and self._fd_identity == self._identity:
            # We had read it all and hold the lock, so the file is what we read plus these lines:
            # take them in directly instead of reading them back.
            for raw in data.splitlines():
                self._apply(raw)
            self._offset = size + len(data)
        else:
            self.refresh()

    def _writable(self) -> int:
        """The ledger open for appending, reopened when the path names another file (compacted, removed)."""
        if self._fd is not None and self._fd_identity == self._identity and self._identity is not None:
            return self._fd
        self.close()
        self._fd, self._fd_identity = open_appending(self.path, os.O_RDWR)
        return self._fd

    def close(self) -> None:
        """Close the ledger's descriptor (it is opened again when needed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = self._fd_identity = None

    def _compact(self) -> None:
        kept = list(self._entries.values())[-self.keep :]
        text = "".join(f"{e.key} {e.inode} {e.start} {e.length}\n" for e in kept)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(text)
        os.replace(temporary, self.path)
        self.refresh()

    def _reset(self, identity: tuple[int, int] | None) -> None:
        self._entries.clear()
        self._last = None
        self._identity = identity
        self._offset = 0
        self._lines = 0

    def _apply(self, raw: bytes) -> None:
        parts = raw.decode("utf-8", "replace").split()
        self._lines += 1
        if len(parts) == 2 and parts[0] == "-":
            self._entries.pop(parts[1], None)
            if self._last is not None and self._last.key == parts[1]:
                self._last = None
            return
        if len(parts) != 4 or not all(part.isdigit() for part in parts[1:]):
            return  # a line a dying writer left incomplete
        entry = Entry(parts[0], int(parts[1]), int(parts[2]), int(parts[3]))
        self._entries[entry.key] = entry
        self._entries.move_to_end(entry.key)
        self._last = entry


def open_appending(path: Path, access: int) -> tuple[int, tuple[int, int]]:
    """``path`` opened with ``access`` (``os.O_WRONLY``, ``os.O_RDWR``) for appending, created if missing,
    and the (device, inode) of the file it names."""
    fd = os.open(path, access | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    st = os.fstat(fd)
    return fd, (st.st_dev, st.st_ino)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write part of it)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
