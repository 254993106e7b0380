"""In-memory backend: keeps delivered events in a list, for tests.

Events are stored per backend name in a process-wide store, so they survive
the backend being rebuilt when settings change. :mod:`event_hub.testing` wraps
this in a context manager; use that rather than this module directly.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from event_hub.backends.base import Backend

_store: dict[str, list[dict[str, Any]]] = {}
_lock = threading.Lock()


def events(name: str) -> list[dict[str, Any]]:
    """A copy of the events delivered so far to memory backend ``name``."""
    with _lock:
        return list(_store.get(name, ()))


def clear(name: str | None = None) -> None:
    """Forget the events of backend ``name`` (of every memory backend when ``None``)."""
    with _lock:
        if name is None:
            _store.clear()
        else:
            _store.pop(name, None)


class MemoryBackend(Backend):
    """Append each delivered event (decoded) to an in-process list."""

    def send(self, items: Sequence[dict[str, Any]]) -> None:
        with _lock:
            _store.setdefault(self.name, []).extend(items)
