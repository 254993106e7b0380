"""``manage.py event_hub_validate PATH [PATH ...]``: check existing tracking logs against the catalog.

Each file may be plain or gzip (told by its first bytes), with one JSON event
per line, possibly after a syslog-style prefix. The report counts the lines
the catalog accepts, rejects (grouped by reason, with ``--limit`` example
lines per reason) and does not know, per event type and source; ``--json``
prints it as JSON instead. A progress bar goes to standard error on a
terminal (``--no-progress`` turns it off).

Exit status: 0 when every line passes, 1 when some are rejected (or, with
``--fail-on-unknown``, name an event type the catalog lacks), 2 when a file
cannot be read. Unknown event types do not fail by default: such a line is not
malformed, and whether the hub delivers it (untyped) is a setting
(``UNREGISTERED_EVENTS``), not a verdict of the catalog. Members the catalog
does not list are not errors either unless ``--strict-fields`` is given (as
with ``STRICT_FIELDS = False``, where the hub delivers them).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from event_hub.logcheck import LogCheck, LogFile
from event_hub.management.commands.event_hub_deadletters import _Stream

DEFAULT_EXAMPLES = 3


class Command(BaseCommand):
    help = (
        "Check Open edX tracking logs (plain or gzip, one JSON event per line) against the event "
        "catalog and report the lines it accepts and rejects, by event type and by reason. Exits "
        "with 1 when some lines are rejected. Event types the catalog does not know are counted and "
        "reported but do not fail the check unless --fail-on-unknown is given: such lines are not "
        "malformed, and the hub can deliver them untyped (UNREGISTERED_EVENTS = 'accept')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="tracking log files (plain or gzip)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON on standard output")
        parser.add_argument(
            "--limit",
            type=int,
            default=DEFAULT_EXAMPLES,
            metavar="N",
            help=f"show at most N example lines per reason (default {DEFAULT_EXAMPLES}; 0 for none)",
        )
        parser.add_argument(
            "--strict-fields",
            action="store_true",
            help="reject events carrying members the catalog does not list (by default they pass, "
            "as the hub delivers them with STRICT_FIELDS = False)",
        )
        parser.add_argument(
            "--fail-on-unknown",
            action="store_true",
            help="fail when a line names an event type the catalog lacks (by default such lines are "
            "counted and reported but pass: they are not malformed)",
        )
        parser.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 0:
            raise CommandError("--limit must be 0 or more")
        check = LogCheck(
            strict=options["strict_fields"],
            fail_on_unknown=options["fail_on_unknown"],
            examples=options["limit"],
        )
        started = time.perf_counter()
        with ExitStack() as files:
            logs = []
            for path in options["paths"]:
                try:
                    logs.append(files.enter_context(LogFile(path)))
                except OSError as exc:
                    raise CommandError(f"cannot read {path}: {exc.strerror or exc}", returncode=2) from exc
            bar = tqdm(
                total=sum(log.size for log in logs),
                unit="B",
                unit_scale=True,
                file=_Stream(self.stderr),
                disable=options["no_progress"] or not self.stderr.isatty(),
                dynamic_ncols=True,
            )
            with bar:
                for log in logs:
                    bar.set_postfix_str(log.path, refresh=False)
                    try:
                        check.check_file(log, bar.update)
                    except (OSError, EOFError) as exc:
                        raise CommandError(f"cannot read {log.path}: {exc}", returncode=2) from exc
        seconds = time.perf_counter() - started
        if options["json"]:
            report = {**check.report(), "seconds": round(seconds, 3)}
            self.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        else:
            self.write_text(check, seconds)
        if not check.passed:
            raise CommandError(f"{check.failed} line(s) failed the check", returncode=1)

    def write_text(self, check: LogCheck, seconds: float) -> None:
        rate = f", {check.lines / seconds:,.0f} lines/s" if seconds > 0 else ""
        self.stdout.write(
            f"{check.lines:,} lines in {len(check.files)} file(s) ({seconds:.2f} s{rate}): "
            f"{check.accepted:,} accepted, {check.rejected:,} rejected, "
            f"{check.unknown:,} of unknown event types"
            + ("" if check.fail_on_unknown or not check.unknown else " (not failing: no --fail-on-unknown)")
        )
        rows = list(check.type_rows())
        if rows:
            width = max(len("event type"), *(len(name) for name, _, _ in rows))
            self.stdout.write("\nBy event type:")
            self.stdout.write(
                f"  {'event type':{width}}  {'source':7} {'lines':>9} {'accepted':>9} {'rejected':>9} "
                f"{'unknown':>9}"
            )
            for name, source, counts in rows:
                self.stdout.write(
                    f"  {name:{width}}  {source:7} {counts.lines:>9,} {counts.accepted:>9,} "
                    f"{counts.rejected:>9,} {counts.unknown:>9,}"
                )
        reasons = check.reason_rows()
        if reasons:
            self.stdout.write("\nBy reason (a line may have several):")
            for reason in reasons:
                where = f"{reason.event_type} [{reason.source}]: " if reason.event_type else ""
                self.stdout.write(f"  {reason.count:>9,}  {where}{reason.message}")
                for file, number, text in reason.examples:
                    self.stdout.write(f"{'':13}{file}:{number}: {text}")
        self.stdout.write("\n" + ("PASSED" if check.passed else f"FAILED: {check.failed:,} line(s)"))
