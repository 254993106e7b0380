"""The event bus end to end: a producer process, the consumer command in another, real Redis.

The processes run with :mod:`tests.openedx.e2e_settings`; the consumer's receiver
(:mod:`tests.openedx.e2e_app`) records each metadata id through the consumer's
acknowledgement transaction (:mod:`tests.openedx.e2e_receiver`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import ROOT, require_service, subprocess_env
from tests.openedx.e2e_receiver import RECEIVED

pytestmark = pytest.mark.django_db(transaction=True)

#: The end-to-end test's own Redis database for the bus.
BUS_URL = os.environ.get("EVENT_HUB_TEST_E2E_BUS_URL", "redis://127.0.0.1:6379/4")
STREAM = "e2e-learning"
GROUP = "e2e"
EVENTS = 10_000  # enough that the kill lands mid-stream on a fast machine too
FAST = {
    "DELIVERY": "sync",
    "HANDOFF": "direct",
    "OPENEDX_BUS_CONSUMER_BATCH": 10,
    "OPENEDX_BUS_CONSUMER_BLOCK_SECONDS": 0.05,
}
PRODUCER_CONFIG = {
    **FAST,
    "BACKENDS": {"openedx_bus": {"ENGINE": "event_hub.backends.openedx_bus.OpenedxBusBackend", "PII": True}},
}
#: The consumer's service produces too (its settings have the producer config): it has the bus backend.
CONSUMER_CONFIG = PRODUCER_CONFIG
PRODUCE = """
import json
import django
django.setup()
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED
from event_hub.delivery.unit_of_work import unit_of_work
from event_hub.openedx import samples
ids = []
with unit_of_work():
    for number in range({count}):
        metadata = COURSE_ENROLLMENT_CREATED.generate_signal_metadata()
        data = samples.sample_data(COURSE_ENROLLMENT_CREATED, seed=number + 1)
        COURSE_ENROLLMENT_CREATED._send_event_with_metadata(metadata, **data)
        ids.append(str(metadata.id))
print(json.dumps(ids))
"""


def env(config: dict[str, Any]) -> dict[str, str]:
    return subprocess_env(
        config, DJANGO_SETTINGS_MODULE="tests.openedx.e2e_settings", E2E_BUS_REDIS_URL=BUS_URL
    )


def wait_until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.02)


class Consumer:
    """``python -m django event_hub_consume_events`` in a process (and session) of its own."""

    def __init__(self, log: Path, config: dict[str, Any] = CONSUMER_CONFIG) -> None:
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in wait()
        extra = json.dumps({"consumer_name": "c1"})
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django",
                "event_hub_consume_events",
                "-t",
                "learning",
                "-g",
                GROUP,
                "--extra",
                extra,
            ],
            cwd=ROOT,
            env=env(config),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_started(self) -> None:
        def started() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"consumer exited with {self.process.returncode}:\n{self.output()}")
            return "consuming e2e-learning" in self.output()

        wait_until(started, "consumer started")

    def signal(self, number: int) -> None:
        os.killpg(self.process.pid, number)

    def wait(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        self._out.close()
        return code


@pytest.fixture(name="bus")
def fixture_bus() -> Iterator[redis.Redis]:
    """The end-to-end bus's Redis database, emptied before and after."""
    require_service("Redis (end-to-end bus)", BUS_URL)
    client = redis.Redis.from_url(BUS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(name="consumers")
def fixture_consumers() -> Iterator[list[Consumer]]:
    """Consumers a test started; any still running is killed after it."""
    started: list[Consumer] = []
    yield started
    for consumer in started:
        if consumer.process.poll() is None:
            consumer.signal(signal.SIGKILL)
            consumer.wait()


def start_consumer(consumers: list[Consumer], tmp_path: Path, **config: Any) -> Consumer:
    consumer = Consumer(tmp_path / f"consumer-{len(consumers)}.log", {**CONSUMER_CONFIG, **config})
    consumers.append(consumer)
    consumer.wait_started()
    return consumer


def produce(count: int) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PRODUCE.format(count=count)],
        env=env(PRODUCER_CONFIG),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    ids: list[str] = json.loads(result.stdout)
    return ids


class TestEndToEnd:
    def test_killed_consumer_restarts_without_loss_or_duplicate(
        self, bus: redis.Redis, consumers: list[Consumer], tmp_path: Path
    ) -> None:
        """A consumer SIGKILLed mid-stream and started again hands every event to the receiver once."""
        sent = produce(EVENTS)
        assert bus.xlen(STREAM) == EVENTS
        first = start_consumer(consumers, tmp_path)
        wait_until(lambda: bus.llen(RECEIVED) > 0, "the receiver got a first event")
        first.signal(signal.SIGKILL)
        assert first.wait() == -signal.SIGKILL
        assert bus.llen(RECEIVED) < EVENTS  # killed mid-stream
        second = start_consumer(consumers, tmp_path)
        wait_until(
            lambda: bus.xpending(STREAM, GROUP)["pending"] == 0 and bus.llen(RECEIVED) >= EVENTS,
            "every entry handled and acknowledged",
        )
        second.signal(signal.SIGTERM)
        assert second.wait() == 0, second.output()
        assert "stopped:" in second.output()
        received = [item.decode() for item in bus.lrange(RECEIVED, 0, -1)]
        assert sorted(received) == sorted(sent)  # nothing missing, nothing twice
        assert len(set(received)) == len(received) == EVENTS

    def test_sigterm_stops_cleanly(self, bus: redis.Redis, consumers: list[Consumer], tmp_path: Path) -> None:
        """SIGTERM ends the command with status 0 and its summary line, leaving nothing unacknowledged."""
        sent = produce(5)
        consumer = start_consumer(consumers, tmp_path)
        wait_until(lambda: bus.llen(RECEIVED) == len(sent), "the receiver got every event")
        consumer.signal(signal.SIGTERM)
        assert consumer.wait() == 0, consumer.output()
        assert "stopped: 5 handled, 0 duplicates, 0 dead-lettered" in consumer.output()
        assert bus.xpending(STREAM, GROUP)["pending"] == 0

    def test_repeated_errors_exit_non_zero(
        self, bus: redis.Redis, consumers: list[Consumer], tmp_path: Path
    ) -> None:
        """When every read fails (its consumer group was destroyed), the command exits with status 1."""
        consumer = start_consumer(consumers, tmp_path, OPENEDX_BUS_CONSUMER_ERRORS_LIMIT=3)
        bus.xgroup_destroy(STREAM, GROUP)
        assert consumer.wait() == 1, consumer.output()
        assert "3 consecutive errors" in consumer.output()
