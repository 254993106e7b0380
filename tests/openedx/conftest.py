"""Fixtures of the Open edX tests: a receiver that records, the bus on its own Redis database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from event_hub.openedx import connection
from tests.conftest import require_service

#: The bus tests' own Redis database (other suites use 15 and their own).
BUS_REDIS_URL = "redis://127.0.0.1:6379/5"
MEMORY = {"ENGINE": "event_hub.backends.memory.MemoryBackend"}


class Received:
    """A receiver connected to signals: what each call got, in order."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, sender: Any, signal: Any, **kwargs: Any) -> None:
        self.calls.append({"signal": signal, **kwargs})

    def of(self, event_type: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["signal"].event_type == event_type]


@pytest.fixture(name="receiver")
def fixture_receiver() -> Iterator[Callable[..., Received]]:
    """``receiver(*signals)`` connects a recording receiver; all are disconnected after the test."""
    connected: list[tuple[Any, Received]] = []

    def connect(*signals: Any) -> Received:
        received = Received()
        for signal in signals:
            signal.connect(received, weak=False)
            connected.append((signal, received))
        return received

    yield connect
    for signal, received in connected:
        signal.disconnect(received)


@pytest.fixture(name="bus_redis")
def fixture_bus_redis(settings: Any) -> Iterator[redis.Redis]:
    """The bus's Redis (db 5), emptied before and after; the platform settings point at it."""
    require_service("Redis (event bus)", BUS_REDIS_URL)
    settings.EVENT_BUS_REDIS_CONNECTION_URL = BUS_REDIS_URL
    settings.EVENT_BUS_TOPIC_PREFIX = "test"
    client = redis.Redis.from_url(BUS_REDIS_URL)
    client.flushdb()
    connection.client.cache_clear()
    yield client
    client.flushdb()
    connection.client.cache_clear()


@pytest.fixture(name="bus_hub")
def fixture_bus_hub(
    hub: Callable[..., dict[str, Any]], bus_redis: redis.Redis
) -> Callable[..., dict[str, Any]]:
    """Sync delivery to a memory backend and the bus backend; keyword arguments add EVENT_HUB keys."""

    def configure(*, bus_options: dict[str, Any] | None = None, **values: Any) -> dict[str, Any]:
        backends = {
            "memory": MEMORY,
            "openedx_bus": {
                "ENGINE": "event_hub.backends.openedx_bus.OpenedxBusBackend",
                "OPTIONS": bus_options or {},
                "PII": True,
            },
        }
        return hub(DELIVERY="sync", BACKENDS=backends, **values)

    configure()
    return configure
