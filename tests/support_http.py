"""A real HTTP server on loopback for the HTTP backends' tests, answering as each test scripts it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.define
class Answer:
    """One scripted answer: status, headers, body, and seconds to wait before answering."""

    status: int = 200
    headers: dict[str, str] = attrs.Factory(dict)
    body: bytes = b"{}"
    delay: float = 0.0


@attrs.define
class Received:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Answers requests with the scripted answers in order, then with ``default``."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.default = Answer()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with server._lock:
                    server.received.append(
                        Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    answer = server.answers.pop(0) if server.answers else server.default
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self.answers.extend(answers)


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """A :class:`ScriptedServer` serving in a thread for the duration of the block."""
    server = ScriptedServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=10)
