"""Choose the output format a backend receives (``openedx`` or ``compact``)."""

from __future__ import annotations

import attrs

from event_hub.envelope import FORMATS, Envelope


class OutputFormat:
    """Set the envelope's output format; rendering happens at hand-off."""

    __slots__ = ("format",)

    def __init__(self, format: str = "openedx") -> None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
        self.format = format

    def __call__(self, envelope: Envelope) -> Envelope:
        if envelope.format == self.format:
            return envelope
        return attrs.evolve(envelope, format=self.format)
