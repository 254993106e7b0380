"""Worker delivery throughput to the JSON-lines file, events/s per process.

Run: ``.venv/bin/python bench/worker.py`` (``--no-real-worker`` skips the part that
needs Redis on 127.0.0.1:6379 db 14; ``--solo`` runs that worker with ``-P solo``).

1. In process, over ``BATCHES`` batches of ``BATCH`` realistic rendered events:

   * ``deliver_batch.run(...)``: the body of the Celery task (rebuild the batch from
     its JSON-lines payload, ``try_deliver`` → ``JsonLinesBackend.deliver``, ``settle``);
   * ``deliver_batch.apply(...)``: the same inside Celery's task tracer (signals,
     request context), as a worker runs it, without the broker;
   * ``JsonLinesBackend.deliver(lines)`` alone: the file write path.

2. A real worker (``celery -A bench.celery_app worker -c 1``, prefork, prefetch 1,
   acks late) on Redis: ``REAL_BATCHES`` batches are published first, then the worker
   starts; the time from the first batch landing in the file to the last one gives
   the steady rate (also shown from worker start, startup included).

Goal (issue 14): >= 20,000 events/s per worker process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import _common as c

BATCHES = 200
BATCH = 100
REAL_BATCHES = 500
GOAL = 20_000
QUEUE = "celery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=BATCHES, help="batches per in-process repeat")
    parser.add_argument("--real-batches", type=int, default=REAL_BATCHES, help="batches for the real worker")
    parser.add_argument("--no-real-worker", action="store_true", help="skip the real worker on Redis")
    parser.add_argument(
        "--solo", action="store_true", help="real worker with -P solo instead of -c 1 (prefork)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="outbox database (e.g. postgres://postgres@127.0.0.1:5432/event_hub_bench; default SQLite)",
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["BENCH_DATABASE_URL"] = args.database_url  # this process and the worker it starts

    tmp = c.setup_django()
    from event_hub.models import OutboxBatch

    OutboxBatch.objects.all().delete()  # a server database is kept between runs
    from django.test import override_settings

    from bench.celery_app import app
    from event_hub.backends import get_backend
    from event_hub.delivery.batch import Batch
    from event_hub.delivery.tasks import deliver_batch

    lines = c.event_hub_lines(tmp, BATCH)
    payload = b"\n".join(lines).decode()
    log = tmp / "tracking.log"
    config = c.hub_config(tmp)
    events = args.batches * BATCH

    def run_case() -> int:
        with override_settings(EVENT_HUB=config):
            deliver_batch.run("tracking_log", payload, uuid.uuid4().hex)
            c.truncate(log)
            ids = [uuid.uuid4().hex for _ in range(args.batches)]
            started = time.perf_counter_ns()
            for batch_id in ids:
                deliver_batch.run("tracking_log", payload, batch_id)
            return time.perf_counter_ns() - started

    def apply_case() -> int:
        with override_settings(EVENT_HUB=config):
            deliver_batch.apply(args=("tracking_log", payload, uuid.uuid4().hex))
            c.truncate(log)
            ids = [uuid.uuid4().hex for _ in range(args.batches)]
            started = time.perf_counter_ns()
            for batch_id in ids:
                deliver_batch.apply(args=("tracking_log", payload, batch_id), task_id=batch_id)
            return time.perf_counter_ns() - started

    def backend_case() -> int:
        with override_settings(EVENT_HUB=config):
            backend = get_backend("tracking_log")
            backend.deliver(Batch(backend="tracking_log", lines=lines))
            c.truncate(log)
            batches = [Batch(backend="tracking_log", lines=lines) for _ in range(args.batches)]
            started = time.perf_counter_ns()
            for batch in batches:
                backend.deliver(batch)
            return time.perf_counter_ns() - started

    labels = {
        "run": "deliver_batch.run (task body)",
        "apply": "deliver_batch.apply (body in Celery's tracer)",
        "backend": "JsonLinesBackend.deliver only",
    }
    c.print_header("worker: delivery throughput to the JSON-lines file, events/s per process")
    print(
        f"{args.batches} batches x {BATCH} events per repeat; event line {len(payload) // BATCH} B, "
        f"batch payload {len(payload):,} B"
    )
    results: dict[str, list[int]] = {}
    written: dict[str, tuple[int, float]] = {}
    for key, case in (("run", run_case), ("apply", apply_case), ("backend", backend_case)):
        # side_by_side per case so the file line count of each case's last repeat can be read.
        results.update(c.side_by_side([(key, case)]))
        written[key] = c.count_lines(log)
        c.truncate(log)

    rows = []
    for key, label in labels.items():
        median, low, high = c.per_unit(results[key], events)
        batch_us = c.per_unit(results[key], args.batches)
        lines_written, _ = written[key]
        rows.append(
            (
                label,
                f"{1e6 / median:,.0f} ({1e6 / high:,.0f}..{1e6 / low:,.0f})",
                c.fmt_us(median, low, high),
                f"{batch_us[0]:,.0f}",
                lines_written,
            )
        )
    print()
    c.print_table(["in process", "events/s", "µs/event", "µs/batch", "lines (last repeat)"], rows)
    apply_rate = 1e6 / c.per_unit(results["apply"], events)[0]
    print(
        f"goal (issue 14): >= {GOAL:,} events/s per worker process to the JSON-lines file: "
        f"deliver_batch.apply {apply_rate:,.0f} events/s, {'met' if apply_rate >= GOAL else 'MISSED'}"
    )

    if args.no_real_worker:
        return
    print()
    _real_worker(app, tmp, lines, payload, args.real_batches, solo=args.solo)


def _real_worker(app: Any, tmp: Path, lines: list[bytes], payload: str, batches: int, *, solo: bool) -> None:
    """Publish ``batches`` batches to Redis, start a worker, time until the file holds them all."""
    import redis
    from django.conf import settings
    from django.test import override_settings

    from event_hub.backends import get_backend
    from event_hub.delivery import spool
    from event_hub.delivery.batch import Batch
    from event_hub.delivery.handoff import hand_off

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.ping()
    broker.flushdb()
    log = tmp / "worker-tracking.log"
    config = c.hub_config(tmp, DELIVERY="celery")
    config["BACKENDS"]["tracking_log"]["OPTIONS"]["path"] = str(log)
    # The file holds the backend's rendering of each line: measure one batch's bytes first.
    probe = tmp / "probe-tracking.log"
    probe_config = c.hub_config(tmp)
    probe_config["BACKENDS"]["tracking_log"]["OPTIONS"]["path"] = str(probe)
    with override_settings(EVENT_HUB=probe_config):
        get_backend("tracking_log").deliver(Batch(backend="tracking_log", lines=lines))
    expected_bytes = batches * probe.stat().st_size
    worker_out = tmp / "worker.out"

    print(
        f"real worker: celery -A bench.celery_app worker {'-P solo' if solo else '-c 1 (prefork)'}, "
        f"broker {settings.CELERY_BROKER_URL}, {batches} batches x {len(lines)} events, "
        f"outbox on {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
    )
    with override_settings(EVENT_HUB=config):
        started = time.perf_counter()
        for _ in range(batches):
            hand_off(Batch(backend="tracking_log", lines=lines))
        if not spool.flush(timeout=120):  # the default hand-off spools: publish what it holds
            raise SystemExit("the spool could not be published")
        publish_s = time.perf_counter() - started
    queued = broker.llen(QUEUE)
    print(f"published {queued} messages in {publish_s * 1e3:.0f} ms; starting the worker")

    env = c.worker_env(tmp, config)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bench.celery_app",
        "worker",
        "-l",
        "WARNING",
        "-Q",
        QUEUE,
        "-n",
        f"bench-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        *(["-P", "solo"] if solo else ["-c", "1"]),
    ]
    def empty_broker() -> None:
        app.control.purge()
        broker.flushdb()

    launched, first, done = c.run_worker_until(
        command, env, worker_out, log, expected_bytes, 300, empty_broker
    )

    lines_written, _ = c.count_lines(log)
    if first is None or done is None:
        print(
            f"the worker did not deliver everything: {lines_written} of {batches * len(lines)} lines; "
            "its output:"
        )
        print(worker_out.read_text()[-3000:])
        return
    # The first message lands whole (the spool coalesced the batches): count what came after it.
    steady = (batches * len(lines)) * (1 - 1 / max(queued, 1)) / (done - first)
    overall = batches * len(lines) / (done - launched)
    print()
    c.print_table(
        ["real worker (1 run)", "events/s", "batches/s", "seconds"],
        [
            (
                "first batch in file -> last batch in file",
                f"{steady:,.0f}",
                f"{steady / len(lines):,.0f}",
                f"{done - first:.3f}",
            ),
            (
                "worker start -> last batch (startup included)",
                f"{overall:,.0f}",
                f"{overall / len(lines):,.0f}",
                f"{done - launched:.3f}",
            ),
        ],
    )
    print(f"lines in the file: {lines_written} of {batches * len(lines)}")
    print(
        f"goal (issue 14): >= {GOAL:,} events/s per worker process, real worker steady rate "
        f"{steady:,.0f} events/s: {'met' if steady >= GOAL else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
