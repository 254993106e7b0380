"""``/event``: what the platform's ``Logger.log`` sends, through the tracking API's validation and delivery.

Each request here is built the way the LMS's JavaScript builds it: jQuery form-encodes
``{event_type, event: JSON.stringify(data), courserun_key: $$course_id, page: location.href}``
(a ``null`` course run becomes an empty value) and POSTs it with the ``X-CSRFToken`` header;
``page_close`` is a GET with an empty ``event``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from event_hub.models import InvalidEvent
from tests.api.api_support import COURSE_ID, PAGE, PLAY, events

pytestmark = pytest.mark.django_db

URL = "/event"
#: What jQuery sends as the Content-Type of a form post.
JQUERY_FORM = "application/x-www-form-urlencoded; charset=UTF-8"
OTHER_COURSE = "course-v1:OtherX+Physics+2025"


def logger_body(event_type: str, data: Any, course_id: str | None, page: str = PAGE) -> str:
    """The body ``Logger.log(event_type, data)`` posts, fields in the order the logger lists them."""
    return urlencode(
        {
            "event_type": event_type,
            "event": json.dumps(data),
            "courserun_key": "" if course_id is None else course_id,
            "page": page,
        }
    )


def log(client: Client, event_type: str, data: Any, course_id: str | None = COURSE_ID, **extra: Any) -> Any:
    """POST what ``Logger.log`` posts (signed-in pages send the CSRF token in ``X-CSRFToken``)."""
    return client.post(
        URL,
        logger_body(event_type, data, course_id),
        content_type=JQUERY_FORM,
        headers={"X-Requested-With": "XMLHttpRequest", **extra.pop("headers", {})},
        **extra,
    )


def page_close(client: Client, page: str = PAGE) -> Any:
    """The GET ``Logger.bind`` sends when a page unloads."""
    return client.get(URL, {"event_type": "page_close", "event": "", "page": page})


@pytest.fixture(name="browser")
def fixture_browser(api_hub: Any, user: Any) -> Client:
    """A signed-in browser whose POSTs are CSRF-checked like a real one's, holding the CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/admin/login/")  # any page that renders a form sets the cookie
    return client


def csrf_header(client: Client) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies["csrftoken"].value}


class TestLoggerPosts:
    """A signed-in learner's ``Logger.log`` calls are accepted and delivered as browser events."""

    def test_play_video(self, browser: Client, user: Any) -> None:
        """The payload is the decoded JSON, the course comes from courserun_key, the answer is 'success'."""
        response = log(browser, "play_video", PLAY, OTHER_COURSE, headers=csrf_header(browser))
        assert response.status_code == 200
        assert response.content == b"success"
        [event] = events()
        assert (event["name"], event["event_type"], event["event_source"]) == (
            "play_video",
            "play_video",
            "browser",
        )
        assert event["event"] == PLAY
        assert event["page"] == PAGE
        assert event["context"]["course_id"] == OTHER_COURSE
        assert event["context"]["user_id"] == user.pk

    def test_null_course_run(self, browser: Client) -> None:
        """An empty courserun_key (``$$course_id`` null) leaves the course to the page URL."""
        assert log(browser, "play_video", PLAY, None, headers=csrf_header(browser)).status_code == 200
        assert events()[0]["context"]["course_id"] == COURSE_ID

    def test_page_close_get(self, browser: Client) -> None:
        """page_close arrives as a GET with an empty event and needs no CSRF token."""
        response = page_close(browser)
        assert (response.status_code, response.content) == (200, b"success")
        [event] = events()
        assert event["name"] == "page_close"
        assert event["event"] == {}  # as /api/tracking makes of an empty event
        assert event["context"]["course_id"] == COURSE_ID

    def test_same_event_as_the_tracking_api(self, browser: Client) -> None:
        """The same event posted to /event and to /api/tracking is delivered identically."""
        assert log(browser, "play_video", PLAY, None, headers=csrf_header(browser)).status_code == 200
        body = {"event_type": "play_video", "event": PLAY, "page": PAGE}
        response = browser.post(
            "/api/tracking", body, content_type="application/json", headers=csrf_header(browser)
        )
        assert response.status_code == 201
        first, second = events()
        assert (first["context"].pop("path"), second["context"].pop("path")) == (URL, "/api/tracking")
        volatile = ("id", "time")
        assert {k: v for k, v in first.items() if k not in volatile} == {
            k: v for k, v in second.items() if k not in volatile
        }


