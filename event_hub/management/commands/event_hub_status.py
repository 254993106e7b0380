"""``manage.py event_hub_status``: is every event on its way, and does anything need a person?

Shows the broker queue of the delivery task (messages waiting), the outbox, the spool files,
the dead letters per backend, the invalid events per type (held back / delivered) and each
backend's last recorded delivery (:mod:`event_hub.progress`). ``--json`` prints the same as
one JSON object.

Exit status 1 when something needs a person (each reason is listed under ``problems``):

* dead letters not replayed;
* an outbox batch older than ``--outbox-minutes`` (default 10);
* events waiting (in the queue or the outbox) while no backend recorded a delivery for
  ``--stalled-minutes`` (default 10);
* the broker cannot be reached.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import orjson
from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from event_hub import progress
from event_hub.conf import hub_settings
from event_hub.models import DeadLetter, InvalidEvent, OutboxBatch

#: Event types listed under invalid events (the most frequent first).
INVALID_TYPES_SHOWN = 20
BROKER_TIMEOUT_SECONDS = 3.0


def queue_depth(app: Any = None) -> dict[str, Any]:
    """Messages waiting in the delivery task's queue (Redis LLEN, AMQP passive declare), via kombu."""
    app = app or current_app
    name = hub_settings.CELERY_QUEUE or app.conf.task_default_queue
    result: dict[str, Any] = {"queue": name, "broker": _safe_url(app), "messages": None, "error": ""}
    try:
        with app.connection_for_read(connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS
            )
            channel = connection.channel()
            try:
                _, messages, _ = channel.queue_declare(queue=name, passive=True)
            except connection.channel_errors:
                # No such queue yet: Redis drops an empty list, RabbitMQ has it once a worker declared it.
                messages = 0
            result["messages"] = int(messages)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the broker is reported, not raised
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def _safe_url(app: Any) -> str:
    """The broker URL without its password."""
    with app.connection_for_read() as connection:
        return str(connection.as_uri())


def outbox_status(now: datetime.datetime) -> dict[str, Any]:
    totals = OutboxBatch.objects.aggregate(
        batches=Count("id"), events=Sum("event_count"), oldest=Min("created_at")
    )
    oldest = totals["oldest"]
    return {
        "batches": totals["batches"],
        "events": totals["events"] or 0,
        # Held until a worker confirms them (not due yet), or due to be published (again) now.
        "unconfirmed": OutboxBatch.objects.filter(next_attempt_at__gt=now).count(),
        "due": OutboxBatch.objects.filter(next_attempt_at__lte=now).count(),
        "oldest_age_seconds": (now - oldest).total_seconds() if oldest else None,
    }


def spool_status() -> dict[str, Any]:
    """Files and bytes in ``SPOOL_DIR`` (spool files are truncated once all of them is published)."""
    folder = Path(hub_settings.SPOOL_DIR)
    files, size = 0, 0
    if folder.is_dir():
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".spool") and entry.is_file():
                    files += 1
                    size += entry.stat().st_size
    return {"dir": str(folder), "files": files, "bytes": size}


def dead_letter_status() -> dict[str, Any]:
    rows = (
        DeadLetter.objects.filter(replayed_at__isnull=True)
        .values("backend")
        .annotate(letters=Count("id"), events=Sum("event_count"), oldest=Min("created_at"))
        .order_by("backend")
    )
    return {
        row["backend"]: {
            "letters": row["letters"],
            "events": row["events"],
            "oldest": row["oldest"].isoformat(),
        }
        for row in rows
    }


def invalid_status() -> dict[str, Any]:
    rows = (
        InvalidEvent.objects.values("name")
        .annotate(
            held=Count("id", filter=Q(delivered=False)),
            delivered=Count("id", filter=Q(delivered=True)),
            total=Count("id"),
        )
        .order_by("-total", "name")[:INVALID_TYPES_SHOWN]
    )
    return {row["name"]: {"held": row["held"], "delivered": row["delivered"]} for row in rows}


def delivery_status(now: datetime.datetime) -> dict[str, Any]:
    backends = list(hub_settings.backend_configs())
    marks = progress.last_deliveries()
    return {
        name: (
            {
                "batch_id": marks[name].batch_id,
                "events": marks[name].event_count,
                "delivered_at": marks[name].delivered_at.isoformat(),
                "age_seconds": (now - marks[name].delivered_at).total_seconds(),
            }
            if name in marks
            else None
        )
        for name in backends
    }


