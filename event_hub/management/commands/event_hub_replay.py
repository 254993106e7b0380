"""``manage.py event_hub_replay PATH [PATH ...] --backend NAME``: backfill a backend from tracking logs.

Reads Open edX tracking logs (plain or gzip, one JSON event per line, syslog
prefixes allowed) and delivers their events to one configured backend, in
batches, in this process, through the backend's processors and retry policy
(undeliverable batches become dead letters). Progress is saved after every
batch in a checkpoint file (``--checkpoint``, by default ``PATH.NAME.replay``
for the first PATH): run the same command again after an interruption and it
goes on where it stopped. Lines without an ``id`` get one derived from their
content, so replaying twice sends the same events (and xAPI statement ids)
again, which an LRS keeps once. A progress bar goes to standard error on a
terminal (``--no-progress`` turns it off).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from event_hub.logcheck import LogFile
from event_hub.management.commands.event_hub_deadletters import _Stream
from event_hub.replay import Checkpoint, Replay


class Command(BaseCommand):
    help = (
        "Deliver the events of Open edX tracking logs (plain or gzip) to one backend, in batches, "
        "resumable from a checkpoint file and idempotent (ids derived from each line)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="tracking log files (plain or gzip)")
        parser.add_argument(
            "--backend", required=True, metavar="NAME", help="the EVENT_HUB backend to deliver to"
        )
        parser.add_argument("--batch-size", type=int, default=500, metavar="N", help="events per batch (500)")
        parser.add_argument("--checkpoint", metavar="FILE", help="progress file (default: PATH.NAME.replay)")
        parser.add_argument(
            "--limit", type=int, metavar="N", help="stop after N lines (the rest on the next run)"
        )
        parser.add_argument("--restart", action="store_true", help="ignore the checkpoint and start over")
        parser.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more")
        paths = options["paths"]
        checkpoint_path = Path(options["checkpoint"] or f"{paths[0]}.{options['backend']}.replay")
        if options["restart"] and checkpoint_path.exists():
            checkpoint_path.unlink()
        try:
            replay = Replay(
                options["backend"],
                Checkpoint(checkpoint_path),
                batch_size=options["batch_size"],
                limit=options["limit"],
            )
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        started = time.perf_counter()
        for path in paths:
            try:
                log = LogFile(path)
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror or exc}", returncode=2) from exc
            with (
                log,
                tqdm(
                    total=log.size,
                    unit="B",
                    unit_scale=True,
                    file=_Stream(self.stderr),
                    disable=options["no_progress"] or not self.stderr.isatty(),
                    dynamic_ncols=True,
                    desc=path,
                ) as bar,
            ):
                replay.run(log, bar.update)
        report = replay.report
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{report.lines:,} lines replayed to {options['backend']} in {seconds:.2f} s "
            f"({report.resumed:,} done before): {report.delivered:,} delivered in "
            f"{report.batches:,} batches, {report.filtered:,} filtered out, "
            f"{report.unreadable:,} unreadable, "
            f"{report.rejected:,} rejected and {report.dead:,} dead-lettered"
        )
        if report.dead or report.rejected:
            raise CommandError("some events were dead-lettered (see event_hub_deadletters)", returncode=1)
