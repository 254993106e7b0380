"""Tests of the request middleware: request context fields and per-request batching."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import attrs
from django.test import Client, RequestFactory

from event_hub.context import RequestInfo
from event_hub.identity import session_id
from event_hub.middleware import client_ip, request_info
from tests.conftest import delivered

COURSE = "course-v1:edX+DemoX+2024"


class TestRequestFields:
    def test_request_fields_reach_the_envelope(self, memory_hub: Callable[..., None]) -> None:
        """agent, host, referer, accept_language and path come from the request."""
        client = Client(
            HTTP_USER_AGENT="Agent/1.0",
            HTTP_REFERER="https://lms.example.org/x",
            HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9",
            HTTP_HOST="lms.example.org",
        )
        client.get("/emit/")
        [event] = delivered()
        assert event["agent"] == "Agent/1.0"
        assert event["host"] == "lms.example.org"
        assert event["referer"] == "https://lms.example.org/x"
        assert event["accept_language"] == "fr-CH, fr;q=0.9"
        assert event["context"]["path"] == "/emit/"

    def test_course_from_the_url(self, memory_hub: Callable[..., None]) -> None:
        """A course key in the request path becomes the course context."""
        Client().get(f"/courses/{COURSE}/emit/")
        [event] = delivered()
        assert (event["context"]["course_id"], event["context"]["org_id"]) == (COURSE, "edX")

    def test_ip_ignores_forwarded_for_without_trusted_proxies(self, memory_hub: Callable[..., None]) -> None:
        """X-Forwarded-For is not trusted unless TRUSTED_PROXY_COUNT says so (it is forgeable)."""
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert client_ip(request) == "10.0.0.1"

    def test_ip_from_the_last_trusted_proxy(self, memory_hub: Callable[..., None]) -> None:
        """With one trusted proxy, the address it appended is the client's."""
        memory_hub(TRUSTED_PROXY_COUNT=1)
        request = RequestFactory().get(
            "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1"
        )
        assert client_ip(request) == "198.51.100.1"

    def test_every_request_info_field_is_taken_from_the_request(self) -> None:
        """A request carrying every header fills every field of RequestInfo; none is left at its default."""
        request = RequestFactory().get(
            "/courses/x/",
            REMOTE_ADDR="10.0.0.1",
            HTTP_USER_AGENT="Agent/1.0",
            HTTP_HOST="lms.example.org",
            HTTP_REFERER="https://lms.example.org/x",
            HTTP_ACCEPT_LANGUAGE="fr",
        )
        request.session = SimpleNamespace(session_key="k" * 32)  # type: ignore[attr-defined]
        info = request_info(request)
        left_at_default = [
            field.name for field in attrs.fields(RequestInfo) if getattr(info, field.name) == field.default
        ]
        assert left_at_default == []
        assert info.session == session_id("k" * 32)

    def test_request_info_never_validates_the_host(self) -> None:
        """A host outside ALLOWED_HOSTS does not make event collection raise."""
        request = RequestFactory().get("/", HTTP_HOST="evil.example")
        assert request_info(request).host == "evil.example"


class TestSessionAndPage:
    def test_server_event_carries_the_hashed_session_and_no_page(
        self, memory_hub: Callable[..., None], django_user_model: Any
    ) -> None:
        """A server event in a request has the digest of the session key, and page None as on the platform."""
        client = Client()
        client.force_login(django_user_model.objects.create_user("learner"))
        client.get("/emit/", HTTP_REFERER="https://lms.example.org/courses/x/")
        [event] = delivered()
        assert event["session"] == session_id(client.session.session_key)
        assert event["page"] is None

    def test_session_is_read_when_the_event_is_emitted(self) -> None:
        """A session key given to the request after the middleware ran (a login) is the one events carry."""
        request = RequestFactory().get("/")
        request.session = SimpleNamespace(session_key=None)  # type: ignore[attr-defined]
        info = request_info(request)
        assert info.session == ""
        request.session.session_key = "n" * 32  # type: ignore[attr-defined]
        assert info.session == session_id("n" * 32)


class TestBatchingPerRequest:
    def test_one_hand_off_per_request(self, memory_hub: Callable[..., None], monkeypatch: Any) -> None:
        """Ten events in one request are handed off as one batch, at the end of the request."""
        from event_hub.delivery import unit_of_work

        batches: list[int] = []
        real = unit_of_work.hand_off
        monkeypatch.setattr(unit_of_work, "hand_off", lambda batch: (batches.append(len(batch)), real(batch)))
        Client().get("/emit/?count=10")
        assert batches == [10]
        assert len(delivered()) == 10

    def test_events_survive_a_failing_view(self, memory_hub: Callable[..., None]) -> None:
        """Events emitted before the view raised are still handed off."""
        client = Client(raise_request_exception=False)
        assert client.get("/emit-and-fail/").status_code == 500
        assert len(delivered()) == 1

    def test_async_views_are_supported(self, memory_hub: Callable[..., None]) -> None:
        """An async view's events are collected and handed off like a sync view's."""
        assert Client().get("/emit-async/").status_code == 200
        [event] = delivered()
        assert event["context"]["path"] == "/emit-async/"

    def test_asgi_requests_get_their_own_unit_of_work(
        self, memory_hub: Callable[..., None], monkeypatch: Any
    ) -> None:
        """Under ASGI the async middleware path batches each request's events once."""
        import asyncio

        from django.test import AsyncClient

        from event_hub.delivery import unit_of_work

        batches: list[int] = []
        real = unit_of_work.hand_off
        monkeypatch.setattr(unit_of_work, "hand_off", lambda batch: (batches.append(len(batch)), real(batch)))

        async def two_requests() -> list[int]:
            client = AsyncClient()
            responses = await asyncio.gather(client.get("/emit-async/"), client.get("/emit-async/"))
            return [r.status_code for r in responses]

        assert asyncio.run(two_requests()) == [200, 200]
        assert batches == [1, 1]
        assert len(delivered()) == 2
