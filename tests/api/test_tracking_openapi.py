"""The OpenAPI schema of ``/api/tracking``, and schemathesis fuzzing against it.

The fuzz test loads the schema the app serves at ``/api/schema/`` and sends
at least :data:`FUZZ_CASES` generated requests, positive (valid per the schema)
and negative (violating it), through the whole Django stack in-process. Every
answer must be documented, conform to its documented schema, and never be a
5xx.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
import yaml
from django.test.client import ClientHandler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from event_hub.api.contract import CONTEXT_KEYS, SERVER_ONLY, UNKNOWN
from tests.api.api_support import (
    BROWSER_PLAY,
    MOBILE_PLAY,
    URL,
    post,
)

pytestmark = pytest.mark.django_db

#: Generated requests per run (EVENT_HUB_FUZZ_CASES raises it for a longer local run).
FUZZ_CASES = int(os.environ.get("EVENT_HUB_FUZZ_CASES", "1200"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def wsgi_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI app of the test project that, like Django's test client, keeps the test's DB transaction."""
    handler = ClientHandler(enforce_csrf_checks=False)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = handler(environ)
        headers = [*response.items(), *(("Set-Cookie", c.OutputString()) for c in response.cookies.values())]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]

    return app


def posted_events(body: Any) -> list[dict[str, Any]]:
    """The event objects of a generated request body (one event or a batch)."""
    events = body.get("events") if isinstance(body, dict) and "events" in body else [body]
    return [event for event in events if isinstance(event, dict)] if isinstance(events, list) else []


@pytest.fixture(name="schema_document")
def fixture_schema_document(api_client: APIClient) -> dict[str, Any]:
    """The schema as served at ``/api/schema/``."""
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    document: dict[str, Any] = yaml.safe_load(response.content)
    return document


class TestSchema:
    """drf-spectacular documents the endpoint as it behaves."""

    def test_served(self, schema_document: dict[str, Any]) -> None:
        """``/api/schema/`` serves OpenAPI 3 with the tracking operation."""
        assert schema_document["openapi"].startswith("3.")
        operation = schema_document["paths"][URL]["post"]
        assert set(operation["responses"]) == {"201", "202", "400", "401", "403", "411", "413", "415", "429"}
        request = operation["requestBody"]["content"]["application/json"]["schema"]
        assert request == {"$ref": "#/components/schemas/TrackingRequest"}
        assert {"cookieAuth", "tokenAuth"} <= {name for entry in operation["security"] for name in entry}

    def test_request_shapes(self, schema_document: dict[str, Any]) -> None:
        """The request is one event or a batch of them."""
        components = schema_document["components"]["schemas"]
        assert components["TrackingRequest"]["oneOf"] == [
            {"$ref": "#/components/schemas/TrackingEvent"},
            {"$ref": "#/components/schemas/TrackingBatch"},
        ]
        assert components["TrackingBatch"]["properties"]["events"]["items"] == {
            "$ref": "#/components/schemas/TrackingEvent"
        }

    def test_documented_fields_are_the_accepted_ones(
        self, schema_document: dict[str, Any], user_client: APIClient
    ) -> None:
        """Documented members are accepted; server-set and undocumented members are refused."""
        components = schema_document["components"]["schemas"]
        event, context = components["TrackingEvent"], components["AppContext"]
        assert set(event["properties"]) == {
            *("event_type", "name", "tracking_event_type", "event", "event_data"),
            *("page", "node_id", "timestamp", "event_source", "context"),
        }
        members = {"course_id", "application", "client", "component", "received_at"}
        assert set(context["properties"]) == members
        assert event["additionalProperties"] is False
        assert context["additionalProperties"] is False
        assert {"username", "user_id", "ip", "time"} <= set(event["x-server-set"])
        assert {"user_id", "org_id", "client_time"} <= set(context["x-server-set"])
        for member in [*event["x-server-set"], "color"]:
            errors = post(user_client, {**BROWSER_PLAY, member: "x"}).json()["errors"]
            assert errors == {member: [SERVER_ONLY if member != "color" else UNKNOWN]}
        for member in [*context["x-server-set"], "colour"]:
            body = {**MOBILE_PLAY, "context": {**MOBILE_PLAY["context"], member: "x"}}
            errors = post(user_client, body).json()["errors"]
            assert errors == {f"context.{member}": [SERVER_ONLY if member != "colour" else UNKNOWN]}

    def test_examples_are_accepted(self, schema_document: dict[str, Any], user_client: APIClient) -> None:
        """Every request example in the schema is accepted as documented."""
        content = schema_document["paths"][URL]["post"]["requestBody"]["content"]["application/json"]
        for name, example in content["examples"].items():
            response = user_client.post(URL, example["value"], format="json")
            assert response.status_code in (201, 202), (name, response.json())
            if response.status_code == 202:
                assert response.json()["rejected"] == 0, (name, response.json())


class TestFuzzing:
    """schemathesis against the served schema: no 5xx, nothing undocumented."""

    def test_generated_requests(self, api_hub: Callable[..., None]) -> None:
        """At least FUZZ_CASES generated requests, none answered with a server error."""
        # Anonymous posting of every type, so generated events reach validation and the Tracker;
        # no throttling, so the run is not cut short by 429s.
        api_hub(API_ANONYMOUS_EVENTS=["*"], API_THROTTLE_RATES={})
        schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app())
        operation = schema[URL]["POST"]
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        statuses: Counter[int] = Counter()
        context_members: Counter[str] = Counter()

        @settings(
            max_examples=FUZZ_CASES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=os.environ.get("CI", "").lower() == "true",
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            for event in posted_events(case.body):
                context = event.get("context")
                context_members.update(list(context) if isinstance(context, dict) else [])
            response = case.call()
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        run()
        total = sum(statuses.values())
        print(f"schemathesis: {total} generated requests, answers {dict(sorted(statuses.items()))}")
        assert total >= FUZZ_CASES
        assert not [code for code in statuses if code >= 500]
        assert {201, 400} <= set(statuses), statuses
        assert set(context_members) >= CONTEXT_KEYS, context_members

    def test_known_nasty_bodies(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """Inputs that have broken JSON APIs before are all answered with a 4xx."""
        api_hub(API_ANONYMOUS_EVENTS=["*"], API_THROTTLE_RATES={})
        bodies: list[bytes] = [
            b"[" * 5000 + b"]" * 5000,
            b'{"event_type": "play_video", "event": {"id": ' + b"9" * 400 + b"}}",
            b'{"event_type": "play_video", "event": {"id": 18446744073709551616}}',
            b'{"event_type": "page_close", "event": NaN}',
            b'{"event_type": "\\ud800"}',
            b'{"event_type": "page_close", "page": "\\u0000"}',
            b'{"event_type": "play_video", "event": "{\\"id\\": 1e999}"}',
            b"\xff\xfe",
            json.dumps({"events": [{"event_type": "x" * 300}] * 100}).encode(),
            json.dumps(
                {"tracking_event_type": "video", "event_data": {"video_id": "\u0000", "a": "\u0000"}}
            ).encode(),
            json.dumps({"event_type": "page_close", "timestamp": "9999-12-31T23:59:59-23:59"}).encode(),
        ]
        for body in bodies:
            response = api_client.post(URL, body, content_type="application/json")
            assert 400 <= response.status_code < 500 or response.status_code in (201, 202), (
                body[:80],
                response,
            )
