"""Units of work: one batch per backend per unit, size and time bounds, the ambient buffer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import AsyncClient, Client

from event_hub import emit
from event_hub.backends import memory
from event_hub.delivery import unit_of_work
from tests.conftest import ENROLLMENT, delivered, run_script
from tests.support_backends import jsonl_config, read_lines, sent_batches, wait_for

EVENT = "edx.course.enrollment.activated"
RECORDING = "tests.support_backends.RecordingBackend"


@pytest.fixture(name="recording_hub")
def fixture_recording_hub(hub: Callable[..., dict[str, Any]]) -> Iterator[Callable[..., None]]:
    """Sync delivery to two recording backends, ``a`` and ``b``; keyword arguments add EVENT_HUB keys."""

    def configure(**values: Any) -> None:
        hub(DELIVERY="sync", BACKENDS={"a": {"ENGINE": RECORDING}, "b": {"ENGINE": RECORDING}}, **values)

    sent_batches.clear()
    configure()
    yield configure
    sent_batches.clear()


class TestOneBatchPerBackend:
    def test_request_hands_off_one_batch_per_backend(self, recording_hub: Callable[..., None]) -> None:
        """A request emitting 7 events makes one delivery call per backend, with all 7 events."""
        assert Client().get("/emit/?count=7").status_code == 200
        assert sent_batches == {"a": [7], "b": [7]}

    def test_nothing_is_sent_before_the_unit_ends(self, recording_hub: Callable[..., None]) -> None:
        """Events wait in the unit of work until it ends."""
        with unit_of_work.unit_of_work() as work:
            emit(EVENT, ENROLLMENT)
            emit(EVENT, ENROLLMENT)
            assert sent_batches == {}
            assert work.pending() == 4
        assert sent_batches == {"a": [2], "b": [2]}

    def test_size_bound_splits_batches(self, recording_hub: Callable[..., None]) -> None:
        """BATCH_MAX_EVENTS=3 splits a request's 8 events into batches of 3, 3 and 2 per backend."""
        recording_hub(BATCH_MAX_EVENTS=3)
        Client().get("/emit/?count=8")
        assert sent_batches == {"a": [3, 3, 2], "b": [3, 3, 2]}

    def test_size_bound_hands_off_during_the_unit(self, recording_hub: Callable[..., None]) -> None:
        """A full batch goes out as soon as it is full, not when the unit ends."""
        recording_hub(BATCH_MAX_EVENTS=2)
        with unit_of_work.unit_of_work():
            emit(EVENT, ENROLLMENT)
            assert sent_batches == {}
            emit(EVENT, ENROLLMENT)
            assert sent_batches == {"a": [2], "b": [2]}
            emit(EVENT, ENROLLMENT)
        assert sent_batches == {"a": [2, 1], "b": [2, 1]}

    @pytest.mark.django_db
    def test_full_batch_waits_for_the_end_of_a_transaction(self, recording_hub: Callable[..., None]) -> None:
        """Inside atomic(), a full batch waits for the unit to end: a rollback cannot undo its outbox row."""
        from django.db import transaction

        recording_hub(BATCH_MAX_EVENTS=2)
        with unit_of_work.unit_of_work():
            with transaction.atomic():
                emit(EVENT, ENROLLMENT)
                emit(EVENT, ENROLLMENT)
                emit(EVENT, ENROLLMENT)
                assert sent_batches == {}
            assert sent_batches == {}
        assert sent_batches == {"a": [3], "b": [3]}

    def test_time_bound_hands_off_an_old_batch(self, recording_hub: Callable[..., None]) -> None:
        """With BATCH_MAX_SECONDS=0.2, an event added after 0.2 s flushes the whole batch early."""
        recording_hub(BATCH_MAX_SECONDS=0.2)
        with unit_of_work.unit_of_work():
            emit(EVENT, ENROLLMENT)
            time.sleep(0.25)
            emit(EVENT, ENROLLMENT)
            assert sent_batches == {"a": [2], "b": [2]}
            emit(EVENT, ENROLLMENT)
            assert sent_batches == {"a": [2], "b": [2]}
        assert sent_batches == {"a": [2, 1], "b": [2, 1]}

    def test_nested_unit_joins_the_outer(self, recording_hub: Callable[..., None]) -> None:
        """A nested unit_of_work is the outer one: nothing is handed off when the inner block ends."""
        with unit_of_work.unit_of_work() as outer:
            emit(EVENT, ENROLLMENT)
            with unit_of_work.unit_of_work() as inner:
                assert inner is outer
                emit(EVENT, ENROLLMENT)
            assert sent_batches == {}
        assert sent_batches == {"a": [2], "b": [2]}

    def test_failing_view_still_hands_off(self, recording_hub: Callable[..., None]) -> None:
        """The events of a view that raised are handed off when the request ends."""
        response = Client(raise_request_exception=False).get("/emit-and-fail/")
        assert response.status_code == 500
        assert sent_batches == {"a": [1], "b": [1]}

    def test_unit_of_work_block_raising_still_hands_off(self, recording_hub: Callable[..., None]) -> None:
        """An exception leaving a unit_of_work block does not lose its events."""

        def work() -> None:
            with unit_of_work.unit_of_work():
                emit(EVENT, ENROLLMENT)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            work()
        assert sent_batches == {"a": [1], "b": [1]}

    def test_async_view_through_wsgi(self, recording_hub: Callable[..., None]) -> None:
        """An async view served by the WSGI handler hands off its events once per backend."""
        assert Client().get("/emit-async/").status_code == 200
        assert sent_batches == {"a": [1], "b": [1]}

    def test_async_view_through_asgi(self, recording_hub: Callable[..., None]) -> None:
        """Under ASGI, concurrent requests each hand off their own batch (contexts do not mix)."""

        async def three_requests() -> list[int]:
            client = AsyncClient()
            responses = await asyncio.gather(*(client.get("/emit-async/") for _ in range(3)))
            return [response.status_code for response in responses]

        assert asyncio.run(three_requests()) == [200, 200, 200]
        assert sent_batches == {"a": [1, 1, 1], "b": [1, 1, 1]}
        assert unit_of_work.ambient().pending() == 0


