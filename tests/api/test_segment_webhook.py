"""``/segmentio/event``: Segment's webhook brings mobile app events in; every answer tells the truth."""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from django.test import Client

from event_hub.models import InvalidEvent
from tests.api.api_support import events

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret"
URL = f"/segmentio/event?key={SECRET}"
COURSE = "course-v1:edX+DemoX+2024"
VIDEO_KEY = "block-v1:edX+DemoX+2024+type@video+block@0b9e39477cf34507a7a48f74be381fdd"
VIDEO_HTML_ID = "0b9e39477cf34507a7a48f74be381fdd"


def message(user_id: Any, name: str = "edx.video.played", data: Any = None, **changes: Any) -> dict[str, Any]:
    """A Segment track message as the webhook destination posts it (Android app, Kotlin library)."""
    body: dict[str, Any] = {
        "type": "track",
        "event": "Played Video",
        "userId": str(user_id),
        "anonymousId": "device-1",
        "timestamp": "2024-05-06T07:08:09.123Z",
        "receivedAt": "2024-05-06T07:09:00.000Z",
        "context": {
            "library": {"name": "analytics-kotlin", "version": "1.15.0"},
            "app": {"name": "edX", "version": "4.1.0"},
            "userAgent": "Dalvik/2.1.0 (Linux; U; Android 14)",
            "ip": "198.51.100.7",
            "traits": {"email": "ada@example.org"},
            "locale": "en-US",
        },
        "properties": {
            "name": name,
            "data": {"code": "mobile", "module_id": VIDEO_KEY, "current_time": 114} if data is None else data,
            "context": {"course_id": COURSE, "app_name": "edx.mobileapp.android", "component": "videoplayer"},
        },
    }
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return body


def post(body: Any, url: str = URL, **headers: Any) -> Any:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Client().post(url, raw, content_type="application/json", **headers)


@pytest.fixture(name="webhook_hub")
def fixture_webhook_hub(memory_hub: Callable[..., None]) -> Callable[..., None]:
    """Sync delivery to the memory backend with the webhook secret set."""

    def configure(**values: Any) -> None:
        memory_hub(**{"SEGMENT_WEBHOOK_SECRET": SECRET, **values})

    configure()
    return configure


@pytest.fixture(name="learner")
def fixture_learner(django_user_model: Any, webhook_hub: Callable[..., None]) -> Any:
    return django_user_model.objects.create_user(username="ada", email="ada@example.org")


class TestAuthentication:
    @pytest.mark.parametrize(
        "url", ["/segmentio/event", "/segmentio/event?key=wrong", "/segmentio/event?key="]
    )
    def test_missing_or_wrong_secret_is_401_and_nothing_is_kept(self, learner: Any, url: str) -> None:
        """Without the right secret the answer is 401; nothing is delivered or stored."""
        response = post(message(learner.pk), url)
        assert response.status_code == 401
        assert events() == []
        assert InvalidEvent.objects.count() == 0

    def test_no_configured_secret_refuses_everything(
        self, learner: Any, webhook_hub: Callable[..., None]
    ) -> None:
        """With no secret configured (here or in TRACKING_SEGMENTIO_WEBHOOK_SECRET) every request is 401."""
        webhook_hub(SEGMENT_WEBHOOK_SECRET=None)
        assert post(message(learner.pk), "/segmentio/event?key=").status_code == 401

    def test_open_edx_secret_setting_is_honoured(self, learner: Any, settings: Any, webhook_hub: Any) -> None:
        """TRACKING_SEGMENTIO_WEBHOOK_SECRET is the secret when EVENT_HUB names none."""
        webhook_hub(SEGMENT_WEBHOOK_SECRET=None)
        settings.TRACKING_SEGMENTIO_WEBHOOK_SECRET = "platform-secret"
        assert post(message(learner.pk), "/segmentio/event?key=platform-secret").status_code == 200

    def test_segment_signature_header_is_accepted(self, learner: Any) -> None:
        """An X-Signature HMAC-SHA1 of the body with the secret authenticates; a wrong one does not."""
        raw = orjson.dumps(message(learner.pk))
        good = hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
        assert post(raw, "/segmentio/event", HTTP_X_SIGNATURE=good).status_code == 200
        assert post(raw, "/segmentio/event", HTTP_X_SIGNATURE="0" * 40).status_code == 401


