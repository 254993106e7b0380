"""JSON-lines file backend: one complete JSON object per line, safe under logrotate.

* A batch is appended with one ``write`` under an exclusive ``flock`` on a file
  opened ``O_APPEND``, so lines from concurrent workers never interleave. If a
  write fails half way (disk full), the file is cut back to where the batch
  started: no half line is ever left behind, and the batch is retried.
* Before each batch the path is ``stat``-ed; when logrotate moved or removed
  the file, the backend reopens (``copytruncate`` needs nothing: ``O_APPEND``
  writes at the new end).
* Each line is the envelope in the ``format`` option's shape (``openedx``, the
  platform's tracking log, by default; see :mod:`event_hub.backends.formats`).
* A batch is written once even when it is delivered twice (a worker killed
  after writing it): batch ids are recorded beside the file and checked under
  the same lock (:mod:`event_hub.backends.ledger`); ``deduplicate=False`` turns
  this off.
* An event over ``max_event_bytes`` is never cut into invalid JSON. With
  ``oversize="dead_letter"`` (default) it is set aside whole for the dead-letter
  table; with ``oversize="truncate"`` its largest strings inside ``event`` are
  shortened with a marker and the line lists them under ``event_hub_truncated``.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from event_hub import jsonio, wireline
from event_hub.backends.base import Backend
from event_hub.backends.formats import check_format_options, line_renderers, renderer, sections_renderer
from event_hub.backends.ledger import BatchLedger, open_appending, write_all
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope
from event_hub.exceptions import EventRejected
from event_hub.jsonio import escape_line_separators

OVERSIZE_POLICIES = ("dead_letter", "truncate")
TRUNCATION_MARKER = "…[truncated by event_hub]"
#: Keys holding the event payload, whose strings ``oversize="truncate"`` may shorten.
PAYLOAD_KEYS = ("event", "event_data")


class JsonLinesBackend(Backend):
    """Append events to a file, one JSON object per line."""

    def __init__(
        self,
        name: str,
        *,
        path: str,
        max_event_bytes: int = 65536,
        oversize: str = "dead_letter",
        fsync: bool = False,
        format: str = "openedx",
        extra_fields: Sequence[str] = (),
        deduplicate: bool = True,
    ) -> None:
        super().__init__(name)
        self.path = Path(path)
        self.max_event_bytes = max_event_bytes
        self.oversize = oversize
        self.fsync = fsync
        self.render = renderer(format, extra_fields)
        self.render_wire, self.render_split = line_renderers(format, extra_fields)
        self.render_sections = sections_renderer(format, extra_fields)
        self.ledger = BatchLedger(self.path) if deduplicate else None
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        problems = []
        path = options.get("path")
        if not path or not isinstance(path, str):
            problems.append("OPTIONS['path'] must name the log file")
        else:
            folder = Path(path).parent
            existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
            if existing is None or not os.access(existing, os.W_OK):
                problems.append(f"cannot create or write {path!r}: {existing} is not writable")
        limit = options.get("max_event_bytes", 65536)
        if not isinstance(limit, int) or limit < 1024:
            problems.append("OPTIONS['max_event_bytes'] must be an integer of at least 1024")
        if options.get("oversize", "dead_letter") not in OVERSIZE_POLICIES:
            problems.append(f"OPTIONS['oversize'] must be one of {OVERSIZE_POLICIES}")
        return problems + check_format_options(dict(options))

    def transform(self, envelope: Envelope) -> bytes:
        """The envelope's line; oversize lines are truncated or rejected, never cut."""
        return self._fit(
            escape_line_separators(jsonio.dumps(self.render(envelope), option=orjson.OPT_NON_STR_KEYS))
        )

    def transform_line(self, line: bytes) -> bytes:
        """:meth:`transform` of the line's envelope, rendered from the line without rebuilding it.

        A line the tracker wrote is written in the ``openedx`` format mostly by copying its parts
        (:class:`~event_hub.backends.formats.OpenedxSections`); otherwise it is split
        (:func:`event_hub.wireline.split`): only its head is decoded, the payload's text is copied.
        Any other line is decoded whole. Either way every key is a string already (it was read
        from JSON), so orjson needs no option for integer keys.
        """
        if self.render_sections is not None:
            parts = wireline.sections(line, self.render_sections.request)
            text = self.render_sections(parts) if parts is not None else None
            if text is not None:
                return self._fit(escape_line_separators(text))
        return self.transform_split_line(line)

    def transform_split_line(self, line: bytes) -> bytes:
        """:meth:`transform_line` without copying parts: the line split (head decoded), else decoded whole."""
        split = wireline.split(line)
        rendered = self.render_wire(jsonio.loads(line)) if split is None else self.render_split(*split)
        return self._fit(escape_line_separators(jsonio.dumps(rendered)))

    def _fit(self, line: bytes) -> bytes:
        """``line`` if under ``max_event_bytes``; else truncated or rejected by the ``oversize`` policy."""
        if len(line) < self.max_event_bytes:
            return line
        if self.oversize == "truncate":
            return truncate_line(line, self.max_event_bytes - 1)
        raise EventRejected(
            f"event is {len(line)} bytes, over max_event_bytes={self.max_event_bytes} "
            f"of backend {self.name!r}"
        )

    def send(self, items: Sequence[bytes], batch: Batch) -> None:
        data = b"\n".join(items) + b"\n"
        key = f"{batch.id}:{zlib.crc32(data):08x}"
        with self._lock:
            fd = self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if self.ledger is not None:
                    self.ledger.refresh()
                    self.ledger.recover(fd)
                    if key in self.ledger:
                        return  # a redelivery of a batch this file already holds
                st = os.fstat(fd)
                start = st.st_size
                if self.ledger is not None:
                    self.ledger.begin(key, st.st_ino, start, len(data))
                try:
                    write_all(fd, data)
                    if self.fsync:
                        os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, start)
                    raise
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int:
        """The open descriptor, reopened when the path no longer names the same file."""
        try:
            st = os.stat(self.path)
            current: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            current = None
        if self._fd is not None and current == self._identity:
            return self._fd
        self._close_fd()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd, self._identity = open_appending(self.path, os.O_WRONLY)
        return self._fd

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = self._identity = None

    def close(self) -> None:
        with self._lock:
            self._close_fd()
            if self.ledger is not None:
                self.ledger.close()


