"""Throttling of ``/api/tracking``: fixed-window request counters in a Django cache.

Rates come from ``EVENT_HUB["API_THROTTLE_RATES"]`` at call time (so
``override_settings`` works), keyed by scope:

* ``"anon"``: requests of anonymous clients, counted per client IP (the
  ``X-Forwarded-For`` hop that ``TRUSTED_PROXY_COUNT`` designates);
* ``"user"``: requests of authenticated clients, counted per user;
* a view's ``throttle_scope`` (``TrackingView.as_view(throttle_scope="mobile")``):
  an extra limit for that view, counted per user or IP.

A rate is ``"<count>/<period>"`` with period ``second``, ``minute``, ``hour``
or ``day`` (only the first letter counts); ``None`` or a missing key means no
limit. Each check is one ``incr`` on the cache (plus an ``add`` when a window
starts): the window is fixed, so a client can send up to twice the rate across
a window boundary, never more.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from event_hub.conf import hub_settings
from event_hub.middleware import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str) -> tuple[int, int]:
    """``"100/minute"`` -> ``(100, 60)``; raises ``ValueError`` for anything else."""
    if not isinstance(rate, str) or "/" not in rate:
        raise ValueError(f"a rate looks like '100/minute', not {rate!r}")
    count, period = rate.split("/", 1)
    period = period.strip().lower()
    if not count.strip().isdigit() or int(count) < 1 or period[:1] not in PERIODS:
        raise ValueError(f"a rate looks like '100/minute' (period second, minute, hour or day), not {rate!r}")
    return int(count), PERIODS[period[0]]


def identity(request: Request) -> tuple[str, str]:
    """``("user", pk)`` for an authenticated request, ``("anon", client IP)`` otherwise."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "user", str(user.pk)
    return "anon", client_ip(request._request)


class TrackingThrottle(BaseThrottle):
    """Limit requests per user or client IP for one scope (``None``: the ``anon``/``user`` scopes)."""

    def __init__(self, scope: str | None = None) -> None:
        self.scope = scope
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        kind, ident = identity(request)
        scope = self.scope or kind
        rate = hub_settings.API_THROTTLE_RATES.get(scope)
        if rate is None:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"event_hub:throttle:{scope}:{kind}:{ident}:{period}:{window}"
        cache = caches[hub_settings.API_THROTTLE_CACHE]
        try:
            count = cache.incr(key)
        except ValueError:  # the window starts now (or its counter expired)
            count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        """Seconds until the current window ends (sent as ``Retry-After``)."""
        return self._wait
