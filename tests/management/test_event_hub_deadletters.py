"""``manage.py event_hub_deadletters list|replay``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from event_hub.backends import memory
from event_hub.delivery import deadletters
from event_hub.delivery.batch import Batch
from event_hub.models import DeadLetter
from tests.conftest import ROOT, subprocess_env
from tests.support_backends import wire_line

MEMORY = {"ENGINE": "event_hub.backends.memory.MemoryBackend"}
BROKEN = {"ENGINE": "tests.support_backends.BrokenBackend"}


def letter(backend: str, count: int = 1, reason: str = DeadLetter.Reason.PERMANENT) -> DeadLetter:
    batch = Batch(backend=backend, lines=[wire_line(f"{backend}{n}") for n in range(count)])
    return deadletters.record(batch, reason=reason, error="Traceback ...\nValueError: refused", attempts=3)


class Terminal(StringIO):
    """A text stream that says it is a terminal (the progress bar shows only on one)."""

    def isatty(self) -> bool:
        return True


def run(*args: str, stderr: StringIO | None = None) -> tuple[str, str]:
    out, err = StringIO(), stderr if stderr is not None else StringIO()
    call_command("event_hub_deadletters", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture(name="two_backends")
def fixture_two_backends(hub: Callable[..., Any]) -> None:
    """Sync delivery: ``memory`` works, ``broken`` fails every time."""
    hub(DELIVERY="sync", BACKENDS={"memory": MEMORY, "broken": BROKEN})


@pytest.mark.django_db
class TestList:
    def test_nothing_to_list(self) -> None:
        """Without dead letters the command says so."""
        assert run("list")[0].strip() == "No dead letters to replay."

    def test_lists_pending_letters(self) -> None:
        """Each pending letter is a row with id, backend, reason, events and the error's last line."""
        first = letter("memory", 2)
        letter("broken", reason=DeadLetter.Reason.RETRIES_EXHAUSTED)
        out, _ = run("list")
        rows = out.splitlines()
        assert len(rows) == 4
        assert rows[1].split()[0] == str(first.pk)
        assert "memory" in rows[1]
        assert "ValueError: refused" in rows[1]
        assert "retries_exhausted" in rows[2]
        assert rows[3] == "2 dead letter(s) to replay."

    def test_backend_filter_and_limit(self) -> None:
        """--backend keeps one backend's letters; --limit bounds the rows shown."""
        for _ in range(3):
            letter("memory")
        letter("broken")
        out, _ = run("list", "--backend", "memory", "--limit", "2")
        rows = out.splitlines()
        assert len(rows) == 4
        assert all("broken" not in row for row in rows)
        assert rows[-1] == "3 dead letter(s) to replay (first 2 shown)."


@pytest.mark.django_db
class TestReplay:
    def test_replay_all(self, two_backends: None) -> None:
        """replay --all delivers every letter it can and names the ones that failed; exit status 1."""
        ok = letter("memory", 2)
        bad = letter("broken")
        out, err = StringIO(), StringIO()
        with pytest.raises(CommandError, match="1 dead letter") as caught:
            call_command("event_hub_deadletters", "replay", "--all", stdout=out, stderr=err)
        assert caught.value.returncode == 1
        assert out.getvalue().strip() == "replayed 1, failed 1"
        assert f"dead letter {bad.pk} (broken)" in err.getvalue()
        assert [event["id"] for event in memory.events("memory")] == ["memory0", "memory1"]
        ok.refresh_from_db()
        bad.refresh_from_db()
        assert ok.replayed_at is not None
        assert (bad.replayed_at, bad.replay_attempts) == (None, 1)

    def test_replay_succeeding_exits_zero(self, two_backends: None) -> None:
        """When every replay succeeds the summary says so and the command returns normally."""
        letter("memory")
        letter("memory")
        assert run("replay", "--backend", "memory")[0].strip() == "replayed 2, failed 0"
        assert deadletters.count_pending() == 0

    def test_replay_by_id(self, two_backends: None) -> None:
        """--id replays just the letters named, and warns about ids that do not exist."""
        first, second, third = letter("memory"), letter("memory"), letter("memory")
        out, err = run("replay", "--id", str(first.pk), str(third.pk), "--id", "999999")
        assert out.strip() == "replayed 2, failed 0"
        assert "dead letter 999999 does not exist" in err
        assert [row.pk for row in deadletters.pending()] == [second.pk]

    def test_replayed_letters_are_not_replayed_again(self, two_backends: None) -> None:
        """A second replay --all finds nothing left to deliver."""
        letter("memory")
        run("replay", "--all")
        assert run("replay", "--all")[0].strip() == "replayed 0, failed 0"
        assert len(memory.events("memory")) == 1

    def test_replay_needs_a_selection(self, two_backends: None) -> None:
        """replay without --id, --backend or --all refuses to guess."""
        letter("memory")
        with pytest.raises(CommandError, match="--all"):
            run("replay")
        assert deadletters.count_pending() == 1

    def test_progress_bar_on_a_terminal(self, two_backends: None) -> None:
        """On a terminal, replay draws a progress bar on stderr, counting every letter."""
        for _ in range(3):
            letter("memory")
        _, err = run("replay", "--all", stderr=Terminal())
        assert "3/3" in err
        assert "100%" in err

    def test_no_progress_bar_when_asked_or_not_a_terminal(self, two_backends: None) -> None:
        """--no-progress, or a stderr that is not a terminal, means no progress bar."""
        letter("memory")
        letter("memory")
        assert run("replay", "--all", "--no-progress", stderr=Terminal())[1] == ""
        letter("memory")
        assert run("replay", "--all")[1] == ""


@pytest.mark.django_db(transaction=True)
class TestExitStatus:
    def test_manage_py_exits_one_when_a_replay_fails(self) -> None:
        """Run as a program, replay exits with status 1 and prints the summary when a letter fails."""
        letter("broken")
        config = {"DELIVERY": "sync", "BACKENDS": {"broken": BROKEN}}
        result = subprocess.run(
            [sys.executable, "-m", "django", "event_hub_deadletters", "replay", "--all"],
            env=subprocess_env(config),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        assert result.stdout.strip() == "replayed 0, failed 1"
        assert "could not be replayed" in result.stderr
        assert DeadLetter.objects.get().replay_attempts == 1
