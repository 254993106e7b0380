"""Shared fixtures: settings helpers, captured events, real services, a real Celery worker."""

from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings

from event_hub.backends import memory
from event_hub.delivery import handoff, unit_of_work
from event_hub.envelope import Envelope, EventContext, new_event_id

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"
ENROLLMENT = {"course_id": "course-v1:edX+DemoX+2024", "mode": "audit", "user_id": 7}
#: The root-level fields every tracking-log event has ("Common Fields" of the reference; tests/backends/
#: test_formats.py checks this list against the document), and the only ones the ``openedx`` format writes.
COMMON_FIELDS = frozenset(
    {
        "accept_language",
        "agent",
        "context",
        "event",
        "event_source",
        "event_type",
        "host",
        "ip",
        "name",
        "page",
        "referer",
        "session",
        "time",
        "username",
    }
)


def require_service(name: str, url: str) -> None:
    """Skip when ``url`` does not answer, or fail under ``CI=true``: CI must never skip a service test."""
    parsed = urlparse(url)
    host, port = (
        parsed.hostname or "127.0.0.1",
        parsed.port or {"redis": 6379, "amqp": 5672}.get(parsed.scheme, 0),
    )
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} at {host}:{port} is unreachable: {exc}"
        if CI:
            pytest.fail(f"{message} (CI=true: service tests must run, not skip)")
        pytest.skip(message)


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = django_settings.DATABASES["default"]
    return [
        f"event_hub tests: database {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('NAME')}, "
        f"broker {django_settings.CELERY_BROKER_URL}, CI={CI}"
    ]


@pytest.fixture(autouse=True)
def _isolate_event_hub() -> Iterator[None]:
    """Each test starts with empty memory backends, a fresh broker state and an empty ambient buffer."""
    memory.clear()
    handoff.broker.reset()
    yield
    pending = unit_of_work.ambient().pending()
    unit_of_work.ambient().reset_after_fork()
    memory.clear()
    handoff.broker.reset()
    assert pending == 0, f"{pending} event(s) were left in the ambient buffer by this test"


@pytest.fixture(name="hub")
def fixture_hub(settings: Any, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """Set ``EVENT_HUB`` for one test: ``hub(BACKENDS={...}, DELIVERY="sync")`` (other keys keep defaults,
    except two: the spool is this test's own folder, and the hand-off is ``direct`` unless the test
    asks for the spool — its publisher thread writes the outbox through a connection of its own,
    outside the test's transaction; tests/delivery/test_spool.py and the dev-host tests cover it)."""

    def configure(**values: Any) -> dict[str, Any]:
        values.setdefault("SPOOL_DIR", str(tmp_path / "spool"))
        values.setdefault("HANDOFF", "direct")
        settings.EVENT_HUB = values
        return values

    return configure


@pytest.fixture(name="memory_hub")
def fixture_memory_hub(hub: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """Sync delivery to one memory backend named ``memory``; keyword arguments add EVENT_HUB keys."""

    def configure(*, backend: dict[str, Any] | None = None, **values: Any) -> None:
        config = {"ENGINE": "event_hub.backends.memory.MemoryBackend", **(backend or {})}
        hub(DELIVERY="sync", BACKENDS={"memory": config}, **values)

    configure()
    return configure


def delivered(backend: str = "memory") -> list[dict[str, Any]]:
    """Events delivered to memory backend ``backend`` after handing off what is pending."""
    unit_of_work.current().flush()
    return memory.events(backend)


@pytest.fixture(name="redis_url")
def fixture_redis_url() -> str:
    """URL of the real Redis broker (fails under CI when it is down)."""
    url = str(django_settings.CELERY_BROKER_URL)
    require_service("Redis broker", url)
    return url


def subprocess_env(config: dict[str, Any], **extra: str) -> dict[str, str]:
    """Environment of a process run with the test settings, ``config`` as EVENT_HUB, and this
    test's database and broker."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "EVENT_HUB_TEST_CONFIG": json.dumps(config),
        "EVENT_HUB_TEST_DB_NAME": str(django_settings.DATABASES["default"]["NAME"]),
        "CELERY_BROKER_URL": str(django_settings.CELERY_BROKER_URL),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def run_script(script: str, config: dict[str, Any]) -> bytes:
    """Run ``python -c script`` with the test settings and ``config``; assert success, return stdout."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=subprocess_env(config),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


class Worker:
    """A real ``celery worker`` process with its own EVENT_HUB configuration."""

    def __init__(
        self, config: dict[str, Any], log_path: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.config = config
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, concurrency: int = 1, pool: str = "prefork") -> Worker:
        env = subprocess_env(self.config, **self.extra_env)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.celery_app",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                f"--pool={pool}",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_for_log("ready.", timeout=60)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 30, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        raise AssertionError(
            f"{text!r} not seen {count}x in worker log within {timeout}s:\n{self.log()[-4000:]}"
        )

    def kill(self) -> None:
        """SIGKILL the whole worker process group (no chance to ack or requeue anything)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()


@pytest.fixture(name="purge_broker")
def fixture_purge_broker(redis_url: str) -> Callable[[], None]:
    """Empty the test broker database so a test never sees another test's messages."""
    import redis

    def purge() -> None:
        redis.Redis.from_url(redis_url).flushdb()

    purge()
    return purge


@pytest.fixture(name="start_worker")
def fixture_start_worker(tmp_path: Path, purge_broker: Callable[[], None]) -> Iterator[Callable[..., Worker]]:
    """Start real Celery workers for a test; all are stopped after it."""
    workers: list[Worker] = []

    def start(
        config: dict[str, Any], *, concurrency: int = 1, extra_env: dict[str, str] | None = None
    ) -> Worker:
        worker = Worker(config, tmp_path / f"worker-{len(workers)}.log", extra_env)
        workers.append(worker)
        return worker.start(concurrency=concurrency)

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(name="envelope")
def fixture_envelope() -> Envelope:
    """A mobile play_video envelope with every field and context member filled (PII included)."""
    return Envelope(
        id=new_event_id(),
        name="edx.video.played",
        event_type="play_video",
        event_source="mobile",
        time=datetime.datetime(2014, 3, 3, 16, 19, 5, 584523, tzinfo=datetime.UTC),
        event={"id": "v1", "code": "mobile", "currentTime": 3.5},
        context=EventContext(
            course_id="course-v1:edX+DemoX+2014",
            org_id="edX",
            path="/event",
            user_id=9,
            anonymous_user_id="a" * 32,
            course_run="2014",
            course_slug="edX+DemoX",
            module_id="chapter1",
            section_id="seq1",
            unit_id="vert1",
            module={"usage_key": "block-v1:edX+DemoX+2014+type@video+block@v1", "display_name": "Intro"},
            extra={"component": "videoplayer"},
        ),
        username="learner",
        ip="203.0.113.9",
        agent="Mobile/1.0",
        host="lms.example.org",
        page="https://lms.example.org/courses/x",
    )