class TestRefusals:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"context__library__name": "analytics-ruby"}, "context.library.name"),
            ({"type": "identify"}, "type"),
            ({"properties__name": None}, "properties.name"),
            ({"properties__data": None}, "properties.data"),
            ({"userId": None}, "userId"),
            ({"userId": "999999"}, "userId"),
            ({"timestamp": None}, "timestamp"),
        ],
    )
    def test_refused_messages_get_400_with_the_reason_and_are_stored(
        self, learner: Any, changes: dict[str, Any], field: str
    ) -> None:
        """Unknown library, non-track call, no name, no data, no or unknown user, no timestamp: 400, kept."""
        body = message(learner.pk, **changes)
        response = post(body)
        assert response.status_code == 400
        assert field in response.json()["errors"]
        assert events() == []
        (stored,) = InvalidEvent.objects.all()
        assert stored.payload == body
        assert stored.errors == response.json()["errors"]
        assert stored.event_source == "mobile"

    def test_body_over_the_limit_is_413_before_it_is_read(self, learner: Any, webhook_hub: Any) -> None:
        """A body over API_MAX_BODY_BYTES is refused with 413 and nothing is stored."""
        webhook_hub(API_MAX_BODY_BYTES=1024)
        body = message(learner.pk, data={"code": "mobile", "id": "x" * 2000, "currentTime": 1})
        assert post(body).status_code == 413
        assert InvalidEvent.objects.count() == 0

    def test_body_that_is_not_json_is_400_and_stored(self, learner: Any) -> None:
        """A body that is not JSON is refused with the parser's reason and kept as text."""
        response = post(b"{not json")
        assert response.status_code == 400
        assert InvalidEvent.objects.get().payload == "{not json"


