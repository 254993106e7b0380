"""Tests of batches and their forms in messages and tables."""

from __future__ import annotations

import orjson
import pytest

from event_hub.delivery.batch import Batch

LINES = [orjson.dumps({"id": str(i), "event": {"answer": '"quoted" \\ text ' * 20}}) for i in range(50)]


class TestWire:
    @pytest.mark.parametrize("compression", [None, "zlib"])
    def test_round_trip(self, compression: str | None) -> None:
        """A batch read back from its message form has the same lines and id."""
        batch = Batch(backend="log", lines=LINES)
        assert Batch.from_payload("log", batch.wire(compression), batch.id) == batch

    def test_compressed_form_is_short_and_needs_no_escaping(self) -> None:
        """The zlib form is much shorter than the text and has no character JSON must escape."""
        batch = Batch(backend="log", lines=LINES)
        wire = batch.wire("zlib")
        assert wire.startswith("zlib:")
        assert len(wire) * 5 < len(batch.payload)
        assert '"' not in wire
        assert "\\" not in wire

    def test_plain_text_is_the_payload(self) -> None:
        """Without compression the message carries the JSON lines as outbox rows do."""
        batch = Batch(backend="log", lines=LINES)
        assert batch.wire(None) == batch.payload
        assert Batch.from_payload("log", batch.payload, batch.id).lines == tuple(LINES)
