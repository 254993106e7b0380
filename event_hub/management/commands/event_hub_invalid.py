"""``manage.py event_hub_invalid prune``: apply the invalid-events bounds now.

Deletes the rows older than ``INVALID_EVENTS_RETENTION_DAYS`` and the oldest rows beyond
``INVALID_EVENTS_MAX_ROWS`` (each process also does this every few hundred rows it stores).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from event_hub import invalid


class Command(BaseCommand):
    help = "Prune the event_hub invalid-events table to its retention and size bounds."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{prune}")
        actions.add_parser("prune", help="delete rows past the retention period and beyond the row cap")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = invalid.prune()
        self.stdout.write(
            f"deleted {deleted} invalid-event row(s); {invalid.InvalidEvent.objects.count()} left"
        )
