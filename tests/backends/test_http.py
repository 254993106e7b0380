"""The HTTP backend base (status classes, Retry-After, timeouts, sessions) through the webhook backend
and a real HTTP server on loopback."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from event_hub.backends.http import is_retryable_status, retry_after_seconds
from event_hub.backends.webhook import WebhookBackend
from event_hub.delivery.attempt import RetryPolicy, settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.exceptions import PermanentDeliveryError, RetryableDeliveryError
from event_hub.models import DeadLetter
from tests.support_backends import wire_line
from tests.support_http import Answer, ScriptedServer, scripted_server


@pytest.fixture(name="server")
def fixture_server() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        yield server


def batch(count: int = 3) -> Batch:
    return Batch(backend="hook", lines=[wire_line(f"e{n}", {"n": n}) for n in range(count)])


class TestStatusClasses:
    @pytest.mark.parametrize("status", [408, 410, 429, 460, 500, 502, 503, 504, 599])
    def test_retryable(self, status: int) -> None:
        """Timeouts, gone, rate limits, Segment's 460 and 5xx are retried."""
        assert is_retryable_status(status)

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422, 501, 505])
    def test_permanent(self, status: int) -> None:
        """Other 4xx, 501 and 505 are permanent."""
        assert not is_retryable_status(status)

    def test_retry_after_in_seconds_or_as_a_date(self) -> None:
        """Retry-After is read as seconds, or as an HTTP date relative to now."""
        assert retry_after_seconds("2") == 2.0
        assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
        assert retry_after_seconds("soon") is None
        assert retry_after_seconds(None) is None


class TestWebhook:
    def test_batch_is_one_json_array_of_whole_envelopes(self, server: ScriptedServer) -> None:
        """A batch is one POST of its envelopes (ids included), with the batch id in a header."""
        sent = batch()
        backend = WebhookBackend("hook", url=f"{server.url}/in", headers={"Authorization": "Bearer t"})
        result = backend.deliver(sent)
        assert result.delivered == 3
        [request] = server.received
        assert request.path == "/in"
        assert request.headers["authorization"] == "Bearer t"
        assert request.headers["x-event-hub-batch"] == sent.id
        body = orjson.loads(request.body)
        assert [event["id"] for event in body] == ["e0", "e1", "e2"]
        assert body[0]["event"] == {"n": 0}

    def test_server_error_is_retryable(self, server: ScriptedServer) -> None:
        """A 503 is a retryable failure carrying the answer's text."""
        server.script(Answer(503, body=b"overloaded"))
        with pytest.raises(RetryableDeliveryError, match="HTTP 503: overloaded"):
            WebhookBackend("hook", url=server.url).deliver(batch())

    def test_retry_after_is_kept(self, server: ScriptedServer) -> None:
        """A 429 with Retry-After: 2 is retryable, no sooner than 2 s."""
        server.script(Answer(429, headers={"Retry-After": "2"}))
        with pytest.raises(RetryableDeliveryError) as caught:
            WebhookBackend("hook", url=server.url).deliver(batch())
        assert caught.value.retry_after == 2.0

    def test_client_error_is_permanent(self, server: ScriptedServer) -> None:
        """A 400 is permanent, with the answer's reason."""
        server.script(Answer(400, body=b'{"error": "bad field"}'))
        with pytest.raises(PermanentDeliveryError, match="bad field"):
            WebhookBackend("hook", url=server.url).deliver(batch())

    def test_slow_answer_times_out_retryably(self, server: ScriptedServer) -> None:
        """An answer slower than the timeout is a retryable failure."""
        server.script(Answer(200, delay=2.0))
        with pytest.raises(RetryableDeliveryError, match="Timeout"):
            WebhookBackend("hook", url=server.url, timeout=0.2).deliver(batch())

    def test_refused_connection_is_retryable(self) -> None:
        """Nothing listening is a retryable failure."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with pytest.raises(RetryableDeliveryError, match="ConnectionError"):
            WebhookBackend("hook", url=f"http://127.0.0.1:{port}").deliver(batch())

    def test_session_is_reused_and_renewed_after_fork(self, server: ScriptedServer) -> None:
        """Batches share one session; a forked child makes its own."""
        backend = WebhookBackend("hook", url=server.url)
        backend.deliver(batch())
        first = backend.session
        backend.deliver(batch())
        assert backend.session is first
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            os.write(writer, b"new" if backend.session is not first else b"same")
            os._exit(0)
        os.waitpid(child, 0)
        assert os.read(reader, 8) == b"new"

    def test_check_options(self) -> None:
        """A missing URL or a bad timeout stops startup."""
        problems = WebhookBackend.check_options({"url": "ftp://x", "timeout": 0})
        assert any("url" in p for p in problems)
        assert any("timeout" in p for p in problems)
        assert WebhookBackend.check_options({"url": "https://hooks.example.org/x"}) == []


@pytest.mark.django_db
class TestThroughTheDeliveryFlow:
    def test_retry_waits_at_least_retry_after(self, server: ScriptedServer, hub: Callable[..., Any]) -> None:
        """The next retry of a batch answered 429 Retry-After: 30 is not scheduled sooner than 30 s."""
        hub(DELIVERY="sync", BACKENDS={"hook": {"ENGINE": "event_hub.backends.webhook.WebhookBackend",
                                                "OPTIONS": {"url": server.url}}})
        server.script(Answer(429, headers={"Retry-After": "30"}))
        attempt = try_deliver(batch())
        assert attempt.retryable
        assert attempt.retry_after == 30.0
        policy = RetryPolicy(max_retries=3, backoff_seconds=1.0, backoff_max_seconds=5.0)
        assert all(policy.delay(0, attempt) >= 30.0 for _ in range(20))
        assert all(policy.delay(0) <= 1.0 for _ in range(20))

    def test_backend_retry_limits_override_the_defaults(
        self, server: ScriptedServer, hub: Callable[..., Any]
    ) -> None:
        """RETRY_MAX in the backend's entry decides when a retryable failure is dead-lettered."""
        hub(
            DELIVERY="sync",
            RETRY_MAX=8,
            BACKENDS={"hook": {"ENGINE": "event_hub.backends.webhook.WebhookBackend",
                               "OPTIONS": {"url": server.url}, "RETRY_MAX": 1}},
        )
        server.default = Answer(500)
        sent = batch()
        assert settle(sent, try_deliver(sent), attempts_made=1) is True
        assert settle(sent, try_deliver(sent), attempts_made=2) is False
        letter = DeadLetter.objects.get()
        assert letter.reason == DeadLetter.Reason.RETRIES_EXHAUSTED
        assert "HTTP 500" in letter.error
