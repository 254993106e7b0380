"""scripts/lib.sh ``supervise``: what scripts/run uses to start the Celery worker again whenever it exits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support_backends import wait_for


@pytest.fixture(name="supervisor")
def fixture_supervisor(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
    pidfile = tmp_path / "child.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)


def supervise(
    tmp_path: Path, command: str, started: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    script = f'source scripts/lib.sh; supervise "$1" "$2" sh -c {command!r}'
    process = subprocess.Popen(
        ["bash", "-c", script, "supervise-test", str(tmp_path / "child.pid"), str(tmp_path / "child.log")],
        cwd=ROOT,
        env={**os.environ, "SUPERVISE_PAUSE": "0.1"},
    )
    started.append(process)
    return process


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


class TestSupervise:
    def test_command_that_exits_is_started_again(
        self, tmp_path: Path, supervisor: list[subprocess.Popen[bytes]]
    ) -> None:
        """A command that keeps exiting keeps being started, and each exit is noted in the log."""
        runs = tmp_path / "runs"
        supervise(tmp_path, f"echo run >> {runs}; exit 3", supervisor)
        wait_for(
            lambda: runs.exists() and len(runs.read_text().splitlines()) >= 3, what="three runs", timeout=30
        )
        assert "exited with status 3; restarting" in (tmp_path / "child.log").read_text()

    def test_killed_worker_is_replaced(
        self, tmp_path: Path, supervisor: list[subprocess.Popen[bytes]]
    ) -> None:
        """SIGKILL of the running command (its whole group) starts a new one with a new pid."""
        pidfile = tmp_path / "child.pid"
        supervise(tmp_path, "sleep 600", supervisor)
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != "", what="first pid", timeout=30)
        first = int(pidfile.read_text())
        # setsid makes the child a group leader just after its pid is written: wait for that.
        wait_for(lambda: _group_of(first) == first, what="the first command's own process group", timeout=30)
        os.killpg(first, signal.SIGKILL)
        wait_for(
            lambda: pidfile.read_text().strip() not in ("", str(first)),
            what="a new pid after the kill",
            timeout=30,
        )
        second = int(pidfile.read_text())
        os.kill(second, 0)  # the new one runs

    def test_terminating_the_supervisor_stops_restarting(
        self, tmp_path: Path, supervisor: list[subprocess.Popen[bytes]]
    ) -> None:
        """SIGTERM ends the supervisor itself (scripts/run then stops the worker it started)."""
        runs = tmp_path / "runs"
        process = supervise(tmp_path, f"echo run >> {runs}; sleep 600", supervisor)
        wait_for(lambda: runs.exists(), what="the first run", timeout=30)
        process.terminate()
        assert process.wait(timeout=10) == 0
