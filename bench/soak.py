"""Soak: a million events through the whole pipeline, memory and throughput sampled as it runs.

::

    .venv/bin/python bench/soak.py [--events 1000000] [--broker redis|rabbitmq] [--every 5]
                                   [--out bench/results]

The stack of the fault matrix (tests/faults/harness.py), without its proxies: PostgreSQL (a
database made for the run, dropped at the end), gunicorn (two sync workers) serving
``/api/tracking``, a Celery worker (two pool processes), the republisher, ``HANDOFF="spool"``,
the JSON-lines backend. Load: one loader posting single events and batches of ``--batch`` events
as fast as it is answered, and one script calling ``track()`` ``--script-rate`` times a second,
until ``--events`` events were accepted. Every ``--every`` seconds it samples the resident memory
(RSS) of the gunicorn workers and of the Celery worker (main process plus pool), the events
accepted and delivered (lines in the log) and the spool and outbox backlog. At the end it checks
every accepted event is in the log exactly once, writes ``soak.png`` (matplotlib) and
``soak.txt`` (the figures) into ``--out`` and prints the figures.

Needs PostgreSQL on 127.0.0.1:5432 (``FAULTS_DATABASE_URL``), and Redis (``FAULTS_REDIS_URL``,
default db 15, emptied) or RabbitMQ (``FAULTS_AMQP_URL``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.faults import harness  # noqa: E402 - needs the root on sys.path


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def count_lines(path: Path) -> int:
    return sum(1 for _ in path.open("rb")) if path.exists() else 0


class LineCounter:
    """Counts the log's lines as it grows (new bytes only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0

    def poll(self) -> int:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                while chunk := handle.read(1 << 20):
                    self.lines += chunk.count(b"\n")
                    self.offset += len(chunk)
        except FileNotFoundError:
            pass
        return self.lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--broker", choices=("redis", "rabbitmq"), default="redis")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--batch", type=int, default=100, help="events per batch request")
    parser.add_argument("--api-rate", type=float, default=1000.0, help="requests/s at most")
    parser.add_argument("--script-rate", type=float, default=500.0, help="track() calls/s")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="event_hub_soak_"))
    brokers = harness.default_brokers()
    broker = harness.Broker(args.broker, brokers[args.broker])
    database = harness.Database(harness.default_database_url())
    database.create()
    stack = harness.Stack(broker, database, "spool", tmp / "stack", proxied=False)
    samples: list[dict[str, float]] = []
    try:
        stack.start()
        stop = tmp / "stop"
        agents = [
            stack._spawn([sys.executable, "-m", "tests.faults.agents", "loader", "--cell", "soak", "--stop",
                          str(stop), "--ids", str(tmp / "api.ids"), "--port", str(stack.web_port),
                          "--rate", str(args.api_rate), "--batch", str(args.batch)], "loader.log"),
            stack._spawn([sys.executable, "-m", "tests.faults.agents", "emitter", "--cell", "soak", "--stop",
                          str(stop), "--ids", str(tmp / "script-0.ids"), "--rate", str(args.script_rate)],
                         "emitter.log"),
        ]
        api_ids, script_ids = LineCounter(tmp / "api.ids"), LineCounter(tmp / "script-0.ids")
        log = LineCounter(stack.log)
        started = time.monotonic()
        stopped_at: float | None = None
        while True:
            time.sleep(args.every)
            accepted = api_ids.poll() + script_ids.poll()
            delivered = log.poll()
            worker = stack.worker.pid if stack.worker else 0
            samples.append({
                "t": time.monotonic() - started,
                "accepted": accepted,
                "delivered": delivered,
                "web_rss": rss_mb(stack.web_workers()),
                "worker_rss": rss_mb([worker, *stack.pool_processes()]),
                "spool": stack.spool_bytes(),
                "outbox": stack.outbox_rows(),
            })
            print(
                f"{samples[-1]['t']:7.0f}s accepted {accepted:>9,} delivered {delivered:>9,} "
                f"web {samples[-1]['web_rss']:6.1f} MB worker {samples[-1]['worker_rss']:6.1f} MB "
                f"spool {samples[-1]['spool']:>9,} B outbox {samples[-1]['outbox']:>5}",
                flush=True,
            )
            if stopped_at is None and accepted >= args.events:
                stop.touch()
                stopped_at = time.monotonic()
            finished = stopped_at is not None and all(a.poll() is not None for a in agents)
            drained = delivered >= api_ids.poll() + script_ids.poll()
            if finished and (drained or time.monotonic() - (stopped_at or 0) > 600):
                break
        stack.reader.poll()
        seen = stack.reader.seen("soak")
        accepted_ids = set(harness.read_ids(tmp / "api.ids")) | set(harness.read_ids(tmp / "script-0.ids"))
        figures = summarize(samples, accepted_ids, seen, args)
    finally:
        stack.stop()
        database.drop()
    (out / "soak.txt").write_text(figures + "\n")
    plot(samples, out / "soak.png", args)
    print(figures)
    print(f"plot: {out / 'soak.png'}")
    shutil.rmtree(tmp, ignore_errors=True)


