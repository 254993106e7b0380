"""The Redis client of the event bus."""

from __future__ import annotations

import functools

import redis
from django.conf import settings

from event_hub.conf import hub_settings, on_reload
from event_hub.exceptions import ConfigurationError


def bus_url() -> str:
    """``EVENT_HUB["OPENEDX_BUS_REDIS_URL"]``, else the platform's ``EVENT_BUS_REDIS_CONNECTION_URL``."""
    url = hub_settings.OPENEDX_BUS_REDIS_URL or getattr(settings, "EVENT_BUS_REDIS_CONNECTION_URL", None)
    if not url:
        raise ConfigurationError(
            "the event bus needs a Redis URL: EVENT_HUB['OPENEDX_BUS_REDIS_URL'] or "
            "EVENT_BUS_REDIS_CONNECTION_URL"
        )
    return str(url)


@functools.cache
def client(url: str | None = None) -> redis.Redis:
    """A client of the bus's Redis (one connection pool per URL and process)."""
    return redis.Redis.from_url(url or bus_url(), socket_connect_timeout=5, socket_timeout=30)


@on_reload
def _forget_clients() -> None:
    client.cache_clear()
