"""Hand-off: sync delivery, parking in the outbox, dead letters, a dead or hung broker."""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

from event_hub.backends import memory
from event_hub.conf import DEFAULTS
from event_hub.delivery import broker as broker_module
from event_hub.delivery import handoff, spool
from event_hub.delivery.batch import Batch
from event_hub.delivery.handoff import hand_off
from event_hub.models import DeadLetter, OutboxBatch
from tests.support_backends import SilentBroker, celery_app, jsonl_config, read_lines, wait_for, wire_line

PUBLISH_TIMEOUT = DEFAULTS["BROKER_PUBLISH_TIMEOUT_SECONDS"]

DEAD_BROKER = "redis://127.0.0.1:1/0"


def event_line(number: int, **extra: Any) -> bytes:
    """A rendered event line, as the tracker would hand it to a backend."""
    return wire_line(f"event-{number}", {"n": number, **extra})


def batch_of(count: int, backend: str = "memory") -> Batch:
    return Batch(backend=backend, lines=[event_line(n) for n in range(count)])


def kept_in_the_spool(batch: Batch, caplog: pytest.LogCaptureFixture, folder: Path) -> spool.Record:
    """The spool record holding ``batch``, after checking it was logged as kept there and not at CRITICAL."""
    assert not [r for r in caplog.records if r.levelno == logging.CRITICAL]
    [kept] = [r.getMessage() for r in caplog.records if "kept in the spool file" in r.getMessage()]
    assert batch.id in kept
    [spooled] = folder.glob("*.spool")
    [record], _ = spool.parse(spooled.read_bytes())
    assert (record.batch_id, record.body) == (batch.id, b"\n".join(batch.lines) + b"\n")
    return record


@pytest.fixture(name="silent_broker")
def fixture_silent_broker() -> Iterator[SilentBroker]:
    """A broker address that accepts connections and never answers."""
    broker = SilentBroker()
    yield broker
    broker.close()


