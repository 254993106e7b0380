"""Short runs of the benchmarks for CI logs: print the figures and the goals, never judge them.

Run: ``.venv/bin/python bench/ci.py`` (``--full`` for the scripts' own sizes; ``--only NAME``).

Each benchmark runs in a fresh process with small sizes (a few seconds each), one after the
other; the lines that carry a goal (``met`` / ``MISSED``, ``goal``) are collected into a summary
at the end, so a slowdown shows in the CI log. Nothing here compares a figure with a threshold:
the exit status is 1 only when a benchmark *crashed* (a non-zero exit, the sign that it no longer
runs against the code); a benchmark that needs what is missing (Redis, the ``bench`` extra, the
LRS) is skipped with a note, and one that overruns its time is stopped and reported.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
TIMEOUT = 180

#: (script, short arguments, modules it needs, needs Redis)
RUNS: list[tuple[str, list[str], tuple[str, ...], bool]] = [
    ("emit.py", ["--units", "25", "--per-unit", "20"], ("eventtracking",), False),
    ("validation.py", ["--calls", "500"], (), False),
    ("api_path.py", ["--requests", "5"], ("rest_framework",), True),
    ("handoff.py", ["--events", "200", "--units", "200"], ("eventtracking",), True),
    ("api_load.py", ["--seconds", "0.5", "--rounds", "1"], ("gunicorn",), True),
    ("worker.py", ["--batches", "10", "--real-batches", "50"], (), True),
    ("bus.py", ["--events", "300"], ("edx_event_bus_redis",), True),
    ("xapi.py", ["--events", "1000", "--no-lrs"], (), False),
]


def redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def goal_lines(output: str) -> list[str]:
    """The lines of a benchmark's output that state a goal or its outcome."""
    keep = ("met", "MISSED", "goal", ">=", "<=", "statements/s")
    return [line.rstrip() for line in output.splitlines() if any(word in line for word in keep)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the scripts' own sizes instead of short ones")
    parser.add_argument("--only", action="append", help="run only this script (repeatable)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per script")
    args = parser.parse_args()

    url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
    redis_up = redis_answers(url)
    summary: list[tuple[str, list[str]]] = []
    crashed: list[str] = []
    for script, short, modules, needs_redis in RUNS:
        if args.only and script not in args.only:
            continue
        missing = [name for name in modules if importlib.util.find_spec(name) is None]
        if missing or (needs_redis and not redis_up):
            why = (
                f"missing {', '.join(missing)} (pip install -e '.[bench]')"
                if missing
                else f"{url} does not answer"
            )
            print(f"[bench/ci] skip {script}: {why}\n", flush=True)
            summary.append((script, [f"skipped: {why}"]))
            continue
        command = [sys.executable, str(HERE / script), *([] if args.full else short)]
        if script == "bus.py":
            command += ["--redis", url]
        if script == "xapi.py" and args.full:
            command.append("--no-lrs")
        print(f"[bench/ci] $ {' '.join(command)}", flush=True)
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                cwd=HERE.parent,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=args.timeout,
            )
        except subprocess.TimeoutExpired as exc:
            output = (
                exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode(errors="replace")
            )
            print(output)
            print(f"[bench/ci] {script} overran {args.timeout:.0f} s and was stopped\n", flush=True)
            summary.append((script, [*goal_lines(output), f"stopped after {args.timeout:.0f} s"]))
            continue
        print(done.stdout)
        print(
            f"[bench/ci] {script}: {time.perf_counter() - started:.1f} s, exit {done.returncode}\n",
            flush=True,
        )
        if done.returncode:
            crashed.append(script)
        summary.append((script, goal_lines(done.stdout) or ["(no goal lines)"]))

    print("=" * 72)
    print("bench/ci summary: goals as printed by each benchmark (figures from this run, not judged)")
    print("=" * 72)
    for script, lines in summary:
        print(f"--- {script}")
        for line in lines:
            print(f"    {line}")
    if crashed:
        print(f"\n[bench/ci] crashed: {', '.join(crashed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