def summarize(samples: list[dict[str, float]], accepted: set[str], seen: harness.Seen,
              args: argparse.Namespace) -> str:
    import django

    missing = len(accepted - seen.ids.keys())
    duplicated = sum(count - 1 for count in seen.ids.values())
    elapsed = samples[-1]["t"]
    rates = [(b["delivered"] - a["delivered"]) / (b["t"] - a["t"]) for a, b in itertools.pairwise(samples)]
    steady = sorted(rates[1 : max(2, len(rates) - 2)])  # without the start and the drain
    third = max(1, len(samples) // 3)
    return "\n".join([
        f"event_hub soak: {len(accepted):,} events accepted ({args.broker}, HANDOFF=spool, gunicorn 2 sync "
        f"workers, Celery worker with 2 pool processes, JSON-lines backend); "
        f"Python {sys.version.split()[0]}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs shared with the load generators",
        f"delivered {len(accepted & seen.ids.keys()):,}, missing {missing}, duplicated {duplicated}, "
        f"malformed {seen.wrong}",
        f"wall time {elapsed:.0f} s; delivered events/s: mean {samples[-1]['delivered'] / elapsed:,.0f}, "
        f"median of {args.every:g}-s samples {steady[len(steady) // 2]:,.0f} "
        f"(min {steady[0]:,.0f}, max {steady[-1]:,.0f})" if steady else "",
        *(
            f"{label} RSS MB: first third max {max(s[key] for s in samples[:third]):.1f}, "
            f"last third max {max(s[key] for s in samples[-third:]):.1f}, "
            f"overall max {max(s[key] for s in samples):.1f}"
            for label, key in (("web (2 gunicorn workers)", "web_rss"), ("worker (main, pool)", "worker_rss"))
        ),
        f"largest spool backlog {max(s['spool'] for s in samples):,.0f} bytes, largest outbox "
        f"{max(s['outbox'] for s in samples):.0f} rows",
    ])


def plot(samples: list[dict[str, float]], path: Path, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] for s in samples]
    figure, (memory, rate) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    memory.plot(t, [s["web_rss"] for s in samples], label="gunicorn workers (2)")
    memory.plot(t, [s["worker_rss"] for s in samples], label="Celery worker (main + 2 pool)")
    memory.set_ylabel("RSS (MB)")
    memory.set_ylim(bottom=0)
    memory.legend(loc="lower right")
    memory.set_title(f"event_hub soak: {samples[-1]['accepted']:,.0f} events, {args.broker}, HANDOFF=spool")
    pairs = list(itertools.pairwise(samples))
    times = [b["t"] for _, b in pairs]
    for key in ("accepted", "delivered"):
        rate.plot(times, [(b[key] - a[key]) / (b["t"] - a["t"]) for a, b in pairs], label=key)
    rate.set_ylabel("events/s")
    rate.set_xlabel("seconds")
    rate.set_ylim(bottom=0)
    rate.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
