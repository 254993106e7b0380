"""``manage.py event_hub_outbox``: look at and send on the batches waiting in the outbox.

* ``list [--limit N]`` shows the parked batches, the next due first.
* ``publish [--limit N]`` sends the due ones on now (publishes them in
  ``celery`` mode, delivers them in this process in ``sync`` mode), as the
  ``event_hub.republish_outbox`` periodic task does; first it publishes what
  dead processes left in their spool files (``SPOOL_DIR``). It exits with
  status 1 when the broker is still unavailable.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Sum
from django.utils import timezone

from event_hub.delivery import spool
from event_hub.delivery.republish import republish
from event_hub.models import OutboxBatch

LIST_LIMIT = 50


def error_summary(text: str, width: int = 80) -> str:
    """The last non-empty line of an error (the exception itself, after any traceback), shortened."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    summary = lines[-1] if lines else ""
    return summary if len(summary) <= width else summary[: width - 1] + "…"


class Command(BaseCommand):
    help = "List the batches waiting in the event_hub outbox, or send the due ones on now."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,publish}")
        listing = actions.add_parser("list", help="show the parked batches, the next due first")
        listing.add_argument(
            "--limit", type=int, default=LIST_LIMIT, help=f"show at most N batches (default {LIST_LIMIT})"
        )
        publish = actions.add_parser("publish", help="send the due batches on now")
        publish.add_argument(
            "--limit", type=int, default=None, help="send at most N batches (default: OUTBOX_REPUBLISH_LIMIT)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if options["action"] == "list":
            self.show(limit)
        else:
            self.publish(limit)

    def show(self, limit: int) -> None:
        rows = OutboxBatch.objects.order_by("next_attempt_at", "created_at")
        total = rows.count()
        if not total:
            self.stdout.write("The outbox is empty.")
            return
        now = timezone.now()
        self.stdout.write(
            f"{'batch':32}  {'backend':16} {'events':>6} {'tries':>5}  {'next attempt (UTC)':19}  error"
        )
        for row in rows[:limit]:
            due = "due now" if row.next_attempt_at <= now else f"{row.next_attempt_at:%Y-%m-%d %H:%M:%S}"
            self.stdout.write(
                f"{row.id.hex:32}  {row.backend:16} {row.event_count:>6} {row.attempts:>5}  {due:19}  "
                f"{error_summary(row.last_error)}"
            )
        events = rows.aggregate(events=Sum("event_count"))["events"] or 0
        due_now = rows.filter(next_attempt_at__lte=now).count()
        more = f" (first {limit} shown)" if total > limit else ""
        self.stdout.write(f"{total} batch(es), {events} event(s) in the outbox, {due_now} due now{more}.")

    def publish(self, limit: int | None) -> None:
        recovered = spool.recover_orphans()
        if recovered.files or recovered.remaining:
            self.stdout.write(
                f"spool: published {recovered.events} event(s) from {recovered.files} orphaned file(s); "
                f"{recovered.remaining} orphaned file(s) left."
            )
        report = republish(limit=limit)
        self.stdout.write(
            f"sent {report.sent}, delivered {report.delivered}, retried {report.retried}, "
            f"dead-lettered {report.dead}, failed {report.failed}; {report.remaining} left in the outbox."
        )
        if report.failed or recovered.remaining:
            raise CommandError(
                "the broker is unavailable; the outbox and the spool files keep the batches", returncode=1
            )
