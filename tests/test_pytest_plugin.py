"""The ``event_hub_events`` fixture of the pytest plugin, in a host project's own test run."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HOST_TEST = """
from event_hub import emit


def test_emits(event_hub_events):
    emit("edx.instructor.report.requested", {"report_type": "grades"})
    assert event_hub_events.names() == ["edx.instructor.report.requested"]
    assert event_hub_events[0]["event"] == {"report_type": "grades"}


def test_each_test_starts_empty(event_hub_events):
    assert len(event_hub_events) == 0
"""


class TestFixture:
    """A host project's tests get the fixture from the plugin, with no conftest of their own."""

    def test_host_project_run(self, tmp_path: Path) -> None:
        """Two tests using event_hub_events pass in a separate pytest run that loads only the plugin."""
        (tmp_path / "test_host.py").write_text(HOST_TEST)
        # An install made from this pyproject.toml registers the plugin itself; an older one needs -p.
        registered = any(
            entry.value == "event_hub.pytest_plugin"
            for entry in importlib.metadata.entry_points(group="pytest11")
        )
        load = [] if registered else ["-p", "event_hub.pytest_plugin"]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "tests.settings"}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                *load,
                "--rootdir",
                str(tmp_path),
                "-c",
                os.devnull,
                str(tmp_path / "test_host.py"),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2 passed" in result.stdout