class TestCsrf:
    """POSTs are CSRF-checked by the site's middleware, as on the platform; GETs are not."""

    def test_post_without_token_is_refused(self, browser: Client) -> None:
        """A signed-in POST without X-CSRFToken gets 403 and delivers nothing."""
        response = log(browser, "play_video", PLAY)
        assert response.status_code == 403
        assert events() == []

    def test_anonymous_post_without_token_is_refused(self, api_hub: Any) -> None:
        """The middleware checks anonymous POSTs too, even for event types they may send."""
        api_hub(API_ANONYMOUS_EVENTS=["play_video"])
        response = log(Client(enforce_csrf_checks=True), "play_video", PLAY)
        assert response.status_code == 403
        assert events() == []


class TestAnonymous:
    """Anonymous browsers follow API_ANONYMOUS_EVENTS, as on /api/tracking."""

    def test_refused_by_default(self, api_hub: Any) -> None:
        """Without API_ANONYMOUS_EVENTS an anonymous page_close is refused."""
        assert page_close(Client()).status_code in (401, 403)
        assert events() == []

    def test_allowed_event_type(self, api_hub: Any) -> None:
        """An allowed type is accepted from an anonymous browser, others are not."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        assert page_close(Client()).status_code == 200
        assert log(Client(), "play_video", PLAY).status_code in (400, 401, 403)
        assert [event["name"] for event in events()] == ["page_close"]


class TestValidation:
    """The tracking API's contract applies; errors name the form fields."""

    def test_bad_course_run(self, browser: Client) -> None:
        """A courserun_key that is not a course key is a 400 on courserun_key."""
        response = log(browser, "play_video", PLAY, "not a course", headers=csrf_header(browser))
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["courserun_key"]
        assert events() == []

    def test_event_that_is_not_json(self, browser: Client) -> None:
        """An event member that looks like JSON but is not is a 400 on event, and recorded as invalid."""
        body = urlencode({"event_type": "play_video", "event": '{"code": ', "page": PAGE})
        response = browser.post(URL, body, content_type=JQUERY_FORM, headers=csrf_header(browser))
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["event"]
        assert InvalidEvent.objects.filter(name="play_video", path=URL).exists()

    def test_catalog_error_with_refusing_policy(self, browser: Client, refusing_catalog: None) -> None:
        """With the hub refusing invalid events, a wrong member is a 400 on event.<member>."""
        response = log(browser, "play_video", {**PLAY, "currentTime": "soon"}, headers=csrf_header(browser))
        assert response.status_code == 400
        assert "event.currentTime" in response.json()["errors"]

    def test_missing_event_type(self, browser: Client) -> None:
        """A request without event_type is a 400 on event_type."""
        response = browser.post(
            URL, urlencode({"page": PAGE}), content_type=JQUERY_FORM, headers=csrf_header(browser)
        )
        assert response.status_code == 400
        assert "event_type" in response.json()["errors"]

    def test_json_body_is_unsupported(self, browser: Client) -> None:
        """/event takes the form the platform's logger sends; a JSON body is 415."""
        response = browser.post(
            URL,
            {"event_type": "play_video", "event": PLAY},
            content_type="application/json",
            headers=csrf_header(browser),
        )
        assert response.status_code == 415

    def test_body_over_the_limit(self, browser: Client, api_hub: Any) -> None:
        """A body over API_MAX_BODY_BYTES is a 413."""
        api_hub(API_MAX_BODY_BYTES=200)
        response = log(browser, "play_video", {**PLAY, "id": "x" * 300}, headers=csrf_header(browser))
        assert response.status_code == 413
        assert events() == []
