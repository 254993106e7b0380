"""Third-party (Google component) content events."""

from __future__ import annotations

import pytest

import event_hub.catalog.third_party  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError


class TestGoogleComponents:
    @pytest.mark.parametrize(
        ("name", "displayed_in"),
        [
            ("edx.googlecomponent.calendar.displayed", "iframe"),
            ("edx.googlecomponent.document.displayed", "img"),
        ],
    )
    def test_displayed_is_valid(self, name, displayed_in):
        """Calendar and Drive display events validate and are returned unchanged."""
        data = {"displayed_in": displayed_in, "url": "https://docs.google.com/x"}
        assert registry.validate(name, "server", data).data is data

    def test_displayed_in_is_a_closed_set(self):
        """``displayed_in`` only takes 'img' or 'iframe'."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(
                "edx.googlecomponent.document.displayed", "server", {"displayed_in": "embed", "url": "u"}
            )
        assert list(excinfo.value.errors) == ["displayed_in"]

    def test_url_is_required(self):
        """Leaving out ``url`` is reported under ``url``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.googlecomponent.calendar.displayed", "server", {"displayed_in": "iframe"})
        assert excinfo.value.errors == {"url": ["this field is required"]}
