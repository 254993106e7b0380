"""``manage.py event_hub_consume_events -t TOPIC -g GROUP [--extra JSON]``: consume the Redis event bus.

The options are those of openedx-events' ``consume_events``; ``--extra`` takes
the consumer's keyword arguments (``consumer_name``, ``last_read_msg_id``,
``check_backlog``, ``claim_msgs_older_than``). SIGTERM and SIGINT stop it
cleanly (the entry at hand is finished and acknowledged; exit status 0). It
exits with status 1 after ``OPENEDX_BUS_CONSUMER_ERRORS_LIMIT`` consecutive
errors, so a process manager restarts it.
"""

from __future__ import annotations

import json
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from event_hub.openedx.consumer import ConsumerFailed, RedisBusConsumer
from event_hub.openedx.signals import all_signals


class Command(BaseCommand):
    help = "Consume a topic of the Redis event bus and send its events as Open edX signals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-t", "--topic", nargs=1, required=True, help="topic, without the environment prefix"
        )
        parser.add_argument("-g", "--group_id", nargs=1, required=True, help="consumer group")
        parser.add_argument("--extra", nargs="?", type=str, help="JSON object of extra consumer arguments")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            extra = json.loads(options.get("extra") or "{}")
        except json.JSONDecodeError as exc:
            raise CommandError(f"--extra is not JSON: {exc}") from exc
        if not isinstance(extra, dict):
            raise CommandError("--extra must be a JSON object")
        all_signals()
        consumer = RedisBusConsumer(topic=options["topic"][0], group_id=options["group_id"][0], **extra)

        def stop(signum: int, frame: Any) -> None:
            consumer.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        def ready() -> None:
            self.stdout.write(f"consuming {consumer.stream} as {consumer.name} of group {consumer.group}")
            self.stdout.flush()

        try:
            consumer.run(on_ready=ready)
        except ConsumerFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"stopped: {consumer.handled} handled, {consumer.duplicates} duplicates, "
            f"{consumer.dead} dead-lettered"
        )
