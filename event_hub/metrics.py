"""Prometheus metrics of the pipeline: plain functions the pipeline calls, almost free when off.

Off unless ``EVENT_HUB["METRICS"]`` is True (and ``prometheus-client`` is installed: the
``metrics`` extra). When off, each function is one call and one test of a module flag.

==========================================  =========================  ============================
metric                                      labels                     counted by
==========================================  =========================  ============================
``event_hub_events_emitted_total``          backend, event_type        :func:`emitted`
``event_hub_events_delivered_total``        backend                    :func:`delivered`
``event_hub_events_retried_total``          backend                    :func:`retried`
``event_hub_events_dead_lettered_total``    backend, reason            :func:`dead_lettered`
``event_hub_events_invalid_total``          event_type, source,        :func:`invalid`
                                            outcome (delivered|held)
``event_hub_events_dropped_total``          backend, event_type,       :func:`dropped`
                                            reason
``event_hub_handoff_seconds``               mode                       :func:`handoff_latency`
``event_hub_delivery_seconds``              backend                    :func:`delivered`
==========================================  =========================  ============================

:func:`render` gives the text exposition (the ``event_hub.api.metrics`` view serves it).
Several processes (gunicorn workers, Celery's prefork pool) each count their own: set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by the processes of one host before
they start, and :func:`render` then sums every process's files (``prometheus_client``'s
multiprocess mode; docs/operations.rst).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from event_hub.conf import hub_settings, on_reload

try:
    import prometheus_client
    from prometheus_client import multiprocess
except ImportError:  # the ``metrics`` extra is not installed: metrics stay off
    prometheus_client = None  # type: ignore[assignment]
    multiprocess = None  # type: ignore[assignment]

#: Buckets (seconds) of the hand-off histogram: a publish or spool append, 0.1 ms to 5 s.
HANDOFF_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
#: Buckets (seconds) of the delivery histogram: event emitted to delivered, 10 ms to 1 h.
DELIVERY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

_enabled: bool | None = None
_metrics: Any = None
_lock = threading.Lock()


class _Metrics:
    """The metric objects, registered once per process in ``prometheus_client``'s default registry."""

    def __init__(self) -> None:
        assert prometheus_client is not None
        counter, histogram = prometheus_client.Counter, prometheus_client.Histogram
        self.emitted = counter(
            "event_hub_events_emitted", "Events queued for a backend.", ["backend", "event_type"]
        )
        self.delivered = counter("event_hub_events_delivered", "Events a backend delivered.", ["backend"])
        self.retried = counter(
            "event_hub_events_retried", "Events of batches that failed and will be retried.", ["backend"]
        )
        self.dead_lettered = counter(
            "event_hub_events_dead_lettered", "Events stored as dead letters.", ["backend", "reason"]
        )
        self.invalid = counter(
            "event_hub_events_invalid",
            "Events the catalog refused: delivered anyway, or held back.",
            ["event_type", "source", "outcome"],
        )
        self.dropped = counter(
            "event_hub_events_dropped",
            "Events not delivered to a backend on purpose (a processor dropped them) or by a failure.",
            ["backend", "event_type", "reason"],
        )
        self.handoff = histogram(
            "event_hub_handoff_seconds", "Time to hand a batch off.", ["mode"], buckets=HANDOFF_BUCKETS
        )
        self.delivery = histogram(
            "event_hub_delivery_seconds",
            "Time from an event's emission to its delivery.",
            ["backend"],
            buckets=DELIVERY_BUCKETS,
        )


_registered: _Metrics | None = None


def _switch() -> bool:
    """Read ``METRICS`` once per settings change; build the metric objects the first time."""
    global _enabled, _metrics, _registered
    with _lock:
        wanted = bool(hub_settings.METRICS) and prometheus_client is not None
        if wanted and _registered is None:
            _registered = _Metrics()
        _metrics = _registered if wanted else None
        _enabled = wanted
    return wanted


@on_reload
def _reset() -> None:
    global _enabled
    _enabled = None


def enabled() -> bool:
    """Whether metrics are being counted in this process."""
    return _switch() if _enabled is None else _enabled


def emitted(backend: str, name: str, count: int = 1) -> None:
    """``count`` events named ``name`` were queued for ``backend``."""
    if _enabled is False or (_enabled is None and not _switch()):
        return
    _metrics.emitted.labels(backend, name).inc(count)


def delivered(backend: str, count: int, latency: float | None = None) -> None:
    """``backend`` delivered ``count`` events; ``latency``: seconds since the oldest was emitted."""
    if _enabled is False or (_enabled is None and not _switch()):
        return
    _metrics.delivered.labels(backend).inc(count)
    if latency is not None:
        _metrics.delivery.labels(backend).observe(latency)


def retried(backend: str, count: int) -> None:
    """A batch of ``count`` events to ``backend`` failed and will be retried."""
    if _enabled is False or (_enabled is None and not _switch()):
        return
    _metrics.retried.labels(backend).inc(count)


def dead_lettered(backend: str, count: int, reason: str) -> None:
    """``count`` events to ``backend`` were stored as dead letters (``reason``: DeadLetter.Reason)."""
    if _enabled is False or (_enabled is None and not _switch()):
        return
    _metrics.dead_lettered.labels(backend, reason).inc(count)


def invalid(name: str, source: str, *, delivered: bool) -> None:
    """The catalog refused an event ``name`` from ``source``; it was delivered anyway or held back."""
    if _enabled is False or (_enabled is None and not _switch()):
        return
    _metrics.invalid.labels(name, source, "delivered" if delivered else "held").inc()


def dropped(backend: str, name: str, reason: str) -> None:
    """Event ``name`` does not go to ``backend`` (``reason``: e.g. ``filtered``, ``processor_error``)."""
    if _enabled is False or (_enabled is None and not _switch()):
        return
    _metrics.dropped.labels(backend, name, reason).inc()


def handoff_latency(mode: str, seconds: float) -> None:
    """A hand-off (``mode``: ``direct``, ``spool``, ``outbox``, ``sync``) took ``seconds``."""
    if _enabled is False or (_enabled is None and not _switch()):
        return
    _metrics.handoff.labels(mode).observe(seconds)


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR`` when set: every process of the host writes its counts there."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type (all processes in multiprocess mode)."""
    if prometheus_client is None:
        raise RuntimeError("prometheus-client is not installed (pip install 'event-hub[metrics]')")
    enabled()
    if multiprocess_dir() is not None:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST
