"""Library (randomized content block) events."""

from __future__ import annotations

import pytest

import event_hub.catalog.library_content  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

BLOCK = {
    "usage_key": "block-v1:edX+DemoX+2015+type@problem+block@a1",
    "original_usage_key": "lb:edX+Lib+type@problem+block@p1",
    "original_usage_version": "5512ee4d56c02c04d63e0a7c",
}
PARENT = {
    "usage_key": "block-v1:edX+DemoX+2015+type@vertical+block@v1",
    "original_usage_key": "lb:edX+Lib+type@vertical+block@v1",
    "original_usage_version": "5512ee4d56c02c04d63e0a7c",
    "descendants": [BLOCK],
}
LOCATION = "block-v1:edX+DemoX+2015+type@library_content+block@rcb"


class TestLibraryContentEvents:
    def test_assigned_validates(self):
        """An ``assigned`` event with plain and multi-part components validates unchanged."""
        data = {
            "added": [PARENT],
            "location": LOCATION,
            "max_count": 2,
            "previous_count": 1,
            "result": [BLOCK, PARENT],
        }
        assert registry.validate("edx.librarycontentblock.content.assigned", "server", data).data is data

    def test_removed_validates(self):
        """A ``removed`` event carries ``reason`` and ``removed`` instead of ``added``."""
        data = {
            "location": LOCATION,
            "max_count": 1,
            "previous_count": 2,
            "reason": "overlimit",
            "removed": [PARENT],
            "result": [BLOCK],
        }
        assert registry.validate("edx.librarycontentblock.content.removed", "server", data).data is data

    def test_removed_rejects_added(self):
        """``added`` belongs to ``assigned`` only; strict validation rejects it on ``removed``."""
        data = {
            "added": [],
            "location": LOCATION,
            "max_count": 1,
            "previous_count": 2,
            "reason": "invalid",
            "removed": [],
            "result": [],
        }
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.librarycontentblock.content.removed", "server", data)
        assert excinfo.value.errors == {"added": ["unknown field"]}

    def test_nested_error_names_the_path(self):
        """A bad descendant is reported under its full nested path."""
        bad = {
            **PARENT,
            "descendants": [{"usage_key": 3, "original_usage_key": "k", "original_usage_version": "v"}],
        }
        data = {"added": [], "location": LOCATION, "max_count": 1, "previous_count": 0, "result": [bad]}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.librarycontentblock.content.assigned", "server", data)
        expected = {"result[0].descendants[0].usage_key": ["expected a string, got integer"]}
        assert excinfo.value.errors == expected

    def test_reason_is_a_closed_set(self):
        """``reason`` accepts only 'overlimit' or 'invalid'."""
        data = {
            "location": LOCATION,
            "max_count": 1,
            "previous_count": 2,
            "reason": "gone",
            "removed": [],
            "result": [],
        }
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.librarycontentblock.content.removed", "server", data)
        assert list(excinfo.value.errors) == ["reason"]
