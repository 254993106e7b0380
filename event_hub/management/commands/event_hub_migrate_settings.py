"""``manage.py event_hub_migrate_settings``: the ``EVENT_HUB`` matching the event-tracking settings.

Reads ``EVENT_TRACKING_BACKENDS``, ``TRACKING_BACKENDS``, the whitelists and the other
settings :mod:`event_hub.plugin.migration` lists from the running settings and prints a
settings block to paste, followed by notes (as comments) for what has no equivalent or
needs a decision. ``--json`` prints ``{"EVENT_HUB": ..., "notes": [...]}`` instead.
"""

from __future__ import annotations

import json
import pprint
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from event_hub.plugin.migration import translate


class Command(BaseCommand):
    help = "Print the EVENT_HUB setting that matches this site's event-tracking settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print JSON instead of Python.")

    def handle(self, *args: Any, **options: Any) -> None:
        values = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
        migration = translate(values)
        if options["json"]:
            self.stdout.write(json.dumps({"EVENT_HUB": migration.hub, "notes": migration.notes}, indent=2))
            return
        self.stdout.write("# EVENT_HUB matching this site's event-tracking settings.")
        self.stdout.write("EVENT_HUB = " + pprint.pformat(migration.hub, sort_dicts=True, width=100))
        if migration.notes:
            self.stdout.write("")
            self.stdout.write("# Notes:")
            for note in migration.notes:
                self.stdout.write(f"# - {note}")
