"""Run every benchmark, one after the other, each in a fresh process.

Run: ``.venv/bin/python bench/run_all.py`` (``--profile`` passes ``--profile`` to bench/emit.py).

The broker benchmarks need Redis (``BENCH_BROKER_URL``, default
``redis://127.0.0.1:6379/14``); when it does not answer, bench/handoff.py, bench/api_path.py and
bench/segment.py are skipped and bench/worker.py runs without its real-worker part.
bench/api_load.py and bench/scaleout.py (servers under load, a minute or more) run on their own;
bench/ci.py runs everything with short sizes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from ci import redis_answers  # bench/ is on sys.path when this script runs

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="add the cProfile section of bench/emit.py")
    args = parser.parse_args()

    url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
    redis_up = redis_answers(url)
    runs: list[list[str]] = [["emit.py", *(["--profile"] if args.profile else [])], ["validation.py"]]
    if redis_up:
        runs += [["handoff.py"], ["api_path.py"], ["worker.py"], ["segment.py"]]
    else:
        print(f"[run_all] {url} does not answer: skipping the broker benchmarks and the real worker\n")
        runs += [["worker.py", "--no-real-worker"]]

    failed = []
    for script, *script_args in runs:
        command = [sys.executable, str(HERE / script), *script_args]
        print(f"[run_all] $ {' '.join(command)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command, cwd=HERE.parent)
        print(
            f"[run_all] {script} finished in {time.perf_counter() - started:.1f} s (exit code {code})\n",
            flush=True,
        )
        if code:
            failed.append(script)
    if failed:
        print(f"[run_all] failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
