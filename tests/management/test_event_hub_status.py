"""manage.py event_hub_status: queue, outbox, spool, dead letters, invalid events, last delivery; exit 1."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from event_hub import progress
from event_hub.management.commands import event_hub_status
from event_hub.models import DeadLetter, DeliveryProgress, InvalidEvent, OutboxBatch
from tests.support_backends import celery_app

pytestmark = pytest.mark.django_db

MEMORY = {"memory": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}}


@pytest.fixture(name="celery_hub")
def fixture_celery_hub(hub: Callable[..., dict[str, Any]], tmp_path: Path) -> Path:
    spool = tmp_path / "spool"
    hub(DELIVERY="celery", BACKENDS=MEMORY, SPOOL_DIR=str(spool))
    progress.forget()
    return spool


@pytest.fixture(name="app")
def fixture_app(purge_broker: Callable[[], None], celery_hub: Path) -> Iterator[Celery]:
    """A Celery app on the real test broker (Redis), current while the test runs; queue emptied."""
    with celery_app() as app:
        yield app


def status(*args: str) -> tuple[dict[str, Any], int]:
    """Run the command with --json; the report and the exit status."""
    out: list[str] = []

    class Sink:
        def write(self, text: str) -> None:
            out.append(text)

        def flush(self) -> None:
            """Nothing buffered."""

    try:
        call_command("event_hub_status", "--json", *args, stdout=Sink(), stderr=Sink())
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return json.loads("".join(out)), code


def dead_letter(backend: str = "memory", **values: Any) -> DeadLetter:
    return DeadLetter.objects.create(
        batch_id=uuid.uuid4(),
        backend=backend,
        payload="{}",
        event_count=2,
        reason="permanent",
        error="x",
        **values,
    )


def publish(app: Celery, count: int) -> None:
    for _ in range(count):
        app.send_task("event_hub.deliver_batch", args=("memory", "{}", uuid.uuid4().hex))


class TestHealthy:
    def test_nothing_waiting_is_ok(self, app: Celery) -> None:
        """An empty pipeline reports zeros everywhere and exits 0."""
        report, code = status()
        assert code == 0
        assert report["problems"] == []
        assert report["queue"]["messages"] == 0
        assert report["outbox"] == {
            "batches": 0, "events": 0, "unconfirmed": 0, "due": 0, "oldest_age_seconds": None
        }
        assert report["dead_letters"] == {}
        assert report["last_delivery"] == {"memory": None}

    def test_human_output(self, app: Celery, capsys: pytest.CaptureFixture[str]) -> None:
        """Without --json it prints one line per part and says all is well."""
        call_command("event_hub_status")
        out = capsys.readouterr().out
        assert "0 message(s) waiting" in out
        assert "OK: nothing needs attention" in out


class TestQueue:
    def test_queue_depth_is_the_brokers(self, app: Celery) -> None:
        """Messages published to the delivery queue with no worker are counted (Redis LLEN via kombu)."""
        publish(app, 3)
        report, _ = status()
        assert report["queue"]["messages"] == 3
        assert report["queue"]["queue"] == app.conf.task_default_queue

    def test_waiting_with_no_delivery_recorded_is_a_problem(self, app: Celery) -> None:
        """Messages waiting and no worker ever recorded a delivery: exit 1."""
        publish(app, 1)
        report, code = status()
        assert code == 1
        assert any("no delivery was recorded ever" in p for p in report["problems"])

    def test_recent_delivery_means_not_stalled(self, app: Celery) -> None:
        """A delivery recorded a moment ago: waiting messages are just in flight."""
        publish(app, 1)
        assert progress.note_delivered("memory", "b1", 5)
        report, code = status()
        assert code == 0
        assert report["last_delivery"]["memory"]["batch_id"] == "b1"
        assert report["last_delivery"]["memory"]["events"] == 5

    def test_old_delivery_is_stalled(self, app: Celery) -> None:
        """The newest delivery is older than --stalled-minutes while messages wait: exit 1."""
        publish(app, 1)
        progress.note_delivered("memory", "b1", 5)
        DeliveryProgress.objects.update(delivered_at=timezone.now() - datetime.timedelta(minutes=30))
        assert status("--stalled-minutes", "60")[1] == 0
        report, code = status("--stalled-minutes", "10")
        assert code == 1
        assert any("for 30 minutes" in p for p in report["problems"])

    def test_unreachable_broker(self, celery_hub: Path) -> None:
        """A broker that refuses connections is reported as a problem, not a crash."""
        with celery_app() as app:
            app.conf.broker_url = app.conf.broker_read_url = "redis://127.0.0.1:1/0"
            report = event_hub_status.gather(outbox_minutes=10, stalled_minutes=10, app=app)
        assert report["queue"]["messages"] is None
        assert any("cannot be reached" in p for p in report["problems"])


class TestStores:
    def test_dead_letters_need_a_person(self, app: Celery) -> None:
        """Dead letters not replayed are listed per backend and exit 1; replayed ones are not."""
        dead_letter()
        dead_letter()
        dead_letter(backend="other", replayed_at=timezone.now())
        report, code = status()
        assert code == 1
        assert report["dead_letters"]["memory"]["letters"] == 2
        assert report["dead_letters"]["memory"]["events"] == 4
        assert "other" not in report["dead_letters"]

    def test_old_outbox_needs_a_person(self, app: Celery) -> None:
        """An outbox batch older than --outbox-minutes is a problem; a young one is not."""
        row = OutboxBatch.objects.create(backend="memory", payload="{}", event_count=3)
        progress.note_delivered("memory", "b1", 1)
        report, code = status()
        assert code == 0
        assert report["outbox"]["events"] == 3
        assert (report["outbox"]["due"], report["outbox"]["unconfirmed"]) == (1, 0)
        OutboxBatch.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() + datetime.timedelta(60))
        assert status()[0]["outbox"]["unconfirmed"] == 1
        OutboxBatch.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - datetime.timedelta(minutes=20)
        )
        report, code = status("--outbox-minutes", "15")
        assert code == 1
        assert any("outbox" in p for p in report["problems"])

    def test_spool_files_and_bytes(self, app: Celery, celery_hub: Path) -> None:
        """Spool files in SPOOL_DIR are counted with their size; other files are not."""
        celery_hub.mkdir()
        (celery_hub / "1-a.spool").write_bytes(b"x" * 10)
        (celery_hub / "2-b.spool").write_bytes(b"x" * 5)
        (celery_hub / "1-a.spool.offset").write_bytes(b"0 0 0 0")
        report, _ = status()
        assert report["spool"]["files"] == 2
        assert report["spool"]["bytes"] == 15

    def test_invalid_events_per_type(self, app: Celery) -> None:
        """Invalid events are counted per type, held back and delivered apart."""
        for delivered in (False, False, True):
            InvalidEvent.objects.create(
                name="a.b", event_source="browser", payload={}, errors={}, delivered=delivered
            )
        report, code = status()
        assert report["invalid_events"] == {"a.b": {"held": 2, "delivered": 1}}
        assert code == 0


class TestProgress:
    def test_written_at_most_once_a_second_per_backend(self, celery_hub: Path) -> None:
        """A burst of deliveries writes the row once; another backend has its own row."""
        assert progress.note_delivered("memory", "b1", 1)
        assert not progress.note_delivered("memory", "b2", 1)
        assert progress.note_delivered("other", "b3", 1)
        assert dict(DeliveryProgress.objects.values_list("backend", "batch_id")) == {
            "memory": "b1",
            "other": "b3",
        }
