"""Helpers for the test suites of projects that install event_hub.

::

    from event_hub.testing import capture

    def test_enrolling_emits_an_event(client):
        with capture() as events:
            client.post("/enroll", {...})
        assert events.names() == ["edx.course.enrollment.activated"]
        assert events[0]["event"]["mode"] == "audit"

Inside ``capture()`` every event is delivered in-process to an in-memory
backend (and to nothing else), through the same validation, envelope and
processors as in production, privacy included unless ``pii=True``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.test import override_settings

from event_hub.backends import memory
from event_hub.delivery import unit_of_work

CAPTURE_BACKEND = "captured"


class Captured(Sequence[dict[str, Any]]):
    """The events delivered to the capture backend, as rendered dicts."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far (pending batches of the current unit of work are handed off first)."""
        unit_of_work.current().flush()
        return memory.events(self.backend)

    def __getitem__(self, index: Any) -> Any:
        return self.events[index]

    def __len__(self) -> int:
        return len(self.events)

    def names(self) -> list[str]:
        """The ``name`` (``event_type`` in the compact format) of each event, in order."""
        return [str(event.get("name", event.get("event_type"))) for event in self.events]

    def clear(self) -> None:
        """Forget the events captured so far (pending ones included)."""
        unit_of_work.current().flush()
        memory.clear(self.backend)


@contextmanager
def capture(
    *, pii: bool = False, format: str | None = None, processors: Sequence[Any] = (), **hub_overrides: Any
) -> Iterator[Captured]:
    """Deliver events emitted in the block to memory only; yield them.

    Each event is the whole envelope as a dict (the tracking-log fields plus
    ``id`` and ``context.anonymous_user_id``); ``format="openedx"`` or
    ``"compact"`` gives the line a file backend would write instead.
    ``hub_overrides`` are further ``EVENT_HUB`` keys (``UNREGISTERED_EVENTS="reject"`` …).
    """
    base = dict(getattr(settings, "EVENT_HUB", {}))
    base.update(hub_overrides)
    base.update(
        {
            "DELIVERY": "sync",
            "BACKENDS": {
                CAPTURE_BACKEND: {
                    "ENGINE": "event_hub.backends.memory.MemoryBackend",
                    "OPTIONS": {"format": format},
                    "PII": pii,
                    "PROCESSORS": list(processors),
                }
            },
        }
    )
    memory.clear(CAPTURE_BACKEND)
    with override_settings(EVENT_HUB=base), unit_of_work.unit_of_work():
        yield Captured(CAPTURE_BACKEND)
