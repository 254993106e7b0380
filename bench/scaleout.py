"""Scale-out: events/s against the number of processes, for delivery and for the tracking API.

Run: ``.venv/bin/python bench/scaleout.py`` (``--processes 1,2,4``, ``--png scaleout.png``,
``--only delivery|api``, ``--batches N``, ``--seconds S``).

Both run in the **default** configuration (``DELIVERY="celery"``, ``HANDOFF="spool"``), broker
``BENCH_BROKER_URL`` (default Redis 127.0.0.1:6379 db 14, emptied before and after).

* **delivery**: ``--batches`` batches of 100 realistic wire lines are handed off as requests
  hand them off (into the spool; its publisher coalesces them, up to ``SPOOL_MAX_BATCH_EVENTS``
  events per message), then ``celery -A bench.celery_app worker -c P`` (prefork,
  prefetch 1, acks late: as ``devsite`` runs it) starts; the rate is taken from the first line
  landing in the JSON-lines file to the last (startup excluded). One worker node, ``P`` pool
  processes, one queue, one file (each batch is one ``flock``-ed append).
* **api**: gunicorn with ``P`` sync workers serves the dev host; a loader process (asyncio,
  ``2 x P + 2`` connections, one request per connection) posts batches of 100 browser events
  with a DRF token to ``/api/tracking`` for ``--seconds``; events/s by wall clock, and the
  workers' CPU time per event. The spool publisher of each worker holds its batches in the
  outbox table: on SQLite (the default here) several workers' writes queue on its one lock, so
  give ``--database-url`` (PostgreSQL, emptied first) for a figure a deployment would see.

Efficiency per process = rate(P) / (P x rate(1)). On a machine with fewer cores than ``P`` (or
with the loader, the broker and the publisher threads sharing them) the rate cannot grow
linearly: the table says how many CPUs there are, and ``P`` above that is oversubscription.
Prints a table; with matplotlib, writes the plot (``--png``, default ``scaleout.png`` in the
current folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _common as c
import api_load

BATCH = 100
BATCHES = 400
SECONDS = 4.0


def delivery(processes: list[int], batches: int) -> dict[int, dict[str, float]]:
    """events/s of one Celery worker node with ``P`` pool processes, for each ``P``."""
    import redis
    from django.conf import settings
    from django.test import override_settings

    from bench.celery_app import app
    from event_hub.backends import get_backend
    from event_hub.delivery import spool
    from event_hub.delivery.batch import Batch
    from event_hub.delivery.handoff import hand_off

    tmp = Path(settings.BENCH_TMP)
    lines = c.event_hub_lines(tmp, BATCH)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.ping()
    results: dict[int, dict[str, float]] = {}
    for count in processes:
        log = tmp / f"scaleout-{count}.log"
        config = c.hub_config(tmp, DELIVERY="celery")
        config["BACKENDS"]["tracking_log"]["OPTIONS"]["path"] = str(log)
        with override_settings(EVENT_HUB=config):
            get_backend("tracking_log").deliver(Batch(backend="tracking_log", lines=lines))
            per_batch = log.stat().st_size
            log.unlink()
        broker.flushdb()
        with override_settings(EVENT_HUB=config):
            # As requests hand off in the default configuration: into the spool, published coalesced.
            for _ in range(batches):
                hand_off(Batch(backend="tracking_log", lines=lines))
            if not spool.flush(timeout=120):
                raise SystemExit("the spool could not be published")
        if not broker.llen("celery"):
            raise SystemExit(f"nothing in the queue of {app.conf.broker_url}")
        expected = batches * per_batch
        env = c.worker_env(tmp, config)
        command = [
            sys.executable, "-m", "celery", "-A", "bench.celery_app", "worker", "-l", "WARNING",
            "-Q", "celery", "-n", f"scaleout-{os.getpid()}-{count}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-c", str(count),
        ]  # fmt: skip
        out_path = tmp / f"worker-{count}.out"
        _, first, done = c.run_worker_until(command, env, out_path, log, expected, 120, broker.flushdb)
        if first is None or done is None:
            print(
                f"delivery with {count} process(es) did not finish "
                f"({log.stat().st_size if log.exists() else 0} of {expected} bytes); worker output:"
            )
            print(out_path.read_text()[-2000:])
            continue
        results[count] = {"rate": (batches - 1) * BATCH / (done - first), "seconds": done - first}
        log.unlink(missing_ok=True)
    return results


def api(processes: list[int], seconds: float, database_url: str) -> dict[int, dict[str, float]]:
    """events/s of gunicorn with ``P`` sync workers serving /api/tracking (batches of 100), for each ``P``."""
    tmp = Path(tempfile.mkdtemp(prefix="event_hub_scaleout_api_"))
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "PYTHONPATH": str(c.ROOT),
        "BENCH_API_TMP": str(tmp),
        "BENCH_API_DELIVERY": "celery",
        "BENCH_API_BROKER": broker,
        "CELERY_BROKER_URL": broker,
        "EVENT_HUB_VAR": str(tmp),
        "BENCH_API_DATABASE_URL": database_url,
    }
    results: dict[int, dict[str, float]] = {}
    try:
        credentials = api_load.prepare(env)
        body = json.dumps({"events": [api_load.EVENT] * BATCH}).encode()
        for count in processes:
            api_load.flush_broker()
            server, port = api_load.start_server(env, "", workers=count)
            try:
                pids = api_load.worker_pids(server.pid, count)
                request = api_load.http_post(
                    "/api/tracking", body, port, {"Authorization": f"Token {credentials['token']}"}
                )
                spec = {
                    "host": "127.0.0.1",
                    "seconds": seconds,
                    "warmup": 1.0,
                    "max_requests": 10**9,
                    "concurrency": 2 * count + 2,
                    "phases": [{"name": f"api x{count}", "port": port, "request": request}],
                }
                spec_path = tmp / "loader.json"
                spec_path.write_text(json.dumps(spec))
                outcome = _load_once(spec_path, pids)
            finally:
                server.terminate()
                server.wait(timeout=30)
            statuses = outcome["statuses"]
            good = sum(n for status, n in statuses.items() if int(status) == 202)
            if good != sum(statuses.values()):
                raise SystemExit(f"api with {count} workers: unexpected answers {statuses}")
            results[count] = {
                "rate": good * BATCH / outcome["elapsed"],
                "cpu_us": outcome["cpu"] / (good * BATCH) * 1e6,
            }
    finally:
        api_load.flush_broker()
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def _load_once(spec_path: Path, pids: list[int]) -> dict[str, Any]:
    """Run the loader on the one phase of ``spec_path``; add the workers' CPU seconds meanwhile."""
    loader = subprocess.Popen(
        [sys.executable, api_load.__file__, "--loader", str(spec_path)],
        cwd=c.ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert loader.stdin is not None
    assert loader.stdout is not None
    before = 0.0
    result: dict[str, Any] = {}
    for line in loader.stdout:
        if line.strip() == "ready":
            before = sum(api_load.cpu_seconds(pid) for pid in pids)
            loader.stdin.write("go\n")
            loader.stdin.flush()
        else:
            result = {**json.loads(line), "cpu": sum(api_load.cpu_seconds(pid) for pid in pids) - before}
    if loader.wait() != 0:
        raise SystemExit(f"the loader failed with {loader.returncode}")
    return result


def table(name: str, results: dict[int, dict[str, float]], cpus: int) -> list[tuple[Any, ...]]:
    base = results.get(1, {}).get("rate")
    rows = []
    for count, figures in sorted(results.items()):
        efficiency = figures["rate"] / (count * base) if base else float("nan")
        note = "oversubscribed" if count > cpus else ""
        extra = f"{figures['cpu_us']:.1f}" if "cpu_us" in figures else ""
        rows.append((name, count, f"{figures['rate']:,.0f}", f"{efficiency:.2f}", extra, note))
    return rows


def plot(path: Path, series: dict[str, dict[int, dict[str, float]]], cpus: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rates, efficiency) = plt.subplots(1, 2, figsize=(10, 4))
    for name, results in series.items():
        counts = sorted(results)
        if not counts:
            continue
        values = [results[count]["rate"] for count in counts]
        rates.plot(counts, values, marker="o", label=name)
        base = results.get(1, {}).get("rate")
        if base:
            rates.plot(counts, [base * count for count in counts], linestyle=":", color="grey")
            efficiency.plot(
                counts, [v / (n * base) for n, v in zip(counts, values, strict=True)], marker="o", label=name
            )
    for axes in (rates, efficiency):
        axes.axvline(cpus, color="red", linestyle="--", linewidth=0.8)
        axes.set_xlabel("processes")
        axes.legend()
    rates.set_ylabel("events/s")
    rates.set_title(f"throughput (dotted: linear; red: {cpus} CPUs)")
    efficiency.set_ylabel("rate / (P x rate at 1)")
    efficiency.set_ylim(0, 1.2)
    efficiency.set_title("efficiency per process")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4", help="comma-separated process counts")
    parser.add_argument("--only", choices=("delivery", "api"))
    parser.add_argument("--batches", type=int, default=BATCHES, help="batches of 100 for each delivery run")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="load seconds for each api run")
    parser.add_argument("--png", default="scaleout.png", help="where to write the plot ('' for none)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_API_DATABASE_URL", ""),
        help="database of the API servers (emptied first; default SQLite, which serialises the "
        "outbox writes of several workers)",
    )
    args = parser.parse_args()
    processes = [int(value) for value in args.processes.split(",")]
    cpus = os.cpu_count() or 1
    c.setup_django()

    series: dict[str, dict[int, dict[str, float]]] = {}
    if args.only in (None, "delivery"):
        series["delivery (celery -c P)"] = delivery(processes, args.batches)
    if args.only in (None, "api"):
        series["api (gunicorn P workers)"] = api(processes, args.seconds, args.database_url)

    c.print_header("scale-out: events/s against processes, default configuration", timing=False)
    print(f"{cpus} CPUs ({_cpu_model()}); one run per point; the loader, Redis and the publisher share them")
    rows = [row for name, results in series.items() for row in table(name, results, cpus)]
    c.print_table(["workload", "processes", "events/s", "efficiency", "CPU µs/event", ""], rows)
    if args.png:
        try:
            plot(Path(args.png), series, cpus)
        except ImportError:
            print("(matplotlib is not installed: no plot)")
        else:
            print(f"plot: {args.png}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
