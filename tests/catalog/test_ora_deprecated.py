"""Deprecated ORA 1 (combined open-ended, peer and staff grading) events."""

from __future__ import annotations

import pytest

import event_hub.catalog.ora_deprecated  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

TOGGLES = [
    "oe_hide_question",
    "oe_show_question",
    "peer_grading_hide_question",
    "peer_grading_show_question",
    "staff_grading_hide_question",
    "staff_grading_show_question",
]


class TestDeprecatedOpenResponseAssessment:
    @pytest.mark.parametrize("name", TOGGLES)
    def test_hide_show_events_are_valid_and_deprecated(self, name):
        """Hide/show events validate with ``location`` and are flagged deprecated."""
        data = {"location": "i4x://edX/DemoX/combinedopenended/q1"}
        validated = registry.validate(name, "browser", data)
        assert validated.data is data
        assert validated.spec.deprecated

    def test_rubric_select_is_valid(self):
        """``rubric_select`` validates with integer category and selection."""
        data = {"category": 0, "location": "i4x://edX/DemoX/combinedopenended/q1", "selection": 2}
        assert registry.validate("rubric_select", "browser", data).data is data

    def test_rubric_select_selection_must_be_an_integer(self):
        """A string ``selection`` is reported under ``selection``."""
        data = {"category": 0, "location": "loc", "selection": "2"}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("rubric_select", "browser", data)
        assert list(excinfo.value.errors) == ["selection"]

    def test_feedback_response_needs_value(self):
        """Leaving out ``value`` is reported under ``value``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("oe_feedback_response_selected", "browser", {})
        assert excinfo.value.errors == {"value": ["this field is required"]}

    @pytest.mark.parametrize("name", ["oe_show_full_feedback", "oe_show_respond_to_feedback"])
    def test_feedback_views_carry_no_fields(self, name):
        """The feedback view events validate with an empty ``event`` member."""
        assert registry.validate(name, "browser", {}).data == {}
