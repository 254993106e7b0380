"""Amortised hand-off cost per event to a real Redis broker: event_hub batches vs event-tracking.

Run: ``.venv/bin/python bench/handoff.py`` (needs Redis on 127.0.0.1:6379; uses db 14,
which it empties before and after; ``BENCH_BROKER_URL`` points elsewhere).

Only the publish side is timed; no worker runs.

* event_hub, ``DELIVERY="celery"``: a unit of work collects ``n`` rendered events
  (``UnitOfWork.add``) and hands them off (``flush`` → ``hand_off`` → one
  ``deliver_batch.apply_async`` carrying the JSON lines). n = 1, 10, 100.
* event-tracking: ``AsyncRoutingBackend.send(event)``, which publishes one
  ``send_event`` Celery task per event, for the same ``n`` events.

``--handoff spool``: event_hub hands off with ``HANDOFF="spool"``: each ``flush``
appends to the spool file, and the timed section ends with ``spool.flush()``, which
publishes everything (many batches per message) in the same thread, so the figure is
the whole cost. The request-side part (the appends alone) is printed below the table.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import _common as c

BATCH_SIZES = (1, 10, 100)
EVENTS = 2000
QUEUE = "celery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=EVENTS, help="events published per repeat and batch size"
    )
    parser.add_argument(
        "--handoff", choices=("direct", "spool"), default="direct", help="HANDOFF of event_hub"
    )
    args = parser.parse_args()

    tmp = c.setup_django()
    import redis
    from django.conf import settings
    from django.test import override_settings
    from eventtracking.backends.async_routing import AsyncRoutingBackend

    from bench.celery_app import app
    from event_hub.delivery import spool
    from event_hub.delivery.unit_of_work import UnitOfWork
    from event_hub.models import OutboxBatch

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.ping()
    broker.flushdb()

    lines = c.event_hub_lines(tmp, max(BATCH_SIZES))
    event = c.event_tracking_event()
    celery_config = c.hub_config(tmp, DELIVERY="celery")
    spooling = args.handoff == "spool"
    if spooling:
        # The publisher thread never wakes by itself: spool.flush() publishes in the timed section.
        celery_config.update(HANDOFF="spool", SPOOL_DIR=str(tmp / "spool"), SPOOL_FLUSH_SECONDS=3600)
    appends: dict[int, list[int]] = {size: [] for size in BATCH_SIZES}
    peer = AsyncRoutingBackend(backend_name="tracking_logs")
    published: dict[tuple[str, int], tuple[int, int]] = {}

    def queued(key: tuple[str, int]) -> None:
        """Record how many messages (and bytes per message) the run left in the queue; then empty it."""
        depth = broker.llen(QUEUE)
        size = len(broker.lindex(QUEUE, 0) or b"") if depth else 0
        published[key] = (depth, size)
        broker.delete(QUEUE)

    def hub_case(size: int) -> Any:
        batch = lines[:size]
        batches = args.events // size

        def case() -> int:
            with override_settings(EVENT_HUB=celery_config):
                warm = UnitOfWork()
                warm.add("tracking_log", batch[0])
                warm.flush()
                spool.flush()
                broker.delete(QUEUE)
                started = time.perf_counter_ns()
                for _ in range(batches):
                    work = UnitOfWork()
                    for line in batch:
                        work.add("tracking_log", line)
                    work.flush()
                if spooling:
                    appends[size].append(time.perf_counter_ns() - started)
                    if not spool.flush(timeout=60):
                        raise SystemExit("the spool could not be published")
                elapsed = time.perf_counter_ns() - started
            queued(("event_hub", size))
            return elapsed

        return case

    def peer_case(size: int) -> Any:
        events = (args.events // size) * size

        def case() -> int:
            peer.send(event)
            broker.delete(QUEUE)
            started = time.perf_counter_ns()
            for _ in range(events):
                peer.send(event)
            elapsed = time.perf_counter_ns() - started
            queued(("event-tracking", size))
            return elapsed

        return case

    cases = []
    for size in BATCH_SIZES:
        cases += [(f"event_hub/{size}", hub_case(size)), (f"event-tracking/{size}", peer_case(size))]

    c.print_header(f"hand-off: amortised publish cost per event to Redis (no worker); HANDOFF={args.handoff}")
    print(
        f"broker {settings.CELERY_BROKER_URL}, celery {_version('celery')}, kombu {_version('kombu')}; "
        f"{args.events} events per repeat and batch size; "
        f"event_hub line {sum(map(len, lines)) // len(lines)} B"
    )
    try:
        results = c.side_by_side(cases)
        outbox_rows = OutboxBatch.objects.count()
    finally:
        app.control.purge()
        broker.flushdb()

    rows = []
    medians: dict[str, float] = {}
    for size in BATCH_SIZES:
        events = (args.events // size) * size
        hub = c.per_unit(results[f"event_hub/{size}"], events)
        tracked = c.per_unit(results[f"event-tracking/{size}"], events)
        medians[f"hub{size}"], medians[f"peer{size}"] = hub[0], tracked[0]
        hub_msgs, hub_bytes = published[("event_hub", size)]
        peer_msgs, peer_bytes = published[("event-tracking", size)]
        rows.append(
            (
                size,
                c.fmt_us(*hub),
                c.fmt_us(*tracked),
                f"{tracked[0] / hub[0]:.1f}x",
                f"{hub_msgs} x {hub_bytes:,} B",
                f"{peer_msgs} x {peer_bytes:,} B",
            )
        )
    print()
    c.print_table(
        [
            "batch",
            "event_hub µs/event",
            "event-tracking µs/event",
            "cheaper",
            "event_hub msgs",
            "event-tracking msgs",
        ],
        rows,
    )
    print()
    print(f"messages = what one timed repeat left in the queue; outbox rows after the run: {outbox_rows}")
    print(
        "event_hub µs per hand-off (one batch): "
        + ", ".join(f"n={size}: {medians[f'hub{size}'] * size:.1f}" for size in BATCH_SIZES)
    )
    if spooling:
        # appends also holds the warm-up round: keep the timed ones, as side_by_side does.
        request_side = {
            size: c.per_unit(samples[-c.REPEATS :], (args.events // size) * size)
            for size, samples in appends.items()
        }
        print(
            "of which in the request (spool appends) µs per event: "
            + ", ".join(f"n={size}: {c.fmt_us(*figures)}" for size, figures in request_side.items())
        )
    print()
    c.print_table(
        ["ratio", "value", "goal"],
        [
            (
                "event-tracking / event_hub at batch 100",
                f"{medians['peer100'] / medians['hub100']:.1f}x",
                ">= 25x",
            )
        ],
    )


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
