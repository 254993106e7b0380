"""Backends and helpers for the delivery tests.

The backends work the same in the test process and in a Celery worker
subprocess: whatever must survive a process (how many sends a backend has
seen) is kept in files named by its ``OPTIONS``.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson
from celery import Celery, current_app

from event_hub.backends.base import Backend
from event_hub.backends.jsonlog import JsonLinesBackend
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope, EventContext
from tests.support_net import TcpProxy

#: The time of the envelopes :func:`wire_line` builds.
WIRE_TIME = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC)


def wire_line(event_id: str, event: Any = None, name: str = "test.event", source: str = "server") -> bytes:
    """One line of a batch as the tracker hands it off: a whole envelope, id ``event_id``."""
    envelope = Envelope(
        id=event_id,
        name=name,
        event_type=name,
        event_source=source,
        time=WIRE_TIME,
        event={} if event is None else event,
        context=EventContext(),
    )
    return orjson.dumps(envelope.to_wire())

#: Sizes of the batches each RecordingBackend (by name) was sent, in this process.
sent_batches: dict[str, list[int]] = {}


def next_count(path: str | Path) -> int:
    """Add one to the counter kept in file ``path`` and return it (safe across processes)."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        count = int(handle.read() or b"0") + 1
        handle.seek(0)
        handle.truncate()
        handle.write(str(count).encode())
        return count


def read_count(path: str | Path) -> int:
    """The counter kept in file ``path`` (0 when the file does not exist)."""
    try:
        return int(Path(path).read_text() or "0")
    except FileNotFoundError:
        return 0


class RecordingBackend(Backend):
    """Keep each batch's size in :data:`sent_batches`, so a test counts delivery calls."""

    def send(self, items: Sequence[Any], batch: Batch) -> None:
        sent_batches.setdefault(self.name, []).append(len(items))


class FlakyBackend(JsonLinesBackend):
    """A JSON-lines file whose first ``failures`` sends raise ``ConnectionError`` (a retryable error).

    Every send, failed or not, adds one to the counter in file ``counter``.
    """

    def __init__(
        self, name: str, *, path: str, counter: str, failures: int = 2, max_event_bytes: int = 65536
    ) -> None:
        super().__init__(name, path=path, max_event_bytes=max_event_bytes, extra_fields=["id"])
        self.counter = counter
        self.failures = failures

    def send(self, items: Sequence[bytes], batch: Batch) -> None:
        attempt = next_count(self.counter)
        if attempt <= self.failures:
            raise ConnectionError(f"flaky backend: send {attempt} of {self.failures} failing ones")
        super().send(items, batch)


class SlowBackend(JsonLinesBackend):
    """A JSON-lines file that sleeps ``seconds`` before writing; touches ``started`` on entering ``send``."""

    def __init__(self, name: str, *, path: str, started: str, seconds: float = 60.0) -> None:
        super().__init__(name, path=path)
        self.started = Path(started)
        self.seconds = seconds

    def send(self, items: Sequence[bytes], batch: Batch) -> None:
        self.started.write_text(str(os.getpid()))
        time.sleep(self.seconds)
        super().send(items, batch)


class BrokenBackend(Backend):
    """Every send fails with a permanent error (a ``ValueError``)."""

    def send(self, items: Sequence[Any], batch: Batch) -> None:
        raise ValueError("broken backend: the destination refuses this payload")


class BuggyBackend(Backend):
    """A backend with a bug: ``transform`` raises ``RuntimeError`` (not an error a backend may raise)."""

    def transform(self, envelope: Any) -> Any:
        raise RuntimeError("a bug in the backend")

    def send(self, items: Sequence[Any], batch: Batch) -> None:
        raise AssertionError("never reached")


def flaky(tmp_path: Path, failures: int, name: str = "flaky") -> dict[str, Any]:
    """A ``BACKENDS`` entry for a :class:`FlakyBackend` writing ``<name>.log`` in ``tmp_path``."""
    return {
        "ENGINE": "tests.support_backends.FlakyBackend",
        "OPTIONS": {
            "path": str(tmp_path / f"{name}.log"),
            "counter": str(tmp_path / f"{name}.count"),
            "failures": failures,
        },
    }


def as_batch(lines: Sequence[bytes], backend: str = "test") -> Batch:
    """``lines`` as one batch (what a backend's ``deliver`` takes)."""
    return Batch(backend=backend, lines=lines)


def jsonl_config(path: Path | str, **options: Any) -> dict[str, Any]:
    """A ``BACKENDS`` entry for a JSON-lines file (``PII`` on, so every common field is filled; lines
    carry the event ``id`` so tests can count each event)."""
    return {
        "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
        "OPTIONS": {"path": str(path), "extra_fields": ["id"], **options},
        "PII": True,
    }


def read_lines(path: Path) -> list[bytes]:
    """The lines of ``path`` (without their newline); [] when it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return data.splitlines()


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def celery_app(broker_url: str | None = None) -> Iterator[Celery]:
    """Make a Celery app configured from the test settings current (``broker_url``: where it publishes).

    Publishes made inside the block (``deliver_batch.apply_async``) go to this
    app's broker; the previous current app is restored afterwards. The override
    is the write URL, which (unlike ``broker_url``) the ``CELERY_BROKER_URL``
    environment variable does not mask.
    """
    previous = current_app._get_current_object()
    app = Celery("event_hub_tests_publisher", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    if broker_url is not None:
        app.conf.broker_write_url = broker_url
    app.set_current()
    try:
        yield app
    finally:
        previous.set_current()
        app.close()


class SilentBroker:
    """A TCP server that accepts connections and never answers (a hung broker)."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.accepted = 0
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self.accepted += 1
            self._clients.append(client)

    def close(self) -> None:
        self._server.close()
        for client in self._clients:
            client.close()


def queued_batches(broker_url: str, queue: str) -> list[tuple[str, list[bytes], str]]:
    """The ``deliver_batch`` messages waiting in ``queue``, oldest first: (backend, lines, batch id)."""
    import base64
    import json

    import redis
    from kombu import compression

    batches = []
    for raw in reversed(redis.Redis.from_url(broker_url).lrange(queue, 0, -1)):  # LPUSHed: newest first
        message = json.loads(raw)
        body: bytes | str = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        if message["headers"].get("compression"):
            body = compression.decompress(body, message["headers"]["compression"])
        (backend, payload, batch_id), _kwargs, _embed = json.loads(body)
        batches.append((backend, list(Batch.from_payload(backend, payload, batch_id).lines), batch_id))
    return batches


class BrokerProxy(TcpProxy):
    """A :class:`TcpProxy` in front of the real broker, down until :meth:`up`; ``url`` is the broker URL
    through the proxy (the publisher's URL never changes)."""

    def __init__(self, target_url: str) -> None:
        target = urlparse(target_url)
        super().__init__(target.hostname or "127.0.0.1", target.port or 6379)
        self.url = target._replace(netloc=f"127.0.0.1:{self.port}").geturl()
