"""Console backend: prints each event as one tracking-log line on stdout or stderr (for development)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from event_hub import jsonio
from event_hub.backends.base import Backend
from event_hub.backends.formats import check_format_options, renderer
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope

STREAMS = ("stdout", "stderr")


class ConsoleBackend(Backend):
    """Write events to the process's standard output (or error) stream."""

    def __init__(
        self, name: str, *, stream: str = "stdout", format: str = "openedx", extra_fields: Sequence[str] = ()
    ) -> None:
        super().__init__(name)
        self.stream = stream
        self.render = renderer(format, extra_fields)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        problems = check_format_options(dict(options))
        if options.get("stream", "stdout") not in STREAMS:
            problems.append(f"OPTIONS['stream'] must be one of {STREAMS}")
        return problems

    def transform(self, envelope: Envelope) -> bytes:
        return jsonio.dumps(self.render(envelope), option=orjson.OPT_NON_STR_KEYS)

    def send(self, items: Sequence[bytes], batch: Batch) -> None:
        stream = getattr(sys, self.stream).buffer
        stream.write(b"\n".join(items) + b"\n")
        stream.flush()
