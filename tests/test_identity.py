"""Tests of the anonymous user id and session pseudonyms."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from event_hub.identity import anonymous_user_id, session_id


def user(pk: int, authenticated: bool = True) -> Any:
    return SimpleNamespace(pk=pk, is_authenticated=authenticated)


def custom_anonymous_id(user: Any) -> str:
    return f"lms-{user.pk}"


class TestAnonymousUserId:
    def test_stable_per_user(self) -> None:
        """The same user always gets the same anonymous id."""
        assert anonymous_user_id(user(5)) == anonymous_user_id(user(5))

    def test_different_users_differ(self) -> None:
        """Two users never share an anonymous id."""
        assert anonymous_user_id(user(5)) != anonymous_user_id(user(6))

    def test_not_the_pk_and_32_hex_characters(self) -> None:
        """The id is a 32-character digest that does not contain the user's pk."""
        value = anonymous_user_id(user(123456789))
        assert len(value) == 32
        assert int(value, 16) >= 0
        assert "123456789" not in value

    def test_anonymous_visitors_have_none(self) -> None:
        """Visitors who are not logged in get an empty id."""
        assert anonymous_user_id(user(0, authenticated=False)) == ""
        assert anonymous_user_id(None) == ""

    def test_depends_on_the_secret(self, settings: Any) -> None:
        """Another secret gives other ids, so ids cannot be recomputed without it."""
        before = anonymous_user_id(user(5))
        settings.EVENT_HUB = {"ANONYMOUS_ID_SECRET": "another secret"}
        assert anonymous_user_id(user(5)) != before

    def test_changes_with_secret_key_when_no_secret_is_set(self, settings: Any) -> None:
        """Without ANONYMOUS_ID_SECRET the id is keyed by Django's SECRET_KEY."""
        before = anonymous_user_id(user(5))
        settings.SECRET_KEY = "a-different-secret-key-for-this-test-0123456789"
        assert anonymous_user_id(user(5)) != before

    def test_custom_function_replaces_the_derivation(self, settings: Any) -> None:
        """ANONYMOUS_ID_FUNCTION lets an LMS plug in the ids it already has."""
        settings.EVENT_HUB = {"ANONYMOUS_ID_FUNCTION": "tests.test_identity.custom_anonymous_id"}
        assert anonymous_user_id(user(5)) == "lms-5"


class TestSessionId:
    @pytest.mark.parametrize("key", ["abc", "x" * 40])
    def test_is_32_characters_and_not_the_key(self, key: str) -> None:
        """The session field is a 32-character digest, never the raw session key."""
        value = session_id(key)
        assert len(value) == 32
        assert key not in value

    def test_differs_from_user_pseudonym_namespace(self) -> None:
        """Session and user pseudonyms of the same text differ (separate namespaces)."""
        assert session_id("5") != anonymous_user_id(user(5))
