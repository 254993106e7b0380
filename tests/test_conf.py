"""Tests of the EVENT_HUB settings accessor."""

from __future__ import annotations

from typing import Any

import pytest

from event_hub.conf import DEFAULTS, hub_settings, on_reload
from event_hub.context import resolve_content_node
from event_hub.exceptions import ConfigurationError


class TestAccessor:
    def test_defaults_fill_missing_keys(self, settings: Any) -> None:
        """A key the project does not set reads as its default."""
        settings.EVENT_HUB = {}
        assert DEFAULTS["BATCH_MAX_EVENTS"] == hub_settings.BATCH_MAX_EVENTS

    def test_override_settings_reloads(self, settings: Any) -> None:
        """Changing EVENT_HUB (override_settings) is seen at once."""
        settings.EVENT_HUB = {"BATCH_MAX_EVENTS": 7}
        assert hub_settings.BATCH_MAX_EVENTS == 7
        settings.EVENT_HUB = {"BATCH_MAX_EVENTS": 9}
        assert hub_settings.BATCH_MAX_EVENTS == 9

    def test_import_strings_are_imported(self, settings: Any) -> None:
        """Dotted paths of IMPORT_STRINGS keys are returned as the objects they name."""
        settings.EVENT_HUB = {"CONTENT_NODE_RESOLVER": "event_hub.context.resolve_content_node"}
        assert hub_settings.CONTENT_NODE_RESOLVER is resolve_content_node

    def test_bad_import_string_is_a_configuration_error(self, settings: Any) -> None:
        """A path that cannot be imported raises ConfigurationError naming the key."""
        settings.EVENT_HUB = {"CONTENT_NODE_RESOLVER": "nowhere.at.all"}
        with pytest.raises(ConfigurationError, match="CONTENT_NODE_RESOLVER"):
            _ = hub_settings.CONTENT_NODE_RESOLVER

    def test_unknown_attribute_raises(self) -> None:
        """Reading a setting that does not exist is an AttributeError, not None."""
        with pytest.raises(AttributeError, match="BATCH_MAX_EVENT"):
            _ = hub_settings.BATCH_MAX_EVENT

    def test_unknown_keys_are_listed(self, settings: Any) -> None:
        """Keys event_hub does not know are reported (the checks turn them into E001)."""
        settings.EVENT_HUB = {"BACKEND": {}, "DELIVERY": "sync"}
        assert hub_settings.unknown_keys() == ["BACKEND"]

    def test_not_a_dict(self, settings: Any) -> None:
        """EVENT_HUB of the wrong type is a ConfigurationError."""
        settings.EVENT_HUB = ["DELIVERY"]
        with pytest.raises(ConfigurationError, match="must be a dict"):
            _ = hub_settings.DELIVERY

    def test_reload_hooks_run(self, settings: Any) -> None:
        """Functions registered with on_reload run when EVENT_HUB changes."""
        calls: list[int] = []
        on_reload(lambda: calls.append(1))
        settings.EVENT_HUB = {"DELIVERY": "sync"}
        assert calls
