"""The event bus on real Redis: producer, consumer guarantees, compatibility with edx-event-bus-redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
import redis
from edx_event_bus_redis.internal.consumer import RedisEventConsumer
from edx_event_bus_redis.internal.producer import create_producer as upstream_producer
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.content_authoring.signals import COURSE_CERTIFICATE_CONFIG_CHANGED
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED

from event_hub import tracker
from event_hub.backends.base import decode
from event_hub.backends.openedx_bus import OpenedxBusBackend, write_entries
from event_hub.delivery.batch import Batch
from event_hub.models import DeadLetter
from event_hub.openedx import codec, samples, wire
from event_hub.openedx.consumer import ConsumerFailed, RedisBusConsumer, dead_letter_backend
from event_hub.openedx.producer import HubEventBusProducer, entry_line
from tests.conftest import delivered
from tests.openedx.conftest import BUS_REDIS_URL
from tests.openedx.test_signals import comparable

pytestmark = pytest.mark.django_db(transaction=True)

TOPIC = "learning"
STREAM = "test-learning"
ENROLLED = COURSE_ENROLLMENT_CREATED.event_type
PRODUCE = {ENROLLED: {TOPIC: {"event_key_field": "enrollment.course.course_key", "enabled": True}}}


def send_enrollments(count: int, start: int = 0) -> list[str]:
    """Send ``count`` enrollment signals (each a distinct learner); return their metadata ids."""
    ids = []
    for number in range(start, start + count):
        data = samples.sample_data(COURSE_ENROLLMENT_CREATED, seed=number + 1)
        metadata = COURSE_ENROLLMENT_CREATED.generate_signal_metadata()
        COURSE_ENROLLMENT_CREATED._send_event_with_metadata(metadata, **data)
        ids.append(str(metadata.id))
    return ids


def flush() -> None:
    """Hand off what the test queued (sync delivery: written to Redis now)."""
    delivered()


def consumer(**options: Any) -> RedisBusConsumer:
    return RedisBusConsumer(topic=TOPIC, group_id="g1", consumer_name="c1", **options)


@pytest.fixture(name="producing")
def fixture_producing(bus_hub: Callable[..., Any], settings: Any) -> Callable[..., Any]:
    """The hub produces enrollments to topic ``learning``; keyword arguments add EVENT_HUB keys."""
    settings.EVENT_BUS_PRODUCER_CONFIG = PRODUCE

    def configure(**values: Any) -> Any:
        fast = {
            "OPENEDX_BUS_CONSUMER_BLOCK_SECONDS": 0.05,
            "OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_SECONDS": 0.01,
        }
        return bus_hub(**{**fast, **values})

    configure()
    return configure


class TestProducer:
    def test_signal_becomes_an_entry_in_the_upstream_format(
        self, producing: Any, bus_redis: redis.Redis
    ) -> None:
        """A configured signal is written to <prefix>-<topic> with the fields edx-event-bus-redis uses."""
        (metadata_id,) = send_enrollments(1)
        flush()
        ((_, fields),) = bus_redis.xrange(STREAM)
        assert set(fields) == {
            b"type",
            b"id",
            b"source",
            b"time",
            b"minorversion",
            b"sourcehost",
            b"sourcelib",
            b"event_data",
        }
        assert fields[b"id"].decode() == metadata_id
        assert wire.metadata_of(fields).event_type == ENROLLED
        assert codec.from_avro(COURSE_ENROLLMENT_CREATED, fields[b"event_data"]) == samples.sample_data(
            COURSE_ENROLLMENT_CREATED, seed=1
        )

    def test_failed_write_is_retried_then_dead_lettered(
        self, producing: Any, hub: Any, settings: Any
    ) -> None:
        """A produce that Redis refuses is never swallowed: it ends as a dead letter holding the event."""
        producing(bus_options={"url": "redis://127.0.0.1:1/0"})
        settings.EVENT_HUB = {
            **settings.EVENT_HUB,
            "BACKENDS": {
                **settings.EVENT_HUB["BACKENDS"],
                "openedx_bus": {**settings.EVENT_HUB["BACKENDS"]["openedx_bus"], "RETRY_MAX": 0},
            },
        }
        (metadata_id,) = send_enrollments(1)
        flush()
        (letter,) = DeadLetter.objects.filter(backend="openedx_bus")
        assert letter.reason == DeadLetter.Reason.RETRIES_EXHAUSTED
        assert metadata_id in letter.payload
        assert "ConnectionError" in letter.error

    def test_allowlisted_tracking_events_are_published(self, producing: Any, bus_redis: redis.Redis) -> None:
        """Tracking events named in the allowlist go out as TRACKING_EVENT_EMITTED on topic analytics."""
        producing(bus_options={"tracking_names": ["edx.course.enrollment.*"]})
        tracker.emit(
            "edx.course.enrollment.activated", {"course_id": "course-v1:a+b+c", "mode": "audit", "user_id": 3}
        )
        tracker.emit("edx.video.played", {"id": "v"})
        flush()
        ((_, fields),) = bus_redis.xrange("test-analytics")
        assert fields[b"type"].decode() == TRACKING_EVENT_EMITTED.event_type
        log = codec.from_avro(TRACKING_EVENT_EMITTED, fields[b"event_data"])["tracking_log"]
        assert log.name == "edx.course.enrollment.activated"
        assert '"mode":"audit"' in log.data


class TestConsumer:
    def test_backlog_is_consumed_on_first_start(self, producing: Any, receiver: Any) -> None:
        """Events produced while no consumer (nor group) existed are consumed when it starts."""
        ids = send_enrollments(5)
        flush()
        received = receiver(COURSE_ENROLLMENT_CREATED)
        consumer().run(until_idle=True)
        assert [str(call["metadata"].id) for call in received.calls] == ids
        assert all(call["from_event_bus"] is True for call in received.calls)

    def test_events_produced_while_stopped_are_consumed_at_restart(
        self, producing: Any, receiver: Any
    ) -> None:
        """A group that exists resumes where it stopped: what was produced meanwhile is not skipped."""
        consumer().run(until_idle=True)
        ids = send_enrollments(3)
        flush()
        received = receiver(COURSE_ENROLLMENT_CREATED)
        consumer().run(until_idle=True)
        assert [str(call["metadata"].id) for call in received.calls] == ids

    def test_failing_receiver_is_retried_then_dead_lettered(
        self, producing: Any, receiver: Any, bus_redis: redis.Redis
    ) -> None:
        """A receiver that keeps failing is retried, then the entry is dead-lettered (ids, error), acked."""
        producing(OPENEDX_BUS_CONSUMER_RETRY_MAX=2)
        (metadata_id,) = send_enrollments(1)
        flush()
        attempts = []

        def failing(sender: Any, **kwargs: Any) -> None:
            attempts.append(kwargs["metadata"].id)
            raise RuntimeError("receiver is down")

        COURSE_ENROLLMENT_CREATED.connect(failing, weak=False)
        try:
            consumer().run(until_idle=True)
        finally:
            COURSE_ENROLLMENT_CREATED.disconnect(failing)
        assert len(attempts) == 3
        (letter,) = DeadLetter.objects.filter(backend=dead_letter_backend(STREAM, "g1"))
        ((entry_id, _),) = bus_redis.xrange(STREAM)
        assert entry_id.decode() in letter.error
        assert metadata_id in letter.error
        assert "receiver is down" in letter.error
        assert letter.attempts == 3
        assert bus_redis.xpending(STREAM, "g1")["pending"] == 0

    def test_receiver_that_recovers_gets_the_event_once(self, producing: Any, receiver: Any) -> None:
        """A receiver failing once then succeeding is retried after a backoff; nothing is dead-lettered."""
        send_enrollments(1)
        flush()
        calls = []

        def flaky(sender: Any, **kwargs: Any) -> None:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("first call fails")

        COURSE_ENROLLMENT_CREATED.connect(flaky, weak=False)
        try:
            consumer().run(until_idle=True)
        finally:
            COURSE_ENROLLMENT_CREATED.disconnect(flaky)
        assert len(calls) == 2
        assert DeadLetter.objects.count() == 0

    def test_redelivered_entries_are_deduplicated(
        self, producing: Any, receiver: Any, bus_redis: redis.Redis
    ) -> None:
        """An entry written twice with the same metadata id (a retried batch) reaches receivers once."""
        (metadata_id,) = send_enrollments(1)
        flush()
        ((_, fields),) = bus_redis.xrange(STREAM)
        bus_redis.xadd(STREAM, fields)
        received = receiver(COURSE_ENROLLMENT_CREATED)
        first = consumer()
        first.run(until_idle=True)
        bus_redis.xadd(STREAM, fields)
        consumer().run(until_idle=True)
        assert [str(call["metadata"].id) for call in received.calls] == [metadata_id]
        assert first.duplicates == 1

    def test_trim_keeps_what_a_group_has_not_acknowledged(
        self, producing: Any, bus_redis: redis.Redis
    ) -> None:
        """XTRIM MINID removes only entries every group acknowledged; a slower group's backlog stays."""
        send_enrollments(4)
        flush()
        consumer().run(until_idle=True)  # g1 acknowledged everything
        bus_redis.xgroup_create(STREAM, "slow", id="0")
        bus_redis.xreadgroup("slow", "s1", {STREAM: ">"}, count=2)  # read, not acknowledged
        entries = [entry_id for entry_id, _ in bus_redis.xrange(STREAM)]
        removed = consumer().trim()
        assert removed == 0
        bus_redis.xack(STREAM, "slow", entries[0])
        assert consumer().trim() == 1
        assert [entry_id for entry_id, _ in bus_redis.xrange(STREAM)] == entries[1:]

    def test_stop_finishes_the_entry_at_hand_and_leaves_the_rest(
        self, producing: Any, bus_redis: redis.Redis
    ) -> None:
        """stop() (the SIGTERM handler) returns after the current entry; the rest stays for the next start."""
        ids = send_enrollments(5)
        flush()
        running = consumer()
        seen: list[str] = []

        def stopper(sender: Any, **kwargs: Any) -> None:
            seen.append(str(kwargs["metadata"].id))
            if len(seen) == 2:
                running.stop()

        COURSE_ENROLLMENT_CREATED.connect(stopper, weak=False)
        try:
            running.run()
            assert seen == ids[:2]
            assert bus_redis.xpending(STREAM, "g1")["pending"] == 3
            consumer().run(until_idle=True)
        finally:
            COURSE_ENROLLMENT_CREATED.disconnect(stopper)
        assert seen == ids

    def test_repeated_errors_stop_the_consumer(self, producing: Any, bus_redis: redis.Redis) -> None:
        """After OPENEDX_BUS_CONSUMER_ERRORS_LIMIT consecutive errors the consumer raises ConsumerFailed."""
        producing(OPENEDX_BUS_CONSUMER_ERRORS_LIMIT=2, OPENEDX_BUS_CONSUMER_BATCH=1)
        for _ in range(3):
            bus_redis.xadd(STREAM, {b"type": ENROLLED.encode(), b"event_data": b"\xff"})
        with pytest.raises(ConsumerFailed, match="2 consecutive errors"):
            consumer().run()
        assert DeadLetter.objects.count() == 2

    def test_ready_is_announced_once_the_group_exists(self, producing: Any, bus_redis: redis.Redis) -> None:
        """``on_ready`` runs after the group is created and before the first read, exactly once."""
        seen: list[list[bytes]] = []
        consuming = consumer()

        def ready() -> None:
            seen.append([group["name"] for group in bus_redis.xinfo_groups(STREAM)])
            consuming.stop()

        consuming.run(on_ready=ready)
        assert seen == [[b"g1"]]

    def test_off_bus_signal_is_carried(self, producing: Any, settings: Any, receiver: Any) -> None:
        """A certificate-config signal (BinaryIO inside) crosses the bus as JSON and arrives equal."""
        event_type = COURSE_CERTIFICATE_CONFIG_CHANGED.event_type
        settings.EVENT_BUS_PRODUCER_CONFIG = {event_type: {TOPIC: {"event_key_field": "x", "enabled": True}}}
        data = samples.sample_data(COURSE_CERTIFICATE_CONFIG_CHANGED)
        COURSE_CERTIFICATE_CONFIG_CHANGED.send_event(**data)
        flush()
        received = receiver(COURSE_CERTIFICATE_CONFIG_CHANGED)
        consumer().run(until_idle=True)
        (call,) = received.calls
        assert comparable(call["certificate_config"]) == comparable(data["certificate_config"])


