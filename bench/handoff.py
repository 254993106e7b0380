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
UNITS = 900
QUEUE = "celery"


def _warm_up(line: bytes, broker: Any) -> None:
    """One unit of work of ``line`` handed off and published, untimed, then the queue emptied."""
    from event_hub.delivery import spool
    from event_hub.delivery.unit_of_work import UnitOfWork

    work = UnitOfWork()
    work.add("tracking_log", line)
    work.flush()
    spool.flush()
    broker.delete(QUEUE)


def target(
    args: argparse.Namespace,
    config: dict[str, Any],
    line: bytes,
    spooling: bool,
    max_spooled: int,
    broker: Any,
) -> None:
    """The goal of issue 14: what a request that emits one event pays to hand it off, against one
    Celery publish of the same one-event batch; and what the publisher thread pays per event later."""
    from django.test import override_settings

    from event_hub.delivery import spool
    from event_hub.delivery.batch import Batch
    from event_hub.delivery.tasks import deliver_batch
    from event_hub.delivery.unit_of_work import UnitOfWork

    units = args.units
    if spooling and units >= max_spooled:
        units = max_spooled - 1  # the publisher would wake in the timed loop; keep the request side alone
    background: list[int] = []

    def hub() -> int:
        with override_settings(EVENT_HUB=config):
            _warm_up(line, broker)
            started = time.perf_counter_ns()
            for _ in range(units):
                work = UnitOfWork()
                work.add("tracking_log", line)
                work.flush()
            elapsed = time.perf_counter_ns() - started
            if spooling:
                started = time.perf_counter_ns()
                if not spool.flush(timeout=60):
                    raise SystemExit("the spool could not be published")
                background.append(time.perf_counter_ns() - started)
        broker.delete(QUEUE)
        return elapsed

    payload = line.decode()

    def bare() -> int:
        deliver_batch.apply_async(args=("tracking_log", payload, "warm"))
        broker.delete(QUEUE)
        started = time.perf_counter_ns()
        for _ in range(units):
            batch = Batch(backend="tracking_log", lines=[line])
            deliver_batch.apply_async(args=(batch.backend, batch.payload, batch.id))
        elapsed = time.perf_counter_ns() - started
        broker.delete(QUEUE)
        return elapsed

    c.print_header("hand-off of a request that emits one event, default configuration (goal of issue 14)")
    print(
        f"{units} units of work of one event per round; the same one-event batch published with "
        "deliver_batch.apply_async, side by side"
    )
    results = c.side_by_side([("hub", hub), ("bare", bare)])
    hub_us = c.per_unit(results["hub"], units)
    bare_us = c.per_unit(results["bare"], units)
    rows = [
        ("event_hub: unit of work ends, batch handed off (request side)", c.fmt_us(*hub_us)),
        ("Celery: deliver_batch.apply_async of the same batch", c.fmt_us(*bare_us)),
    ]
    if spooling:
        publisher = c.per_unit(background[-c.REPEATS :], units)
        rows.append(
            (
                f"event_hub: publisher thread, later (hold + publish, <= {max_spooled} events/message)",
                c.fmt_us(*publisher),
            )
        )
    print()
    c.print_table(["µs per one-event request", "median (min..max)"], rows)
    ratio = hub_us[0] / bare_us[0]
    print()
    c.print_table(
        ["ratio", "value", "goal", ""],
        [
            (
                "request-side hand-off / one Celery publish",
                f"{ratio:.3f} (1/{1 / ratio:.0f})",
                "<= 1/10",
                "met" if ratio <= 0.1 else "MISSED",
            )
        ]
        + (
            [
                (
                    "request side + publisher share / one Celery publish",
                    f"{(hub_us[0] + publisher[0]) / bare_us[0]:.3f}",
                    "(whole cost)",
                    "",
                )
            ]
            if spooling
            else []
        ),
    )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=EVENTS, help="events published per repeat and batch size"
    )
    parser.add_argument(
        "--handoff",
        choices=("direct", "spool"),
        default=None,
        help="HANDOFF of event_hub (default: the setting's default, spool)",
    )
    parser.add_argument(
        "--units", type=int, default=UNITS, help="one-event units of work per round in the target table"
    )
    args = parser.parse_args()

    tmp = c.setup_django()
    import redis
    from django.conf import settings
    from django.test import override_settings
    from eventtracking.backends.async_routing import AsyncRoutingBackend

    from bench.celery_app import app
    from event_hub.conf import hub_settings
    from event_hub.delivery import spool
    from event_hub.delivery.unit_of_work import UnitOfWork
    from event_hub.models import OutboxBatch

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.ping()
    broker.flushdb()

    lines = c.event_hub_lines(tmp, max(BATCH_SIZES))
    event = c.event_tracking_event()
    celery_config = c.hub_config(tmp, DELIVERY="celery", SPOOL_DIR=str(tmp / "spool"))
    if args.handoff:
        celery_config["HANDOFF"] = args.handoff
    with override_settings(EVENT_HUB=celery_config):
        handoff = hub_settings.HANDOFF
        max_spooled = hub_settings.SPOOL_MAX_BATCH_EVENTS
    spooling = handoff == "spool"
    if spooling:
        # The publisher thread never wakes by time: spool.flush() publishes in the timed section.
        celery_config.update(SPOOL_FLUSH_SECONDS=3600)

    target(args, celery_config, lines[0], spooling, max_spooled, broker)
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
                _warm_up(batch[0], broker)
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

    c.print_header(f"hand-off: amortised publish cost per event to Redis (no worker); HANDOFF={handoff}")
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
