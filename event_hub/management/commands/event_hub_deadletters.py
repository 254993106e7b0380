"""``manage.py event_hub_deadletters``: look at and replay batches that could not be delivered.

* ``list [--backend B] [--limit N]`` shows the dead letters not replayed yet, oldest first.
* ``replay (--id ID ... | --backend B | --all)`` delivers them again in this
  process, to the backends configured here. A progress bar goes to standard
  error on a terminal (``--no-progress`` turns it off). The summary line says
  how many were replayed and how many failed; the command exits with status 1
  when any failed (those keep their row, with the new error).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from event_hub.delivery import deadletters
from event_hub.delivery.replay import replay
from event_hub.management.commands.event_hub_outbox import error_summary
from event_hub.models import DeadLetter

LIST_LIMIT = 50
#: Failed replays named one by one in the output; beyond this only the count is given.
FAILURES_SHOWN = 20


class _Stream:
    """A management command's output wrapper as a plain stream (no newline added per write), for tqdm."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, ending="")

    def flush(self) -> None:
        self._wrapper.flush()


class Command(BaseCommand):
    help = "List the event_hub dead letters, or deliver them again in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,replay}")
        listing = actions.add_parser("list", help="show the dead letters not replayed yet, oldest first")
        listing.add_argument("--backend", help="only the dead letters of this backend")
        listing.add_argument(
            "--limit",
            type=int,
            default=LIST_LIMIT,
            help=f"show at most N dead letters (default {LIST_LIMIT})",
        )
        replay = actions.add_parser("replay", help="deliver dead letters again, in this process")
        replay.add_argument(
            "--id", dest="ids", type=int, nargs="+", action="extend", metavar="ID", help="these dead letters"
        )
        replay.add_argument("--backend", help="only the dead letters of this backend")
        replay.add_argument("--all", action="store_true", help="every dead letter not replayed yet")
        replay.add_argument("--no-progress", action="store_true", help="never show the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            if options["limit"] < 1:
                raise CommandError("--limit must be at least 1")
            self.show(options["backend"], options["limit"])
        else:
            self.replay_letters(
                options["ids"],
                options["backend"],
                everything=options["all"],
                progress=not options["no_progress"],
            )

    def show(self, backend: str | None, limit: int) -> None:
        total = deadletters.count_pending(backend)
        if not total:
            self.stdout.write(
                "No dead letters to replay." if not backend else f"No dead letters for {backend!r}."
            )
            return
        self.stdout.write(
            f"{'id':>6}  {'created (UTC)':19}  {'backend':16} {'reason':17} {'events':>6} {'tries':>5} "
            f"{'replays':>7}  error"
        )
        for shown, letter in enumerate(deadletters.pending(backend)):
            if shown == limit:
                break
            error = letter.last_replay_error or letter.error
            self.stdout.write(
                f"{letter.pk:>6}  {letter.created_at:%Y-%m-%d %H:%M:%S}  {letter.backend:16} "
                f"{letter.reason:17} {letter.event_count:>6} {letter.attempts:>5} "
                f"{letter.replay_attempts:>7}  "
                f"{error_summary(error)}"
            )
        more = f" (first {limit} shown)" if total > limit else ""
        self.stdout.write(f"{total} dead letter(s) to replay{more}.")

    def replay_letters(
        self, ids: list[int] | None, backend: str | None, *, everything: bool, progress: bool
    ) -> None:
        if not (ids or backend or everything):
            raise CommandError("say which dead letters to replay: --id ID ..., --backend NAME or --all")
        total = deadletters.count_pending(backend, ids)
        if ids:
            found = set(DeadLetter.objects.filter(pk__in=ids).values_list("pk", flat=True))
            for missing in sorted(set(ids) - found):
                self.stderr.write(f"dead letter {missing} does not exist")
        replayed, failed = 0, []
        bar = tqdm(
            total=total,
            unit="letter",
            file=_Stream(self.stderr),
            disable=not (progress and self.stderr.isatty()),
            dynamic_ncols=True,
        )
        with bar:
            for letter in deadletters.pending(backend, ids):
                if replay(letter):
                    replayed += 1
                else:
                    failed.append(letter)
                bar.update()
        for letter in failed[:FAILURES_SHOWN]:
            self.stderr.write(
                f"dead letter {letter.pk} ({letter.backend}): {error_summary(letter.last_replay_error)}"
            )
        if len(failed) > FAILURES_SHOWN:
            self.stderr.write(f"... and {len(failed) - FAILURES_SHOWN} more")
        self.stdout.write(f"replayed {replayed}, failed {len(failed)}")
        if failed:
            raise CommandError(f"{len(failed)} dead letter(s) could not be replayed", returncode=1)
