"""``manage.py event_hub_segment_sink``: a local Segment-compatible endpoint for tests and the demo.

Serves ``POST /v1/batch`` as segment-analytics-python calls it and stores what
it accepts in SQLite; scripted faults (500, 429 with ``Retry-After``, 400, slow
answers, no answer) are set with ``POST /control/faults``
(:mod:`event_hub.segment_sink` describes the endpoints). Point the Segment
backend's ``host`` option at the URL it prints.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from event_hub.segment_sink import serve


class Command(BaseCommand):
    help = "Run a local Segment-compatible /v1/batch endpoint that stores what it receives in SQLite."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
        parser.add_argument(
            "--write-key",
            default=os.environ.get("EVENT_HUB_SEGMENT_WRITE_KEY", "dev-write-key"),
            help="the write key clients must send (default $EVENT_HUB_SEGMENT_WRITE_KEY or 'dev-write-key')",
        )
        parser.add_argument(
            "--db", default="var/segment-sink.sqlite3", help="SQLite file of what arrives (kept across runs)"
        )
        parser.add_argument("--reset", action="store_true", help="forget what earlier runs stored")
        parser.add_argument("--port-file", help="write the port listened on to this file once ready")

    def handle(self, *args: Any, **options: Any) -> None:
        sink = serve(options["host"], options["port"], options["write_key"], options["db"])
        if options["reset"]:
            sink.store.reset()
        # SIGTERM ends the server like Ctrl-C does (the test suite and ./scripts/run stop it so).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        port = sink.server_address[1]
        if options["port_file"]:
            Path(options["port_file"]).write_text(str(port))
        self.stdout.write(
            f"Segment sink listening on {sink.url}/v1/batch (write key {options['write_key']!r}); "
            f"storing in {options['db']}; stats at {sink.url}/control/stats"
        )
        self.stdout.flush()
        try:
            sink.serve_forever(poll_interval=0.2)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            sink.server_close()
            sink.wait_stored()  # a batch answered just before the stop is stored, not lost
            sink.store.close()
