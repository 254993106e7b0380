"""Teams events."""

from __future__ import annotations

import pytest

import event_hub.catalog.teams  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError


class TestTeamsEvents:
    @pytest.mark.parametrize("name", ["edx.team.activity_updated", "edx.team.created", "edx.team.deleted"])
    def test_team_id_only_events_are_valid(self, name):
        """Events carrying only ``team_id`` validate and are returned unchanged."""
        data = {"team_id": "the-a-team-5ab3"}
        assert registry.validate(name, "server", data).data is data

    def test_changed_is_valid(self):
        """An edit with a truncated ``new`` value validates."""
        data = {
            "field": "description",
            "new": "x" * 1250 + "...",
            "old": "Short",
            "truncated": ["new"],
            "team_id": "t1",
        }
        assert registry.validate("edx.team.changed", "server", data).data is data

    def test_changed_truncated_names_only_old_or_new(self):
        """``truncated`` entries other than 'old'/'new' are reported by index."""
        data = {"field": "name", "new": "b", "old": "a", "truncated": ["name"], "team_id": "t1"}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.team.changed", "server", data)
        assert list(excinfo.value.errors) == ["truncated[0]"]

    def test_learner_added_method_is_checked(self):
        """An unknown ``add_method`` is reported under ``add_method``."""
        data = {"add_method": "invited", "user_id": "42", "team_id": "t1"}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.team.learner_added", "server", data)
        assert list(excinfo.value.errors) == ["add_method"]

    def test_learner_removed_is_valid(self):
        """A removal because the team was deleted validates."""
        data = {"remove_method": "team_deleted", "user_id": "42", "team_id": "t1"}
        assert registry.validate("edx.team.learner_removed", "server", data).data is data

    def test_page_viewed_allows_null_topic_and_team(self):
        """``topic_id`` and ``team_id`` may be null on pages without a topic or team."""
        data = {"page_name": "my-teams", "topic_id": None, "team_id": None}
        assert registry.validate("edx.team.page_viewed", "server", data).data is data

    def test_searched_needs_integer_count(self):
        """A string ``number_of_results`` is reported under its own path."""
        data = {"number_of_results": "3", "search_text": "robots", "topic_id": "topic-1"}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.team.searched", "server", data)
        assert list(excinfo.value.errors) == ["number_of_results"]