def gather(*, outbox_minutes: float, stalled_minutes: float, app: Any = None) -> dict[str, Any]:
    """Everything the command shows, and the ``problems`` that need a person."""
    now = timezone.now()
    report: dict[str, Any] = {
        "time": now.isoformat(),
        "delivery": hub_settings.DELIVERY,
        "handoff": hub_settings.HANDOFF,
        "queue": queue_depth(app) if hub_settings.DELIVERY == "celery" else None,
        "outbox": outbox_status(now),
        "spool": spool_status(),
        "dead_letters": dead_letter_status(),
        "invalid_events": invalid_status(),
        "last_delivery": delivery_status(now),
    }
    problems: list[str] = []
    for backend, letters in report["dead_letters"].items():
        problems.append(
            f"{letters['letters']} dead letter(s) ({letters['events']} events) of backend {backend!r} "
            "not replayed: manage.py event_hub_deadletters list"
        )
    outbox = report["outbox"]
    if outbox["oldest_age_seconds"] is not None and outbox["oldest_age_seconds"] > outbox_minutes * 60:
        problems.append(
            f"the outbox has held batches for {outbox['oldest_age_seconds'] / 60:.0f} minutes "
            "(broker down, or no beat/republish task?): manage.py event_hub_outbox list"
        )
    queue = report["queue"]
    if queue is not None and queue["error"]:
        problems.append(f"the broker cannot be reached: {queue['error']}")
    waiting = (queue["messages"] or 0 if queue is not None else 0) + outbox["events"]
    if waiting:
        ages = [mark["age_seconds"] for mark in report["last_delivery"].values() if mark is not None]
        newest = min(ages) if ages else None
        if newest is None or newest > stalled_minutes * 60:
            since = "ever" if newest is None else f"for {newest / 60:.0f} minutes"
            problems.append(
                f"messages/events are waiting but no delivery was recorded {since}: is a worker running?"
            )
    report["problems"] = problems
    return report


class Command(BaseCommand):
    help = "Show the state of event_hub delivery; exit 1 when something needs a person."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--outbox-minutes", type=float, default=10.0, help="an outbox batch older than this is a problem"
        )
        parser.add_argument(
            "--stalled-minutes",
            type=float,
            default=10.0,
            help="events waiting with no delivery recorded for this long is a problem",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = gather(outbox_minutes=options["outbox_minutes"], stalled_minutes=options["stalled_minutes"])
        if options["json"]:
            self.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        else:
            self.show(report)
        if report["problems"]:
            raise CommandError(f"{len(report['problems'])} problem(s) need attention", returncode=1)

    def show(self, report: dict[str, Any]) -> None:
        write = self.stdout.write
        write(f"delivery {report['delivery']}, hand-off {report['handoff']}, at {report['time']}")
        queue = report["queue"]
        if queue is not None:
            depth = queue["messages"] if not queue["error"] else f"unknown ({queue['error']})"
            write(f"broker queue {queue['queue']!r} on {queue['broker']}: {depth} message(s) waiting")
        outbox = report["outbox"]
        age = outbox["oldest_age_seconds"]
        write(
            f"outbox: {outbox['batches']} batch(es), {outbox['events']} event(s): "
            f"{outbox['unconfirmed']} awaiting a worker's confirmation, {outbox['due']} due to be sent"
            + (f", oldest {age / 60:.1f} min" if age is not None else "")
        )
        spool = report["spool"]
        write(f"spool {spool['dir']}: {spool['files']} file(s), {spool['bytes']} byte(s)")
        if report["dead_letters"]:
            for backend, letters in report["dead_letters"].items():
                write(
                    f"dead letters {backend}: {letters['letters']} ({letters['events']} events), "
                    f"oldest {letters['oldest']}"
                )
        else:
            write("dead letters: none to replay")
        if report["invalid_events"]:
            write("invalid events (held back / delivered):")
            for name, counts in report["invalid_events"].items():
                write(f"  {name}: {counts['held']} / {counts['delivered']}")
        for backend, mark in report["last_delivery"].items():
            if mark is None:
                write(f"last delivery {backend}: none recorded")
            else:
                write(
                    f"last delivery {backend}: {mark['delivered_at']} "
                    f"({mark['age_seconds'] / 60:.1f} min ago, "
                    f"batch {mark['batch_id']}, {mark['events']} events)"
                )
        for problem in report["problems"]:
            self.stderr.write(f"PROBLEM: {problem}")
        if not report["problems"]:
            write("OK: nothing needs attention")
