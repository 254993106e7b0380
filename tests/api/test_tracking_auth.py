"""``/api/tracking`` authentication: sessions with CSRF, tokens, JWT, the anonymous allowlist."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.functional import LazyObject
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from event_hub.tracker import tracker
from tests.api.api_support import (
    BROWSER_PLAY,
    DESIGN_NOTE_VIDEO,
    MOBILE_PLAY,
    events,
    invalid_names,
    post,
)

pytestmark = pytest.mark.django_db

PAGE_CLOSE = {"event_type": "page_close", "event": {}, "page": "https://lms.example.com/"}
JWT = "rest_framework_simplejwt.authentication.JWTAuthentication"
SESSION = "rest_framework.authentication.SessionAuthentication"
TOKEN = "rest_framework.authentication.TokenAuthentication"


@pytest.fixture(name="csrf_client")
def fixture_csrf_client(api_hub: Callable[..., None], user: Any) -> APIClient:
    """A browser-like client signed in as ``user`` that must pass CSRF checks."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client: APIClient) -> str:
    """Give ``client`` a CSRF cookie; return the token a page would put in X-CSRFToken."""
    token = secrets.token_hex(16)
    client.cookies["csrftoken"] = token
    return token


class TestAnonymous:
    """Anonymous clients post only the event types API_ANONYMOUS_EVENTS allows."""

    def test_refused_by_default(self, api_client: APIClient) -> None:
        """With the default empty allowlist an anonymous post is a 401 with a challenge."""
        response = post(api_client, PAGE_CLOSE)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert events() == []
        assert invalid_names() == []

    def test_allowed_event_type(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """An allowed event type is accepted, with no user."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        assert post(api_client, PAGE_CLOSE).status_code == 201
        assert events()[0]["context"]["user_id"] is None
        assert post(api_client, BROWSER_PLAY).status_code == 401

    def test_patterns_match_every_name(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """A pattern on the event type also allows the mobile name of that type."""
        api_hub(API_ANONYMOUS_EVENTS=["*_video"])
        assert post(api_client, BROWSER_PLAY).status_code == 201
        body = {key: value for key, value in MOBILE_PLAY.items() if key != "event_type"}
        assert post(api_client, body).status_code == 201
        assert post(api_client, DESIGN_NOTE_VIDEO).status_code == 401

    def test_batch_mixing_allowed_and_not(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """In a batch, events not allowed anonymously are rejected one by one (and not recorded)."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        response = post(api_client, {"events": [PAGE_CLOSE, BROWSER_PLAY]})
        assert response.status_code == 202
        assert response.json()["results"][1] == {
            "index": 1,
            "errors": {"event_type": ["authentication is required to send this event type"]},
        }
        assert len(events()) == 1
        assert invalid_names() == []

    def test_batch_with_nothing_allowed(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """A batch none of whose events may be posted anonymously is a 401."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        assert post(api_client, {"events": [BROWSER_PLAY, DESIGN_NOTE_VIDEO]}).status_code == 401

    def test_allowlist_follows_settings(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """Changing API_ANONYMOUS_EVENTS takes effect at once (nothing is cached across a change)."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        assert post(api_client, PAGE_CLOSE).status_code == 201
        api_hub(API_ANONYMOUS_EVENTS=[])
        assert post(api_client, PAGE_CLOSE).status_code == 401


class TestSessionAndCsrf:
    """Browsers: session authentication with CSRF enforced."""

    def test_csrf_missing_is_403(self, csrf_client: APIClient) -> None:
        """A signed-in browser without the CSRF token gets 403, and nothing is sent."""
        response = post(csrf_client, BROWSER_PLAY)
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
        assert events() == []

    def test_csrf_wrong_is_403(self, csrf_client: APIClient) -> None:
        """A token that does not match the cookie gets 403."""
        csrf_token(csrf_client)
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=secrets.token_hex(16)).status_code == 403

    def test_csrf_header_passes(self, csrf_client: APIClient, user: Any) -> None:
        """The token in X-CSRFToken (what event-hub.js sends) passes; the event is the user's."""
        token = csrf_token(csrf_client)
        response = post(csrf_client, {"events": [BROWSER_PLAY, PAGE_CLOSE]}, HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 202
        assert [event["context"]["user_id"] for event in events()] == [user.pk, user.pk]

    def test_tracker_gets_the_user_itself(
        self, csrf_client: APIClient, user: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each event of a session request is sent for the user object, not the middleware's lazy proxy."""
        sent_for: list[Any] = []
        send = tracker.send

        def spy(*args: Any, **kwargs: Any) -> Any:
            sent_for.append(kwargs["user"])
            return send(*args, **kwargs)

        monkeypatch.setattr(tracker, "send", spy)
        token = csrf_token(csrf_client)
        response = post(csrf_client, {"events": [BROWSER_PLAY, PAGE_CLOSE]}, HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 202
        assert len(sent_for) == 2
        assert all(type(sent) is type(user) and sent.pk == user.pk for sent in sent_for)
        assert not any(isinstance(sent, LazyObject) for sent in sent_for)

    def test_csrf_off(self, user_client: APIClient) -> None:
        """With CSRF checks off (Django's test client default) a signed-in post passes without a token."""
        assert post(user_client, BROWSER_PLAY).status_code == 201

    def test_anonymous_browser_needs_no_csrf(self, api_hub: Callable[..., None]) -> None:
        """An anonymous post of an allowed type carries no session, so CSRF does not apply."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        assert post(APIClient(enforce_csrf_checks=True), PAGE_CLOSE).status_code == 201


class TestSessionMemory:
    """A signed-in session's user is remembered for API_TOKEN_CACHE_SECONDS, and forgotten when it ends."""

    def test_session_user_is_remembered(
        self, csrf_client: APIClient, user: Any, django_assert_num_queries: Any
    ) -> None:
        """A session seen a moment ago authenticates without a database query; CSRF is still checked."""
        token = csrf_token(csrf_client)
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code == 201
        with django_assert_num_queries(0):
            assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code == 201
        assert post(csrf_client, BROWSER_PLAY).status_code == 403
        assert [event["context"]["user_id"] for event in events()] == [user.pk, user.pk]

    def test_logout_forgets(self, csrf_client: APIClient) -> None:
        """After logging out, the old session cookie no longer authenticates."""
        token = csrf_token(csrf_client)
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code == 201
        key = csrf_client.cookies["sessionid"].value
        csrf_client.logout()
        csrf_client.cookies["sessionid"] = key
        token = csrf_token(csrf_client)
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code in (401, 403)
        assert len(events()) == 1

    def test_deleted_session_is_forgotten(self, csrf_client: APIClient) -> None:
        """Deleting the session row (signing a user out everywhere) revokes it at once."""
        token = csrf_token(csrf_client)
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code == 201
        Session.objects.filter(session_key=csrf_client.cookies["sessionid"].value).delete()
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code in (401, 403)

    def test_deactivated_user_is_forgotten(self, csrf_client: APIClient, user: Any) -> None:
        """Deactivating the user of a remembered session revokes it at once."""
        token = csrf_token(csrf_client)
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code == 201
        user.is_active = False
        user.save()
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code in (401, 403)

    def test_memory_off(self, csrf_client: APIClient, api_hub: Callable[..., None]) -> None:
        """With API_TOKEN_CACHE_SECONDS 0 every request loads the session and its user."""
        api_hub(API_TOKEN_CACHE_SECONDS=0)
        token = csrf_token(csrf_client)
        assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code == 201
        with CaptureQueriesContext(connection) as queries:
            assert post(csrf_client, BROWSER_PLAY, HTTP_X_CSRFTOKEN=token).status_code == 201
        assert any("django_session" in query["sql"] for query in queries.captured_queries)


class TestTokens:
    """Mobile apps: DRF tokens (or JWT when configured), no CSRF."""

    def test_token(self, api_hub: Callable[..., None], user: Any) -> None:
        """``Authorization: Token <key>`` authenticates without CSRF."""
        key = Token.objects.create(user=user).key
        client = APIClient(enforce_csrf_checks=True)
        response = post(client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 201
        [event] = events()
        assert event["context"]["user_id"] == user.pk
        assert event["event_source"] == "mobile"

    def test_bad_token_is_401(self, api_client: APIClient) -> None:
        """An unknown token is a 401, even for an event type anonymous clients may post."""
        response = post(api_client, PAGE_CLOSE, HTTP_AUTHORIZATION="Token " + "0" * 40)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ("Token", "Invalid token header. No credentials provided."),
            ("Token a b", "Invalid token header. Token string should not contain spaces."),
        ],
    )
    def test_malformed_token_header_is_401(self, api_client: APIClient, header: str, message: str) -> None:
        """A ``Token`` header without one key is refused with DRF's own words."""
        response = post(api_client, PAGE_CLOSE, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert response.json() == {"detail": message}

    def test_other_scheme_is_not_a_token(self, api_client: APIClient, api_hub: Callable[..., None]) -> None:
        """An ``Authorization`` header of another scheme is not a token: the request is anonymous."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        assert post(api_client, PAGE_CLOSE, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==").status_code == 201
        assert post(api_client, BROWSER_PLAY, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==").status_code == 401

    def test_answer_varies_on_cookie_without_a_session(self, api_hub: Callable[..., None], user: Any) -> None:
        """A request without a session cookie was still answered after looking for a session."""
        api_hub(API_ANONYMOUS_EVENTS=["page_close"])
        key = Token.objects.create(user=user).key
        for headers in ({}, {"HTTP_AUTHORIZATION": f"Token {key}"}):
            response = post(APIClient(), PAGE_CLOSE, **headers)
            assert response.status_code == 201
            assert "Cookie" in response["Vary"]

    def test_inactive_user_is_401(self, api_client: APIClient, user: Any) -> None:
        """The token of a deactivated user no longer works."""
        key = Token.objects.create(user=user).key
        user.is_active = False
        user.save()
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401

    def test_cannot_speak_for_another_user(self, api_client: APIClient, user: Any, other_user: Any) -> None:
        """A token holder cannot name another user in the body."""
        key = Token.objects.create(user=user).key
        for body in (
            {**MOBILE_PLAY, "username": other_user.username},
            {**MOBILE_PLAY, "context": {"user_id": other_user.pk}},
        ):
            assert post(api_client, body, HTTP_AUTHORIZATION=f"Token {key}").status_code == 400
        assert events() == []

    def test_token_user_is_remembered(
        self, api_client: APIClient, user: Any, django_assert_num_queries: Any
    ) -> None:
        """A token seen a moment ago authenticates without a database query."""
        key = Token.objects.create(user=user).key
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {key}").status_code == 201
        with django_assert_num_queries(0):
            assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {key}").status_code == 201
        assert [event["context"]["user_id"] for event in events()] == [user.pk, user.pk]

    def test_deleted_token_is_forgotten(self, api_client: APIClient, user: Any) -> None:
        """Deleting a remembered token revokes it at once."""
        token = Token.objects.create(user=user)
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 201
        token.delete()
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401

    def test_deactivated_user_is_forgotten(self, api_client: APIClient, user: Any) -> None:
        """Deactivating the user of a remembered token revokes it at once."""
        key = Token.objects.create(user=user).key
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {key}").status_code == 201
        user.is_active = False
        user.save()
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401

    def test_token_memory_off(
        self, api_client: APIClient, api_hub: Callable[..., None], user: Any, django_assert_num_queries: Any
    ) -> None:
        """With API_TOKEN_CACHE_SECONDS 0 every request looks the token up."""
        api_hub(API_TOKEN_CACHE_SECONDS=0)
        key = Token.objects.create(user=user).key
        for _ in range(2):
            with django_assert_num_queries(1):
                assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Token {key}").status_code == 201

    def test_jwt(self, api_client: APIClient, api_hub: Callable[..., None], user: Any) -> None:
        """A JWT class added to API_AUTHENTICATION authenticates ``Authorization: Bearer``."""
        from rest_framework_simplejwt.tokens import AccessToken

        api_hub(API_AUTHENTICATION=[SESSION, TOKEN, JWT])
        token = str(AccessToken.for_user(user))
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 201
        assert events()[0]["context"]["user_id"] == user.pk
        assert post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION="Bearer not-a-jwt").status_code == 401

    @pytest.mark.parametrize("claim", ["abc", "", {"id": 1}, [1]])
    def test_jwt_with_a_user_id_of_the_wrong_type(
        self, api_client: APIClient, api_hub: Callable[..., None], user: Any, claim: Any
    ) -> None:
        """A correctly signed JWT whose user_id claim cannot be a user's key is a 401, not a 500."""
        from rest_framework_simplejwt.tokens import AccessToken

        api_hub(API_AUTHENTICATION=[SESSION, TOKEN, JWT], API_ANONYMOUS_EVENTS=["*"])
        token = AccessToken.for_user(user)
        token["user_id"] = claim
        response = post(api_client, MOBILE_PLAY, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert "credentials" in response.json()["detail"]
        assert events() == []

    def test_authentication_follows_settings(
        self, user_client: APIClient, api_hub: Callable[..., None]
    ) -> None:
        """With token authentication only, a session no longer authenticates."""
        assert post(user_client, BROWSER_PLAY).status_code == 201
        api_hub(API_AUTHENTICATION=[TOKEN])
        assert post(user_client, BROWSER_PLAY).status_code == 401
