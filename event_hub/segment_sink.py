"""A local Segment-compatible endpoint: what ``event_hub_segment_sink`` serves.

It implements ``POST /v1/batch`` as segment-analytics-python calls it (HTTP
Basic auth with the write key as user name and an empty password, JSON body
``{"batch": [...], "sentAt": ...}``, optionally gzip-encoded) and stores every
message it accepts in SQLite, so a test, a benchmark or a curious user can see
exactly what Segment would have received (duplicates included: Segment drops
repeated ``messageId`` values, this sink counts them).

It can also misbehave on command, to show what the delivery does when Segment
does: ``POST /control/faults`` with a list of faults, each used for the next
``times`` batch requests (in order):

* ``{"status": 500, "times": 3}``: answer that status (with ``"retry_after": "2"``
  a ``Retry-After`` header, with ``"message"`` the error message) and store nothing;
* ``{"mode": "slow", "delay": 5}``: store the batch, then wait before answering 200;
* ``{"mode": "hang", "delay": 30}``: read the request, store nothing, and close the
  connection after ``delay`` seconds without answering.

A batch that passes the checks is answered 200 first and stored just after (as Segment
accepts a batch before it processes it); the control endpoints wait until every answered
batch is stored. ``GET /control/stats`` gives the counts, ``GET /control/messages`` every stored
message (in arrival order, each with the arrival time of its request),
``GET /control/requests`` every batch request with the status it got, and
``POST /control/reset`` forgets everything.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import hmac
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import orjson

#: Segment refuses a request body over 500 KB, and a message over 32 KB.
MAX_BODY_BYTES = 500 * 1024
MAX_MESSAGE_BYTES = 32 << 10
FAULT_MODES = ("answer", "slow", "hang")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    received REAL NOT NULL,
    status INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    gzip INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    body BLOB
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    request INTEGER NOT NULL,
    position INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_message_id ON messages (message_id);
"""


