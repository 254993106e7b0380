"""The spool: one write per batch in the request, a publisher thread, recovery of dead processes' files."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import Client, override_settings
from django.utils import timezone

from event_hub import emit
from event_hub.checks import check_settings
from event_hub.delivery import handoff, outbox, spool, tasks, unit_of_work
from event_hub.delivery.batch import Batch
from event_hub.delivery.handoff import hand_off
from event_hub.delivery.spool import RecoveryReport, SpoolFile
from event_hub.exceptions import BrokerUnavailableError
from event_hub.models import OutboxBatch
from tests.conftest import ENROLLMENT, ROOT, Worker, run_script, subprocess_env
from tests.support_backends import (
    BrokerProxy,
    celery_app,
    jsonl_config,
    queued_batches,
    read_lines,
    wait_for,
    wire_line,
)

EVENT = "edx.course.enrollment.activated"
MEMORY = {"ENGINE": "event_hub.backends.memory.MemoryBackend"}
#: Queue of the tests that read the published messages from Redis (no worker consumes it).
QUEUE = "event_hub_spool_test"


def event_line(number: int, backend: str = "memory") -> bytes:
    return wire_line(f"{backend}-{number}", {"n": number})


def batch_of(*numbers: int, backend: str = "memory") -> Batch:
    return Batch(backend=backend, lines=[event_line(n, backend) for n in numbers])


def ids_of(lines: list[bytes]) -> list[str]:
    return [orjson.loads(line)["id"] for line in lines]


def queued_ids(redis_url: str) -> list[str]:
    """Event ids of every message waiting in :data:`QUEUE`, in publishing order."""
    return [event_id for _, lines, _ in queued_batches(redis_url, QUEUE) for event_id in ids_of(lines)]


def spool_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.spool"))


def spool_events(count: int) -> list[str]:
    """Emit ``count`` events in one unit of work (one batch per backend); return their ids."""
    with unit_of_work.unit_of_work():
        return [emit(EVENT, ENROLLMENT).id for _ in range(count)]  # type: ignore[union-attr]


def spool_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every ``os.write`` to a spool file from now on."""
    writes: list[int] = []
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(spool.SUFFIX):
            writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return writes


@pytest.fixture(name="spool_dir")
def fixture_spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture(name="spool_hub")
def fixture_spool_hub(hub: Callable[..., Any], spool_dir: Path) -> Iterator[Callable[..., dict[str, Any]]]:
    """Celery delivery through the spool in ``spool_dir``; keyword arguments add or replace EVENT_HUB keys."""

    def configure(**values: Any) -> dict[str, Any]:
        config = {
            "DELIVERY": "celery",
            "HANDOFF": "spool",
            "SPOOL_DIR": str(spool_dir),
            "BACKENDS": {"memory": MEMORY},
            **values,
        }
        hub(**config)
        return config

    yield configure
    spool.detach()


