"""End to end on the embedded defaults: the dev host as README's run command starts it.

SQLite and Celery's filesystem transport, a real worker process, a real HTTP
server: a server event from ``manage.py shell`` and a POSTed browser event must
both land in the JSON-lines log as complete lines with every common field.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMMON_FIELDS
from tests.support_backends import wait_for

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="devhost_env")
def fixture_devhost_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "EVENT_HUB_TEST_CONFIG", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {
            "EVENT_HUB_VAR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "devsite.settings",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


@pytest.fixture(name="processes")
def fixture_processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def log_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


class TestEmbeddedDefaults:
    def test_shell_and_http_events_reach_the_log(
        self, devhost_env: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path
    ) -> None:
        """With SQLite and the filesystem broker, a worker writes both events as complete JSON lines."""
        var = Path(devhost_env["EVENT_HUB_VAR"])
        log = var / "log" / "tracking.log"
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=devhost_env, check=True
        )
        assert (var / "db.sqlite3").exists()

        worker_log = (tmp_path / "worker.log").open("wb")
        processes.append(
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "devsite",
                    "worker",
                    "--loglevel=INFO",
                    "--concurrency=1",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=devhost_env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        port = free_port()
        server_log = (tmp_path / "server.log").open("wb")
        processes.append(
            subprocess.Popen(
                [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=devhost_env,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

        subprocess.run(
            [
                python,
                "manage.py",
                "shell",
                "-c",
                "from event_hub import track; track('edx.course.enrollment.activated', "
                "data={'course_id': 'course-v1:edX+DemoX+2024', 'mode': 'audit', 'user_id': 3}, "
                "course_id='course-v1:edX+DemoX+2024')",
            ],
            cwd=ROOT,
            env=devhost_env,
            check=True,
            capture_output=True,
        )

        def server_up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_for(server_up, timeout=60, what="the dev server")
        body = json.dumps(
            {
                "tracking_event_type": "video",
                "node_id": "block-v1:edX+DemoX+2024+type@video+block@v1",
                "event_data": {"video_id": "v1", "video_event_type": "play"},
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/tracking",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "devhost-test/1.0"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status in (201, 202)
            posted_id = json.loads(response.read())["id"]

        wait_for(lambda: len(log_lines(log)) >= 2, timeout=90, what=f"two lines in {log}")
        events = {event["event_source"]: event for event in log_lines(log)}
        assert set(events) == {"server", "browser"}
        for event in events.values():
            assert set(event) == COMMON_FIELDS  # exactly what the platform writes: no id, no extras
            assert {"course_id", "org_id", "path", "user_id"} <= set(event["context"])
            assert event["context"]["course_id"] == "course-v1:edX+DemoX+2024"
        assert posted_id
        # The platform writes a browser event's payload as a JSON string.
        assert json.loads(events["browser"]["event"]) == {"video_id": "v1", "video_event_type": "play"}
        assert events["browser"]["agent"] == "devhost-test/1.0"
        assert events["browser"]["context"]["path"] == "/api/tracking"
        assert events["server"]["event"] == {
            "course_id": "course-v1:edX+DemoX+2024",
            "mode": "audit",
            "user_id": 3,
        }

    def test_worker_keeps_its_database_connection_between_tasks(self, devhost_env: dict[str, str]) -> None:
        """The dev host's Celery app reuses the worker's database connection (docs/scaling.rst)."""
        code = "import django; django.setup(); from devsite.celery import app; print(app.conf.db_reuse_max)"
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=devhost_env, check=True, capture_output=True
        )
        assert result.stdout.decode().strip() == "1000"
