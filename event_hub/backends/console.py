"""Console backend: prints each event as one JSON line on stdout or stderr (for development)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from event_hub.backends.base import Backend

STREAMS = ("stdout", "stderr")


class ConsoleBackend(Backend):
    """Write events to the process's standard output (or error) stream."""

    def __init__(self, name: str, *, stream: str = "stdout") -> None:
        super().__init__(name, stream=stream)
        self.stream = stream

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        if options.get("stream", "stdout") not in STREAMS:
            return [f"OPTIONS['stream'] must be one of {STREAMS}"]
        return []

    def serialize(self, line: bytes) -> bytes:
        return line

    def send(self, items: Sequence[bytes]) -> None:
        stream = getattr(sys, self.stream).buffer
        stream.write(b"\n".join(items) + b"\n")
        stream.flush()
