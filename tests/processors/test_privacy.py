"""Tests of the privacy processor."""

from __future__ import annotations

import datetime

import pytest

from event_hub.envelope import Envelope, EventContext
from event_hub.processors.privacy import Privacy


@pytest.fixture(name="envelope")
def fixture_envelope() -> Envelope:
    return Envelope(
        id="1",
        name="add-forum-admin",
        event_type="add-forum-admin",
        event_source="server",
        time=datetime.datetime.now(datetime.UTC),
        event={"course": "c", "username": "staffer"},
        context=EventContext(user_id=3),
        username="teacher",
        ip="203.0.113.77",
        pii_fields=("username",),
    )


class TestDrop:
    def test_blanks_username_ip_and_pii_members(self, envelope: Envelope) -> None:
        """Drop mode empties username, ip and catalog-marked PII members, keeping other data."""
        clean = Privacy()(envelope)
        assert (clean.username, clean.ip) == ("", "")
        assert clean.event == {"course": "c", "username": ""}
        assert envelope.event["username"] == "staffer", "the original envelope is untouched"

    def test_returns_same_object_when_nothing_to_remove(self, envelope: Envelope) -> None:
        """An envelope without personal data passes through without a copy."""
        import attrs

        bare = attrs.evolve(envelope, username="", ip="", pii_fields=())
        assert Privacy()(bare) is bare


class TestPseudonymise:
    def test_username_becomes_a_stable_digest(self, envelope: Envelope) -> None:
        """Pseudonymise mode replaces usernames with the same digest each time."""
        first, second = Privacy("pseudonymise")(envelope), Privacy("pseudonymise")(envelope)
        assert first.username == second.username
        assert first.username not in ("", "teacher")
        assert first.event["username"] not in ("", "staffer")

    @pytest.mark.parametrize(
        ("ip", "expected"),
        [("203.0.113.77", "203.0.113.0"), ("2001:db8:1234:5678::1", "2001:db8:1234::"), ("garbage", "")],
    )
    def test_ip_keeps_only_the_network(self, envelope: Envelope, ip: str, expected: str) -> None:
        """IPv4 keeps its /24 and IPv6 its /48; an unparsable address is dropped."""
        import attrs

        assert Privacy("pseudonymise")(attrs.evolve(envelope, ip=ip)).ip == expected

    def test_unknown_mode_is_refused(self) -> None:
        """A typo in the mode is an error, not a silent pass-through."""
        with pytest.raises(ValueError, match="mode"):
            Privacy("hash")
