"""The fault matrix, long variant: every cell on Redis and RabbitMQ, then the table.

::

    .venv/bin/python bench/faults.py [--short] [--broker redis|rabbitmq ...] [--cell NAME ...]
                                     [--mode spool|direct ...]

The cells, the stacks and the counting are those of ``tests/faults`` (tests/faults/harness.py);
the long variant loads harder and longer (``harness.LONG``: 5 s of load, the fault — outages of
10 s, 4 kills 5 s apart — then 10 s more). Needs PostgreSQL (``FAULTS_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/postgres``: a database is created and dropped), Redis
(``FAULTS_REDIS_URL``, default db 15 of 127.0.0.1:6379, **emptied**) and RabbitMQ
(``FAULTS_AMQP_URL``). Exits non-zero when a cell fails.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.faults import harness  # noqa: E402 - needs the root on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the short variant CI runs")
    parser.add_argument("--broker", action="append", choices=("redis", "rabbitmq"))
    parser.add_argument("--cell", action="append", choices=sorted(harness.CELLS))
    parser.add_argument("--mode", action="append", choices=harness.MODES)
    parser.add_argument("--keep", action="store_true", help="keep the folder of logs")
    args = parser.parse_args()
    profile = harness.SHORT if args.short else harness.LONG
    brokers = tuple(args.broker or ("redis", "rabbitmq"))
    directory = Path(tempfile.mkdtemp(prefix="event_hub_faults_"))
    matrix = harness.Matrix(directory, harness.default_brokers(), harness.default_database_url())
    results = []
    print(f"fault matrix, {profile.name} variant ({profile}); logs in {directory}")
    print(harness.HEADER, flush=True)
    try:
        for kind, mode, name in harness.plan(brokers):
            if (args.cell and name not in args.cell) or (args.mode and mode not in args.mode):
                continue
            result = matrix.run(kind, mode, name, profile)
            results.append(result)
            print(result.row(), flush=True)
    finally:
        matrix.close()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    failed = [r for r in results if not r.passed]
    print(f"{len(results) - len(failed)} of {len(results)} cells passed")
    print("cells:")
    for cell in harness.CELLS.values():
        print(f"  {cell.name} ({', '.join(cell.modes)}): {cell.proves}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
