"""Fixtures and helpers shared by the ``/api/tracking`` tests (import the fixtures you use)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from event_hub.models import InvalidEvent
from tests.conftest import delivered

URL = "/api/tracking"
COURSE_ID = "course-v1:edX+DemoX+2024"
VIDEO_NODE = "block-v1:edX+DemoX+2024+type@video+block@intro"
PAGE = f"https://lms.example.com/courses/{COURSE_ID}/courseware/unit/"
PLAY = {"code": "html5", "currentTime": 12.5, "id": "i4x-edX-DemoX-video-intro"}
BROWSER_PLAY = {"event_type": "play_video", "event": PLAY, "page": PAGE}
DESIGN_NOTE_VIDEO = {
    "tracking_event_type": "video",
    "node_id": VIDEO_NODE,
    "event_data": {"video_id": "intro", "video_event_type": "play"},
}
MOBILE_PLAY = {
    "event_source": "mobile",
    "name": "edx.video.played",
    "event_type": "play_video",
    "timestamp": "2014-12-09T03:57:24+00:00",
    "page": "https://courses.edx.org/courses/edX/DemoX/Demo_Course/courseware/video",
    "event": '{"code": "mobile", "id": "i4x-edX-DemoX-video-0b9e", "currentTime": 114}',
    "context": {
        "course_id": COURSE_ID,
        "component": "videoplayer",
        "received_at": "2014-12-09T03:57:56.373000+00:00",
        "application": {"name": "edx.mobileapp.android", "version": "0.1.8"},
        "client": {"locale": "en-US", "os": {"name": "REL", "version": "4.0.2", "sdk": 14}},
    },
}

#: EVENT_HUB for the API tests: memory delivery, no throttling unless a test sets rates.
API_HUB: dict[str, Any] = {"API_THROTTLE_RATES": {}}


@pytest.fixture(name="api_hub")
def fixture_api_hub(memory_hub: Callable[..., None]) -> Iterator[Callable[..., None]]:
    """Sync delivery to the memory backend, API throttling off; call it with more EVENT_HUB keys."""

    def configure(**values: Any) -> None:
        memory_hub(**{**API_HUB, **values})

    configure()
    caches["default"].clear()
    yield configure
    caches["default"].clear()


@pytest.fixture(name="refusing_catalog")
def fixture_refusing_catalog(api_hub: Callable[..., None]) -> None:
    """The hub's invalid-event policy set to refuse, so signed-in clients get 400 for catalog errors."""
    api_hub(INVALID_SERVER_EVENTS="raise", UNREGISTERED_EVENTS="reject")


@pytest.fixture(name="api_client")
def fixture_api_client(api_hub: Callable[..., None]) -> APIClient:
    """An anonymous API client (CSRF not enforced, like Django's test client)."""
    return APIClient()


@pytest.fixture(name="user")
def fixture_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="learner", password="secret-pass")


@pytest.fixture(name="other_user")
def fixture_other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="someone-else", password="secret-pass")


@pytest.fixture(name="user_client")
def fixture_user_client(api_client: APIClient, user: Any) -> APIClient:
    """The API client signed in (session) as ``user``."""
    api_client.force_login(user)
    return api_client


def post(client: APIClient, body: Any, **extra: Any) -> Any:
    """POST ``body`` as JSON to the tracking endpoint."""
    return client.post(URL, body, format="json", **extra)


def events() -> list[dict[str, Any]]:
    """Events delivered to the memory backend."""
    return delivered()


def invalid_names() -> list[str]:
    """Names of the events in the invalid-events store, oldest first."""
    return list(InvalidEvent.objects.order_by("id").values_list("name", flat=True))
