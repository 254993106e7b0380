"""Tests of what the app wires up at startup: Celery tasks as units of work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from event_hub.delivery import unit_of_work
from tests.conftest import delivered
from tests.tasks import emit_three


class TestCeleryTasks:
    def test_task_events_have_source_task_and_one_batch(
        self, memory_hub: Callable[..., None], monkeypatch: Any
    ) -> None:
        """Events a Celery task emits carry source 'task' and the task name, and leave as one batch."""
        batches: list[int] = []
        real = unit_of_work.hand_off
        monkeypatch.setattr(unit_of_work, "hand_off", lambda batch: (batches.append(len(batch)), real(batch)))
        assert emit_three.apply().get() == 3
        assert batches == [3]
        events = delivered()
        assert [e["event_source"] for e in events] == ["task"] * 3
        assert events[0]["context"]["task_name"] == "tests.emit_three"

    def test_events_after_the_task_are_server_events(self, memory_hub: Callable[..., None]) -> None:
        """The task's context ends with the task: later events are ordinary server events."""
        from event_hub import emit
        from tests.conftest import ENROLLMENT

        emit_three.apply()
        emit("edx.course.enrollment.activated", ENROLLMENT)
        assert delivered()[-1]["event_source"] == "server"
        assert "task_name" not in delivered()[-1]["context"]
