"""Course team (Instructor Dashboard) events."""

from __future__ import annotations

import attrs
import pytest

import event_hub.catalog.instructor  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

COMMON_ONLY = [
    "dump-answer-dist-csv",
    "dump-graded-assignments-config",
    "dump-grades",
    "dump-grades-csv",
    "dump-grades-csv-raw",
    "dump-grades-raw",
    "list-beta-testers",
    "list-instructors",
    "list-staff",
    "list-students",
]


class TestCourseTeamEvents:
    @pytest.mark.parametrize("name", COMMON_ONLY)
    def test_common_only_events_accept_an_empty_payload(self, name):
        """Events that carry only common fields validate with an empty ``event`` member."""
        assert registry.validate(name, "server", {}).data == {}

    def test_common_only_events_reject_members(self):
        """A common-fields-only event refuses any ``event`` member in strict mode."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("list-staff", "server", {"course": "x"})
        assert list(excinfo.value.errors) == ["course"]

    def test_reset_student_attempts_is_valid(self):
        """A complete ``reset-student-attempts`` payload validates and is returned unchanged."""
        data = {"course": "course-v1:edX+X+1", "old_attempts": "3", "problem": "p1", "student": "ana"}
        validated = registry.validate("reset-student-attempts", "server", data)
        assert validated.data is data
        assert validated.spec.audience == "course_team"

    def test_wrong_type_names_the_field(self):
        """A non-string ``student`` is reported under its own path."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(
                "rescore-student-submission", "server", {"course": "c", "problem": "p", "student": 7}
            )
        assert list(excinfo.value.errors) == ["student"]

    def test_missing_required_field_names_the_field(self):
        """Leaving out ``username`` on a forum team change is reported under ``username``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("add-forum-community-TA", "server", {"course": "c"})
        assert excinfo.value.errors == {"username": ["this field is required"]}

    def test_user_group_event_has_an_event_member(self):
        """``add-or-remove-user-group`` accepts its ``event``/``event_name``/``user`` members."""
        data = {"event": "add", "event_name": "beta", "user": "ana@example.com"}
        assert registry.validate("add-or-remove-user-group", "server", data).data == data

    def test_report_downloaded_comes_from_the_browser(self):
        """``edx.instructor.report.downloaded`` is a browser event; the server may not emit it."""
        data = {"report_url": "https://example.com/r.csv"}
        assert registry.validate("edx.instructor.report.downloaded", "browser", data).data == data
        with pytest.raises(InvalidEventError):
            registry.validate("edx.instructor.report.downloaded", "server", data)

    def test_usernames_are_marked_pii(self):
        """Fields holding a username or email carry the PII flag."""
        spec = registry.lookup("get-student-progress-page", "server")
        flags = {f.name: f.metadata["pii"] for f in attrs.fields(spec.payload)}
        assert flags == {"course": False, "instructor": True, "student": True}
