"""Checking existing tracking logs against the event catalog, one line at a time.

This is what ``manage.py event_hub_validate`` runs. A log is read as a stream
(plain or gzip, told apart by the file's first two bytes, never by its name);
each non-blank line is one JSON object, possibly after a syslog-style prefix
(``... tracking: {...}``), as the platform's logging handlers write it.

For each line:

* the name is ``event_type``, except for mobile events whose ``name`` is the
  mobile name of a catalog entry (``edx.video.played`` for ``play_video``);
* the source is ``event_source``;
* a string ``event`` that holds a JSON object or array (how browser and mobile
  events are logged) is decoded first when the entry expects structured data;
  entries whose payload is a string (:class:`~event_hub.catalog.RawString`) get
  the string as it is;
* the catalog decides (:meth:`~event_hub.catalog.Registry.validate`).

A line ends in one of three counts: accepted, rejected (with one or more
reasons), or unknown (the catalog lacks the name: not malformed, and delivered
untyped when ``UNREGISTERED_EVENTS = "accept"``, so such lines fail the check
only when asked to). Reasons are the catalog's
messages with the member path; item indices and mapping keys in paths become
``[*]`` so one mistake repeated over many problems is one reason.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import orjson

from event_hub.catalog import NoFields, RawString, registry
from event_hub.catalog.base import EventType
from event_hub.catalog.schema import json_kinds
from event_hub.exceptions import InvalidEventError, UnknownEventError

GZIP_MAGIC = b"\x1f\x8b"

# Reasons found before the catalog is asked.
NOT_JSON = "not JSON"
NOT_OBJECT = "not a JSON object"
NO_NAME = "no event_type (or name) string"
NO_SOURCE = "no event_source string"
UNKNOWN = "unknown event type"

#: Row of the unknown names that are request paths (the platform's implicit events, one per URL).
REQUEST_PATHS = "(request paths)"
#: Row of the unknown names past :data:`MAX_UNKNOWN_NAMES` distinct ones.
OTHER_NAMES = "(other unknown names)"
#: Reason of the rejections past :data:`MAX_REASONS` distinct reasons.
OTHER_REASONS = "(other reasons)"
MAX_UNKNOWN_NAMES = 1000
MAX_REASONS = 1000
#: How many ``{`` of a prefixed line are tried as the start of the JSON object.
PREFIX_ATTEMPTS = 3
#: An example line is cut to this many characters.
EXAMPLE_CHARS = 300
#: The progress callback is called every this many lines.
PROGRESS_LINES = 4096

_KEY_IN_PATH = re.compile(r"""\[(?:-?\d+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]""")


class LogFile:
    """One log file opened for reading its lines as bytes, decompressed when it is gzip."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.size = os.fstat(self._raw.fileno()).st_size
        self.compressed = self._raw.read(2) == GZIP_MAGIC
        self._raw.seek(0)
        self.lines: BinaryIO = (
            io.BufferedReader(gzip.GzipFile(fileobj=self._raw, mode="rb"), buffer_size=1 << 20)
            if self.compressed
            else self._raw
        )

    def position(self) -> int:
        """Bytes of the file read so far (compressed bytes for a gzip file)."""
        return self._raw.tell()

    def close(self) -> None:
        self.lines.close()
        self._raw.close()

    def __enter__(self) -> LogFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def parse_line(line: bytes) -> Any:
    """The JSON value of a log line, after a syslog-style prefix if there is one; ``ValueError`` if none."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        if line[:1] == b"{":
            raise
    start = line.find(b"{")
    for _ in range(PREFIX_ATTEMPTS):
        if start < 0:
            break
        try:
            return orjson.loads(line[start:])
        except orjson.JSONDecodeError:
            start = line.find(b"{", start + 1)
    raise ValueError("no JSON object in the line")


def decodes_strings(spec: EventType) -> bool:
    """Whether a string ``event`` holding JSON is decoded before checking (the entry wants structure)."""
    if spec.payload is NoFields:
        return True
    if spec.payload is RawString:
        return False
    kinds = json_kinds(spec.payload)
    return "string" not in kinds and ("object" in kinds or "array" in kinds)


def reason_path(path: str) -> str:
    """``correct_map['i4x-...'].npoints`` -> ``event.correct_map[*].npoints``."""
    path = _KEY_IN_PATH.sub("[*]", path)
    return "event" + (path if path.startswith("[") else "." + path)


@dataclass
class Reason:
    """One reason lines were rejected (or their name unknown), with a few of those lines."""

    message: str
    event_type: str
    source: str
    count: int = 0
    #: (file, line number, text of the line cut to :data:`EXAMPLE_CHARS`).
    examples: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass
class TypeCounts:
    """Lines of one event type from one source."""

    accepted: int = 0
    rejected: int = 0
    unknown: int = 0

    @property
    def lines(self) -> int:
        return self.accepted + self.rejected + self.unknown


class LogCheck:
    """Tallies of lines checked against the catalog, by event type and by reason."""

    def __init__(self, *, strict: bool = False, fail_on_unknown: bool = False, examples: int = 3) -> None:
        self.strict = strict
        self.fail_on_unknown = fail_on_unknown
        self.examples = examples
        self.files: list[str] = []
        self.lines = 0
        self.accepted = 0
        self.rejected = 0
        self.unknown = 0
        #: (event type, source) -> counts; unknown names are capped at MAX_UNKNOWN_NAMES rows.
        self.types: dict[tuple[str, str], TypeCounts] = {}
        #: (message, event type, source) -> reason; "" for what does not belong to one type.
        self.reasons: dict[tuple[str, str, str], Reason] = {}
        self._unknown_rows = 0
        #: (name, source) -> (entry, decode JSON strings), for names the catalog has from that source.
        self._entries: dict[tuple[str, str], tuple[EventType, bool]] = {}

    @property
    def failed(self) -> int:
        """Lines that make the check fail."""
        return self.rejected + (self.unknown if self.fail_on_unknown else 0)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def check_file(self, log: LogFile, progress: Callable[[int], object] | None = None) -> None:
        """Check every line of ``log``; ``progress(bytes read since the last call)`` now and then."""
        self.files.append(log.path)
        position = 0
        for number, line in enumerate(log.lines, 1):
            if line.isspace():
                continue
            self.check(line, log.path, number)
            if progress is not None and not number % PROGRESS_LINES:
                now = log.position()
                progress(now - position)
                position = now
        if progress is not None:
            progress(log.position() - position)

    def check(self, line: bytes, file: str = "", number: int = 0) -> None:
        """Check one line and count it."""
        self.lines += 1
        try:
            item = parse_line(line)
        except ValueError:
            self._reject("", "", [NOT_JSON], line, file, number)
            return
        if item.__class__ is not dict:
            self._reject("", "", [NOT_OBJECT], line, file, number)
            return
        source = item.get("event_source")
        if source.__class__ is not str:
            self._reject("", "", [NO_SOURCE], line, file, number)
            return
        event_type = item.get("event_type")
        name = self._name(event_type, item.get("name"), source)
        if name is None:
            self._reject("", source, [NO_NAME], line, file, number)
            return
        known = self._entries.get((name, source))
        if known is None:
            spec = registry.lookup(name, source)
            if spec is None:
                self._not_in_catalog(name, source, item.get("event"), line, file, number)
                return
            known = self._entries[(name, source)] = (spec, decodes_strings(spec))
        spec, decode = known
        if name != spec.name and event_type not in (None, spec.name):
            message = f"event_type {event_type!r} is not the event type of name {name!r}"
            self._reject(spec.name, source, [message], line, file, number)
            return
        data = item.get("event")
        if decode and data.__class__ is str and data.lstrip()[:1] in ("{", "["):
            # Not JSON after all: checked as the string it is, and the catalog says what it expected.
            with contextlib.suppress(orjson.JSONDecodeError):
                data = orjson.loads(data)
        try:
            registry.validate(name, source, data, strict=self.strict)
        except InvalidEventError as exc:
            messages = [
                f"{reason_path(path)}: {message}" if path else f"event: {message}"
                for path, messages in exc.errors.items()
                for message in messages
            ]
            self._reject(spec.name, source, messages, line, file, number)
            return
        counts = self.types.get((spec.name, source))
        if counts is None:
            counts = self.types[(spec.name, source)] = TypeCounts()
        counts.accepted += 1
        self.accepted += 1

    def _name(self, event_type: Any, name: Any, source: str) -> str | None:
        """The name to look up: the mobile name when ``name`` is one, else ``event_type`` (else ``name``)."""
        if source == "mobile" and name.__class__ is str and name != event_type:
            spec = registry.lookup(name, source)
            if spec is not None and spec.mobile_name == name:
                return str(name)
        if event_type.__class__ is str and event_type:
            return str(event_type)
        if name.__class__ is str and name:
            return str(name)
        return None

    def _not_in_catalog(self, name: str, source: str, data: Any, line: bytes, file: str, number: int) -> None:
        """``name`` has no entry for ``source``: unknown, or known from other sources only."""
        try:
            registry.validate(name, source, data, strict=self.strict)
        except UnknownEventError:
            label = REQUEST_PATHS if name.startswith("/") else name
            if (label, source) not in self.types:
                if self._unknown_rows >= MAX_UNKNOWN_NAMES:
                    label = OTHER_NAMES
                else:
                    self._unknown_rows += 1
            counts = self.types.setdefault((label, source), TypeCounts())
            counts.unknown += 1
            self.unknown += 1
            self._note(UNKNOWN, "", "", line, file, number)
            return
        except InvalidEventError as exc:
            messages = [message for messages in exc.errors.values() for message in messages]
            self._reject(name, source, messages, line, file, number)
            return
        raise AssertionError(f"the catalog accepted {name!r} from {source!r} without an entry")

    def _reject(
        self, event_type: str, source: str, messages: list[str], line: bytes, file: str, number: int
    ) -> None:
        self.rejected += 1
        if event_type:
            counts = self.types.get((event_type, source))
            if counts is None:
                counts = self.types[(event_type, source)] = TypeCounts()
            counts.rejected += 1
        for message in dict.fromkeys(messages):
            self._note(message, event_type, source, line, file, number)

    def _note(self, message: str, event_type: str, source: str, line: bytes, file: str, number: int) -> None:
        key = (message, event_type, source)
        reason = self.reasons.get(key)
        if reason is None:
            if len(self.reasons) >= MAX_REASONS:
                key = (OTHER_REASONS, "", "")
                reason = self.reasons.setdefault(key, Reason(OTHER_REASONS, "", ""))
            else:
                reason = self.reasons[key] = Reason(message, event_type, source)
        reason.count += 1
        if len(reason.examples) < self.examples:
            text = line.decode("utf-8", "replace").strip()
            if len(text) > EXAMPLE_CHARS:
                text = text[: EXAMPLE_CHARS - 3] + "..."
            reason.examples.append((file, number, text))

    # --- the report -------------------------------------------------------------------------

    def type_rows(self) -> Iterator[tuple[str, str, TypeCounts]]:
        """(event type, source, counts), most lines first."""
        for (event_type, source), counts in sorted(
            self.types.items(), key=lambda item: (-item[1].lines, item[0])
        ):
            yield event_type, source, counts

    def reason_rows(self) -> list[Reason]:
        """Every reason, most lines first."""
        return sorted(self.reasons.values(), key=lambda r: (-r.count, r.event_type, r.source, r.message))

    def report(self) -> dict[str, Any]:
        """Everything counted, as JSON-ready data."""
        return {
            "files": list(self.files),
            "strict_fields": self.strict,
            "fail_on_unknown": self.fail_on_unknown,
            "lines": self.lines,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unknown": self.unknown,
            "failed": self.failed,
            "passed": self.passed,
            "event_types": [
                {
                    "event_type": event_type,
                    "source": source,
                    "lines": counts.lines,
                    "accepted": counts.accepted,
                    "rejected": counts.rejected,
                    "unknown": counts.unknown,
                }
                for event_type, source, counts in self.type_rows()
            ],
            "reasons": [
                {
                    "reason": reason.message,
                    "event_type": reason.event_type or None,
                    "source": reason.source or None,
                    "lines": reason.count,
                    "examples": [
                        {"file": file, "line": number, "text": text} for file, number, text in reason.examples
                    ],
                }
                for reason in self.reason_rows()
            ],
        }