def truncate_line(line: bytes, limit: int, payload_keys: Sequence[str] = PAYLOAD_KEYS) -> bytes:
    """Shorten the largest strings inside the payload until the line fits in ``limit`` bytes.

    The payload is the first of ``payload_keys`` the record has: ``event`` (``openedx``
    format) or ``event_data`` (``compact``) by default.
    Raises :class:`EventRejected` when cutting every string is not enough.
    """
    record = jsonio.loads(line)
    payload = next((key for key in payload_keys if key in record), None) if isinstance(record, dict) else None
    if payload is None:
        raise EventRejected(f"event is {len(line)} bytes and has no payload ({payload_keys}) to truncate")
    marker = TRUNCATION_MARKER.encode()
    cut: list[str] = []
    record["event_hub_truncated"] = cut
    while True:
        encoded = escape_line_separators(jsonio.dumps(record))
        excess = len(encoded) - limit
        if excess <= 0:
            return encoded
        leaves = sorted(_string_leaves(record, payload, payload), key=lambda leaf: -len(leaf[2]))
        leaf = next((leaf for leaf in leaves if len(leaf[2]) > len(TRUNCATION_MARKER) * 2), None)
        if leaf is None:
            raise EventRejected(f"event is {len(line)} bytes and cannot be truncated below {limit}")
        container, key, value, path = leaf
        # Escaping only ever lengthens a string in JSON, so cutting ``excess`` bytes of text
        # (plus room for the marker) takes at least ``excess`` bytes off the line.
        keep = max(0, len(value.encode()) - excess - len(marker) - 8)
        text = value.removesuffix(TRUNCATION_MARKER).encode()[:keep]
        container[key] = text.decode("utf-8", "ignore") + TRUNCATION_MARKER
        if path not in cut:
            cut.append(path)


def _string_leaves(container: Any, key: Any, path: str = "event") -> list[tuple[Any, Any, str, str]]:
    """Every string below ``container[key]`` as (parent, key, value, dotted path)."""
    value = container[key]
    if isinstance(value, str):
        return [(container, key, value, path)]
    leaves: list[tuple[Any, Any, str, str]] = []
    if isinstance(value, dict):
        for child in value:
            leaves.extend(_string_leaves(value, child, f"{path}.{child}"))
    elif isinstance(value, list):
        for index in range(len(value)):
            leaves.extend(_string_leaves(value, index, f"{path}[{index}]"))
    return leaves
