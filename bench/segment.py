"""Segment delivery throughput: one event_hub worker process vs the bare library, to the same local sink.

Run: ``.venv/bin/python bench/segment.py`` (``--batches N``, ``--rounds N``). Needs Redis on
127.0.0.1:6379 (db 13 here, emptied before and after; ``BENCH_BROKER_URL`` overrides).

One run of ``manage.py event_hub_segment_sink`` (SQLite store in the bench folder) takes
both cases, one after the other in each round, with the same events (``BATCHES`` x 100
sample ``problem_check`` events with varied answers, about 1.9 kB each as a Segment message):

* ``event_hub worker``: the batches are published to Redis first (``hand_off``, direct), then one
  ``celery worker -c 1`` (prefork, prefetch 1, acks late) delivers them with the Segment
  backend (``segment.analytics.request.post`` from inside the task, one request per batch);
* ``library Client``: one process makes a ``segment.analytics.Client`` (its queue and its
  consumer thread, ``upload_size`` 100 like the batches above), calls ``track`` for every
  event with the very message the backend builds (same messageId, properties, context),
  then ``flush()``.

For reference, the table also shows ``deliver_batch.run`` in the benchmark's own process (the
task body a worker's pool child runs, without the broker and the pool's hand-over).

The rate is read from the sink's own clock: messages stored after the first request,
divided by the time from the first stored request to the last. Startup (worker boot,
Client creation) is outside it for both.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")

import _common as c

# This file is named like the library's top-level package: once _common is imported, take bench/
# off the path so ``import segment.analytics`` finds segment-analytics-python, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

BATCHES = 200
BATCH = 100
ROUNDS = 2
WRITE_KEY = "bench-write-key"
QUEUE = "celery"
#: The worker's pool: "prefork" (``-c 1``, a child process) or "solo" (``-P solo``); set by ``--solo``.
POOL = "prefork"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=BATCHES, help="batches per case")
    parser.add_argument(
        "--batch",
        type=int,
        default=BATCH,
        help=f"events per batch, and the Client's upload_size (default {BATCH})",
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds (both cases in each)")
    parser.add_argument("--library-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sink", help=argparse.SUPPRESS)
    parser.add_argument("--lines", help=argparse.SUPPRESS)
    parser.add_argument("--solo", action="store_true", help="worker with -P solo instead of -c 1 (prefork)")
    args = parser.parse_args()
    global POOL
    POOL = "solo" if args.solo else "prefork"

    tmp = c.setup_django(migrate=not args.library_only)
    if args.library_only:
        _library_process(args.sink, Path(args.lines), args.batch)
        return

    sink = start_sink(tmp)
    rows = []
    try:
        c.print_header(
            "segment: events/s delivered to the local Segment sink, one process each", timing=False
        )
        print(
            f"{args.batches} batches x {args.batch} events per case, {args.rounds} round(s) per event; "
            f"sink {sink.url}"
        )
        for kind in ("enrollment", "problem_check"):
            lines = wire_lines(kind, args.batch)
            lines_file = tmp / "segment-lines.jsonl"
            lines_file.write_bytes(b"\n".join(lines))
            ours: list[float] = []
            worker_cpu_rates.clear()
            theirs: list[float] = []
            body: list[float] = []
            for round_ in range(args.rounds):
                ours.append(event_hub_case(sink, tmp, lines, args.batches))
                theirs.append(library_case(sink, tmp, lines_file, args.batches))
                body.append(task_body_case(sink, lines, args.batches))
                print(
                    f"{kind} round {round_ + 1}: event_hub worker {ours[-1]:,.0f} events/s "
                    f"({worker_cpu_rates[-1] if worker_cpu_rates else 0:,.0f} per worker CPU-second), "
                    f"library Client {theirs[-1]:,.0f}, task body in process {body[-1]:,.0f}"
                )
            ratio = statistics.median(ours) / statistics.median(theirs)
            label = f"{kind} (~{_message_size(lines):,} B)"
            median_ours, median_theirs = statistics.median(ours), statistics.median(theirs)
            rows.append(
                (
                    label,
                    f"{median_ours:,.0f}",
                    _spread(ours),
                    f"{median_theirs:,.0f}",
                    _spread(theirs),
                    f"{ratio:.2f}x",
                    f"{statistics.median(body):,.0f}",
                    f"{statistics.median(worker_cpu_rates):,.0f}" if worker_cpu_rates else "-",
                )
            )
    finally:
        sink.stop()
    print()
    c.print_table(
        [
            "event (Segment message size)",
            "event_hub worker",
            "min..max",
            "library Client",
            "min..max",
            "ratio",
            "task body in process",
            "worker per CPU-s",
        ],
        rows,
    )
    print("events/s, median of the rounds; goals: >= 20,000 events/s and >= 1x the library")


# --- the events -------------------------------------------------------------------------------------


def wire_lines(kind: str, count: int) -> list[bytes]:
    """``count`` envelopes as a batch carries them, of signed-in learners: ``problem_check`` events with
    varied answers (the large sample of the tracking-log reference) or enrollment events (small)."""
    from event_hub import wireline
    from event_hub.envelope import Envelope, EventContext, new_event_id

    name = "problem_check" if kind == "problem_check" else "edx.course.enrollment.activated"
    lines = []
    for index in range(count):
        envelope = Envelope(
            id=new_event_id(),
            name=name,
            event_type=name,
            event_source="server",
            time=datetime.datetime.now(datetime.UTC),
            event=c.varied_problem_check(index) if kind == "problem_check" else enrollment(index),
            context=EventContext(
                course_id=c.COURSE_ID,
                org_id="edX",
                path=c.REQUEST_PATH,
                user_id=42 + index % 7,
                anonymous_user_id=f"{index % 7:032x}",
                module=c.MODULE,
            ),
            agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            host="lms.example.org",
            referer=f"https://lms.example.org/courses/{c.COURSE_ID}/courseware/",
            accept_language="en-US,en;q=0.8",
        )
        lines.append(wireline.encode(envelope))  # as the tracker writes it
    return lines


def enrollment(index: int) -> dict[str, Any]:
    return {"course_id": c.COURSE_ID, "user_id": 42 + index, "mode": ("audit", "verified")[index % 2]}


def _fresh_ids(lines: list[bytes], tag: str) -> list[bytes]:
    """The lines with new event ids (distinct messageIds per case and batch), as the tracker writes them."""
    import attrs

    from event_hub import wireline
    from event_hub.backends.base import decode

    return [
        wireline.encode(attrs.evolve(decode(line), id=f"{tag}-{index}")) for index, line in enumerate(lines)
    ]


def _message_size(lines: list[bytes]) -> int:
    from event_hub.backends.base import decode
    from event_hub.backends.segment import SegmentBackend, dumps_size

    backend = SegmentBackend("segment", write_key=WRITE_KEY)
    return dumps_size(backend.message(decode(lines[0])))


def _spread(values: list[float]) -> str:
    return f"{min(values):,.0f}..{max(values):,.0f}"


# --- the sink ---------------------------------------------------------------------------------------


class Sink:
    def __init__(self, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url

    def get(self, path: str) -> Any:
        import requests

        return requests.get(self.url + path, timeout=10).json()

    def reset(self) -> None:
        import requests

        requests.post(self.url + "/control/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def start_sink(tmp: Path) -> Sink:
    port_file = tmp / "sink.port"
    port_file.unlink(missing_ok=True)
    command = [
        sys.executable, "manage.py", "event_hub_segment_sink", "--port", "0", "--port-file", str(port_file),
        "--db", str(tmp / "segment-sink.sqlite3"), "--write-key", WRITE_KEY, "--reset",
    ]  # fmt: skip
    log = open(tmp / "segment-sink.out", "ab")  # noqa: SIM115 - the sink's output, until the bench ends
    process = subprocess.Popen(command, cwd=c.ROOT, env=_env(tmp), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text()):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("the sink did not start")
        time.sleep(0.05)
    return Sink(process, f"http://127.0.0.1:{port_file.read_text()}")


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_TMP": str(tmp),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(c.ROOT), os.environ.get("PYTHONPATH", "")])),
        **extra,
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and its children so far (Linux ``/proc``)."""
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total + sum(cpu_seconds(int(child)) for child in children)


