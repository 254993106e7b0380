"""Segment backend: each batch goes to Segment's ``/v1/batch`` from inside the delivery task.

The request is the one segment-analytics-python's ``request.post`` makes
(``{"batch": [...], "sentAt": ..., "writeKey": ...}`` to ``/v1/batch``, Basic
auth with the write key, optional gzip, the library's ``User-Agent``), posted
through :class:`~event_hub.backends.http.HttpBackend` (one session per process,
timeouts, status classes). The body is joined from each message's compact JSON,
written once when its size is measured, instead of being serialized a second
time by ``json.dumps`` (the library's function spends ~11 µs per 2 KB message
there). None of the library's ``Client`` machinery is used: no in-memory
queue, no background thread. A task that reports success has had its messages
accepted by Segment; a task that fails is retried or dead-lettered like every
other backend's, so nothing is held in a process that may exit or fork.

* **Mapping** (:meth:`SegmentBackend.message`): one ``track`` message per
  event. ``messageId`` is the event id (Segment drops repeats of a messageId,
  so a redelivered batch is harmless), ``timestamp`` the event time,
  ``userId`` the LMS user id when there is a user, ``anonymousId`` always
  (the anonymous user id, else the session digest, else the event id: an
  anonymous event is delivered, never dropped), ``properties`` the payload
  and ``context`` built from the envelope. Username and IP go out only when
  the backend's ``PII`` is ``True``. A batch line's payload object is copied
  into ``properties`` as the text it is (``orjson.Fragment``), never parsed.
* **Sizes**: Segment takes messages up to 32 KB and requests up to 500 KB.
  A larger batch is split into several requests of at most ``batch_bytes``
  (475,000 by default, the library's cut); a message over 32 KB is
  dead-lettered alone with the reason, or with ``oversize="truncate"`` its
  largest property strings are shortened with a marker.
* **Errors** as the library classifies them (:mod:`event_hub.backends.http`):
  408, 410, 429, 460 and 5xx other than 501/505, timeouts and connection
  errors are retried; ``Retry-After`` is the least delay of the next retry;
  other statuses dead-letter the batch with Segment's ``code: message`` as the
  reason.
* **Configuration**: ``write_key`` falls back to Django's ``LMS_SEGMENT_KEY``;
  ``events`` (an allowlist of names or patterns) falls back to
  ``EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST`` when that is set; both are read
  where Open edX keeps them so an LMS needs no second copy.
"""

from __future__ import annotations

import datetime
import gzip as gzip_module
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import orjson
import requests
from django.conf import settings
from segment.analytics.version import VERSION as LIBRARY_VERSION

from event_hub import __version__, jsonio, wireline
from event_hub.backends.http import HttpBackend
from event_hub.backends.jsonlog import truncate_line
from event_hub.conf import hub_settings
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope, checked_source
from event_hub.exceptions import EventRejected
from event_hub.processors import Processor
from event_hub.processors.filters import EventNameFilter
from event_hub.processors.google_analytics import GoogleAnalytics

#: Segment refuses a message over this many bytes (as the library measures it: ``json.dumps``).
MAX_MESSAGE_BYTES = 32 << 10
#: The library's cut for one request (Segment's limit is 500 KB; ``sentAt`` and the key need room).
BATCH_BYTES = 475_000
OVERSIZE_POLICIES = ("dead_letter", "truncate")
DEFAULT_HOST = "https://api.segment.io"
#: ``context.library`` of every message: who built it (the library version that sent it is in the User-Agent).
LIBRARY = {"name": "event_hub", "version": __version__}
#: The request headers segment-analytics-python sends (its version names the protocol spoken).
HEADERS = {"Content-Type": "application/json", "User-Agent": f"analytics-python/{LIBRARY_VERSION}"}
#: Every byte below 0x80: deleting them from a UTF-8 text leaves its multi-byte characters' bytes.
_ASCII = bytes(range(128))
_OBJECT = ord("{")