class TestCompatibility:
    def test_upstream_consumer_reads_what_we_produce(self, producing: Any, receiver: Any) -> None:
        """edx-event-bus-redis's RedisEventConsumer reads our entries and sends equal signals."""
        upstream = RedisEventConsumer(TOPIC, "up", "u1", check_backlog=True)
        ids = send_enrollments(3)
        flush()
        got: list[Any] = []

        def stop_after_three(sender: Any, **kwargs: Any) -> None:
            got.append(kwargs)
            if len(got) == 3:
                upstream._shut_down()

        COURSE_ENROLLMENT_CREATED.connect(stop_after_three, weak=False)
        try:
            upstream.consume_indefinitely()
        finally:
            COURSE_ENROLLMENT_CREATED.disconnect(stop_after_three)
        assert [str(kwargs["metadata"].id) for kwargs in got] == ids
        assert got[0]["enrollment"] == samples.sample_data(COURSE_ENROLLMENT_CREATED, seed=1)["enrollment"]

    def test_we_read_what_the_upstream_producer_writes(self, producing: Any, receiver: Any) -> None:
        """Our consumer reads entries written by edx-event-bus-redis's producer, metadata included."""
        producer = upstream_producer()
        sent = []
        for number in range(3):
            data = samples.sample_data(COURSE_ENROLLMENT_CREATED, seed=number + 1)
            metadata = COURSE_ENROLLMENT_CREATED.generate_signal_metadata()
            producer.send(
                signal=COURSE_ENROLLMENT_CREATED,
                topic=TOPIC,
                event_key_field="x",
                event_data=data,
                event_metadata=metadata,
            )
            sent.append((metadata, data))
        received = receiver(COURSE_ENROLLMENT_CREATED)
        consumer().run(until_idle=True)
        assert [(call["metadata"], call["enrollment"]) for call in received.calls] == [
            (metadata, data["enrollment"]) for metadata, data in sent
        ]

    def test_our_producer_is_an_event_bus_producer(self) -> None:
        """The producer class plugs into openedx-events' EVENT_BUS_PRODUCER."""
        assert isinstance(
            HubEventBusProducer(), __import__("openedx_events.event_bus").event_bus.EventBusProducer
        )