@pytest.mark.django_db
class TestSyncHandOff:
    def test_delivers_in_process(self, memory_hub: Callable[..., None]) -> None:
        """In sync mode the batch reaches the backend during hand_off, with nothing parked."""
        hand_off(batch_of(3))
        assert [event["event"]["n"] for event in memory.events("memory")] == [0, 1, 2]
        assert OutboxBatch.objects.count() == 0
        assert DeadLetter.objects.count() == 0

    def test_retryable_failure_parks_the_batch(self, hub: Callable[..., Any], tmp_path: Path) -> None:
        """A retryable failure parks the whole batch in the outbox, due after the backoff delay."""
        hub(
            DELIVERY="sync",
            RETRY_BACKOFF_SECONDS=10,
            BACKENDS={
                "flaky": {
                    "ENGINE": "tests.support_backends.FlakyBackend",
                    "OPTIONS": {
                        "path": str(tmp_path / "out.log"),
                        "counter": str(tmp_path / "n"),
                        "failures": 9,
                    },
                }
            },
        )
        batch = batch_of(4, backend="flaky")
        before = timezone.now()
        hand_off(batch)
        row = OutboxBatch.objects.get()
        assert row.id.hex == batch.id
        assert (row.backend, row.event_count, row.attempts) == ("flaky", 4, 1)
        assert row.payload == batch.payload
        assert "ConnectionError" in row.last_error
        # Equal jitter: the first retry comes between half the backoff and the backoff.
        assert before + datetime.timedelta(seconds=5) <= row.next_attempt_at
        assert row.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=10)
        assert read_lines(tmp_path / "out.log") == []
        assert DeadLetter.objects.count() == 0

    def test_permanent_failure_dead_letters_the_batch(self, hub: Callable[..., Any]) -> None:
        """A permanent failure dead-letters the batch at once, with the error and its traceback."""
        hub(DELIVERY="sync", BACKENDS={"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}})
        batch = batch_of(2, backend="broken")
        hand_off(batch)
        letter = DeadLetter.objects.get()
        assert (letter.backend, letter.reason, letter.attempts, letter.event_count) == (
            "broken",
            DeadLetter.Reason.PERMANENT,
            1,
            2,
        )
        assert letter.batch_id.hex == batch.id
        assert letter.payload == batch.payload
        assert "ValueError: broken backend" in letter.error
        assert "Traceback" in letter.error
        assert OutboxBatch.objects.count() == 0

    def test_oversize_event_alone_is_dead_lettered(self, hub: Callable[..., Any], tmp_path: Path) -> None:
        """An event over max_event_bytes is dead-lettered (reason rejected); the rest is written."""
        log = tmp_path / "tracking.log"
        hub(DELIVERY="sync", BACKENDS={"log": jsonl_config(log, max_event_bytes=1024)})
        big = event_line(1, blob="x" * 2000)
        hand_off(Batch(backend="log", lines=[event_line(0), big, event_line(2)]))
        assert [orjson.loads(line)["id"] for line in read_lines(log)] == ["event-0", "event-2"]
        letter = DeadLetter.objects.get()
        assert (letter.reason, letter.event_count) == (DeadLetter.Reason.REJECTED, 1)
        assert letter.payload.encode() == big
        assert "max_event_bytes=1024" in letter.error

    def test_backend_bug_is_dead_lettered_not_lost(self, hub: Callable[..., Any]) -> None:
        """An unexpected exception from a backend dead-letters the batch with the traceback."""
        hub(DELIVERY="sync", BACKENDS={"buggy": {"ENGINE": "tests.support_backends.BuggyBackend"}})
        hand_off(batch_of(2, backend="buggy"))
        letter = DeadLetter.objects.get()
        assert letter.reason == DeadLetter.Reason.PERMANENT
        assert "RuntimeError" in letter.error

    def test_unknown_backend_is_dead_lettered(self, memory_hub: Callable[..., None]) -> None:
        """A batch for a backend this process does not configure is dead-lettered, not dropped."""
        hand_off(batch_of(1, backend="gone"))
        letter = DeadLetter.objects.get()
        assert letter.reason == DeadLetter.Reason.PERMANENT
        assert "'gone' is not configured here" in letter.error

    def test_dead_letter_write_failing_keeps_the_batch_in_the_spool(
        self, hub: Callable[..., Any], caplog: pytest.LogCaptureFixture, tmp_path: Path
    ) -> None:
        """When the dead-letter table refuses the batch too, hand_off does not raise: the batch is kept
        in the spool file (delivered again, and dead-lettered then, once the database is back)."""
        hub(DELIVERY="sync", BACKENDS={"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}})
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {DeadLetter._meta.db_table}")
        batch = batch_of(2, backend="broken")
        with caplog.at_level(logging.ERROR):
            hand_off(batch)
            spool.detach()  # stop its publisher; the file stays for recovery
        assert kept_in_the_spool(batch, caplog, tmp_path / "spool").solo
        # The failed insert ran in a savepoint: the caller's transaction is still usable.
        assert OutboxBatch.objects.count() == 0

    def test_spool_publisher_keeps_it_until_the_dead_letter_is_stored(
        self, hub: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """What the spool publishes in sync mode stays in the spool while the dead letter is refused,
        and is dead-lettered once the database takes it."""
        hub(DELIVERY="sync", BACKENDS={"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}})
        batch = batch_of(2, backend="broken")

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise DatabaseError("the database is down")

        monkeypatch.setattr(DeadLetter.objects, "create", refuse)
        error = spool._send(batch)
        assert error is not None
        assert "the database is down" in error
        monkeypatch.undo()
        assert spool._send(batch) is None
        letter = DeadLetter.objects.get()
        assert (letter.batch_id.hex, letter.event_count) == (batch.id, 2)

    def test_dead_letter_and_spool_failing_log_the_payload(
        self, hub: Callable[..., Any], caplog: pytest.LogCaptureFixture, tmp_path: Path
    ) -> None:
        """Dead-letter table and spool folder both unusable: hand_off does not raise; it logs at CRITICAL."""
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        hub(
            DELIVERY="sync",
            SPOOL_DIR=str(blocker / "spool"),
            BACKENDS={"broken": {"ENGINE": "tests.support_backends.BrokenBackend"}},
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {DeadLetter._meta.db_table}")
        batch = batch_of(2, backend="broken")
        with caplog.at_level(logging.CRITICAL):
            hand_off(batch)
        [critical] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        assert batch.payload in critical.getMessage()


@pytest.fixture(name="celery_hub")
def fixture_celery_hub(hub: Callable[..., Any]) -> Callable[..., None]:
    """Celery delivery to one memory backend named ``memory``; keyword arguments add EVENT_HUB keys."""

    def configure(**values: Any) -> None:
        hub(
            DELIVERY="celery",
            BACKENDS={"memory": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}},
            **values,
        )

    configure()
    return configure


@pytest.mark.django_db
class TestBrokerDown:
    def test_refused_publish_parks_without_delaying_the_request(
        self, celery_hub: Callable[..., None]
    ) -> None:
        """A request whose broker refuses connections answers; its batch waits in the outbox, due now."""
        with celery_app(DEAD_BROKER):
            response = Client().get("/emit/?count=3")
        assert response.status_code == 200
        row = OutboxBatch.objects.get()
        assert (row.backend, row.event_count, row.attempts) == ("memory", 3, 0)
        assert "Connection refused" in row.last_error
        assert row.next_attempt_at <= timezone.now()
        assert handoff.broker.down_until > time.monotonic()

    def test_cooldown_sends_the_next_batches_straight_to_the_outbox(
        self, celery_hub: Callable[..., None], silent_broker: SilentBroker, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """After a hung broker timed out once, later batches skip it (no publish) until the cooldown ends."""
        celery_hub(BROKER_COOLDOWN_SECONDS=1.5)
        clock = [1000.0]  # the hand-off's monotonic clock, moved by the test instead of waiting
        monkeypatch.setattr(broker_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
        attempts: list[str] = []
        connection_for = handoff.broker._connection_for

        def counted_connection_for(app: Any) -> Any:
            attempts.append(str(app.conf.broker_write_url))
            return connection_for(app)

        monkeypatch.setattr(handoff.broker, "_connection_for", counted_connection_for)
        with celery_app(silent_broker.url):
            hand_off(batch_of(1))  # times out on the silent broker
            assert len(attempts) == 1
            wait_for(lambda: silent_broker.accepted == 1, what="the first publish to connect")
            hand_off(batch_of(1))
            clock[0] += 1.4
            hand_off(batch_of(1))
            assert len(attempts) == 1, "a publish was attempted during the cooldown"
            clock[0] += 0.2
            hand_off(batch_of(1))  # the cooldown is over: the broker is tried again
            assert len(attempts) == 2
            wait_for(lambda: silent_broker.accepted == 2, what="the publish after the cooldown to connect")
        errors = list(OutboxBatch.objects.order_by("created_at").values_list("last_error", flat=True))
        assert len(errors) == 4
        assert ["Timeout" in error for error in errors] == [True, False, False, True]
        assert ["moments ago" in error for error in errors] == [False, True, True, False]

    def test_broker_and_database_down_keep_the_batch_in_the_spool(
        self, celery_hub: Callable[..., None], caplog: pytest.LogCaptureFixture, tmp_path: Path
    ) -> None:
        """Direct hand-off, broker down and outbox table gone: the caller sees no error and the batch is
        kept in the spool file (replayed automatically), never only in a log record."""
        celery_hub(HANDOFF="direct")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {OutboxBatch._meta.db_table}")
        batch = batch_of(2)
        with celery_app(DEAD_BROKER), caplog.at_level(logging.ERROR):
            hand_off(batch)
            spool.detach()  # stop its publisher; the file stays for recovery
        record = kept_in_the_spool(batch, caplog, tmp_path / "spool")
        assert record.solo  # never merged: the outbox may hold it under this id after all
        assert DeadLetter.objects.count() == 0  # the test transaction survived the failed insert

    def test_spool_failing_too_logs_the_payload(
        self, celery_hub: Callable[..., None], caplog: pytest.LogCaptureFixture, tmp_path: Path
    ) -> None:
        """Broker, database and spool folder all unusable: the payload is logged at CRITICAL."""
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        celery_hub(HANDOFF="direct", SPOOL_DIR=str(blocker / "spool"))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {OutboxBatch._meta.db_table}")
        batch = batch_of(2)
        with celery_app(DEAD_BROKER), caplog.at_level(logging.CRITICAL):
            hand_off(batch)
        [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        assert batch.payload in record.getMessage()

    def test_emit_in_a_request_never_raises_when_everything_fails(
        self, celery_hub: Callable[..., None], caplog: pytest.LogCaptureFixture, tmp_path: Path
    ) -> None:
        """A request still gets its 200 when the broker, the outbox and the spool all refuse its batch."""
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        celery_hub(HANDOFF="direct", SPOOL_DIR=str(blocker / "spool"))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {OutboxBatch._meta.db_table}")
        with celery_app(DEAD_BROKER), caplog.at_level(logging.CRITICAL):
            response = Client().get("/emit/?count=2")
        assert response.status_code == 200
        [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        payload = record.getMessage().split("payload follows:\n", 1)[1]
        assert [orjson.loads(line)["name"] for line in payload.splitlines()] == [
            "edx.course.enrollment.activated"
        ] * 2


@pytest.mark.django_db
class TestPublish:
    def test_publish_reaches_redis(
        self, celery_hub: Callable[..., None], purge_broker: Callable[[], None]
    ) -> None:
        """With the broker up, a batch is held in the outbox and becomes one deliver_batch message on the
        configured queue."""
        import redis as redis_client

        celery_hub(CELERY_QUEUE="event_hub_test")
        batch = batch_of(2)
        with celery_app() as app:
            hand_off(batch)
            client = redis_client.Redis.from_url(app.conf.broker_url)
            [raw] = client.lrange("event_hub_test", 0, -1)
        message = json.loads(raw)
        assert message["headers"]["task"] == "event_hub.deliver_batch"
        assert message["headers"]["retries"] == 0
        (backend, payload, batch_id), _kwargs, _embed = json.loads(_body(message))
        assert payload.startswith("zlib:"), "batches travel compressed by default"
        assert Batch.from_payload(backend, payload, batch_id) == batch
        assert (backend, batch_id) == ("memory", batch.id)
        # Monitoring shows the batch's size, not a cut-off repr of its payload.
        assert message["headers"]["argsrepr"] == f"('memory', <2 events, {len(payload)} B>, {batch.id!r})"
        held = OutboxBatch.objects.get()
        assert (held.id.hex, held.next_attempt_at > timezone.now()) == (batch.id, True)
        assert handoff.broker.down_until == 0.0


def _body(message: dict[str, Any]) -> str:
    import base64

    body = message["body"]
    if message["properties"].get("body_encoding") == "base64":
        body = base64.b64decode(body)
    return body.decode() if isinstance(body, bytes) else str(body)
