"""Throttling of ``/api/tracking``: fixed-window request counters in a Django cache.

Rates come from ``EVENT_HUB["API_THROTTLE_RATES"]`` at call time (so
``override_settings`` works), keyed by scope:

* ``"anon"``: requests of anonymous clients, counted per client IP (the
  ``X-Forwarded-For`` hop that ``TRUSTED_PROXY_COUNT`` designates);
* ``"user"``: requests of authenticated clients, counted per user;
* a view's ``throttle_scope`` (``TrackingView.as_view(throttle_scope="mobile")``):
  an extra limit for that view, counted per user or IP.

A rate is DRF's ``"<count>/<period>"`` with period ``second``, ``minute``,
``hour`` or ``day`` (only the first letter counts); ``None`` or a missing key
means no limit. :class:`TrackingThrottle` is a DRF ``SimpleRateThrottle``
(its rate parsing, scope and ``wait()``) whose counter differs: DRF keeps a
list of timestamps per client, read and rewritten on every request, which two
concurrent requests can both pass; here each check is one atomic ``incr`` on
the cache (plus an ``add`` when a window starts). The window is fixed, so a
client can send up to twice the rate across a window boundary, never more.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from event_hub.conf import hub_settings
from event_hub.middleware import client_ip


def identity(request: Request) -> tuple[str, str]:
    """``("user", pk)`` for an authenticated request, ``("anon", client IP)`` otherwise."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "user", str(user.pk)
    return "anon", client_ip(request._request)


class TrackingThrottle(SimpleRateThrottle):
    """Limit requests per user or client IP for one scope (``None``: the ``anon``/``user`` scopes)."""

    cache_format = "event_hub:throttle:%(scope)s:%(ident)s"

    def __init__(self, scope: str | None = None) -> None:
        # DRF's __init__ reads the rate of a fixed scope; ours may depend on the request
        # (anon or user), so the rate is read in allow_request.
        self.fixed_scope = scope
        self.scope = scope
        self.history: list[float] = []

    def get_rate(self) -> str | None:
        """The scope's rate in ``API_THROTTLE_RATES`` now; a missing scope is not limited."""
        rate: str | None = hub_settings.API_THROTTLE_RATES.get(self.scope)
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self._cache_key(*identity(request))

    def _cache_key(self, kind: str, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": f"{kind}:{ident}"}

    def allow_request(self, request: Request, view: Any) -> bool:
        kind, ident = identity(request)
        self.scope = self.fixed_scope or kind
        self.rate = self.get_rate()
        self.num_requests, self.duration = _parsed_rate(self.rate)
        if self.rate is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        # get_cache_key's key, without reading the identity a second time.
        self.key = f"{self._cache_key(kind, ident)}:{self.duration}:{window}"
        cache = caches[hub_settings.API_THROTTLE_CACHE]
        try:
            count = cache.incr(self.key)
        except ValueError:  # the window starts now (or its counter expired)
            count = 1 if cache.add(self.key, 1, timeout=self.duration + 1) else cache.incr(self.key)
        if count > self.num_requests:
            # For DRF's wait(): the window's allowed requests, dated at its start, so the
            # recommended wait is the time left until the next window.
            self.history = [float(window * self.duration)] * self.num_requests
            return self.throttle_failure()
        return True


@functools.lru_cache(maxsize=64)
def _parsed_rate(rate: str | None) -> tuple[Any, Any]:
    """DRF's parsing of ``rate``, once per rate string rather than once per request."""
    parsed: tuple[Any, Any] = SimpleRateThrottle.parse_rate(None, rate)
    return parsed


def parse_rate(rate: object) -> tuple[int, int]:
    """``"100/minute"`` -> ``(100, 60)`` with DRF's parser; ``ValueError`` for anything it rejects.

    Stricter than DRF on one point: a count below 1, which DRF accepts and which
    would refuse every request, is an error.
    """
    try:
        count, period = TrackingThrottle().parse_rate(rate)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        count = period = None
    if not isinstance(rate, str) or count is None or count < 1:
        raise ValueError(f"a rate looks like '100/minute' (period second, minute, hour or day), not {rate!r}")
    return count, period
