"""The local Segment sink answers an accepted batch before storing it; control reads see it stored."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from event_hub.segment_sink import SegmentSink, serve

AUTH = {"Authorization": "Basic " + base64.b64encode(b"key:").decode()}
BATCH = {
    "batch": [{"type": "track", "event": "e", "anonymousId": "a", "messageId": f"m{n}"} for n in range(3)]
}


@pytest.fixture(name="sink")
def fixture_sink(tmp_path: Path) -> Iterator[SegmentSink]:
    sink = serve("127.0.0.1", 0, "key", tmp_path / "sink.sqlite3")
    thread = threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()
    sink.store.close()


def test_accepted_batch_is_answered_before_it_is_stored(sink: SegmentSink) -> None:
    stats: list[dict[str, int]] = []
    with sink.store._lock:  # the store cannot write until this block ends
        answer = requests.post(f"{sink.url}/v1/batch", json=BATCH, headers=AUTH, timeout=10)
        assert answer.status_code == 200
        reader = threading.Thread(
            target=lambda: stats.append(requests.get(f"{sink.url}/control/stats", timeout=10).json())
        )
        reader.start()
        reader.join(0.5)
        assert not stats  # the read waits until the answered batch is stored
    reader.join(10)
    assert stats[0]["messages"] == 3
    assert sink.wait_stored(timeout=1)