#: Events per CPU-second of the last worker case (its main process and pool child, from its first
#: delivered batch to its last): what one process delivers when it has a CPU to itself.
worker_cpu_rates: list[float] = []


def wait_and_rate(sink: Sink, expected: int, timeout: float = 300, pid: int | None = None) -> float:
    """Wait until the sink holds ``expected`` messages; the rate from its first request to its last.

    With ``pid``, also note that process tree's events per CPU-second (``worker_cpu_rates``) from
    the first poll that finds messages stored to the end.
    """
    deadline = time.monotonic() + timeout
    start: tuple[int, float] | None = None
    while (stored := sink.get("/control/stats")["messages"]) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"the sink got {sink.get('/control/stats')} of {expected} messages")
        if pid is not None and start is None and stored:
            start = (stored, cpu_seconds(pid))
        time.sleep(0.25)  # polling takes the sink's store lock: not too often
    if pid is not None and start is not None:
        worker_cpu_rates.append((expected - start[0]) / max(cpu_seconds(pid) - start[1], 1e-9))
    accepted = [r for r in sink.get("/control/requests") if r["status"] == 200]
    first, last = accepted[0], accepted[-1]
    return (expected - first["messages"]) / (last["received"] - first["received"])


# --- case 1: event_hub ----------------------------------------------------------------------------------


