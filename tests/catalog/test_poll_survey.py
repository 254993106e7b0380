"""Poll and survey XBlock events."""

from __future__ import annotations

import pytest

import event_hub.catalog.poll_survey  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError


class TestPollAndSurvey:
    def test_poll_submission_is_valid(self):
        """A poll answer validates and is returned unchanged."""
        data = {"url_name": "poll_1", "choice": "green"}
        assert registry.validate("xblock.poll.submitted", "server", data).data is data

    def test_survey_submission_is_valid(self):
        """A survey's question -> answer map validates."""
        data = {"url_name": "survey_1", "choices": {"enjoy": "Y", "recommend": "N"}}
        assert registry.validate("xblock.survey.submitted", "server", data).data is data

    def test_survey_choice_must_be_a_string(self):
        """A non-string answer is reported under its key in ``choices``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("xblock.survey.submitted", "server", {"url_name": "s", "choices": {"q": 1}})
        assert list(excinfo.value.errors) == ["choices['q']"]

    def test_poll_needs_choice(self):
        """Leaving out ``choice`` is reported under ``choice``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("xblock.poll.submitted", "server", {"url_name": "poll_1"})
        assert excinfo.value.errors == {"choice": ["this field is required"]}

    @pytest.mark.parametrize("name", ["xblock.poll.view_results", "xblock.survey.view_results"])
    def test_view_results_carry_no_fields(self, name):
        """The view_results events validate empty and refuse members."""
        assert registry.validate(name, "server", {}).data == {}
        with pytest.raises(InvalidEventError):
            registry.validate(name, "server", {"url_name": "poll_1"})
