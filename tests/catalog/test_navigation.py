"""Navigational events: ``page_close`` and the sequence navigation events."""

from __future__ import annotations

import pytest

import event_hub.catalog.navigation  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError


class TestNavigationEvents:
    def test_page_close_carries_no_fields(self):
        """``page_close`` validates with an empty ``event`` member and refuses members in strict mode."""
        assert registry.validate("page_close", "browser", {}).data == {}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("page_close", "browser", {"id": 1})
        assert list(excinfo.value.errors) == ["id"]

    @pytest.mark.parametrize("name", ["seq_goto", "seq_next", "seq_prev"])
    def test_sequence_payload_is_valid(self, name):
        """Each sequence event accepts ``id``/``new``/``old`` and returns the payload unchanged."""
        data = {"id": 12, "new": 3, "old": 2}
        validated = registry.validate(name, "browser", data)
        assert validated.data is data
        assert validated.event_type == name
        assert validated.spec.domain == "navigation"

    def test_string_index_names_the_field(self):
        """A unit index sent as a string is reported under ``new``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("seq_goto", "browser", {"id": 12, "new": "3", "old": 2})
        assert list(excinfo.value.errors) == ["new"]

    def test_missing_old_names_the_field(self):
        """Leaving out ``old`` is reported as a required field."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("seq_next", "browser", {"id": 12, "new": 3})
        assert excinfo.value.errors == {"old": ["this field is required"]}

    def test_navigation_is_browser_only(self):
        """The server may not emit sequence navigation events."""
        with pytest.raises(InvalidEventError):
            registry.validate("seq_prev", "server", {"id": 1, "new": 1, "old": 2})