class SegmentBackend(HttpBackend):
    """Deliver batches to Segment's HTTP tracking API (or any endpoint speaking ``/v1/batch``)."""

    #: The library's budget: 10 retries.
    retry_max: ClassVar[int | None] = 10
    #: As the library: any failure of the request itself (connection, timeout, a broken answer) is retried.
    retryable: ClassVar[tuple[type[BaseException], ...]] = (*HttpBackend.retryable, requests.RequestException)

    def __init__(
        self,
        name: str,
        *,
        write_key: str | None = None,
        host: str = DEFAULT_HOST,
        timeout: float = 15.0,
        gzip: bool = False,
        batch_bytes: int = BATCH_BYTES,
        oversize: str = "dead_letter",
        events: Sequence[str] | None = None,
        google_analytics: bool = True,
    ) -> None:
        super().__init__(name, timeout=timeout)
        key = write_key or getattr(settings, "LMS_SEGMENT_KEY", None)
        if not key:
            raise TypeError("no write_key in OPTIONS and no LMS_SEGMENT_KEY setting")
        self.write_key: str = key
        self.host = host
        self.url = host.rstrip("/") + "/v1/batch"
        self._body_end = b',"writeKey":' + orjson.dumps(key) + b"}"
        self.gzip = gzip
        self.batch_bytes = batch_bytes
        self.oversize = oversize
        self.pii = bool(hub_settings.backend_configs().get(name, {}).get("PII", False))

    # --- configuration ---------------------------------------------------------------------------

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        problems = super().check_options(options)
        key = options.get("write_key") or getattr(settings, "LMS_SEGMENT_KEY", None)
        if not key or not isinstance(key, str):
            problems.append(
                "no Segment write key: set OPTIONS['write_key'] (or Django's LMS_SEGMENT_KEY), "
                "or disable the backend"
            )
        host = options.get("host", DEFAULT_HOST)
        if not isinstance(host, str) or not host.startswith(("http://", "https://")):
            problems.append("OPTIONS['host'] must be an http:// or https:// URL")
        if not isinstance(options.get("gzip", False), bool):
            problems.append("OPTIONS['gzip'] must be True or False")
        size = options.get("batch_bytes", BATCH_BYTES)
        if isinstance(size, bool) or not isinstance(size, int) or not MAX_MESSAGE_BYTES <= size <= 500_000:
            problems.append(f"OPTIONS['batch_bytes'] must be an integer from {MAX_MESSAGE_BYTES} to 500000")
        if options.get("oversize", "dead_letter") not in OVERSIZE_POLICIES:
            problems.append(f"OPTIONS['oversize'] must be one of {OVERSIZE_POLICIES}")
        events = options.get("events")
        if events is not None and (
            isinstance(events, str) or not all(isinstance(e, str) and e for e in events)
        ):
            problems.append("OPTIONS['events'] must be a list of event names or patterns")
        return problems

    @classmethod
    def route_processors(cls, options: Mapping[str, Any]) -> tuple[Processor, ...]:
        """The allowlist (``events``, else ``EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST``) and the GA fields."""
        processors: list[Processor] = []
        events = options.get("events")
        if events is None:
            events = getattr(settings, "EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST", None)
        if events is not None:
            # As in Open edX, an empty allowlist lets nothing through.
            processors.append(EventNameFilter(allow=events) if events else EventNameFilter(deny=["*"]))
        if options.get("google_analytics", True):
            processors.append(GoogleAnalytics())
        return tuple(processors)

    # --- envelope -> Segment message ---------------------------------------------------------------

    def transform(self, envelope: Envelope) -> tuple[bytes, int]:
        """The compact JSON of the ``track`` message of ``envelope`` and an upper bound of its size as
        the library measures it (``json.dumps``)."""
        return self._sized(self.message(envelope))

    def transform_line(self, line: bytes) -> tuple[bytes, int]:
        """:meth:`transform` of a batch line, built from its JSON without an :class:`Envelope` in between.

        A line the tracker wrote is split (:func:`event_hub.wireline.split`): its head is decoded and
        an object payload is carried as its text into ``properties``. Any other line is decoded whole.
        """
        if (
            type(self).transform is not SegmentBackend.transform
            or type(self).message is not SegmentBackend.message
        ):
            return super().transform_line(line)  # a subclass's own mapping
        split = wireline.split(line)
        if split is None:
            return self._sized(self.wire_message(jsonio.loads(line)))
        record, payload = split
        record["event"] = orjson.Fragment(payload) if payload[0] == _OBJECT else orjson.loads(payload)
        return self._sized(self.wire_message(record))

    def _sized(self, message: dict[str, Any]) -> tuple[bytes, int]:
        compact = jsonio.dumps(message)
        bound = dumps_size_bound(compact)
        if bound <= MAX_MESSAGE_BYTES:
            return compact, bound
        size = dumps_size(jsonio.loads(compact))
        if size <= MAX_MESSAGE_BYTES:
            return compact, size
        if self.oversize != "truncate":
            raise EventRejected(
                f"Segment message is {size} bytes, over Segment's {MAX_MESSAGE_BYTES}-byte limit "
                f"(backend {self.name!r}; OPTIONS['oversize']='truncate' shortens it instead)"
            )
        return self._truncated(compact, size)

    def message(self, envelope: Envelope) -> dict[str, Any]:
        """The Segment ``track`` message of ``envelope`` (see the module docstring)."""
        record = envelope.to_wire()
        record["time"] = envelope.time  # as it is (the wire form would be in UTC)
        return self.wire_message(record)

    def wire_message(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The Segment ``track`` message of an envelope in its wire form (:meth:`Envelope.to_wire`, or
        the same decoded from a batch line).

        A line that :meth:`Envelope.from_wire` would refuse is refused too (a missing member, an
        unreadable time, an unknown source), so the event is set aside the same way.
        """
        (event_id, name, _, source, moment, payload, ctx, username, ip, agent, _, referer, accept_language,
         page_url, session) = (
            record["id"], record["name"], record["event_type"], record["event_source"], record["time"],
            record["event"], record["context"], record["username"], record["ip"], record["agent"],
            record["host"], record["referer"], record["accept_language"], record["page"], record["session"],
        )  # fmt: skip
        if not isinstance(moment, datetime.datetime):
            moment = datetime.datetime.fromisoformat(moment)
        checked_source(source)
        # An object payload (or its text, from a split line) is the properties; any other value is wrapped.
        properties = payload if isinstance(payload, (dict, orjson.Fragment)) else {"data": payload}
        context: dict[str, Any] = {"library": LIBRARY}
        page: dict[str, str] = {}
        if page_url:
            page["url"] = page_url
        path = ctx.get("path")
        if path:
            page["path"] = path
        if referer:
            page["referrer"] = referer
        if page:
            context["page"] = page
        if agent:
            context["userAgent"] = agent
        locale = first_locale(accept_language)
        if locale:
            context["locale"] = locale
        course_id = ctx.get("course_id")
        if course_id:
            context["course_id"] = course_id
        org_id = ctx.get("org_id")
        if org_id:
            context["org_id"] = org_id
        # Members the envelope does not model (its context's ``extra``) sit beside the others on the wire.
        application = ctx.get("application")
        if isinstance(application, dict):
            context["app"] = {"name": application.get("name", ""), "version": application.get("version", "")}
        client_id = ctx.get("client_id")
        if client_id:
            context["Google Analytics"] = {"clientId": client_id}
        if self.pii:
            if ip:
                context["ip"] = ip
            if username:
                context["traits"] = {"username": username}
        message: dict[str, Any] = {
            "type": "track",
            "event": name,
            "messageId": event_id,
            "timestamp": moment.isoformat(timespec="milliseconds"),
            "anonymousId": ctx.get("anonymous_user_id") or session or event_id,
            "properties": properties,
            "context": context,
        }
        user_id = ctx.get("user_id")
        if user_id is not None:
            message["userId"] = str(user_id)
        return message

    def _truncated(self, compact: bytes, size: int) -> tuple[bytes, int]:
        """The message with its largest property strings cut (with a marker) to fit Segment's limit."""
        target = len(compact)
        for _ in range(8):
            # Cut the compact form in the proportion the library's measure is over the limit.
            target = int(target * MAX_MESSAGE_BYTES / size) - 64
            record = jsonio.loads(truncate_line(compact, target, payload_keys=("properties",)))
            record["properties"]["event_hub_truncated"] = record.pop("event_hub_truncated")
            size = dumps_size(record)
            if size <= MAX_MESSAGE_BYTES:
                return jsonio.dumps(record), size
        raise EventRejected(f"Segment message cannot be truncated below {MAX_MESSAGE_BYTES} bytes")

    # --- delivery ----------------------------------------------------------------------------------

    def send(self, items: Sequence[tuple[bytes, int]], batch: Batch) -> None:
        auth = (self.write_key, "")
        for chunk in self.chunks(items):
            self.post(self.url, self.body(chunk), self.headers, auth=auth)

    @property
    def headers(self) -> dict[str, str]:
        return {**HEADERS, "Content-Encoding": "gzip"} if self.gzip else HEADERS

    def body(self, messages: Sequence[bytes]) -> bytes:
        """The request body of ``messages`` (compact JSON each): the library's members, in its order."""
        sent_at = datetime.datetime.now(datetime.UTC).isoformat()
        body = b"".join(
            (b'{"batch":[', b",".join(messages), b'],"sentAt":"', sent_at.encode(), b'"', self._body_end)
        )
        return gzip_module.compress(body) if self.gzip else body

    def chunks(self, items: Sequence[tuple[bytes, int]]) -> Iterator[list[bytes]]:
        """The messages in requests of at most ``batch_bytes`` (one request when they fit).

        Sizes are the upper bounds :meth:`transform` found, so a request never exceeds the limit
        (it may hold a little less than it could).
        """
        if sum(size for _, size in items) <= self.batch_bytes:
            yield [message for message, _ in items]
            return
        chunk: list[bytes] = []
        total = 0
        for message, size in items:
            if chunk and total + size > self.batch_bytes:
                yield chunk
                chunk, total = [], 0
            chunk.append(message)
            total += size
        if chunk:
            yield chunk

    def error_text(self, response: requests.Response) -> str:
        """Segment's ``code: message`` from an error answer, else the start of its body."""
        try:
            answer = response.json()
            return f"{answer['code']}: {answer['message']}"
        except (ValueError, KeyError, TypeError):
            return response.text


def dumps_size_bound(compact: bytes) -> int:
    """An upper bound of the library's measure of a message, from orjson's compact UTF-8 form.

    ``json.dumps`` differs from it in two ways only: a space after every ``:`` and
    ``,`` separator (counting every colon and comma, those in strings too, bounds
    that), and ``\\uXXXX`` escapes for non-ASCII characters (at most 3 bytes per
    byte of the character's UTF-8 form, so 2 more per such byte). Exact sizes
    (:func:`dumps_size`) cost a second serialization and are only taken near the limit.
    """
    size = len(compact) + compact.count(b":") + compact.count(b",")
    return size if compact.isascii() else size + 2 * len(compact.translate(None, _ASCII))


def dumps_size(message: Mapping[str, Any]) -> int:
    """Bytes of ``message`` as segment-analytics-python measures a message (``json.dumps``, UTF-8)."""
    return len(json.dumps(message).encode())


def first_locale(accept_language: str) -> str:
    """The first language of an ``Accept-Language`` header (``de-CH,de;q=0.9`` → ``de-CH``)."""
    if not accept_language:
        return ""
    return accept_language.split(",", 1)[0].split(";", 1)[0].strip()


__all__ = ["SegmentBackend", "dumps_size", "dumps_size_bound", "first_locale"]
