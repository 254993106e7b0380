"""Open response assessment (ORA 2) events."""

from __future__ import annotations

import pytest

import event_hub.catalog.ora  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

ASSESSMENT = {
    "feedback": "Clear argument, thin evidence.",
    "parts": [
        {
            "criterion": {"name": "Ideas", "points_possible": 3},
            "option": "Good",
            "feedback": "Nice thesis.",
        },
        {"criterion": {"name": "Comments", "points_possible": 0}, "feedback": "Keep going."},
    ],
    "rubric": {"contenthash": "3a1c9fb2e8d0"},
    "scored_at": "2014-08-06T15:02:11.123456+00:00",
    "scorer_id": "5ab3c9e1f0",
    "score_type": "PE",
    "submission_uuid": "0e6b4c2a-5a4f-11e4-8ed6-0800200c9a66",
}


class TestOpenResponseAssessment:
    @pytest.mark.parametrize("name", ["openassessmentblock.peer_assess", "openassessmentblock.self_assess"])
    def test_assessment_is_valid(self, name):
        """A peer or self assessment with rubric parts (one without an option) validates unchanged."""
        data = dict(ASSESSMENT, score_type="SE" if name.endswith("self_assess") else "PE")
        assert registry.validate(name, "server", data).data is data

    def test_unknown_score_type_is_rejected(self):
        """``score_type`` only takes 'PE' or 'SE'."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("openassessmentblock.peer_assess", "server", dict(ASSESSMENT, score_type="XX"))
        assert list(excinfo.value.errors) == ["score_type"]

    def test_nested_part_error_names_the_path(self):
        """A non-integer ``points_possible`` deep in ``parts`` is reported under its full path."""
        parts = [{"criterion": {"name": "Ideas", "points_possible": "3"}, "feedback": ""}]
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("openassessmentblock.self_assess", "server", dict(ASSESSMENT, parts=parts))
        assert list(excinfo.value.errors) == ["parts[0].criterion.points_possible"]

    def test_peer_submission_may_return_none(self):
        """``submission_returned_uuid`` may be null when no response was available to assess."""
        data = {
            "course_id": "edX/DemoX/Demo_Course",
            "item_id": "i4x://edX/DemoX/openassessment/abc",
            "requesting_student_id": "5ab3c9e1f0",
            "submission_returned_uuid": None,
        }
        assert registry.validate("openassessmentblock.get_peer_submission", "server", data).data is data

    def test_create_submission_with_image(self):
        """A submitted response with text and an image key validates."""
        data = {
            "answer": {"text": "My essay.", "file_upload_key": "submissions_attachments/abc"},
            "attempt_number": 1,
            "created_at": "2014-08-06T15:00:00+00:00",
            "submitted_at": "2014-08-06T15:00:00+00:00",
            "submission_uuid": "0e6b4c2a",
        }
        assert registry.validate("openassessmentblock.create_submission", "server", data).data is data

    def test_saved_response_needs_text(self):
        """A saved draft with neither ``parts`` nor ``text`` is reported on the closest shape's member."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("openassessmentblock.save_submission", "server", {"saved_response": {}})
        assert list(excinfo.value.errors) == ["saved_response.parts"]

    def test_upload_file_is_a_browser_event(self):
        """``openassessment.upload_file`` validates from the browser with its camelCase members."""
        data = {"fileName": "chart.png", "fileSize": 20480, "fileType": "image/png"}
        assert registry.validate("openassessment.upload_file", "browser", data).data is data
        with pytest.raises(InvalidEventError):
            registry.validate("openassessment.upload_file", "server", data)

    def test_training_example_maps_criteria_to_options(self):
        """``corrections`` and ``options_selected`` map criterion names to option names."""
        data = {
            "corrections": {"Ideas": "Fair"},
            "options_selected": {"Ideas": "Good", "Content": "Excellent"},
            "submission_uuid": "0e6b4c2a",
        }
        name = "openassessment.student_training_assess_example"
        assert registry.validate(name, "server", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(name, "server", dict(data, corrections={"Ideas": 2}))
        assert list(excinfo.value.errors) == ["corrections['Ideas']"]