class TestAccepted:
    def test_video_event_becomes_the_tracking_log_event(self, learner: Any) -> None:
        """edx.video.played: event_type play_video, members renamed, user, app and device context."""
        response = post(message(learner.pk))
        assert response.status_code == 200
        (event,) = events()
        assert response.json() == {"id": event["id"]}
        assert event["name"] == "edx.video.played"
        assert event["event_type"] == "play_video"
        assert event["event_source"] == "mobile"
        assert event["event"] == {"code": "mobile", "id": VIDEO_HTML_ID, "currentTime": 114}
        context = event["context"]
        assert context["user_id"] == learner.pk
        assert context["course_id"] == COURSE
        assert context["org_id"] == "edX"
        assert context["application"] == {"name": "edx.mobileapp.android", "version": "4.1.0"}
        assert context["component"] == "videoplayer"
        assert context["client_time"] == "2024-05-06T07:08:09.123000+00:00"
        assert context["received_at"] == "2024-05-06T07:09:00.000000+00:00"
        assert context["client"]["library"]["name"] == "analytics-kotlin"
        assert "traits" not in context["client"]
        assert "ip" not in context["client"]
        assert event["agent"] == "Dalvik/2.1.0 (Linux; U; Android 14)"
        assert event["ip"] == ""  # the memory backend has no PII: True
        assert event["username"] == ""
        assert InvalidEvent.objects.count() == 0

    def test_pii_backend_gets_the_device_ip_and_username(self, learner: Any, webhook_hub: Any) -> None:
        """A backend with PII: True receives the device's IP and the username."""
        webhook_hub(backend={"PII": True})
        assert post(message(learner.pk)).status_code == 200
        (event,) = events()
        assert event["ip"] == "198.51.100.7"
        assert event["username"] == "ada"

    @pytest.mark.parametrize(
        ("name", "data", "event_type", "expected_name", "expected"),
        [
            (
                "edx.video.paused",
                {"code": "mobile", "module_id": VIDEO_KEY, "current_time": 3},
                "pause_video",
                "edx.video.paused",
                {"code": "mobile", "id": VIDEO_HTML_ID, "currentTime": 3},
            ),
            (
                "edx.video.stopped",
                {"code": "mobile", "module_id": VIDEO_KEY, "current_time": 9},
                "stop_video",
                "edx.video.stopped",
                {"code": "mobile", "id": VIDEO_HTML_ID, "currentTime": 9},
            ),
            (
                "edx.video.loaded",
                {"code": "mobile", "module_id": VIDEO_KEY},
                "load_video",
                "edx.video.loaded",
                {"code": "mobile", "id": VIDEO_HTML_ID},
            ),
            (
                "edx.video.transcript.shown",
                {"code": "mobile", "module_id": VIDEO_KEY, "current_time": 5},
                "show_transcript",
                "edx.video.transcript.shown",
                {"code": "mobile", "id": VIDEO_HTML_ID, "currentTime": 5},
            ),
            (
                "edx.video.transcript.hidden",
                {"code": "mobile", "module_id": VIDEO_KEY, "current_time": 6},
                "hide_transcript",
                "edx.video.transcript.hidden",
                {"code": "mobile", "id": VIDEO_HTML_ID, "currentTime": 6},
            ),
            (
                "edx.video.position.changed",
                {
                    "code": "mobile",
                    "module_id": VIDEO_KEY,
                    "old_time": 60,
                    "new_time": 30,
                    "seek_type": "skip",
                    "requested_skip_interval": -30,
                },
                "seek_video",
                "edx.video.position.changed",
                {
                    "code": "mobile",
                    "id": VIDEO_HTML_ID,
                    "old_time": 60,
                    "new_time": 30,
                    "type": "onSkipSeek",
                    "requested_skip_interval": -30,
                },
            ),
            (
                "edx.video.seeked",
                {
                    "code": "mobile",
                    "module_id": VIDEO_KEY,
                    "old_time": 10,
                    "new_time": 50,
                    "seek_type": "skip",
                    "requested_skip_interval": 40,
                },
                "seek_video",
                "edx.video.position.changed",
                {
                    "code": "mobile",
                    "id": VIDEO_HTML_ID,
                    "old_time": 10,
                    "new_time": 50,
                    "type": "onSlideSeek",
                    "requested_skip_interval": 40,
                },
            ),
        ],
    )
    def test_each_mobile_video_event_follows_the_renaming_rules(
        self,
        learner: Any,
        name: str,
        data: dict[str, Any],
        event_type: str,
        expected_name: str,
        expected: dict[str, Any],
    ) -> None:
        """Every mobile video event gets its legacy event_type and the tracking log's member names."""
        assert post(message(learner.pk, name, copy.deepcopy(data))).status_code == 200
        (event,) = events()
        assert (event["name"], event["event_type"]) == (expected_name, event_type)
        assert event["event"] == expected
        assert InvalidEvent.objects.count() == 0

    @pytest.mark.parametrize(
        ("app", "version", "interval"),
        [("edx.mobileapp.iOS", "1.0.02", -30), ("edx.mobileapp.iOS", "1.0.03", 30)],
    )
    def test_ios_build_with_the_skip_bug_gets_its_interval_fixed(
        self, learner: Any, app: str, version: str, interval: int
    ) -> None:
        """iOS 1.0.02 reported a -30 s skip as +30 s; only that build's interval is turned around."""
        data = {"code": "mobile", "id": "v", "old_time": 60, "new_time": 30, "seek_type": "skip",
                "requested_skip_interval": 30}  # fmt: skip
        body = message(learner.pk, "edx.video.position.changed", data, context__app__version=version)
        body["properties"]["context"]["app_name"] = app
        assert post(body).status_code == 200
        (event,) = events()
        assert event["event"]["requested_skip_interval"] == interval
        assert event["event"]["type"] == "onSkipSeek"
        assert event["context"]["application"] == {"name": app, "version": version}

    def test_open_in_browser_url_gives_the_page(self, learner: Any) -> None:
        """context.open_in_browser_url becomes page, without its last path segment."""
        body = message(learner.pk)
        body["properties"]["context"]["open_in_browser_url"] = "https://lms.example.org/courses/x/jump_to/abc"
        assert post(body).status_code == 200
        (event,) = events()
        assert event["page"] == "https://lms.example.org/courses/x/jump_to"
        assert "open_in_browser_url" not in event["context"]

    def test_unknown_event_name_is_delivered_and_noted(self, learner: Any) -> None:
        """A name the catalog lacks is accepted and delivered (default policy), and noted as such."""
        body = message(learner.pk, "edx.bi.app.course.shared", {"course_id": COURSE, "channel": "mail"})
        assert post(body).status_code == 200
        (event,) = events()
        assert event["name"] == "edx.bi.app.course.shared"
        assert event["event"] == {"course_id": COURSE, "channel": "mail"}
        noted = InvalidEvent.objects.get()
        assert (noted.name, noted.delivered) == ("edx.bi.app.course.shared", True)

    def test_payload_the_catalog_rejects_is_delivered_and_noted_by_default(self, learner: Any) -> None:
        """A video event missing a required member is still delivered under the default policy, and noted."""
        assert post(message(learner.pk, data={"code": "mobile"})).status_code == 200
        assert len(events()) == 1
        noted = InvalidEvent.objects.get()
        assert noted.delivered is True
        assert "id" in noted.errors

    def test_payload_the_catalog_rejects_is_400_when_the_policy_holds_it_back(
        self, learner: Any, webhook_hub: Callable[..., None]
    ) -> None:
        """With INVALID_SERVER_EVENTS='record' the answer is 400 and the event is stored as invalid, once."""
        webhook_hub(INVALID_SERVER_EVENTS="record")
        response = post(message(learner.pk, data={"code": "mobile"}))
        assert response.status_code == 400
        assert "stored as invalid" in str(response.json()["errors"])
        assert events() == []
        stored = InvalidEvent.objects.get()
        assert stored.delivered is False
        assert stored.name == "edx.video.played"

    def test_payload_the_catalog_rejects_is_400_with_the_errors_when_the_policy_raises(
        self, learner: Any, webhook_hub: Callable[..., None]
    ) -> None:
        """With INVALID_SERVER_EVENTS='raise' the answer is 400 with the catalog's errors, stored."""
        webhook_hub(INVALID_SERVER_EVENTS="raise")
        response = post(message(learner.pk, data={"code": "mobile"}))
        assert response.status_code == 400
        assert "properties.data.id" in response.json()["errors"]
        assert InvalidEvent.objects.get().errors == response.json()["errors"]

    @pytest.mark.parametrize(
        "library", ["analytics-android", "analytics-ios", "analytics-kotlin", "analytics-swift"]
    )
    def test_each_default_mobile_library_is_taken(self, learner: Any, library: str) -> None:
        """The four mobile libraries are sources by default (analytics-kotlin included)."""
        assert post(message(learner.pk, context__library__name=library)).status_code == 200
        assert events()[0]["event_source"] == "mobile"
