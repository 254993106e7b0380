"""Student and course team cohort events."""

from __future__ import annotations

import pytest

import event_hub.catalog.cohort  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError


class TestCohortEvents:
    def test_created_is_valid(self):
        """``edx.cohort.created`` validates and is returned unchanged."""
        data = {"cohort_id": 4, "cohort_name": "Default Group"}
        validated = registry.validate("edx.cohort.created", "server", data)
        assert validated.data is data
        assert validated.spec.audience == "student"

    @pytest.mark.parametrize("name", ["edx.cohort.user_added", "edx.cohort.user_removed"])
    def test_membership_change_needs_user_id(self, name):
        """Leaving out ``user_id`` is reported under ``user_id``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(name, "server", {"cohort_id": 4, "cohort_name": "A"})
        assert excinfo.value.errors == {"user_id": ["this field is required"]}

    def test_cohort_id_must_be_an_integer(self):
        """A string ``cohort_id`` is reported under ``cohort_id``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(
                "edx.cohort.user_added", "server", {"cohort_id": "4", "cohort_name": "A", "user_id": 9}
            )
        assert list(excinfo.value.errors) == ["cohort_id"]


class TestCourseTeamCohortEvents:
    def test_creation_requested_is_a_course_team_event(self):
        """``edx.cohort.creation_requested`` validates and is filed under the course team audience."""
        data = {"cohort_id": 7, "cohort_name": "Night owls"}
        validated = registry.validate("edx.cohort.creation_requested", "server", data)
        assert validated.data is data
        assert validated.spec.audience == "course_team"

    def test_user_add_requested_allows_null_previous_cohort(self):
        """The previous cohort members may be null for a learner who had no cohort."""
        data = {
            "cohort_id": 7,
            "cohort_name": "Night owls",
            "previous_cohort_id": None,
            "previous_cohort_name": None,
            "user_id": 42,
        }
        assert registry.validate("edx.cohort.user_add_requested", "server", data).data is data

    def test_user_add_requested_previous_cohort_type(self):
        """A string ``previous_cohort_id`` is reported under its own path."""
        data = {
            "cohort_id": 7,
            "cohort_name": "Night owls",
            "previous_cohort_id": "3",
            "previous_cohort_name": "Early birds",
            "user_id": 42,
        }
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.cohort.user_add_requested", "server", data)
        assert list(excinfo.value.errors) == ["previous_cohort_id"]