class TestBackendLines:
    """What the bus backend makes of a batch line, and how it writes a batch's entries."""

    @staticmethod
    def entry_line(seed: int = 1) -> bytes:
        data = samples.sample_data(COURSE_ENROLLMENT_CREATED, seed=seed)
        metadata = COURSE_ENROLLMENT_CREATED.generate_signal_metadata()
        fields = wire.entry_fields(metadata, codec.to_avro(COURSE_ENROLLMENT_CREATED, data))
        return entry_line(STREAM, fields, metadata)

    def test_entry_line_gives_the_entry_its_envelope_gives(self, bus_redis: redis.Redis) -> None:
        backend = OpenedxBusBackend("openedx_bus")
        line = self.entry_line()
        assert backend.transform_line(line) == backend.transform(decode(line))
        stream, fields = backend.transform_line(line)
        assert stream == STREAM
        assert fields[b"type"] == ENROLLED.encode()

    @pytest.mark.parametrize("change", [{"session": None}, {"event_source": "elsewhere"}, {"time": "x"}])
    def test_a_line_the_envelope_refuses_is_set_aside(self, change: dict[str, Any]) -> None:
        record = orjson.loads(self.entry_line())
        record.update(change)
        if change.get("session", "") is None:
            del record["session"]
        result = OpenedxBusBackend("openedx_bus", url="redis://127.0.0.1:1/0").deliver(
            Batch(backend="openedx_bus", lines=[orjson.dumps(record)])
        )
        assert result.delivered == 0
        assert len(result.rejected) == 1

    def test_one_refused_xadd_fails_the_batch_after_every_entry_is_written(
        self, bus_redis: redis.Redis
    ) -> None:
        """As a pipeline: every command runs, the first error is raised, the connection stays usable."""
        bus_redis.set("not-a-stream", "x")
        fields = {b"a": b"1", b"b": b"\r\n$3\r\n\x00\xff"}
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            write_entries(bus_redis, [(STREAM, fields), ("not-a-stream", fields), (STREAM, fields)])
        assert [entry for _, entry in bus_redis.xrange(STREAM)] == [fields, fields]
        write_entries(bus_redis, [(STREAM, fields)])
        assert bus_redis.xlen(STREAM) == 3

    def test_a_dropped_connection_is_replaced(self, bus_redis: redis.Redis) -> None:
        """A pooled connection the server closed is not written to: the next batch goes out on a new one."""
        client = redis.Redis.from_url(BUS_REDIS_URL)
        write_entries(client, [(STREAM, {b"n": b"1"})])
        pooled = client.client_id()  # the one idle connection of the pool, which the next write takes
        bus_redis.client_kill_filter(_id=pooled)
        write_entries(client, [(STREAM, {b"n": b"2"})])
        assert [entry[b"n"] for _, entry in bus_redis.xrange(STREAM)] == [b"1", b"2"]