# The spool's publisher thread holds batches in the outbox through its own database connection:
# transactional tests, so what it writes is flushed after each test.
@pytest.mark.django_db(transaction=True)
class TestSpooling:
    def test_many_requests_become_one_message(
        self,
        spool_hub: Callable[..., Any],
        redis_url: str,
        purge_broker: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Twenty requests are twenty writes to the spool and no publish; the publisher sends one message."""
        spool_hub(SPOOL_FLUSH_SECONDS=3600, CELERY_QUEUE=QUEUE)
        writes = spool_writes(monkeypatch)
        with celery_app():
            for _ in range(20):
                assert Client().get("/emit/").status_code == 200
            assert len(writes) == 20
            assert queued_batches(redis_url, QUEUE) == []
            assert spool.pending_bytes() == sum(writes)
            assert spool.flush()
        [(backend, lines, _)] = queued_batches(redis_url, QUEUE)
        assert backend == "memory"
        assert len(set(ids_of(lines))) == 20
        assert spool.pending_bytes() == 0
        path = spool.current().path
        assert path is not None
        assert path.stat().st_size == 0  # published, so truncated

    def test_the_publisher_republishes_due_outbox_batches(
        self,
        spool_hub: Callable[..., Any],
        redis_url: str,
        purge_broker: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Where no beat runs, the spool's publisher thread sends on what the outbox holds and no worker
        confirmed in time, at its periodic scan."""
        monkeypatch.setattr(spool, "ORPHAN_SCAN_SECONDS", 0.2)
        spool_hub(CELERY_QUEUE=QUEUE)
        lost = Batch(backend="memory", lines=[wire_line("lost-0")])
        outbox.park(lost, error="the broker lost it", delay=0)
        with celery_app():
            spool_events(1)  # starts this process's publisher
            wait_for(lambda: "lost-0" in queued_ids(redis_url), what="the outbox batch published again")
        row = OutboxBatch.objects.get(id=lost.id)
        assert (row.last_error, row.attempts) == ("awaiting confirmation", 1)

    def test_a_big_file_takes_no_more_appends_and_is_deleted_once_published(
        self,
        spool_hub: Callable[..., Any],
        spool_dir: Path,
        redis_url: str,
        purge_broker: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Past ROTATE_BYTES the next append starts a new spool file (under steady load a file is never
        wholly published at once); each full one is published, then deleted."""
        monkeypatch.setattr(spool, "ROTATE_BYTES", 1)
        spool_hub(CELERY_QUEUE=QUEUE, SPOOL_FLUSH_SECONDS=3600)
        with celery_app():
            ids = spool_events(2) + spool_events(3) + spool_events(1)
            assert len(spool_files(spool_dir)) == 3  # one file per append, none published yet
            assert spool.flush()
        assert Counter(queued_ids(redis_url)) == Counter(ids)
        assert spool_files(spool_dir) == []

    def test_a_full_batch_wakes_the_publisher(
        self, spool_hub: Callable[..., Any], redis_url: str, purge_broker: Callable[[], None]
    ) -> None:
        """SPOOL_MAX_BATCH_EVENTS waiting events wake the publisher at once; no message carries more."""
        spool_hub(SPOOL_FLUSH_SECONDS=3600, SPOOL_MAX_BATCH_EVENTS=5, CELERY_QUEUE=QUEUE)
        with celery_app():
            ids = [event_id for _ in range(12) for event_id in spool_events(1)]
            wait_for(lambda: len(queued_ids(redis_url)) >= 5, timeout=10, what="the woken publisher")
            assert spool.flush()
        batches = queued_batches(redis_url, QUEUE)
        assert all(len(lines) <= 5 for _, lines, _ in batches)
        assert len(batches) < 12
        assert queued_ids(redis_url) == ids

    def test_a_short_write_is_cut_back_and_that_batch_goes_direct(
        self,
        spool_hub: Callable[..., Any],
        redis_url: str,
        purge_broker: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A write cut short (disk full) is undone to the last whole record, that batch is published at once,
        and the spool goes on working."""
        spool_hub(SPOOL_FLUSH_SECONDS=3600, CELERY_QUEUE=QUEUE)
        real_write = os.write
        with celery_app():
            hand_off(batch_of(0, 1))
            monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[: len(data) // 2]))
            hand_off(batch_of(2, 3))
            monkeypatch.undo()
            assert queued_ids(redis_url) == ["memory-2", "memory-3"]
            hand_off(batch_of(4))
            assert spool.flush()
        assert queued_ids(redis_url) == ["memory-2", "memory-3", "memory-0", "memory-1", "memory-4"]
        path = spool.current().path
        assert path is not None
        assert list(path.parent.glob("*.corrupt")) == []

    def test_unwritable_spool_dir_falls_back_to_direct_publish(
        self,
        spool_hub: Callable[..., Any],
        tmp_path: Path,
        redis_url: str,
        purge_broker: Callable[[], None],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """When SPOOL_DIR cannot be created, each batch is published directly and one warning is logged
        (and the system check reports E008)."""
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        spool_hub(SPOOL_DIR=str(blocker / "spool"), CELERY_QUEUE=QUEUE)
        with celery_app(), caplog.at_level(logging.WARNING, logger="event_hub.delivery.spool"):
            for _ in range(3):
                assert Client().get("/emit/?count=2").status_code == 200
        assert [len(lines) for _, lines, _ in queued_batches(redis_url, QUEUE)] == [2, 2, 2]
        [warning] = [record.getMessage() for record in caplog.records]
        assert "published directly" in warning
        assert str(blocker) in warning
        # Held until a worker confirms them (no worker runs here), not parked: due later, not now.
        assert OutboxBatch.objects.count() == 3
        assert not OutboxBatch.objects.filter(next_attempt_at__lte=timezone.now()).exists()
        assert "event_hub.E008" in [message.id for message in check_settings()]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
class TestDelivery:
    def test_each_batch_is_one_write_and_reaches_a_real_worker(
        self,
        spool_hub: Callable[..., Any],
        start_worker: Callable[..., Worker],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A request's batch is one write to the spool file; the publisher thread gets it to a real worker."""
        log = tmp_path / "tracking.log"
        backends = {"log": jsonl_config(log)}
        start_worker({"DELIVERY": "celery", "BACKENDS": backends})
        spool_hub(BACKENDS=backends)
        writes = spool_writes(monkeypatch)
        with celery_app():
            for _ in range(3):
                assert Client().get("/emit/?count=2").status_code == 200
            assert len(writes) == 3
            lines = wait_for(lambda: len(read_lines(log)) >= 6 and read_lines(log), what="6 lines in the log")
            wait_for(lambda: spool.pending_bytes() == 0, what="the spool to be published")
        assert len(set(ids_of(lines))) == 6
        assert [orjson.loads(line)["name"] for line in lines] == [EVENT] * 6

    def test_broker_down_keeps_everything_in_the_spool_until_it_is_back(
        self,
        spool_hub: Callable[..., Any],
        start_worker: Callable[..., Worker],
        tmp_path: Path,
        redis_url: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """With the broker down the spool grows and nothing is parked or lost; back up, every event is
        delivered once."""
        log = tmp_path / "tracking.log"
        backends = {"log": jsonl_config(log)}
        start_worker({"DELIVERY": "celery", "BACKENDS": backends})
        spool_hub(BACKENDS=backends, BROKER_COOLDOWN_SECONDS=0.5)
        proxy = BrokerProxy(redis_url)  # down until up() is called
        try:
            with celery_app(proxy.url), caplog.at_level(logging.WARNING, logger="event_hub.delivery.spool"):
                ids = spool_events(3)
                wait_for(lambda: "cannot publish the spool" in caplog.text, what="a refused publish")
                first = spool.pending_bytes()
                ids += spool_events(3)
                time.sleep(0.7)  # the publisher tries again after the cooldown, and fails again
                assert spool.pending_bytes() > first > 0
                assert read_lines(log) == []
                # Held for confirmation (due later), never parked (due now): the spool keeps them.
                assert not OutboxBatch.objects.filter(next_attempt_at__lte=timezone.now()).exists()
                proxy.up()
                lines = wait_for(
                    lambda: len(read_lines(log)) >= 6 and read_lines(log), what="6 lines in the log"
                )
                wait_for(lambda: spool.pending_bytes() == 0, what="the spool to be published")
        finally:
            proxy.down()
        assert sorted(ids_of(lines)) == sorted(ids)
        wait_for(lambda: not OutboxBatch.objects.exists(), what="the worker to confirm every batch")
        assert len(read_lines(log)) == 6  # nothing is written twice

    def test_spool_of_a_killed_process_is_recovered(
        self, hub: Callable[..., Any], spool_dir: Path, start_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """A live process's spool is left alone; once it is SIGKILLed the republish task publishes its
        events and deletes the file, and a real worker delivers them."""
        log = tmp_path / "tracking.log"
        config = {
            "DELIVERY": "celery",
            "HANDOFF": "spool",
            "SPOOL_DIR": str(spool_dir),
            "SPOOL_FLUSH_SECONDS": 3600,
            "BACKENDS": {"log": jsonl_config(log)},
        }
        hub(**config)
        script = (
            "import json, time\n"
            "import tests.celery_app\n"
            "from event_hub import emit\n"
            "from event_hub.delivery import spool, unit_of_work\n"
            "ids = []\n"
            "for _ in range(3):\n"
            "    with unit_of_work.unit_of_work():\n"
            f"        ids += [emit({EVENT!r}, {ENROLLMENT!r}).id for _ in range(2)]\n"
            "print(json.dumps({'ids': ids, 'path': str(spool.current().path)}), flush=True)\n"
            "time.sleep(600)\n"
        )
        process = subprocess.Popen(
            [sys.executable, "-c", script], env=subprocess_env(config), cwd=ROOT, stdout=subprocess.PIPE
        )
        try:
            assert process.stdout is not None
            spooled = json.loads(process.stdout.readline())
            path = Path(spooled["path"])
            assert path.parent == spool_dir
            assert path.stat().st_size > 0
            assert spool.recover_orphans(spool_dir) == RecoveryReport()  # alive: its lock is held
            assert path.exists()
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        with celery_app():
            report = tasks.republish_outbox()
        assert (report["spool_files"], report["spool_events"], report["spool_remaining"]) == (1, 6, 0)
        assert list(spool_dir.iterdir()) == []
        start_worker(config)
        lines = wait_for(lambda: len(read_lines(log)) >= 6 and read_lines(log), what="6 lines in the log")
        assert ids_of(lines) == spooled["ids"]


@pytest.mark.django_db(transaction=True)
class TestFork:
    def test_forked_child_spools_on_its_own(
        self, spool_dir: Path, redis_url: str, purge_broker: Callable[[], None]
    ) -> None:
        """A forked child gets a spool file and publisher of its own; the parent's events go out once."""
        config = {
            "DELIVERY": "celery",
            "HANDOFF": "spool",
            "SPOOL_DIR": str(spool_dir),
            "SPOOL_FLUSH_SECONDS": 3600,
            "CELERY_QUEUE": QUEUE,
            "BACKENDS": {"memory": MEMORY},
        }
        script = (
            "import json, os, sys, warnings\n"
            "warnings.simplefilter('ignore', DeprecationWarning)  # fork() with a thread running\n"
            "import tests.celery_app\n"
            "from event_hub import emit\n"
            "from event_hub.delivery import spool, unit_of_work\n"
            "def spool_events(count):\n"
            "    with unit_of_work.unit_of_work():\n"
            f"        return [emit({EVENT!r}, {ENROLLMENT!r}).id for _ in range(count)]\n"
            "ids = spool_events(2)\n"
            "path = spool.current().path\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    assert spool.pending_bytes() == 0\n"
            "    ids = spool_events(3)\n"
            "    print(json.dumps({'child': ids, 'path': str(spool.current().path)}), flush=True)\n"
            "    sys.exit(0)  # the exit handler publishes the child's spool\n"
            "_, status = os.waitpid(pid, 0)\n"
            "assert os.waitstatus_to_exitcode(status) == 0\n"
            "assert path.exists() and spool.pending_bytes() > 0\n"
            "assert spool.SpoolFile.take_over(path) is None  # still locked: the child kept its hands off\n"
            "print(json.dumps({'parent': ids, 'path': str(path)}), flush=True)\n"
        )
        stdout = run_script(script, config)
        child, parent = (json.loads(line) for line in stdout.splitlines())
        assert Path(child["path"]).name.split("-")[0] != Path(parent["path"]).name.split("-")[0]
        counts = Counter(queued_ids(redis_url))
        assert counts == Counter(child["child"] + parent["parent"])
        assert set(counts.values()) == {1}
        assert list(spool_dir.iterdir()) == []  # both exited normally: both spools published and removed


@pytest.mark.django_db(transaction=True)
class TestRecovery:
    def test_sidecar_resumes_a_partly_published_spool(
        self,
        spool_hub: Callable[..., Any],
        spool_dir: Path,
        redis_url: str,
        purge_broker: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A spool whose publishing failed midway is resumed from its sidecar after its process is gone:
        only the unpublished messages go out (cut as before, whatever the bound is now), each event once."""
        spool_hub(CELERY_QUEUE=QUEUE, SPOOL_MAX_BATCH_EVENTS=2)
        file = SpoolFile.create(spool_dir)
        for number in range(3):  # two backends, interleaved as requests append them
            for backend in ("a", "b"):
                record = spool.encode(batch_of(number, backend=backend))
                assert record is not None
                os.write(file.fd, record)
        publish, calls = handoff.broker.publish, []

        def second_publish_fails(batch: Batch, retries: int) -> None:
            calls.append(batch.id)
            if len(calls) == 2:
                raise BrokerUnavailableError("refused for this test")
            publish(batch, retries)

        with celery_app():
            monkeypatch.setattr(handoff.broker, "publish", second_publish_fails)
            assert not file.publish(os.fstat(file.fd).st_size)
            monkeypatch.undo()
            file.close()  # the process is gone; the sidecar stays
            assert queued_ids(redis_url) == ["a-0", "a-1"]
            spool_hub(CELERY_QUEUE=QUEUE, SPOOL_MAX_BATCH_EVENTS=1000)
            report = spool.recover_orphans(spool_dir)
        assert report == RecoveryReport(files=1, events=4, remaining=0)
        batches = queued_batches(redis_url, QUEUE)
        assert [(backend, ids_of(lines)) for backend, lines, _ in batches] == [
            ("a", ["a-0", "a-1"]),
            ("a", ["a-2"]),
            ("b", ["b-0", "b-1"]),
            ("b", ["b-2"]),
        ]
        assert batches[1][2] == calls[1]  # cut again the same way: the same batch id
        assert list(spool_dir.iterdir()) == []

    def test_recovery_stops_while_the_broker_is_down(
        self, spool_hub: Callable[..., Any], spool_dir: Path
    ) -> None:
        """With the broker down an orphaned spool is kept whole; the outbox command exits with status 1."""
        from django.core.management import call_command
        from django.core.management.base import CommandError

        spool_hub()
        file = SpoolFile.create(spool_dir)
        record = spool.encode(batch_of(1, 2))
        assert record is not None
        os.write(file.fd, record)
        file.close()
        with celery_app("redis://127.0.0.1:1/0"), pytest.raises(CommandError, match="unavailable"):
            call_command("event_hub_outbox", "publish")
        assert spool_files(spool_dir) == [file.path]
        assert file.path.read_bytes() == record

    def test_a_torn_record_is_kept_aside(
        self,
        spool_hub: Callable[..., Any],
        spool_dir: Path,
        redis_url: str,
        purge_broker: Callable[[], None],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A record cut short by a killed process is moved to a .corrupt file; the ones before it go out."""
        spool_hub(CELERY_QUEUE=QUEUE)
        file = SpoolFile.create(spool_dir)
        records = [spool.encode(batch_of(number)) for number in range(3)]
        assert None not in records
        os.write(file.fd, records[0] + records[1] + records[2][:-10])  # type: ignore[operator]
        file.close()
        with celery_app(), caplog.at_level(logging.CRITICAL, logger="event_hub.delivery.spool"):
            assert spool.recover_orphans(spool_dir) == RecoveryReport(files=1, events=2, remaining=0)
        assert queued_ids(redis_url) == ["memory-0", "memory-1"]
        [kept] = spool_dir.glob("*.corrupt")
        assert kept.read_bytes() == records[2][:-10]  # type: ignore[index]
        assert "unreadable" in caplog.text
        assert spool_files(spool_dir) == []


@pytest.mark.django_db(transaction=True)
class TestExit:
    def test_exit_publishes_what_a_script_spooled(
        self, spool_dir: Path, redis_url: str, purge_broker: Callable[[], None]
    ) -> None:
        """A script's events are spooled as they are emitted (nothing waits in memory) and published at
        exit; the spool file is deleted."""
        config = {
            "DELIVERY": "celery",
            "HANDOFF": "spool",
            "SPOOL_DIR": str(spool_dir),
            "SPOOL_FLUSH_SECONDS": 3600,
            "BATCH_MAX_SECONDS": 3600,
            "CELERY_QUEUE": QUEUE,
            "BACKENDS": {"memory": MEMORY},
        }
        script = (
            "import json\n"
            "import tests.celery_app\n"
            "from event_hub import emit\n"
            "from event_hub.delivery import unit_of_work\n"
            f"ids = [emit({EVENT!r}, {ENROLLMENT!r}).id for _ in range(3)]\n"
            "assert unit_of_work.ambient().pending() == 0\n"
            "print(json.dumps(ids))\n"
        )
        stdout = run_script(script, config)
        assert queued_ids(redis_url) == json.loads(stdout)
        assert list(spool_dir.iterdir()) == []

    def test_script_killed_after_emitting_loses_nothing(
        self, spool_dir: Path, redis_url: str, purge_broker: Callable[[], None]
    ) -> None:
        """A script SIGKILLed right after its emits returned: every event is in its spool file, and
        recovery publishes them all, once."""
        config = {
            "DELIVERY": "celery",
            "HANDOFF": "spool",
            "SPOOL_DIR": str(spool_dir),
            "SPOOL_FLUSH_SECONDS": 3600,
            "SPOOL_MAX_BATCH_EVENTS": 1000,
            "BATCH_MAX_SECONDS": 3600,
            "CELERY_QUEUE": QUEUE,
            "BACKENDS": {"memory": MEMORY},
        }
        script = (
            "import json, os, signal, sys\n"
            "import tests.celery_app\n"
            "from event_hub import emit\n"
            f"ids = [emit({EVENT!r}, {ENROLLMENT!r}).id for _ in range(63)]\n"
            "print(json.dumps(ids), flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=subprocess_env(config),
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == -signal.SIGKILL, result.stderr.decode()
        ids = json.loads(result.stdout)
        assert queued_ids(redis_url) == []  # the publisher never ran: all of it is in the file
        with celery_app(), override_settings(EVENT_HUB=config):
            report = spool.recover_orphans(spool_dir)
        assert (report.files, report.events) == (1, 63)
        assert Counter(queued_ids(redis_url)) == Counter(ids)
        assert set(Counter(queued_ids(redis_url)).values()) == {1}


class TestFraming:
    """The record format of the spool file, and how records are cut into broker messages (pure functions)."""

    @staticmethod
    def batch(backend: str, *numbers: int) -> Batch:
        return Batch(backend=backend, lines=[wire_line(f"{backend}-{n}", {"n": n}) for n in numbers])

    def test_records_read_back_as_written(self) -> None:
        """encode then parse gives each batch's backend, id, count and lines, and the bytes used."""
        first, second = self.batch("a", 1, 2), self.batch("b", 3)
        data = spool.encode(first) + spool.encode(second)  # type: ignore[operator]
        records, used = spool.parse(data)
        assert used == len(data)
        expected = [("a", first.id, 2), ("b", second.id, 1)]
        assert [(r.backend, r.batch_id, r.count) for r in records] == expected
        assert records[0].body == b"\n".join(first.lines) + b"\n"

    def test_a_record_cut_short_ends_the_list(self) -> None:
        """A record the end of the data cuts (being appended, or torn by a crash) is not returned."""
        whole, torn = spool.encode(self.batch("a", 1)), spool.encode(self.batch("a", 2))
        records, used = spool.parse(whole + torn[:-5])  # type: ignore[operator, index]
        assert (len(records), used) == (1, len(whole))  # type: ignore[arg-type]

    def test_bytes_that_start_no_record_are_unreadable(self) -> None:
        """Garbage where a record should start raises, with its offset."""
        with pytest.raises(spool._Unreadable) as caught:
            spool.parse(b"not a header\n" + b"x" * 10, base=100)
        assert caught.value.offset == 100

    def test_a_line_with_a_tab_in_the_backend_name_is_not_spooled(self) -> None:
        """A batch that cannot be framed is refused (it is published directly instead)."""
        assert spool.encode(self.batch("bad\tname", 1)) is None

    def test_cut_groups_by_backend_within_the_limit_and_keeps_ids(self) -> None:
        """Records are regrouped per backend into batches of at most max_events; each batch takes its first
        record's id, so cutting the same records again gives the same batches."""
        batches = [self.batch("a", 1, 2), self.batch("b", 3), self.batch("a", 4), self.batch("a", 5, 6)]
        data = b"".join(spool.encode(b) for b in batches)  # type: ignore[misc]
        records, _ = spool.parse(data)
        cut = spool.cut(records, max_events=3)
        assert [(b.backend, len(b), b.id) for b in cut] == [
            ("a", 3, batches[0].id),
            ("a", 2, batches[3].id),
            ("b", 1, batches[1].id),
        ]
        assert spool.cut(records, max_events=3) == cut

    def test_a_solo_record_is_a_batch_of_its_own(self) -> None:
        """A solo record (kept by the hand-off when the database answered too late) is never merged, so it
        is published with exactly the id and events the outbox may hold it under."""
        before, alone, after = self.batch("a", 1), self.batch("a", 2, 3), self.batch("a", 4)
        data = spool.encode(before) + spool.encode(alone, solo=True) + spool.encode(after)  # type: ignore[operator]
        records, _ = spool.parse(data)
        assert [r.solo for r in records] == [False, True, False]
        cut = spool.cut(records, max_events=100)
        assert [(b.id, b.lines) for b in cut] == [(x.id, x.lines) for x in (before, alone, after)]


class TestSidecar:
    """The sidecar holds the spool's progress, rewritten in place after every published message."""

    def test_a_shorter_progress_replaces_all_of_a_longer_one(self, spool_dir: Path) -> None:
        """Each save is read back exactly, whatever the previous one held, and leaves no other file."""
        file = SpoolFile.create(spool_dir)
        os.write(file.fd, b"x" * 80)  # room for the offsets saved below (recovery checks them)
        try:
            for progress in (
                spool.Progress(123_456_789_012, 123_456_799_999, 17, 1000),
                spool.Progress(0, 0, 0, 0),
                spool.Progress(5, 70, 1, 2),
            ):
                file.progress = progress
                file.save()
                assert spool.Progress.load(file.sidecar.read_bytes()) == progress
                reopened = SpoolFile.take_over(file.path)  # the lock is held: a live file is not taken
                assert reopened is None
            assert sorted(path.name for path in spool_dir.iterdir()) == [file.path.name, file.sidecar.name]
        finally:
            file.close()
        orphan = SpoolFile.take_over(file.path)  # its process gone, the file resumes from the last save
        assert orphan is not None
        try:
            assert orphan.progress == spool.Progress(5, 70, 1, 2)
        finally:
            orphan.close()
