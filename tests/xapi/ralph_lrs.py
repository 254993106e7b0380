"""A real Ralph LRS on loopback for the xAPI tests, and a proxy in front of it that can slow it down.

Ralph (PyPI ``ralph-malph``) pins versions of click and cachetools that Celery
and tox in the test environment cannot share, so it lives in a virtualenv of
its own: ``EVENT_HUB_RALPH_VENV`` or ``~/.cache/event_hub/ralph-<version>``,
built on first use with ``pip`` (PyPI must be reachable then).
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

RALPH_VERSION = "5.1.0"
#: Ralph 5.1.0's LRS extra imports requests without depending on it.
RALPH_REQUIREMENTS = (f"ralph-malph[cli,lrs]=={RALPH_VERSION}", "requests")
HOME_PAGE = "http://lrs.test"
USERNAME = "hub"
PASSWORD = "hub-secret"
SERVER = Path(__file__).with_name("ralph_server.py")
START_SECONDS = 60.0


def venv() -> Path:
    """Ralph's virtualenv, built if missing."""
    configured = os.environ.get("EVENT_HUB_RALPH_VENV")
    path = Path(configured) if configured else Path.home() / ".cache" / "event_hub" / f"ralph-{RALPH_VERSION}"
    python = path / "bin" / "python"
    if not (path / ".complete").exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *RALPH_REQUIREMENTS], check=True)
        (path / ".complete").touch()
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Any, timeout: float, what: str) -> None:
    """Poll ``condition`` until it is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Ralph:
    """One Ralph LRS process with a Basic-auth user and a statements folder of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.python = venv() / "bin" / "python"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (folder / "data").mkdir(parents=True, exist_ok=True)
        digest = subprocess.run(
            [
                str(self.python),
                "-c",
                "import bcrypt,sys;print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())",
                PASSWORD,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        user = {
            "agent": {"objectType": "Agent", "account": {"homePage": HOME_PAGE, "name": USERNAME}},
            "scopes": ["all"],
            "hash": digest,
            "username": USERNAME,
        }
        self.auth_file = folder / "auth.json"
        self.auth_file.write_bytes(orjson.dumps([user]))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI"

    def start(self) -> None:
        env = {
            **os.environ,
            "RALPH_AUTH_FILE": str(self.auth_file),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.folder / "data"),
            "RALPH_APP_DIR": str(self.folder),
        }
        self.log = open(self.folder / "ralph.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(self.python), str(SERVER), "127.0.0.1", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._up, START_SECONDS, "Ralph to answer")

    def _up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"Ralph exited: {(self.folder / 'ralph.log').read_text()[-3000:]}")
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None
            self.log.close()

    def statements(self) -> list[dict[str, Any]]:
        """Every statement the LRS holds, read back through its statements resource."""
        found: list[dict[str, Any]] = []
        url = f"{self.endpoint}/statements?limit=500"
        while url:
            answer = requests.get(
                url, auth=(USERNAME, PASSWORD), headers={"X-Experience-API-Version": "1.0.3"}, timeout=10
            )
            answer.raise_for_status()
            body = answer.json()
            found.extend(body["statements"])
            more = body.get("more")
            url = f"http://127.0.0.1:{self.port}{more}" if more else ""
        return found

    def post(self, statements: list[dict[str, Any]]) -> int:
        answer = requests.post(
            f"{self.endpoint}/statements",
            json=statements,
            auth=(USERNAME, PASSWORD),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=10,
        )
        return answer.status_code


class SlowProxy:
    """A TCP proxy on loopback in front of ``port``, holding each answer back ``delay`` seconds when set."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.delay = 0.0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.target)) as upstream:
            while not self._stopped.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.2)
                for sock in ready:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    if sock is upstream and self.delay:
                        self._stopped.wait(self.delay)
                    (upstream if sock is client else client).sendall(chunk)

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()


@pytest.fixture(name="ralph", scope="module")
def fixture_ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    """A Ralph LRS for the tests of one module."""
    lrs = Ralph(tmp_path_factory.mktemp("ralph"))
    lrs.start()
    yield lrs
    lrs.stop()
