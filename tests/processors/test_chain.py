"""Tests of building processor chains from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from event_hub.exceptions import ConfigurationError
from event_hub.processors.chain import build_processor, routes
from event_hub.processors.filters import EventNameFilter
from event_hub.processors.privacy import Privacy


class TestBuildProcessor:
    def test_class_path_with_options(self) -> None:
        """[path, {options}] builds the class with those keyword arguments."""
        built = build_processor(["event_hub.processors.filters.EventNameFilter", {"deny": ["x"]}], "t")
        assert isinstance(built, EventNameFilter)

    def test_bad_entries_are_configuration_errors(self) -> None:
        """Unimportable paths, bad options and non-callables raise ConfigurationError naming the place."""
        with pytest.raises(ConfigurationError, match="where"):
            build_processor("event_hub.processors.nothing.Here", "where")
        with pytest.raises(ConfigurationError):
            build_processor(["event_hub.processors.privacy.Privacy", {"mode": "nope"}], "where")
        with pytest.raises(ConfigurationError):
            build_processor(["event_hub.processors.privacy.Privacy", "not-a-dict"], "where")
        with pytest.raises(ConfigurationError):
            build_processor("event_hub.envelope.SOURCES", "where")


class TestRoutes:
    def test_privacy_is_last_unless_pii(self, hub: Callable[..., Any]) -> None:
        """Every backend ends with Privacy in its PRIVACY mode; a PII backend has no Privacy."""
        hub(
            BACKENDS={
                "a": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "PRIVACY": "pseudonymise"},
                "b": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "PII": True},
                "off": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "ENABLED": False},
            }
        )
        table = {route.backend: route for route in routes().routes}
        assert set(table) == {"a", "b"}
        assert isinstance(table["a"].processors[-1], Privacy)
        assert table["a"].processors[-1].mode == "pseudonymise"
        assert not any(isinstance(p, Privacy) for p in table["b"].processors)
        assert routes().any_pii

    def test_routes_follow_setting_changes(self, hub: Callable[..., Any]) -> None:
        """Changing EVENT_HUB rebuilds the routes (no stale cache)."""
        hub(BACKENDS={"one": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}})
        assert [r.backend for r in routes().routes] == ["one"]
        hub(BACKENDS={"two": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}})
        assert [r.backend for r in routes().routes] == ["two"]
        assert not routes().any_pii
