"""Load ``/api/tracking`` served by gunicorn, beside a bare Django view, and print the figures.

::

    .venv/bin/python bench/api_load.py [--delivery celery|sync] [--handoff direct|spool] [--compare]
                                       [--seconds 3] [--rounds 3]

What it does:

1. makes a temporary folder with a SQLite database (migrated) holding a user, its DRF token
   and a signed-in session;
2. serves the dev host (``devsite``, with ``bench/api_urls.py`` adding the bare view
   ``/bench/bare``) under gunicorn, one sync worker, on 127.0.0.1, in the **default**
   configuration of event_hub (``DELIVERY="celery"``, ``HANDOFF="spool"``) unless told;
3. loads it from a second process (``--loader``: asyncio, a few concurrent connections,
   a fresh connection per request as the sync worker closes each) with, side by side in
   each round: single-event POSTs (bare view; the API anonymously for an allowed type, with
   a DRF token, with a session cookie and its CSRF token) and batches of 50 and 100 events
   (bare view parsing the same body; the API with a token, with a session; ``checks``: the API
   with a token stopped where the events would be sent, see ``ChecksOnlyView`` in
   ``bench/api_urls.py``, the ceiling of any hand-off that keeps the per-event answers);
4. prints requests/s and events/s, the best of ``--rounds`` rounds, and the ratios to the
   bare view, by wall clock and by the worker's CPU time (and, in column ``thread``, the part
   of that CPU time spent in the worker's other threads: the spool's publisher). Goals
   (printed, not asserted): single POST >= 0.6x the bare view; batch POST >= 0.5x the bare
   view's events/s.

The loader runs on the same machine: on 2 CPUs it takes CPU time the worker could use, and
the worker waits for it part of every phase (requests/s stays below ``capacity r/s``), the
more so the faster the phase: the bare view's wall rate is held down most, which flatters the
API's wall ratios. The CPU ratios do not depend on the loader: prefer them.

The bare view goes through the same middleware (sessions, CSRF, authentication: all lazy, so
it pays none of them) and parses the same body with orjson.

Delivery: ``celery`` hands each request's batch to Redis (``BENCH_BROKER_URL``, default
127.0.0.1:6379 db 14, emptied before and after; nobody consumes during the run), ``sync``
writes the JSON-lines log inside the request. The default is ``celery`` when Redis answers,
``sync`` otherwise; the header says which.

Hand-off (``celery`` only): unset, the default (``spool``: the request appends its batch to a
spool file, the worker's publisher thread holds it in the outbox and publishes it; its CPU
time counts: it runs in the measured process); ``--handoff direct``: the request holds and
publishes its batch. ``--compare`` loads a second gunicorn with ``direct`` hand-off in the
same rounds, in the rows named ``direct``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
CONCURRENCY = 4
BATCH_SIZES = (50, 100)

PAGE = "https://lms.example.com/courses/course-v1:edX+DemoX+2024/courseware/week1/video/"
#: One browser event in the Open edX shape, as event-hub.js sends it.
EVENT = {
    "event_type": "play_video",
    "event": {
        "code": "html5",
        "currentTime": 12.5,
        "id": "i4x-edX-DemoX-video-0b9e39477cf34507a7a48f74be381fdd",
    },
    "page": PAGE,
    "timestamp": "2024-05-01T10:00:00.000Z",
}


# --- the loader (second process) ------------------------------------------------------------------------


async def _one(host: str, port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        response = await reader.read()  # gunicorn's sync worker closes the connection after answering
    finally:
        writer.close()
    return int(response[9:12])


async def _load(
    host: str, port: int, request: bytes, seconds: float, max_requests: int, concurrency: int = CONCURRENCY
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    sent = 0

    async def worker() -> None:
        nonlocal sent
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            status = await _one(host, port, request)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"elapsed": time.perf_counter() - started, "statuses": statuses}


def loader_main(spec_path: str) -> None:
    """Run the phases of ``spec_path``, in step with the orchestrator.

    For each phase: warm up, print ``ready``, wait for a line on stdin (the orchestrator
    reads the worker's CPU time meanwhile), load, print the outcome as one JSON line.
    """
    spec = json.loads(Path(spec_path).read_text())
    concurrency = spec.get("concurrency", CONCURRENCY)
    for phase in spec["phases"]:
        request = phase["request"].encode("latin-1")
        asyncio.run(_load(spec["host"], phase["port"], request, spec["warmup"], 10**9, concurrency))
        print("ready", flush=True)
        sys.stdin.readline()
        outcome = asyncio.run(
            _load(spec["host"], phase["port"], request, spec["seconds"], spec["max_requests"], concurrency)
        )
        print(json.dumps({"name": phase["name"], **outcome}), flush=True)


# --- the orchestrator -----------------------------------------------------------------------------------


def http_post(path: str, body: bytes, port: int, headers: dict[str, str] | None = None) -> str:
    """A raw HTTP/1.1 POST (``Connection: close``), as the loader sends it."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "User-Agent: event_hub-bench",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n" + body.decode("latin-1")


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate the database, create the benchmark user; return its DRF token and a signed-in session."""
    manage = [sys.executable, "-m", "django"]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    if env.get("BENCH_API_DATABASE_URL"):  # a database of a server, kept between runs: empty it
        subprocess.run([*manage, "flush", "--no-input", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    script = (
        "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token; "
        "from django.contrib.sessions.backends.db import SessionStore; "
        "user = get_user_model().objects.create_user('bench'); s = SessionStore(); "
        "s.update({'_auth_user_id': str(user.pk), "
        "'_auth_user_backend': 'django.contrib.auth.backends.ModelBackend', "
        "'_auth_user_hash': user.get_session_auth_hash()}); s.create(); "
        "print(Token.objects.create(user=user).key, s.session_key)"
    )
    out = subprocess.run(
        [*manage, "shell", "--no-imports", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True
    )
    token, session = out.stdout.decode().split()[-2:]
    return {"token": token, "session": session}


def wait_until_served(port: int, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def worker_pid(master: int) -> int:
    """The pid of gunicorn's (only) worker."""
    return worker_pids(master, 1)[0]


def worker_pids(master: int, count: int) -> list[int]:
    """The pids of gunicorn's ``count`` workers (once they all run)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) >= count:
            return [int(child) for child in children]
        time.sleep(0.1)
    raise SystemExit(f"gunicorn started fewer than {count} workers")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the threads of process ``pid`` but its main one (the spool's publisher)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        if task.name == str(pid):
            continue
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_round(spec_path: Path, workers: dict[str, int], servers: list[str]) -> list[dict[str, Any]]:
    """One round of every phase; each result carries its server's worker's CPU seconds while it ran.

    ``servers`` names the server (a key of ``workers``) of each phase, in order.
    """
    loader = subprocess.Popen(
        [sys.executable, __file__, "--loader", str(spec_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    stdin, stdout = loader.stdin, loader.stdout
    if stdin is None or stdout is None:
        raise SystemExit("no pipe to the loader")
    results: list[dict[str, Any]] = []
    before = threads_before = 0.0
    for line in stdout:
        worker = workers[servers[len(results)]]
        if line.strip() == "ready":
            before, threads_before = cpu_seconds(worker), thread_cpu_seconds(worker)
            stdin.write("go\n")
            stdin.flush()
        else:
            results.append(
                {
                    **json.loads(line),
                    "cpu": cpu_seconds(worker) - before,
                    "threads": thread_cpu_seconds(worker) - threads_before,
                }
            )
    if loader.wait() != 0:
        raise SystemExit(f"the loader failed with {loader.returncode}")
    return results


#: The CSRF secret the session phases send as cookie and header (SessionAuthentication checks CSRF).
CSRF_SECRET = "benchcsrfsecret0123456789abcdefg"


def phases(ports: dict[str, int], credentials: dict[str, str]) -> list[dict[str, Any]]:
    """The phases of a round: on the ``main`` server, plus the API on the ``direct`` one if it runs."""
    auth = {"Authorization": f"Token {credentials['token']}"}
    session = {
        "Cookie": f"sessionid={credentials['session']}; csrftoken={CSRF_SECRET}",
        "X-CSRFToken": CSRF_SECRET,
    }
    single = json.dumps(EVENT).encode()

    def phase(name: str, server: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
        port = ports[server]
        return {"name": name, "server": server, "port": port, "request": http_post(path, body, port, headers)}

    compare = "direct" in ports
    out = [
        phase("single bare", "main", "/bench/bare", single),
        phase("single api anon", "main", "/api/tracking", single),
        phase("single api token", "main", "/api/tracking", single, auth),
        phase("single api session", "main", "/api/tracking", single, session),
        phase("single bare+session", "main", "/bench/bare-auth", single, session),
    ]
    if compare:
        out += [
            phase("single direct anon", "direct", "/api/tracking", single),
            phase("single direct token", "direct", "/api/tracking", single, auth),
        ]
    for size in BATCH_SIZES:
        batch = json.dumps({"events": [EVENT] * size}).encode()
        out.append(phase(f"batch{size} bare", "main", "/bench/bare", batch))
        out.append(phase(f"batch{size} api token", "main", "/api/tracking", batch, auth))
        out.append(phase(f"batch{size} api session", "main", "/api/tracking", batch, session))
        out.append(phase(f"batch{size} bare+session", "main", "/bench/bare-auth", batch, session))
        out.append(phase(f"batch{size} checks token", "main", "/bench/api-checks", batch, auth))
        if compare:
            out.append(phase(f"batch{size} direct", "direct", "/api/tracking", batch, auth))
    return out


def start_server(env: dict[str, str], handoff: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn (``workers`` sync workers) serving the dev host with ``handoff``; returns it and its port."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "devsite.wsgi:application",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "BENCH_API_HANDOFF": handoff},
    )
    try:
        wait_until_served(port, server)
    except BaseException:
        server.terminate()
        raise
    return server, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delivery", choices=("celery", "sync"), default=None)
    parser.add_argument(
        "--handoff",
        choices=("direct", "spool"),
        default=None,
        help="HANDOFF of the server (celery only; default: the setting's default, spool)",
    )
    parser.add_argument(
        "--compare", action="store_true", help="also load a second server with HANDOFF=direct, same rounds"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per phase and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per phase and round")
    parser.add_argument("--loader", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loader:
        loader_main(args.loader)
        return

    delivery = args.delivery or ("celery" if redis_up() else "sync")
    if delivery == "celery" and not redis_up():
        raise SystemExit("--delivery celery needs Redis on 127.0.0.1:6379")
    if args.handoff and delivery != "celery":
        raise SystemExit("--handoff needs --delivery celery")
    handoffs = {"main": args.handoff or ""}
    if args.compare and delivery == "celery":
        handoffs["direct"] = "direct"
    tmp = Path(tempfile.mkdtemp(prefix="event_hub_api_bench_"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "PYTHONPATH": str(ROOT),
        "BENCH_API_TMP": str(tmp),
        "BENCH_API_DELIVERY": delivery,
        "BENCH_API_BROKER": BROKER,
        "CELERY_BROKER_URL": BROKER,
        "EVENT_HUB_VAR": str(tmp),
    }
    servers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        credentials = prepare(env)
        if delivery == "celery":
            flush_broker()
        ports: dict[str, int] = {}
        for name, handoff in handoffs.items():
            servers[name], ports[name] = start_server(env, handoff)
        workers = {name: worker_pid(server.pid) for name, server in servers.items()}
        loaded = phases(ports, credentials)
        spec = {
            "host": "127.0.0.1",
            "seconds": args.seconds,
            "warmup": min(1.0, args.seconds),
            "max_requests": args.max_requests,
            "phases": loaded,
        }
        spec_path = tmp / "loader.json"
        spec_path.write_text(json.dumps(spec))
        order = [phase["server"] for phase in loaded]
        rounds = [run_round(spec_path, workers, order) for _ in range(args.rounds)]
        report(rounds, delivery, tmp, args)
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)
        if delivery == "celery" and redis_up():
            flush_broker()
        shutil.rmtree(tmp, ignore_errors=True)


def report(rounds: list[list[dict[str, Any]]], delivery: str, tmp: Path, args: argparse.Namespace) -> None:
    import django
    import gunicorn

    if delivery == "sync":
        where = "JSON-lines backend in sync mode (written in the request)"
    elif args.handoff != "direct":
        where = (
            f"Redis broker {BROKER}, HANDOFF={args.handoff or 'spool (default)'} (the request appends to a "
            "spool file, the worker's publisher thread publishes; no consumer during the run)"
        )
        if args.compare:
            where += "; rows 'direct': a second gunicorn with HANDOFF=direct, loaded in the same rounds"
    else:
        where = f"Redis broker {BROKER} (Celery publish per request; no consumer during the run)"
    print(
        f"event_hub /api/tracking load: gunicorn {gunicorn.__version__} (1 sync worker) on 127.0.0.1, "
        f"loader in a second process ({CONCURRENCY} concurrent connections, one per request)"
    )
    print(
        f"Python {sys.version.split()[0]}, Django {django.get_version()}, {os.cpu_count()} CPUs; "
        f"DELIVERY={delivery}: {where}"
    )
    print(
        f"best of {args.rounds} rounds of {args.seconds:g}s per phase. Left: wall clock. Right: the "
        "gunicorn worker's CPU time per request, and what one fully busy worker would serve at that "
        "cost (unaffected by other load on the machine); 'thread': the part of that CPU time spent in the "
        "worker's other threads (the spool's publisher), us/req"
    )
    best: dict[str, dict[str, float]] = {}
    for results in rounds:
        for result in results:
            statuses = result["statuses"]
            good = sum(count for status, count in statuses.items() if int(status) in (201, 202))
            if good != sum(statuses.values()):
                raise SystemExit(f"{result['name']}: unexpected answers {statuses}")
            entry = best.setdefault(result["name"], {"rate": 0.0, "cpu": float("inf"), "threads": 0.0})
            entry["rate"] = max(entry["rate"], good / result["elapsed"])
            if 0 < result["cpu"] / good < entry["cpu"]:
                entry["cpu"] = result["cpu"] / good
                entry["threads"] = result["threads"] / good
    size_of = {"single": 1, **{f"batch{size}": size for size in BATCH_SIZES}}
    print(
        f"{'phase':<22}{'requests/s':>11}{'events/s':>10}{'vs bare':>8} |{'CPU us/req':>11}"
        f"{'capacity r/s':>13}{'events/s':>10}{'vs bare':>8}{'thread':>8}   goal (wall / CPU)"
    )
    for name, figures in best.items():
        kind, target = name.split(" ", 1)
        size = size_of[kind]
        bare = best[f"{kind} bare"]
        capacity = 1 / figures["cpu"]
        wall_ratio = figures["rate"] / bare["rate"]
        cpu_ratio = bare["cpu"] / figures["cpu"]
        goal = ""
        if target == "bare+session":
            goal = "(baseline of the session rows: the bare view behind session auth + CSRF)"
        elif target.startswith("checks"):
            goal = "(ceiling of the api rows: their checks alone, nothing sent)"
        elif target != "bare":
            floor = 0.6 if kind == "single" else 0.5
            met = [ratio >= floor for ratio in (wall_ratio, cpu_ratio)]
            goal = f">= {floor:.2f}x bare: "
            goal += " / ".join("met" if ok else "MISSED" for ok in met)
            reference = best.get(f"{kind} bare+session")
            if target.endswith("session") and reference:
                goal += (
                    f"; vs bare+session {figures['rate'] / reference['rate']:.2f}x / "
                    f"{reference['cpu'] / figures['cpu']:.2f}x"
                )
        ratios = ("", "") if target == "bare" else (f"{wall_ratio:.2f}x", f"{cpu_ratio:.2f}x")
        print(
            f"{name:<22}{figures['rate']:>11,.0f}{figures['rate'] * size:>10,.0f}{ratios[0]:>8} |"
            f"{figures['cpu'] * 1e6:>11,.0f}{capacity:>13,.0f}{capacity * size:>10,.0f}{ratios[1]:>8}"
            f"{figures['threads'] * 1e6:>8,.0f}   {goal}"
        )
    log = tmp / "tracking.log"
    if log.exists():
        with log.open("rb") as lines:
            print(f"(sync) {sum(1 for _ in lines):,} events in the JSON-lines log")
    if delivery == "celery":
        import redis

        client = redis.Redis.from_url(BROKER)
        queued = sum(client.llen(key) for key in client.keys("*") if client.type(key) == b"list")
        print(f"(celery) {queued:,} batches waiting in the broker")


if __name__ == "__main__":
    main()