def event_hub_case(sink: Sink, tmp: Path, lines: list[bytes], batches: int) -> float:
    import redis
    from django.conf import settings
    from django.test import override_settings

    from bench.celery_app import app
    from event_hub.delivery.batch import Batch
    from event_hub.delivery.handoff import hand_off

    sink.reset()
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    backend = {
        "ENGINE": "event_hub.backends.segment.SegmentBackend",
        "OPTIONS": {"write_key": WRITE_KEY, "host": sink.url},
    }
    config = {"DELIVERY": "celery", "BACKENDS": {"segment": backend}}
    stamp = time.monotonic_ns()
    # Filling the queue is set-up, not timed: published directly, so no spool publisher thread is left
    # with batches when the settings change back (that detaches the spool, leaving them for recovery).
    with override_settings(EVENT_HUB={**config, "HANDOFF": "direct"}):
        for number in range(batches):
            hand_off(Batch(backend="segment", lines=_fresh_ids(lines, f"eh{stamp}-{number}")))
    command = [
        sys.executable, "-m", "celery", "-A", "bench.celery_app", "worker", "-l", "WARNING", "-Q", QUEUE,
        "-n", f"bench-segment-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
        "--without-heartbeat", *(["-P", "solo"] if POOL == "solo" else ["-c", "1"]),
    ]  # fmt: skip
    out = open(tmp / "segment-worker.out", "ab")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        command, cwd=c.ROOT, env=_env(tmp, BENCH_EVENT_HUB=json.dumps(config)), stdout=out, stderr=out
    )
    try:
        return wait_and_rate(sink, batches * len(lines), pid=worker.pid)
    finally:
        app.control.purge()
        worker.terminate()
        worker.wait(timeout=30)
        out.close()
        broker.flushdb()


# --- for reference: the task body in this process, without the broker ---------------------------------


def task_body_case(sink: Sink, lines: list[bytes], batches: int) -> float:
    """``deliver_batch.run`` (what the worker's child runs per task) in this process, no broker, no pool."""
    from django.test import override_settings

    from event_hub.delivery.batch import Batch
    from event_hub.delivery.tasks import deliver_batch

    sink.reset()
    backend = {
        "ENGINE": "event_hub.backends.segment.SegmentBackend",
        "OPTIONS": {"write_key": WRITE_KEY, "host": sink.url},
    }
    stamp = time.monotonic_ns()
    payloads = [
        Batch(backend="segment", lines=_fresh_ids(lines, f"run{stamp}-{number}")).wire("zlib")
        for number in range(batches)
    ]
    with override_settings(EVENT_HUB={"DELIVERY": "celery", "BACKENDS": {"segment": backend}}):
        for number, payload in enumerate(payloads):
            deliver_batch.run("segment", payload, f"{stamp:032x}"[-32:-6] + f"{number:06x}")
    return wait_and_rate(sink, batches * len(lines))


# --- case 2: the library's Client, in its own process -----------------------------------------------


def library_case(sink: Sink, tmp: Path, lines_file: Path, batches: int) -> float:
    sink.reset()
    lines = lines_file.read_bytes().split(b"\n")
    stamp = time.monotonic_ns()
    all_lines = tmp / "segment-library-lines.jsonl"
    all_lines.write_bytes(
        b"\n".join(line for number in range(batches) for line in _fresh_ids(lines, f"lib{stamp}-{number}"))
    )
    script = [
        sys.executable, __file__, "--library-only", "--sink", sink.url, "--lines", str(all_lines),
        "--batch", str(len(lines)),
    ]  # fmt: skip
    result = subprocess.run(script, cwd=c.ROOT, env=_env(tmp), capture_output=True, check=False)
    if result.returncode:
        raise SystemExit(result.stderr.decode()[-3000:])
    return wait_and_rate(sink, batches * len(lines))


def _library_process(sink_url: str, lines_file: Path, upload_size: int) -> None:
    """Build every message as the backend does, then ``track`` each through one Client and flush."""
    from segment.analytics import Client

    from event_hub.backends.base import decode
    from event_hub.backends.segment import SegmentBackend

    backend = SegmentBackend("segment", write_key=WRITE_KEY)
    messages = [backend.message(decode(line)) for line in lines_file.read_bytes().split(b"\n")]
    client = Client(WRITE_KEY, host=sink_url, upload_size=upload_size, max_queue_size=len(messages) + 1)
    for message in messages:
        client.track(
            user_id=message.get("userId"),
            event=message["event"],
            properties=message["properties"],
            context=message["context"],
            timestamp=datetime.datetime.fromisoformat(message["timestamp"]),
            anonymous_id=message["anonymousId"],
            message_id=message["messageId"],
        )
    client.flush()
    client.join()


if __name__ == "__main__":
    main()
