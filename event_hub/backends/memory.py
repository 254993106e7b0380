"""In-memory backend: keeps delivered events in a list, for tests.

Events are stored per backend name in a process-wide store, so they survive
the backend being rebuilt when settings change. :mod:`event_hub.testing` wraps
this in a context manager; use that rather than this module directly.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from event_hub import jsonio
from event_hub.backends.base import Backend
from event_hub.backends.formats import check_format_options, renderer
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope

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
    """Append each delivered event, as a JSON-decoded dict, to an in-process list.

    ``format=None`` (default) keeps the whole envelope (every field, ``id`` and
    ``context.anonymous_user_id`` included); ``"openedx"`` or ``"compact"`` keeps
    the line the file backend would write.
    """

    def __init__(self, name: str, *, format: str | None = None, extra_fields: Sequence[str] = ()) -> None:
        super().__init__(name)
        self.render = renderer(format, extra_fields) if format is not None else Envelope.to_wire

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        if options.get("format") is None:
            return []
        return check_format_options(dict(options))

    def transform(self, envelope: Envelope) -> dict[str, Any]:
        decoded: dict[str, Any] = jsonio.loads(jsonio.dumps(self.render(envelope)))
        return decoded

    def send(self, items: Sequence[dict[str, Any]], batch: Batch) -> None:
        with _lock:
            _store.setdefault(self.name, []).extend(items)
