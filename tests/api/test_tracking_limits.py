"""``/api/tracking`` throttling (per user, per IP, per scope) and the API system checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.throttling import SimpleRateThrottle

from event_hub import checks
from event_hub.api.throttling import TrackingThrottle, parse_rate
from event_hub.api.views import TrackingView
from event_hub.delivery import unit_of_work
from tests.api.api_support import (
    BROWSER_PLAY,
    URL,
    events,
    post,
)

pytestmark = pytest.mark.django_db

PAGE_CLOSE = {"event_type": "page_close", "event": {}}


class TestThrottling:
    """API_THROTTLE_RATES limits requests per user, per client IP and per view scope."""

    def test_user_rate(self, user_client: APIClient, api_hub: Callable[..., None]) -> None:
        """Past the user rate a request is a 429 with Retry-After, and its events are not sent."""
        api_hub(API_THROTTLE_RATES={"user": "2/minute"})
        assert [post(user_client, BROWSER_PLAY).status_code for _ in range(2)] == [201, 201]
        response = post(user_client, BROWSER_PLAY)
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 61
        assert "throttled" in response.json()["detail"].lower()
        assert len(events()) == 2

    def test_users_are_counted_apart(self, api_hub: Callable[..., None], user: Any, other_user: Any) -> None:
        """One user's requests do not use up another's."""
        api_hub(API_THROTTLE_RATES={"user": "1/minute"})
        first, second = APIClient(), APIClient()
        first.force_login(user)
        second.force_login(other_user)
        assert post(first, BROWSER_PLAY).status_code == 201
        assert post(first, BROWSER_PLAY).status_code == 429
        assert post(second, BROWSER_PLAY).status_code == 201

    def test_anonymous_rate_per_ip(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """Anonymous requests are counted per client IP."""
        api_hub(API_THROTTLE_RATES={"anon": "1/hour"}, API_ANONYMOUS_EVENTS=["page_close"])
        assert post(api_client, PAGE_CLOSE, REMOTE_ADDR="10.0.0.1").status_code == 201
        assert post(api_client, PAGE_CLOSE, REMOTE_ADDR="10.0.0.1").status_code == 429
        assert post(api_client, PAGE_CLOSE, REMOTE_ADDR="10.0.0.2").status_code == 201

    def test_anonymous_ip_behind_proxies(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """Behind TRUSTED_PROXY_COUNT proxies the client IP comes from X-Forwarded-For."""
        api_hub(
            API_THROTTLE_RATES={"anon": "1/hour"}, API_ANONYMOUS_EVENTS=["page_close"], TRUSTED_PROXY_COUNT=1
        )
        assert post(api_client, PAGE_CLOSE, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 201
        assert post(api_client, PAGE_CLOSE, HTTP_X_FORWARDED_FOR="192.0.2.2").status_code == 201
        assert post(api_client, PAGE_CLOSE, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429

    def test_no_rate_no_limit(self, user_client: APIClient, api_hub: Callable[..., None]) -> None:
        """A scope without a rate (or with None) is not limited."""
        api_hub(API_THROTTLE_RATES={"user": None, "anon": "1/day"})
        assert {post(user_client, BROWSER_PLAY).status_code for _ in range(5)} == {201}

    def test_view_scope(self, api_hub: Callable[..., None], user: Any) -> None:
        """A view's throttle_scope adds its own limit, on top of the per-user one."""
        api_hub(API_THROTTLE_RATES={"user": "100/minute", "mobile": "1/minute"})
        view = TrackingView.as_view(throttle_scope="mobile")
        factory = APIRequestFactory()

        def call() -> int:
            request = factory.post(URL, BROWSER_PLAY, format="json")
            force_authenticate(request, user=user)
            with unit_of_work.unit_of_work():
                return int(view(request).status_code)

        assert [call(), call()] == [201, 429]
        assert len(events()) == 1

    @pytest.mark.parametrize(
        ("rate", "parsed"),
        [("10/second", (10, 1)), ("5/m", (5, 60)), ("2/hour", (2, 3600)), ("1/day", (1, 86400))],
    )
    def test_parse_rate(self, rate: str, parsed: tuple[int, int]) -> None:
        """Rates read like DRF's: count / period (only the period's first letter counts)."""
        assert parse_rate(rate) == parsed

    @pytest.mark.parametrize("rate", ["10", "ten/minute", "0/minute", "5/fortnight", "/m"])
    def test_bad_rate(self, rate: str) -> None:
        """A malformed rate is a ValueError."""
        with pytest.raises(ValueError, match="rate"):
            parse_rate(rate)