class SinkStore:
    """The SQLite file holding every batch request and every accepted message."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Committed rows survive the sink process being killed (they are in the WAL); only a crash of
        # the machine could lose the last ones, which a test sink can afford for speed.
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def record(
        self,
        *,
        status: int,
        size: int,
        gzipped: bool,
        messages: Sequence[dict[str, Any]] = (),
        body: bytes | None = None,
        reason: str = "",
        received: float | None = None,
    ) -> int:
        """Store one batch request, its (decoded) body and an index row per message; return its id.

        ``received``: when the request arrived (``time.time()``; default now).
        """
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO requests (received, status, messages, bytes, gzip, reason, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (received or time.time(), status, len(messages), size, int(gzipped), reason, body),
            )
            request = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO messages (request, position, message_id, type, event) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        request,
                        position,
                        str(message.get("messageId", "")),
                        str(message.get("type", "")),
                        str(message.get("event", "")),
                    )
                    for position, message in enumerate(messages)
                ],
            )
        return request

    def stats(self) -> dict[str, int]:
        """Counts of requests and messages; ``duplicates`` is messages minus distinct messageIds."""
        with self._lock:
            requests, accepted = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(status BETWEEN 200 AND 299), 0) FROM requests"
            ).fetchone()
            messages, distinct = self._db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages"
            ).fetchone()
        return {
            "requests": requests,
            "accepted_requests": accepted,
            "messages": messages,
            "distinct": distinct,
            "duplicates": messages - distinct,
        }

    def messages(self) -> list[dict[str, Any]]:
        """Every stored message in arrival order, with ``_received`` (its request's arrival time)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received, body FROM requests WHERE body IS NOT NULL ORDER BY id"
            ).fetchall()
        return [
            {**message, "_received": received, "_request": request}
            for request, received, body in rows
            for message in orjson.loads(body)["batch"]
        ]

    def requests(self) -> list[dict[str, Any]]:
        """Every batch request: arrival time, status, message count, size, gzip, reason."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received, status, messages, bytes, gzip, reason FROM requests ORDER BY id"
            ).fetchall()
        keys = ("id", "received", "status", "messages", "bytes", "gzip", "reason")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def reset(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM messages")
            db.execute("DELETE FROM requests")

    def close(self) -> None:
        with self._lock:
            self._db.close()


@attrs.define
class Fault:
    """One scripted misbehaviour, used for the next ``times`` batch requests."""

    mode: str = attrs.field(default="answer", validator=attrs.validators.in_(FAULT_MODES))
    status: int = 500
    times: int = 1
    retry_after: str | None = None
    delay: float = 0.0
    message: str = ""


class Faults:
    """The queue of scripted faults (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def set(self, faults: Sequence[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)

    def take(self) -> Fault | None:
        """The fault for this request (``None``: behave), counting it used once."""
        with self._lock:
            while self._faults and self._faults[0].times <= 0:
                self._faults.pop(0)
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.times -= 1
            return fault


class SegmentSink(ThreadingHTTPServer):
    """The HTTP server: ``/v1/batch`` for the library, ``/control/*`` for whoever runs it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], write_key: str, store: SinkStore) -> None:
        super().__init__(address, SinkHandler)
        self.write_key = write_key
        self.store = store
        self.faults = Faults()
        self._unstored = 0  # batches answered and not stored yet
        self._stored = threading.Condition()

    @contextmanager
    def answering_first(self) -> Iterator[None]:
        """Mark a batch answered before it is stored; control reads wait until it is stored."""
        with self._stored:
            self._unstored += 1
        try:
            yield
        finally:
            with self._stored:
                self._unstored -= 1
                self._stored.notify_all()

    def wait_stored(self, timeout: float = 10.0) -> bool:
        """Wait until every answered batch is stored; ``False`` if some are still being stored."""
        with self._stored:
            return self._stored.wait_for(lambda: self._unstored == 0, timeout)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class SinkHandler(BaseHTTPRequestHandler):
    """One connection (kept alive, as the library's ``requests`` session keeps it)."""

    protocol_version = "HTTP/1.1"
    server: SegmentSink

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY the second waits for the
        # client's delayed ACK (tens of milliseconds per answer on a kept-alive connection).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests table is the log."""

    # --- routing ---------------------------------------------------------------------------------

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        if self.path.split("?", 1)[0] in ("/v1/batch", "/v1/import"):
            self._batch(body)
        elif self.path == "/control/faults":
            self._set_faults(body)
        elif self.path == "/control/reset":
            self.server.wait_stored()
            self.server.store.reset()
            self.server.faults.set([])
            self._json(HTTPStatus.OK, {"reset": True})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"code": "not_found", "message": f"no endpoint {self.path}"})

    def do_GET(self) -> None:
        store = self.server.store
        routes = {
            "/control/stats": store.stats,
            "/control/messages": store.messages,
            "/control/requests": store.requests,
            "/health": lambda: {"ok": True},
        }
        view = routes.get(self.path)
        if view is None:
            self._json(HTTPStatus.NOT_FOUND, {"code": "not_found", "message": f"no endpoint {self.path}"})
            return
        self.server.wait_stored()  # what was answered 200 is counted
        self._json(HTTPStatus.OK, view())

    # --- /v1/batch -------------------------------------------------------------------------------

    def _batch(self, raw: bytes) -> None:
        received = time.time()
        store = self.server.store
        gzipped = self.headers.get("Content-Encoding", "").lower() == "gzip"
        if not self._authorized():
            self._error(HTTPStatus.UNAUTHORIZED, "unauthorized", "missing or wrong write key", raw, gzipped)
            return
        fault = self.server.faults.take()
        if fault is not None and fault.mode == "hang":
            store.record(status=0, size=len(raw), gzipped=gzipped, reason="hung up (fault)")
            time.sleep(fault.delay)
            self.close_connection = True
            return
        if fault is not None and fault.mode == "answer":
            message = fault.message or f"scripted {fault.status} answer"
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._error(fault.status, "fault", message, raw, gzipped, headers)
            return
        try:
            data = gzip.decompress(raw) if gzipped else raw
            payload = orjson.loads(data)
        except (OSError, EOFError, zlib.error, orjson.JSONDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, "invalid_request", f"body is not JSON: {exc}", raw, gzipped)
            return
        problem = batch_problem(payload)
        if problem:
            self._error(HTTPStatus.BAD_REQUEST, "invalid_request", problem, raw, gzipped)
            return
        oversize = next(
            (
                i
                for i, message in enumerate(payload["batch"])
                if len(orjson.dumps(message)) > MAX_MESSAGE_BYTES
            ),
            None,
        )
        if oversize is not None:
            self._error(
                HTTPStatus.BAD_REQUEST, "invalid_request", f"batch[{oversize}] is over 32 KB", raw, gzipped
            )
            return
        accept = functools.partial(
            store.record,
            status=HTTPStatus.OK,
            size=len(raw),
            gzipped=gzipped,
            messages=payload["batch"],
            body=data,
            received=received,
        )
        if fault is not None and fault.mode == "slow":
            accept()
            time.sleep(fault.delay)
            self._json(HTTPStatus.OK, {"success": True})
            return
        # Checked, so accepted: answered at once, as Segment does, and stored while the client goes on
        # (the control endpoints wait for it). The client never waits on this sink's SQLite writes.
        with self.server.answering_first():
            self._json(HTTPStatus.OK, {"success": True})
            accept()

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, _password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.server.write_key.encode())

    def _error(
        self,
        status: int,
        code: str,
        message: str,
        raw: bytes,
        gzipped: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.server.store.record(status=status, size=len(raw), gzipped=gzipped, reason=message)
        self._json(status, {"code": code, "message": message}, headers)

    # --- control ---------------------------------------------------------------------------------

    def _set_faults(self, raw: bytes) -> None:
        try:
            data = orjson.loads(raw)
            items = data if isinstance(data, list) else [data]
            faults = [Fault(**item) for item in items]
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"code": "invalid_request", "message": str(exc)})
            return
        self.server.faults.set(faults)
        self._json(HTTPStatus.OK, {"faults": [attrs.asdict(fault) for fault in faults]})

    # --- plumbing --------------------------------------------------------------------------------

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.rfile.read(max(length, 0))
            self.close_connection = True
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"code": "too_large", "message": "over 500 KB"})
            return None
        return self.rfile.read(length)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = orjson.dumps(data)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def batch_problem(payload: Any) -> str:
    """Why Segment would refuse this ``/v1/batch`` body (``""`` when it would take it)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
        return "the body must be an object with a 'batch' array"
    for index, message in enumerate(payload["batch"]):
        if not isinstance(message, dict):
            return f"batch[{index}] is not an object"
        if not message.get("type"):
            return f"batch[{index}] has no type"
        if not (message.get("userId") or message.get("anonymousId")):
            return f"batch[{index}] has neither userId nor anonymousId"
        if message.get("type") == "track" and not message.get("event"):
            return f"batch[{index}] is a track call without event"
        event = message.get("event")
        if message.get("type") == "track" and not isinstance(event, str):
            return f"batch[{index}] has an event name that is not a string"
    return ""


def serve(host: str, port: int, write_key: str, store_path: str | Path) -> SegmentSink:
    """A sink bound to ``host:port`` (port 0: any free port), not yet serving."""
    return SegmentSink((host, port), write_key, SinkStore(store_path))
