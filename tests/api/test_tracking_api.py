"""``/api/tracking``: payload shapes, field errors, batches, limits and content types."""

from __future__ import annotations

import datetime
import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from werkzeug.serving import make_server

from event_hub.api import contract, serializers
from event_hub.api.views import TrackingView
from event_hub.delivery import unit_of_work
from event_hub.envelope import Envelope
from event_hub.models import InvalidEvent
from tests.api.api_support import (
    BROWSER_PLAY,
    COURSE_ID,
    DESIGN_NOTE_VIDEO,
    MOBILE_PLAY,
    PAGE,
    PLAY,
    URL,
    VIDEO_NODE,
    events,
    invalid_names,
    post,
)

pytestmark = pytest.mark.django_db


class TestShapes:
    """Each payload dialect is accepted and becomes the right envelope."""

    def test_design_note_shape(self, user_client: APIClient, user: Any) -> None:
        """tracking_event_type / node_id / event_data: the node gives the course and the module."""
        response = post(user_client, DESIGN_NOTE_VIDEO)
        assert response.status_code == 201
        [event] = events()
        assert response.json() == {"id": event["id"]}
        assert event["name"] == event["event_type"] == "video"
        assert event["event_source"] == "browser"
        assert event["event"] == DESIGN_NOTE_VIDEO["event_data"]
        assert event["context"]["course_id"] == COURSE_ID
        assert event["context"]["module"] == {"usage_key": VIDEO_NODE}
        assert event["context"]["user_id"] == user.pk

    def test_open_edx_browser_shape(self, user_client: APIClient) -> None:
        """event_type / event object / page: the course comes from the page URL."""
        response = post(user_client, BROWSER_PLAY)
        assert response.status_code == 201
        [event] = events()
        assert (event["name"], event["event_type"]) == ("play_video", "play_video")
        assert event["event"] == PLAY
        assert event["page"] == PAGE
        assert event["context"]["course_id"] == COURSE_ID
        assert event["context"]["org_id"] == "edX"

    def test_event_as_json_string(self, user_client: APIClient) -> None:
        """An ``event`` sent as a JSON string is delivered as the object it encodes."""
        response = post(user_client, {**BROWSER_PLAY, "event": json.dumps(PLAY)})
        assert response.status_code == 201
        assert events()[0]["event"] == PLAY

    def test_event_without_fields(self, user_client: APIClient) -> None:
        """An event type without fields (page_close) takes an empty object."""
        assert post(user_client, {"event_type": "page_close", "event": {}, "page": PAGE}).status_code == 201
        assert events()[0]["event"] == {}

    def test_mobile_shape(self, user_client: APIClient) -> None:
        """name resolves to its event type; the app context and the client time go into context."""
        response = post(user_client, MOBILE_PLAY)
        assert response.status_code == 201
        [event] = events()
        assert event["name"] == "edx.video.played"
        assert event["event_type"] == "play_video"
        assert event["event_source"] == "mobile"
        assert event["event"] == {"code": "mobile", "id": "i4x-edX-DemoX-video-0b9e", "currentTime": 114}
        context = event["context"]
        assert context["course_id"] == COURSE_ID
        assert context["application"] == {"name": "edx.mobileapp.android", "version": "0.1.8"}
        assert context["component"] == "videoplayer"
        assert context["received_at"] == "2014-12-09T03:57:56.373000+00:00"
        assert context["client"]["locale"] == "en-US"
        assert context["client_time"] == "2014-12-09T03:57:24.000000+00:00"

    def test_mobile_name_alone(self, user_client: APIClient) -> None:
        """A mobile event may give only its name."""
        body = {key: value for key, value in MOBILE_PLAY.items() if key != "event_type"}
        assert post(user_client, body).status_code == 201
        assert events()[0]["event_type"] == "play_video"

    def test_mobile_event_type_alone(self, user_client: APIClient) -> None:
        """A mobile event named by its event type gets its mobile name."""
        body = {key: value for key, value in MOBILE_PLAY.items() if key != "name"}
        assert post(user_client, body).status_code == 201
        assert events()[0]["name"] == "edx.video.played"

    def test_client_time_is_not_the_event_time(self, user_client: APIClient) -> None:
        """``time`` is the server's clock; the client's timestamp is kept beside it."""
        before = datetime.datetime.now(datetime.UTC)
        response = post(user_client, {**BROWSER_PLAY, "timestamp": "2001-02-03T04:05:06.789Z"})
        assert response.status_code == 201
        [event] = events()
        assert datetime.datetime.fromisoformat(event["time"]) >= before
        assert event["context"]["client_time"] == "2001-02-03T04:05:06.789000+00:00"

    @pytest.mark.parametrize(
        "timestamp",
        [
            "2001-02-03T04:05:06.789Z",  # a browser's Date.toISOString()
            "0999-12-31T23:59:59.000Z",
            "2001-02-03T04:05:06,789Z",  # a comma before the fraction
            "2001-02-03T04:05:06.789+02:00",
            "2001-02-03T04:05:06.7891Z",
            "2001-02-03T04:05:06+0000",  # as long as the browser's form, another shape
            "2001-W05-6T04:05:06.789Z",  # an ISO week date, as long too
            "2001-02-03 04:05:06.789Z",
            "2001-02-03t04:05:06.789Z",
            "2001-02-03T04:05:06.789",
        ],
    )
    def test_client_time_in_the_envelope_form(self, timestamp: str) -> None:
        """Every accepted timestamp becomes the UTC, microsecond form of the moment it names."""
        moment = datetime.datetime.fromisoformat(timestamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        expected = moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")
        errors: dict[str, list[str]] = {}
        assert serializers._timestamp(timestamp, errors) == expected
        assert errors == {}

    def test_a_browser_timestamp_of_a_day_that_does_not_exist(self) -> None:
        """The browser's form is still checked as a date."""
        errors: dict[str, list[str]] = {}
        assert serializers._timestamp("2024-02-30T10:00:00.000Z", errors) is None
        assert list(errors) == ["timestamp"]

    def test_naive_timestamp_is_utc(self, user_client: APIClient) -> None:
        """A timestamp without an offset is taken as UTC."""
        assert post(user_client, {**BROWSER_PLAY, "timestamp": "2024-01-01T10:00:00"}).status_code == 201
        assert events()[0]["context"]["client_time"] == "2024-01-01T10:00:00.000000+00:00"

    def test_context_course_id(self, user_client: APIClient) -> None:
        """A browser may name the course in ``context.course_id``."""
        body = {"event_type": "play_video", "event": PLAY, "context": {"course_id": COURSE_ID}}
        assert post(user_client, body).status_code == 201
        assert events()[0]["context"]["course_id"] == COURSE_ID

    def test_sequence_node(self, user_client: APIClient) -> None:
        """A sequential node id fills ``section_id`` of the compact format's hierarchy."""
        node = "block-v1:edX+DemoX+2024+type@sequential+block@seq"
        body = {"event_type": "seq_next", "event": {"id": 1, "new": 2, "old": 1}, "node_id": node}
        assert post(user_client, body).status_code == 201
        assert events()[0]["context"]["course_id"] == COURSE_ID


class TestServerDecides:
    """A client cannot set who, when or from where."""

    @pytest.mark.parametrize(
        "field", ["username", "user_id", "ip", "time", "host", "session", "agent", "anonymous_user_id"]
    )
    def test_server_fields_are_refused(self, user_client: APIClient, field: str) -> None:
        """Envelope fields the server sets are a 400, and the event is recorded as invalid."""
        response = post(user_client, {**BROWSER_PLAY, field: "someone-else"})
        assert response.status_code == 400
        assert response.json() == {"errors": {field: ["set by the server; a client cannot send it"]}}
        assert invalid_names() == ["play_video"]
        assert events() == []

    @pytest.mark.parametrize("source", ["server", "task"])
    def test_server_sources_are_refused(self, user_client: APIClient, source: str) -> None:
        """A client cannot post a server or task event."""
        response = post(user_client, {**BROWSER_PLAY, "event_source": source})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["event_source"]

    @pytest.mark.usefixtures("refusing_catalog")
    def test_server_event_type_from_a_browser(self, user_client: APIClient) -> None:
        """A server-only event type posted by a client is refused on ``event_source``."""
        body = {
            "event_type": "edx.course.enrollment.activated",
            "event": {"course_id": COURSE_ID, "mode": "audit", "user_id": 1},
        }
        response = post(user_client, body)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["event_source"]
        assert invalid_names() == ["edx.course.enrollment.activated"]

    @pytest.mark.parametrize("key", ["user_id", "username", "org_id", "path", "client_time", "module"])
    def test_server_context_is_refused(self, user_client: APIClient, key: str) -> None:
        """``context`` members the server sets cannot come from a client."""
        response = post(user_client, {**MOBILE_PLAY, "context": {**MOBILE_PLAY["context"], key: 1}})
        assert response.status_code == 400
        assert response.json()["errors"] == {f"context.{key}": ["set by the server; a client cannot send it"]}

    def test_user_is_the_authenticated_one(self, user_client: APIClient, user: Any, other_user: Any) -> None:
        """The event belongs to the signed-in user whatever the body says."""
        assert post(user_client, BROWSER_PLAY).status_code == 201
        assert events()[0]["context"]["user_id"] == user.pk
        response = post(user_client, {**BROWSER_PLAY, "context": {"user_id": other_user.pk}})
        assert response.status_code == 400

    def test_app_context_only_from_mobile(self, user_client: APIClient) -> None:
        """A browser event carrying a mobile app context is refused."""
        body = {**BROWSER_PLAY, "context": {"component": "videoplayer"}}
        response = post(user_client, body)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["context.component"]


class TestCatalogNeverLosesAnEvent:
    """By default a signed-in client's unknown or invalid event is delivered and its problem noted."""

    def test_invalid_payload_is_delivered_and_noted(self, user_client: APIClient) -> None:
        """A play_video with a wrong member type is accepted (201), delivered as posted and noted."""
        response = post(user_client, {**BROWSER_PLAY, "event": {**PLAY, "currentTime": "soon"}})
        assert response.status_code == 201
        [event] = events()
        assert event["event"]["currentTime"] == "soon"
        row = InvalidEvent.objects.get()
        assert (row.name, row.delivered) == ("play_video", True)
        assert "currentTime" in row.errors

    def test_unknown_event_type_is_delivered_and_noted(self, user_client: APIClient) -> None:
        """An XBlock's own event, unknown to the catalog, reaches the backends."""
        response = post(user_client, {"event_type": "acme.widget.spun", "event": {"rpm": 3}})
        assert response.status_code == 201
        [event] = events()
        assert (event["name"], event["event"]) == ("acme.widget.spun", {"rpm": 3})
        assert InvalidEvent.objects.get().delivered is True

    def test_anonymous_client_is_still_refused(self, api_client: APIClient, api_hub: Any) -> None:
        """An anonymous client's event must match the catalog, even where its type is allowed."""
        api_hub(API_ANONYMOUS_EVENTS=["*"])
        response = post(api_client, {**BROWSER_PLAY, "event": {**PLAY, "currentTime": "soon"}})
        assert response.status_code == 400
        assert events() == []
        assert InvalidEvent.objects.get().delivered is False

    def test_record_policy_holds_the_event_back(self, user_client: APIClient, api_hub: Any) -> None:
        """With INVALID_SERVER_EVENTS="record" the event is stored as invalid and the client told so."""
        api_hub(INVALID_SERVER_EVENTS="record")
        response = post(user_client, {**BROWSER_PLAY, "event": {**PLAY, "currentTime": "soon"}})
        assert response.status_code == 400
        assert "stored as invalid" in json.dumps(response.json())
        assert events() == []
        assert InvalidEvent.objects.get().delivered is False


class TestFieldErrors:
    """Invalid events get 400 with DRF-style field paths and are recorded as invalid."""

    @pytest.mark.usefixtures("refusing_catalog")
    def test_browser_payload_error(self, user_client: APIClient) -> None:
        """Payload errors are keyed ``event.<field>``."""
        response = post(user_client, {**BROWSER_PLAY, "event": {**PLAY, "currentTime": "soon"}})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["event.currentTime"]
        row = InvalidEvent.objects.get()
        assert (row.name, row.event_source) == ("play_video", "browser")
        assert row.errors == response.json()["errors"]
        assert row.payload == {**BROWSER_PLAY, "event": {**PLAY, "currentTime": "soon"}}

    @pytest.mark.usefixtures("refusing_catalog")
    def test_design_note_payload_error(self, user_client: APIClient, user: Any) -> None:
        """Payload errors of the design-note shape are keyed ``event_data.<field>``."""
        body = {**DESIGN_NOTE_VIDEO, "event_data": {"video_id": 3}}
        response = post(user_client, body)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"event_data.video_id", "event_data.video_event_type"}
        row = InvalidEvent.objects.get()
        assert row.user_id == user.pk
        assert row.path == URL

    @pytest.mark.usefixtures("refusing_catalog")
    def test_unknown_event_type(self, user_client: APIClient) -> None:
        """An event type the catalog does not know is an error on the field that named it."""
        response = post(user_client, {"tracking_event_type": "no.such.event", "event_data": {}})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["tracking_event_type"]
        assert invalid_names() == ["no.such.event"]

    def test_mobile_app_context_error(self, user_client: APIClient) -> None:
        """Errors in the app context are keyed ``context.<path>``."""
        body = {**MOBILE_PLAY, "context": {"application": {"name": "edx.mobileapp.ios"}, "component": "x"}}
        response = post(user_client, body)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"context.application.version"}

    def test_mobile_catalog_context_error(self, user_client: APIClient) -> None:
        """The catalog's context type of the event (video: component 'videoplayer') is checked."""
        response = post(user_client, {**MOBILE_PLAY, "context": {"component": "audioplayer"}})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["context.component"]

    def test_name_and_event_type_must_agree(self, user_client: APIClient) -> None:
        """name and event_type naming different event types is an error."""
        response = post(user_client, {**MOBILE_PLAY, "event_type": "pause_video"})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["event_type"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"event": PLAY}, "event_type"),
            ({"event_type": "", "event": PLAY}, "event_type"),
            ({"event_type": 7, "event": PLAY}, "event_type"),
            ({"event_type": "x" * 256, "event": PLAY}, "event_type"),
            (
                {"tracking_event_type": "video", "event_type": "video", "event_data": {}},
                "tracking_event_type",
            ),
            ({**BROWSER_PLAY, "event_data": PLAY}, "event_data"),
            ({**BROWSER_PLAY, "event": [1, 2]}, "event"),
            ({**BROWSER_PLAY, "event": "{not json"}, "event"),
            ({**BROWSER_PLAY, "page": 5}, "page"),
            ({**BROWSER_PLAY, "page": "x" * 2049}, "page"),
            ({**BROWSER_PLAY, "node_id": "not-a-usage-key"}, "node_id"),
            ({**BROWSER_PLAY, "timestamp": "yesterday"}, "timestamp"),
            ({**BROWSER_PLAY, "timestamp": 1700000000}, "timestamp"),
            ({**BROWSER_PLAY, "timestamp": "0001-01-01T00:00:00+01:00"}, "timestamp"),
            ({**BROWSER_PLAY, "event_source": "satellite"}, "event_source"),
            ({**BROWSER_PLAY, "context": []}, "context"),
            ({**BROWSER_PLAY, "context": {"course_id": "not a course"}}, "context.course_id"),
            ({**BROWSER_PLAY, "color": "blue"}, "color"),
        ],
    )
    def test_request_field_errors(self, user_client: APIClient, body: dict[str, Any], field: str) -> None:
        """Each malformed field is reported under its own key, and the event is recorded as invalid."""
        response = post(user_client, body)
        assert response.status_code == 400
        assert field in response.json()["errors"]
        assert InvalidEvent.objects.count() == 1
        assert events() == []

    @pytest.mark.parametrize("body", [[BROWSER_PLAY], "play_video", 3, None])
    def test_body_not_an_object(self, user_client: APIClient, body: Any) -> None:
        """A body that is not a JSON object is a 400 with a non-field error."""
        response = user_client.post(URL, json.dumps(body), content_type="application/json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["non_field_errors"]

    def test_malformed_json(self, user_client: APIClient) -> None:
        """Malformed JSON is a 400, never a 500."""
        response = user_client.post(URL, b'{"event_type": ', content_type="application/json")
        assert response.status_code == 400
        assert "JSON parse error" in response.json()["errors"]["non_field_errors"][0]

    def test_empty_body(self, user_client: APIClient) -> None:
        """An empty body names no event: 400."""
        response = user_client.post(URL, b"", content_type="application/json")
        assert response.status_code == 400
        assert "event_type" in response.json()["errors"]


def nested(levels: int) -> Any:
    """An object nesting ``levels`` objects and arrays in all (``{"a": [{"a": [...]}]}``)."""
    value: Any = {}
    for level in range(levels - 2, -1, -1):
        value = [value] if level % 2 else {"a": value}
    return value


def depth(value: Any) -> int:
    """Levels of objects and arrays in ``value``, counted the plain recursive way."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def dicts(levels: int) -> Any:
    """Objects only, ``levels`` deep: ``{"a": {"a": ... {"a": 1}}}``."""
    value: Any = 1
    for _ in range(levels):
        value = {"a": value, "b": "x"}
    return value


class TestDeepNesting:
    """JSON nested deeper than MAX_DEPTH is refused as a 400 on its field, for anyone, and recorded."""

    @pytest.mark.parametrize(
        "value",
        [
            1,
            "text",
            {},
            [],
            {"a": 1, "b": "x", "c": None, "d": 1.5, "e": True},
            {"a": {}},
            {"a": []},
            [1, 2],
            [{"a": 1}],
            dicts(2),
            dicts(contract.MAX_DEPTH),
            dicts(contract.MAX_DEPTH + 1),
            nested(contract.MAX_DEPTH),
            nested(contract.MAX_DEPTH + 1),
        ],
    )
    @pytest.mark.parametrize("limit", [0, 1, 2, contract.MAX_DEPTH])
    def test_too_deep_counts_every_kind_of_level(self, value: Any, limit: int) -> None:
        """The check agrees with a plain count of levels, objects of scalars included."""
        assert contract.too_deep(value, limit) == (depth(value) > limit)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"event_type": "page_close", "event": nested(300)}, "event"),
            ({"event_type": "page_close", "event": json.dumps(nested(300))}, "event"),
            ({"event_type": "page_close", "color": nested(300)}, "color"),
            ({**MOBILE_PLAY, "context": {**MOBILE_PLAY["context"], "client": nested(300)}}, "context.client"),
        ],
    )
    def test_deep_member(
        self, api_client: APIClient, api_hub: Callable[..., None], body: dict[str, Any], field: str
    ) -> None:
        """A deep payload, unknown member or device context is a 400 naming it, and is recorded."""
        api_hub(API_ANONYMOUS_EVENTS=["*"])
        response = post(api_client, body)
        assert response.status_code == 400
        assert field in response.json()["errors"]
        assert InvalidEvent.objects.count() == 1
        assert events() == []

    def test_deep_body(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """A body that is a deep array instead of an event is a 400 and is recorded."""
        api_hub(API_ANONYMOUS_EVENTS=["*"])
        response = api_client.post(URL, json.dumps([nested(299)]), content_type="application/json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["non_field_errors"]
        assert InvalidEvent.objects.count() == 1

    @pytest.mark.usefixtures("refusing_catalog")
    def test_depth_limit(self, user_client: APIClient) -> None:
        """A payload at the limit passes the API's check; one level more is refused."""
        at_limit = {"event_type": "no.such.event", "event": nested(contract.MAX_DEPTH)}
        assert "event" not in post(user_client, at_limit).json()["errors"]
        beyond = {**at_limit, "event": nested(contract.MAX_DEPTH + 1)}
        assert "event" in post(user_client, beyond).json()["errors"]

    @pytest.mark.usefixtures("refusing_catalog")
    def test_depth_limit_in_a_batch(self, user_client: APIClient) -> None:
        """In a batch too: at the limit passes, one level more does not, and a payload posted as a
        JSON string is checked once decoded."""
        at_limit = {"event_type": "no.such.event", "event": nested(contract.MAX_DEPTH)}
        beyond = {**at_limit, "event": nested(contract.MAX_DEPTH + 1)}
        as_text = {**at_limit, "event": json.dumps(nested(contract.MAX_DEPTH + 1))}
        for batch, refused in (([at_limit, as_text], [False, True]), ([beyond], [True]), ([as_text], [True])):
            results = post(user_client, {"events": batch}).json()["results"]
            assert ["event" in result.get("errors", {}) for result in results] == refused

    def test_batch_with_a_deep_event(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """A batch of a valid event and a deep one: 202, the deep one rejected with its field."""
        api_hub(API_ANONYMOUS_EVENTS=["*"])
        page_close = {"event_type": "page_close", "event": {}}
        response = post(api_client, {"events": [page_close, {**page_close, "event": nested(300)}]})
        assert response.status_code == 202
        body = response.json()
        assert (body["accepted"], body["rejected"]) == (1, 1)
        assert list(body["results"][1]["errors"]) == ["event"]
        assert len(events()) == 1


def failing_resolver(node_id: str) -> Any:
    """A CONTENT_NODE_RESOLVER that fails the way a broken dependency would."""
    raise RuntimeError("resolver down")


class TestBatches:
    """``{"events": [...]}``: each event accepted or rejected on its own."""

    def test_all_accepted(self, user_client: APIClient) -> None:
        """202 with one id per event, in order."""
        batch = [BROWSER_PLAY, DESIGN_NOTE_VIDEO, MOBILE_PLAY]
        response = post(user_client, {"events": batch})
        assert response.status_code == 202
        body = response.json()
        delivered = events()
        assert body == {
            "results": [{"index": i, "id": event["id"]} for i, event in enumerate(delivered)],
            "accepted": 3,
            "rejected": 0,
        }
        assert [event["name"] for event in delivered] == ["play_video", "video", "edx.video.played"]

    @pytest.mark.usefixtures("refusing_catalog")
    def test_partial_failure(self, user_client: APIClient) -> None:
        """Good events are delivered, bad ones reported with their errors and recorded as invalid."""
        batch = [
            BROWSER_PLAY,
            {**BROWSER_PLAY, "event": {**PLAY, "currentTime": "soon"}},
            "not an event",
            {**DESIGN_NOTE_VIDEO, "username": "mallory"},
            DESIGN_NOTE_VIDEO,
        ]
        response = post(user_client, {"events": batch})
        assert response.status_code == 202
        body = response.json()
        assert (body["accepted"], body["rejected"]) == (2, 3)
        results = body["results"]
        assert [result["index"] for result in results] == [0, 1, 2, 3, 4]
        assert [("id" in result, "errors" in result) for result in results] == [
            (True, False),
            (False, True),
            (False, True),
            (False, True),
            (True, False),
        ]
        assert list(results[1]["errors"]) == ["event.currentTime"]
        assert list(results[2]["errors"]) == ["non_field_errors"]
        assert results[3]["errors"] == {"username": ["set by the server; a client cannot send it"]}
        assert [event["id"] for event in events()] == [results[0]["id"], results[4]["id"]]
        # Events the API refuses are recorded as the batch is parsed, before those the catalog refuses
        # as it is sent: within one batch the store's order is not the batch's.
        assert sorted(invalid_names()) == sorted(["play_video", "", "video"])

    @pytest.mark.usefixtures("refusing_catalog")
    def test_all_rejected(self, user_client: APIClient) -> None:
        """When no event is accepted the answer is 400, with the same body."""
        response = post(
            user_client, {"events": [{"event_type": "nope"}, {"event_type": "page_close", "x": 1}]}
        )
        assert response.status_code == 400
        body = response.json()
        assert (body["accepted"], body["rejected"]) == (0, 2)
        assert [result["index"] for result in body["results"]] == [0, 1]
        assert events() == []

    def test_server_failure_after_an_accepted_event(
        self, user_client: APIClient, api_hub: Callable[..., None]
    ) -> None:
        """An event the server fails on does not turn the answer of a partly accepted batch into a 5xx."""
        api_hub(CONTENT_NODE_RESOLVER=failing_resolver)
        response = post(user_client, {"events": [BROWSER_PLAY, DESIGN_NOTE_VIDEO, BROWSER_PLAY]})
        assert response.status_code == 202
        body = response.json()
        assert (body["accepted"], body["rejected"]) == (2, 1)
        assert list(body["results"][1]["errors"]) == ["non_field_errors"]
        assert [event["id"] for event in events()] == [body["results"][0]["id"], body["results"][2]["id"]]

    def test_server_failure_while_sending(
        self, user_client: APIClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An event parsed but failed on while being sent is reported like one failed on while parsed."""
        send, calls = serializers.send_event, []

        def second_send_fails(*args: Any, **kwargs: Any) -> Any:
            calls.append(args)
            if len(calls) == 2:
                raise RuntimeError("tracker down")
            return send(*args, **kwargs)

        monkeypatch.setattr(serializers, "send_event", second_send_fails)
        response = post(user_client, {"events": [BROWSER_PLAY, BROWSER_PLAY, BROWSER_PLAY]})
        assert response.status_code == 202
        body = response.json()
        assert (body["accepted"], body["rejected"]) == (2, 1)
        assert body["results"][1] == {"index": 1, "errors": {"non_field_errors": [serializers.SERVER_FAILED]}}
        assert [event["id"] for event in events()] == [body["results"][0]["id"], body["results"][2]["id"]]
        assert "event 1 of a batch failed on the server" in caplog.text

    def test_server_failure_with_nothing_accepted(
        self, user_client: APIClient, api_hub: Callable[..., None]
    ) -> None:
        """When nothing was accepted the failure stays a server error (the batch may be sent again)."""
        api_hub(CONTENT_NODE_RESOLVER=failing_resolver)
        with pytest.raises(RuntimeError, match="resolver down"):
            post(user_client, {"events": [DESIGN_NOTE_VIDEO]})
        assert events() == []

    def test_batch_limit(self, user_client: APIClient, api_hub: Callable[..., None]) -> None:
        """More than API_MAX_BATCH_EVENTS events is a 400 and nothing is sent."""
        api_hub(API_MAX_BATCH_EVENTS=3)
        assert post(user_client, {"events": [BROWSER_PLAY] * 3}).status_code == 202
        response = post(user_client, {"events": [BROWSER_PLAY] * 4})
        assert response.status_code == 400
        message = "expected an array of 1 to 3 items, got an array of 4 items"
        assert response.json() == {"errors": {"events": [message]}}
        assert len(events()) == 3

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"events": []}, "events"),
            ({"events": {"0": BROWSER_PLAY}}, "events"),
            ({"events": None}, "events"),
            ({"events": [BROWSER_PLAY], "page": PAGE}, "page"),
        ],
    )
    def test_malformed_batch(self, user_client: APIClient, body: dict[str, Any], field: str) -> None:
        """A malformed batch is a 400 naming the field."""
        response = post(user_client, body)
        assert response.status_code == 400
        assert field in response.json()["errors"]
        assert events() == []

    def test_one_unit_of_work(self, user_client: APIClient) -> None:
        """The events of a batch are handed off together when the request ends."""
        assert post(user_client, {"events": [BROWSER_PLAY] * 5}).status_code == 202
        assert len({event["id"] for event in events()}) == 5


@pytest.fixture(name="http_port")
def fixture_http_port(api_hub: Callable[..., None]) -> Iterator[int]:
    """Port of the test project served over HTTP by Werkzeug's server (it decodes chunked bodies)."""
    server = make_server("127.0.0.1", 0, WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.port
    server.shutdown()
    thread.join(timeout=30)
    server.server_close()


def post_chunked(port: int, body: bytes, chunk_size: int = 64 * 1024) -> tuple[int, Any]:
    """POST ``body`` with ``Transfer-Encoding: chunked``; the status and JSON of the answer.

    The body is sent from a second thread while this one reads the answer, as a server may
    answer (413) before the body ends and stop reading it.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    stopped: list[OSError] = []

    def send() -> None:
        try:
            sock.sendall(head.encode())
            for start in range(0, len(body), chunk_size):
                piece = body[start : start + chunk_size]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
        except OSError as exc:  # the server answered and closed before the body ended
            stopped.append(exc)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    with sock, sock.makefile("rb") as stream:
        response = http.client.HTTPResponse(sock)
        response.fp = stream
        response.begin()
        answer = response.status, json.loads(response.read())
    sender.join(timeout=30)
    return answer


class TestChunkedBodies:
    """A body sent without Content-Length (chunked) is read, within API_MAX_BODY_BYTES."""

    def test_small_event(self, http_port: int, api_hub: Callable[..., None]) -> None:
        """A valid 150-byte chunked event is accepted and delivered."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        body = json.dumps({"event_type": "page_close", "event": {}, "page": PAGE}).encode()
        assert 100 < len(body) < 200
        status, answer = post_chunked(http_port, body, chunk_size=40)
        assert status == 201, answer
        assert [event["id"] for event in events()] == [answer["id"]]

    @pytest.mark.parametrize("size", [600 * 1024, 5 * 1024 * 1024])
    def test_too_large(self, http_port: int, api_hub: Callable[..., None], size: int) -> None:
        """A chunked body over API_MAX_BODY_BYTES (512 KiB) is a 413, and nothing is sent."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        body = json.dumps({"event_type": "page_close", "event": {}, "page": "x" * size}).encode()
        status, answer = post_chunked(http_port, body)
        assert status == 413
        assert "too large" in answer["detail"]
        assert events() == []

    def test_at_the_limit(self, http_port: int, api_hub: Callable[..., None]) -> None:
        """A chunked body of exactly API_MAX_BODY_BYTES is read whole; one byte more is a 413."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"], API_MAX_BODY_BYTES=4096)
        event = json.dumps({"event_type": "page_close", "event": {}}).encode()
        body = event + b" " * (4096 - len(event))  # JSON may end with white space
        status, answer = post_chunked(http_port, body, chunk_size=1000)
        assert status == 201, answer
        assert len(events()) == 1
        assert post_chunked(http_port, body + b" ", chunk_size=1000)[0] == 413

    def test_server_that_cannot_end_the_body(self, user: Any) -> None:
        """Without wsgi.input_terminated a chunked body cannot be read safely: 411."""
        factory = APIRequestFactory()
        request = factory.post(URL, b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked")
        request.META.pop("CONTENT_LENGTH", None)
        force_authenticate(request, user=user)
        response = TrackingView.as_view()(request)
        assert response.status_code == 411


class TestTransport:
    """Size limits, content types and methods."""

    def test_body_too_large(self, user_client: APIClient, api_hub: Callable[..., None]) -> None:
        """A body over API_MAX_BODY_BYTES is a 413, and nothing is sent."""
        api_hub(API_MAX_BODY_BYTES=1000)
        response = post(user_client, {**BROWSER_PLAY, "page": "https://lms.example.com/" + "x" * 1000})
        assert response.status_code == 413
        assert "too large" in response.json()["detail"]
        assert events() == []
        assert post(user_client, BROWSER_PLAY).status_code == 201

    def test_body_too_large_without_content_length(self, api_hub: Callable[..., None], user: Any) -> None:
        """The limit holds when the length is not announced (the parser stops reading past it)."""
        from io import BytesIO

        from rest_framework.request import Request
        from rest_framework.test import APIRequestFactory

        from event_hub.api.parsers import JSONParser, RequestTooLarge

        api_hub(API_MAX_BODY_BYTES=10)
        request = Request(APIRequestFactory().post(URL, {}, format="json"))
        request._request.META.pop("CONTENT_LENGTH", None)
        with pytest.raises(RequestTooLarge):
            JSONParser().parse(BytesIO(b'{"event_type": "page_close"}'), parser_context={"request": request})

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
    )
    def test_unsupported_media_type(self, user_client: APIClient, content_type: str) -> None:
        """Only application/json bodies are accepted: anything else is a 415."""
        response = user_client.generic("POST", URL, json.dumps(BROWSER_PLAY), content_type=content_type)
        assert response.status_code == 415
        assert events() == []

    def test_json_with_charset(self, user_client: APIClient) -> None:
        """``application/json; charset=utf-8`` is JSON."""
        body = json.dumps(BROWSER_PLAY)
        response = user_client.post(URL, body, content_type="application/json; charset=utf-8")
        assert response.status_code == 201

    def test_accept_header_is_ignored(self, user_client: APIClient) -> None:
        """The answer is JSON whatever Accept asks for (no 406)."""
        response = post(user_client, BROWSER_PLAY, HTTP_ACCEPT="text/html")
        assert response.status_code == 201
        assert response["Content-Type"] == "application/json"

    def test_get_is_not_allowed(self, user_client: APIClient) -> None:
        """Only POST (and OPTIONS) are served."""
        assert user_client.get(URL).status_code == 405
        assert user_client.put(URL, BROWSER_PLAY, format="json").status_code == 405
        assert user_client.options(URL).status_code == 200


#: For each event processed: whether it ran inside a database transaction of the caller's.
seen_transactions: list[bool] = []


def note_transaction(envelope: Envelope) -> Envelope:
    """A processor noting whether the event is processed inside a transaction (test cases' excepted)."""
    seen_transactions.append(unit_of_work.inside_transaction())
    return envelope


class TestAtomicRequests:
    def test_the_view_runs_outside_atomic_requests(
        self, api_hub: Callable[..., None], user_client: APIClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With ``ATOMIC_REQUESTS`` on, the view is not wrapped in a transaction: what it accepted (and the
        rows it wrote for it) cannot be taken back by a rollback of the request."""
        monkeypatch.setitem(connections.settings["default"], "ATOMIC_REQUESTS", True)
        seen_transactions.clear()
        api_hub(PROCESSORS=["tests.api.test_tracking_api.note_transaction"])
        response = post(user_client, {"events": [BROWSER_PLAY, BROWSER_PLAY]})
        assert response.status_code == 202
        assert response.json()["accepted"] == 2
        assert seen_transactions == [False, False]