class TestDRFThrottle:
    """TrackingThrottle is DRF's SimpleRateThrottle with an atomic fixed-window counter."""

    def test_rate_parsing_and_wait_are_drfs(self) -> None:
        """The throttle inherits DRF's rate parser and wait() instead of carrying copies of them."""
        assert issubclass(TrackingThrottle, SimpleRateThrottle)
        for name in ("parse_rate", "wait"):
            assert getattr(TrackingThrottle, name) is getattr(SimpleRateThrottle, name)

    def test_rate_is_read_at_call_time(self, user: Any, api_hub: Callable[..., None]) -> None:
        """A throttle built before API_THROTTLE_RATES changes applies the new rate."""
        throttle = TrackingThrottle("mobile")
        api_hub(API_THROTTLE_RATES={"mobile": "1/hour"})
        request = Request(APIRequestFactory().post(URL))
        request.user = user
        assert [throttle.allow_request(request, None) for _ in range(2)] == [True, False]
        assert (throttle.num_requests, throttle.duration) == (1, 3600)

    def test_wait_is_the_rest_of_the_window(
        self, user: Any, api_hub: Callable[..., None], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A refused request is told to wait until the current fixed window ends."""
        api_hub(API_THROTTLE_RATES={"user": "2/minute"})
        monkeypatch.setattr(TrackingThrottle, "timer", staticmethod(lambda: 6000.0 + 45.25))
        request = Request(APIRequestFactory().post(URL))
        request.user = user
        throttle = TrackingThrottle()
        assert [throttle.allow_request(request, None) for _ in range(3)] == [True, True, False]
        assert throttle.wait() == pytest.approx(60 - 45.25)


def check_ids(**hub: Any) -> list[str]:
    """Ids of the system check messages for ``EVENT_HUB`` = ``hub`` (plus sync delivery)."""
    with override_settings(EVENT_HUB={"DELIVERY": "sync", **hub}):
        return [message.id for message in checks.check_settings() if message.id]


class TestChecks:
    """The API settings are checked at startup, with stable ids."""

    def test_defaults_pass(self) -> None:
        """The defaults raise nothing about the API."""
        assert not [id_ for id_ in check_ids() if id_.startswith(("event_hub.E01", "event_hub.W01"))]

    @pytest.mark.parametrize(
        "value",
        [
            "rest_framework.authentication.TokenAuthentication",
            ["no.such.Authentication"],
            ["event_hub.conf.HubSettings"],
        ],
    )
    def test_authentication(self, value: Any) -> None:
        """API_AUTHENTICATION must list importable DRF authentication classes (E010)."""
        assert "event_hub.E010" in check_ids(API_AUTHENTICATION=value)

    @pytest.mark.parametrize(
        "hub",
        [
            {"API_THROTTLE_RATES": ["100/minute"]},
            {"API_THROTTLE_RATES": {"user": "lots"}},
            {"API_THROTTLE_RATES": {"anon": ["600/minute"]}},
            {"API_THROTTLE_RATES": {"user": {"rate": "1/s"}}},
            {"API_THROTTLE_RATES": {"user": 100}},
            {"API_THROTTLE_CACHE": "no-such-cache"},
        ],
    )
    def test_throttling(self, hub: dict[str, Any]) -> None:
        """Rates must parse and the throttle cache must exist (E011)."""
        assert "event_hub.E011" in check_ids(**hub)

    def test_manage_py_check_reports_an_unhashable_rate(self) -> None:
        """``manage.py check`` reports a list given as a rate as E011 rather than crashing."""
        with (
            override_settings(EVENT_HUB={"DELIVERY": "sync", "API_THROTTLE_RATES": {"anon": ["600/minute"]}}),
            pytest.raises(SystemCheckError, match=r"event_hub\.E011"),
        ):
            call_command("check")

    @pytest.mark.parametrize("value", ["page_close", [""], [3]])
    def test_anonymous_events(self, value: Any) -> None:
        """API_ANONYMOUS_EVENTS must be a list of patterns (E012)."""
        assert "event_hub.E012" in check_ids(API_ANONYMOUS_EVENTS=value)

    def test_anonymous_everything_warns(self) -> None:
        """Allowing every event type anonymously is a warning (W010)."""
        assert "event_hub.W010" in check_ids(API_ANONYMOUS_EVENTS=["*"])

    @pytest.mark.parametrize(
        "hub",
        [
            {"API_MAX_BODY_BYTES": 0},
            {"API_MAX_BATCH_EVENTS": "100"},
            {"API_MAX_BATCH_EVENTS": True},
            {"API_TOKEN_CACHE_SECONDS": -1},
        ],
    )
    def test_limits(self, hub: dict[str, Any]) -> None:
        """Size limits must be positive integers, the token memory not negative (E013)."""
        assert "event_hub.E013" in check_ids(**hub)
