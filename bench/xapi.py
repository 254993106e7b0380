"""xAPI: statements transformed per second by one process, and delivered to a local Ralph LRS.

Three figures, on the 59 sample events of the xAPI tests (one of each
registered name, in turn):

* the floor: ``orjson.dumps(envelope.to_wire())``, what any backend pays to
  see an event;
* transform: :meth:`XapiBackend.transform` (registry lookup, statement,
  orjson), µs per event and statements per second;
* deliver: :meth:`XapiBackend.deliver` of batches of 100 wire lines (decode,
  transform, one POST) to Ralph on loopback, statements per second end to end
  (the LRS's own cost included), and per CPU-second of this process (what one
  worker process delivers when the LRS keeps up; Ralph runs in its own
  processes, see ``tests/xapi/ralph_lrs.py``).

Run: ``python bench/xapi.py [--events N] [--no-lrs]``. Goals: ≥ 10,000 statements/s transformed;
≥ 20,000 statements delivered per CPU-second of the delivering process (issue 14).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _common
import orjson

_common.setup_django(migrate=False)

from event_hub.backends.xapi import XapiBackend  # noqa: E402
from event_hub.delivery.batch import Batch  # noqa: E402
from tests.xapi import samples  # noqa: E402
from tests.xapi.ralph_lrs import PASSWORD, USERNAME, Ralph  # noqa: E402


def timed(work, count: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds ``work`` takes (best of 3)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--no-lrs", action="store_true")
    args = parser.parse_args()
    names = sorted(samples.PAYLOADS)
    envelopes = [samples.envelope(names[i % len(names)]) for i in range(args.events)]
    backend = XapiBackend("bench", endpoint="http://127.0.0.1:9/xAPI", lms_root_url=samples.LMS)
    floor = timed(lambda: [orjson.dumps(e.to_wire()) for e in envelopes], args.events)
    transform = timed(lambda: [backend.transform(e) for e in envelopes], args.events)
    print(f"events: {args.events:,} ({len(names)} names in turn)")
    print(f"floor (orjson of the envelope): {floor / args.events * 1e6:8.2f} µs/event")
    print(
        f"transform (statement + orjson): {transform / args.events * 1e6:8.2f} µs/event, "
        f"{args.events / transform:,.0f} statements/s"
    )
    if args.no_lrs:
        return
    with tempfile.TemporaryDirectory() as folder:
        ralph = Ralph(Path(folder))
        ralph.start()
        try:
            lrs = XapiBackend(
                "bench",
                endpoint=ralph.endpoint,
                lms_root_url=samples.LMS,
                username=USERNAME,
                password=PASSWORD,
            )
            count = min(args.events, 5_000)
            lines = [orjson.dumps(e.to_wire()) for e in envelopes[:count]]
            batches = [Batch(backend="bench", lines=lines[i : i + 100]) for i in range(0, count, 100)]
            warm = [orjson.dumps(e.to_wire()) for e in envelopes[count : count + 100]]
            if warm:
                lrs.deliver(Batch(backend="bench", lines=warm))  # warm: connection, caches (other statements)
            started, cpu = time.perf_counter(), time.process_time()
            delivered = sum(lrs.deliver(batch).delivered for batch in batches)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            ralph.stop()
    per_cpu = delivered / cpu
    print(
        f"delivered to Ralph (batches of 100): {delivered / seconds:,.0f} statements/s "
        f"({delivered:,} in {seconds:.2f} s; the LRS's own work included)"
    )
    print(
        f"delivering process: {per_cpu:,.0f} statements per CPU-second "
        f"(goal >= 20,000: {'met' if per_cpu >= 20_000 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