class TestAmbientBuffer:
    def test_events_outside_a_unit_go_to_the_ambient_buffer(self, memory_hub: Callable[..., None]) -> None:
        """An event emitted outside any unit of work waits in the ambient buffer."""
        memory_hub(BATCH_MAX_SECONDS=60)
        emit(EVENT, ENROLLMENT)
        assert unit_of_work.ambient().pending() == 1
        assert memory.events("memory") == []
        assert len(delivered()) == 1

    def test_timer_thread_flushes_the_ambient_buffer(self, memory_hub: Callable[..., None]) -> None:
        """With BATCH_MAX_SECONDS=0.2 the ambient buffer is handed off by its timer, with no further call."""
        memory_hub(BATCH_MAX_SECONDS=1)
        emit(EVENT, ENROLLMENT)
        emit(EVENT, ENROLLMENT)
        assert unit_of_work.ambient().pending() == 2  # waiting for the timer
        assert memory.events("memory") == []
        events = wait_for(lambda: memory.events("memory"), timeout=10, what="the timer flush")
        assert len(events) == 2
        assert unit_of_work.ambient().pending() == 0

    def test_no_thread_can_start_hands_off_at_once(
        self,
        memory_hub: Callable[..., None],
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """When the timer cannot start (an exit handler emitting at interpreter shutdown), the event
        is handed off at once: ``emit`` neither raises nor leaves it in a buffer nobody flushes."""
        memory_hub(BATCH_MAX_SECONDS=60)

        def refuse(self: threading.Thread) -> None:
            raise RuntimeError("can't create new thread at interpreter shutdown")

        monkeypatch.setattr(threading.Timer, "start", refuse)
        emit(EVENT, ENROLLMENT)
        assert len(memory.events("memory")) == 1
        assert unit_of_work.ambient().pending() == 0
        assert "cannot start the ambient buffer's timer" in caplog.text
        emit(EVENT, ENROLLMENT)  # and again: no timer was kept
        assert len(memory.events("memory")) == 2

    def test_size_bound_applies_to_the_ambient_buffer(self, recording_hub: Callable[..., None]) -> None:
        """The ambient buffer hands off a full batch at once."""
        recording_hub(BATCH_MAX_EVENTS=2, BATCH_MAX_SECONDS=60)
        for _ in range(5):
            emit(EVENT, ENROLLMENT)
        assert sent_batches == {"a": [2, 2], "b": [2, 2]}
        unit_of_work.flush_ambient()
        assert sent_batches == {"a": [2, 2, 1], "b": [2, 2, 1]}

    def test_ambient_buffer_flushes_at_exit(self, tmp_path: Path) -> None:
        """A script that emits and exits (no flush, long timer) still delivers: atexit hands off."""
        log = tmp_path / "tracking.log"
        config = {
            "DELIVERY": "sync",
            "BATCH_MAX_SECONDS": 3600,
            "BACKENDS": {"log": jsonl_config(log)},
        }
        script = (
            "import django; django.setup()\n"
            "from event_hub import emit\n"
            "from event_hub.delivery import unit_of_work\n"
            f"for _ in range(3): emit({EVENT!r}, {ENROLLMENT!r})\n"
            "assert unit_of_work.ambient().pending() == 3\n"
            "print('emitted')\n"
        )
        stdout = run_script(script, config)
        assert stdout.strip() == b"emitted"
        lines = read_lines(log)
        assert [orjson.loads(line)["name"] for line in lines] == [EVENT] * 3
