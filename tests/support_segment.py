"""The ``event_hub_segment_sink`` command run as a real process on loopback, for the Segment tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT
from tests.support_backends import wait_for

WRITE_KEY = "test-write-key"


class Sink:
    """One ``manage.py event_hub_segment_sink`` process; it can be stopped and started on the same port."""

    def __init__(self, folder: Path, write_key: str = WRITE_KEY) -> None:
        self.folder = folder
        self.write_key = write_key
        self.db = folder / "segment-sink.sqlite3"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Sink:
        port_file = self.folder / "sink.port"
        port_file.unlink(missing_ok=True)
        self._log = open(self.folder / "sink.log", "ab")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "event_hub_segment_sink",
                "--port",
                str(self.port),
                "--port-file",
                str(port_file),
                "--db",
                str(self.db),
                "--write-key",
                self.write_key,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: port_file.exists() and port_file.read_text(), timeout=30, what="the sink to listen")
        self.port = int(port_file.read_text())
        wait_for(self._healthy, timeout=10, what="the sink to answer")
        return self

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=2).ok
        except requests.ConnectionError:
            return False

    def reset(self) -> None:
        """Forget stored requests and messages and any scripted fault."""
        assert requests.post(f"{self.url}/control/reset", timeout=5).ok

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        if getattr(self, "_log", None):
            self._log.close()

    def faults(self, *faults: dict[str, Any]) -> None:
        response = requests.post(f"{self.url}/control/faults", json=list(faults), timeout=5)
        assert response.ok, response.text

    def stats(self) -> dict[str, int]:
        return dict(requests.get(f"{self.url}/control/stats", timeout=5).json())

    def messages(self) -> list[dict[str, Any]]:
        return list(requests.get(f"{self.url}/control/messages", timeout=5).json())

    def requests(self) -> list[dict[str, Any]]:
        return list(requests.get(f"{self.url}/control/requests", timeout=5).json())

    def wait_for_messages(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The stored messages once there are at least ``count``."""
        return list(
            wait_for(
                lambda: (found := self.messages()) and len(found) >= count and found,
                timeout=timeout,
                what=f"{count} message(s) at the sink",
            )
        )


@pytest.fixture(name="sink")
def fixture_sink(tmp_path: Path) -> Iterator[Sink]:
    """A fresh sink process for one test."""
    sink = Sink(tmp_path).start()
    yield sink
    sink.stop()


def segment_config(sink: Sink, **options: Any) -> dict[str, Any]:
    """A ``BACKENDS`` entry for the Segment backend posting to ``sink``."""
    backend_keys = ("PII", "PROCESSORS", "RETRY_MAX", "RETRY_BACKOFF_SECONDS", "RETRY_BACKOFF_MAX_SECONDS")
    extra = {key: options.pop(key) for key in backend_keys if key in options}
    return {
        "ENGINE": "event_hub.backends.segment.SegmentBackend",
        "OPTIONS": {"write_key": sink.write_key, "host": sink.url, "timeout": 5.0, **options},
        **extra,
    }
