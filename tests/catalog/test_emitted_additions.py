"""Families the current Open edX reference lists beyond the seed documents, checked with emitted shapes.

Each class names the code that emits its events; the names come from
docs.openedx.org ``tracking_log_event_list.rst``, ``tracking_logs/student_event_types.rst`` and
``tracking_logs/course_team_event_types.rst``.
"""

from __future__ import annotations

import pytest

from event_hub.catalog import registry
from event_hub.catalog.special_exam import ALLOWANCE_NAMES, ATTEMPT_NAMES, EXAM_NAMES, REVIEW_NAMES
from event_hub.exceptions import InvalidEventError

_COURSE = "course-v1:edX+DemoX+Demo_Course"
_PROBLEM = "block-v1:edX+DemoX+Demo_Course+type@problem+block@d2e35c1d294b4ba0b3b1048615605d2a"
_SEQUENCE = "block-v1:edX+DemoX+Demo_Course+type@sequential+block@basic_questions"
_TRANSACTION = {"event_transaction_id": "b4a8a7a4-6a0e-4f0b-8e2f-0c3b1f0f8d11",
                "event_transaction_type": "edx.grades.problem.submitted"}


def _fails_at(name: str, source: str, data: object) -> list[str]:
    with pytest.raises(InvalidEventError) as excinfo:
        registry.validate(name, source, data)
    return sorted(excinfo.value.errors)


class TestGrades:
    """openedx/edx-platform lms/djangoapps/grades/events.py and lms/djangoapps/instructor/enrollment.py."""

    BASE = {"user_id": "42", "course_id": _COURSE, **_TRANSACTION}

    def test_problem_submitted(self):
        """grade_updated sends string ids and numeric (or null) weighted scores."""
        data = {**self.BASE, "problem_id": _PROBLEM, "weighted_earned": 1.0, "weighted_possible": 2.0}
        assert registry.validate("edx.grades.problem.submitted", "server", data).data is data
        wrong = dict(data, user_id=42)
        assert _fails_at("edx.grades.problem.submitted", "server", wrong) == ["user_id"]

    @pytest.mark.parametrize("name", ["edx.grades.problem.rescored", "edx.grades.problem.score_overridden"])
    def test_rescored_and_overridden(self, name):
        """A rescore or override carries the new scores, only_if_higher and the instructor's id."""
        data = {**self.BASE, "problem_id": _PROBLEM, "new_weighted_earned": 2.0, "new_weighted_possible": 2.0,
                "only_if_higher": None, "instructor_id": "7", "event_transaction_type": name}
        assert registry.validate(name, "server", data).data is data
        assert _fails_at(name, "server", dict(data, only_if_higher="yes")) == ["only_if_higher"]

    def test_state_deleted(self):
        """reset_student_attempts sends the problem and the instructor."""
        data = {**self.BASE, "problem_id": _PROBLEM, "instructor_id": "7"}
        assert registry.validate("edx.grades.problem.state_deleted", "server", data).data is data
        missing = {k: v for k, v in data.items() if k != "instructor_id"}
        assert _fails_at("edx.grades.problem.state_deleted", "server", missing) == ["instructor_id"]

    def test_subsection_and_course_grades(self):
        """Recalculated grades carry the stringified timestamps and hashes beside numeric scores."""
        subsection = {**self.BASE, "block_id": _SEQUENCE, "course_version": "6512f2c2a1b3",
                      "weighted_total_earned": 3.0, "weighted_total_possible": 5.0,
                      "weighted_graded_earned": 3.0, "weighted_graded_possible": 5.0,
                      "first_attempted": "2024-03-05 10:12:44.123456+00:00",
                      "subtree_edited_timestamp": "2024-01-02 08:00:00+00:00",
                      "visible_blocks_hash": "aGFzaA=="}
        course = {**self.BASE, "course_version": "6512f2c2a1b3", "percent_grade": 0.6, "letter_grade": "Pass",
                  "course_edited_timestamp": "2024-01-02 08:00:00+00:00", "grading_policy_hash": "cG9saWN5"}
        assert registry.validate("edx.grades.subsection.grade_calculated", "server", subsection).data
        assert registry.validate("edx.grades.course.grade_calculated", "server", course).data is course
        documented = {k: v for k, v in course.items() if k != "percent_grade"} | {"percent": 0.6}
        errors = _fails_at("edx.grades.course.grade_calculated", "server", documented)
        assert errors == ["percent", "percent_grade"]

    @pytest.mark.parametrize("name", ["edx.course.grade.passed.first_time", "edx.course.grade.now_passed",
                                      "edx.course.grade.now_failed"])
    def test_passing_status(self, name):
        """Passing-status events carry only the learner, the course and the transaction."""
        assert registry.validate(name, "server", self.BASE).data is self.BASE
        assert _fails_at(name, "server", dict(self.BASE, course_id=None)) == ["course_id"]


class TestSpecialExams:
    """openedx/edx-proctoring edx_proctoring/utils.py (emit_event) called from edx_proctoring/api.py."""

    EXAM = {"exam_id": 3, "exam_content_id": _SEQUENCE, "exam_name": "Final exam",
            "exam_default_time_limit_mins": 60, "exam_is_proctored": True, "exam_is_practice_exam": False,
            "exam_is_active": True}
    ATTEMPT = {"attempt_id": 11, "attempt_user_id": 42, "attempt_started_at": "2024-03-05T10:12:44+00:00",
               "attempt_completed_at": None, "attempt_code": "B3F1A2C4-0D6E",
               "attempt_allowed_time_limit_mins": 75,
               "attempt_status": "started", "attempt_event_elapsed_time_secs": 0.42}

    def test_code_derived_names_are_registered(self):
        """Every exam, attempt-status, review and allowance name derived from the code is registered."""
        names = [*ATTEMPT_NAMES, *EXAM_NAMES, *ALLOWANCE_NAMES, *REVIEW_NAMES]
        assert len(names) == 3 * 20 + 1 + 3 * 3 + 2 + 3 * 3
        assert [name for name in names if registry.lookup(name, "server") is None] == []
        assert "edx.special_exam.timed.attempt.review_received" not in registry

    def test_review_received(self):
        """handlers.py adds the review's attempt code and status to the attempt members."""
        data = {**self.EXAM, **self.ATTEMPT, "review_attempt_code": "B3F1A2C4-0D6E", "review_status": "Clean"}
        name = "edx.special_exam.proctored.attempt.review_received"
        assert registry.validate(name, "server", data).data is data
        missing = {k: v for k, v in data.items() if k != "review_status"}
        assert _fails_at(name, "server", missing) == ["review_status"]

    def test_attempt_event(self):
        """Attempt events carry the exam and the attempt; timestamps are ISO strings or null."""
        data = {**self.EXAM, **self.ATTEMPT}
        name = "edx.special_exam.proctored.attempt.started"
        assert registry.validate(name, "server", data).data is data
        assert _fails_at(name, "server", dict(data, attempt_user_id="42")) == ["attempt_user_id"]

    def test_exam_and_allowance_events(self):
        """Exam events carry the exam only; allowance events add the learner, key and value."""
        assert registry.validate("edx.special_exam.timed.created", "server", self.EXAM).data is self.EXAM
        allowance = {**self.EXAM, "allowance_user_id": 42, "allowance_key": "additional_time_granted",
                     "allowance_value": "15"}
        name = "edx.special_exam.proctored.allowance.created"
        assert registry.validate(name, "server", allowance).data is allowance
        assert _fails_at(name, "server", dict(allowance, allowance_value=15)) == ["allowance_value"]


class TestForumModeration:
    """openedx/edx-platform lms/djangoapps/discussion/django_comment_client/base/views.py (track_*_event)."""

    COMMON = {"id": "64a1f0c2e4b0a1b2c3d4e5f6", "commentable_id": "course", "url": "https://lms/discussions",
              "user_course_roles": [], "user_forums_roles": ["Student"]}

    def test_voted(self):
        """track_voted_event: target_username, undo_vote and vote_value, with category when mapped."""
        data = {**self.COMMON, "category_id": "course", "category_name": "General", "target_username": "ann",
                "undo_vote": False, "vote_value": "up"}
        for name in ("edx.forum.thread.voted", "edx.forum.response.voted"):
            assert registry.validate(name, "server", data).data is data
        assert _fails_at("edx.forum.thread.voted", "server", dict(data, undo_vote="no")) == ["undo_vote"]

    def test_edited_and_deleted(self):
        """Edits carry own_content and edit_reason; deletions the body; content_type names the kind."""
        edited = {**self.COMMON, "target_username": "ann", "content_type": "Response", "own_content": True,
                  "edit_reason": None}
        assert registry.validate("edx.forum.response.edited", "server", edited).data is edited
        deleted = {**self.COMMON, "body": "text", "content_type": "Post", "own_content": False,
                   "target_username": "ann", "title": "Q", "title_truncated": False}
        assert registry.validate("edx.forum.thread.deleted", "server", deleted).data is deleted
        wrong = dict(edited, content_type="reply")
        assert _fails_at("edx.forum.comment.edited", "server", wrong) == ["content_type"]

    def test_reported_and_unreported(self):
        """Reports carry the body; thread reports its title, type and group; unreports the cleared flag."""
        reported = {**self.COMMON, "body": "text", "truncated": False, "content_type": "Post",
                    "thread_type": "question", "group_id": "", "title": "Q", "title_truncated": False}
        assert registry.validate("edx.forum.thread.reported", "server", reported).data is reported
        unreported = {**self.COMMON, "body": "text", "truncated": False, "content_type": "Comment",
                      "reported_status_cleared": True}
        assert registry.validate("edx.forum.comment.unreported", "server", unreported).data is unreported
        assert _fails_at("edx.forum.thread.unreported", "server", reported) == ["reported_status_cleared"]

    def test_viewed_locked_and_marked(self):
        """Views carry the title; locks the reason; marks the thread, the mark type and the author flags."""
        viewed = {**self.COMMON, "title": "Q", "title_truncated": False, "target_username": "ann",
                  "from_mfe_sidebar": False}
        assert registry.validate("edx.forum.thread.viewed", "server", viewed).data is viewed
        locked = {**self.COMMON, "team_id": None, "target_username": "ann", "lock_reason": "off-topic"}
        assert registry.validate("edx.forum.thread.locked", "server", locked).data is locked
        mark = {**self.COMMON, "discussion": {"id": "64a1"}, "is_thread_author": True,
                "is_global_staff": False, "mark_type": "Answer", "target_username": "bob"}
        assert registry.validate("edx.forum.response.mark", "server", mark).data is mark
        unmark = dict(mark, discussion={})
        assert _fails_at("edx.forum.response.unmark", "server", unmark) == ["discussion.id"]

    def test_created_from_the_mfe_sidebar(self):
        """Created events accept the ``from_mfe_sidebar`` flag current edx-platform adds."""
        data = {"body": "b", "category_id": "c", "category_name": "C", "commentable_id": "c", "id": "1",
                "options": {"followed": False}, "truncated": False, "url": "", "user_course_roles": [],
                "user_forums_roles": ["Student"], "discussion": {"id": "2"}, "from_mfe_sidebar": True}
        assert registry.validate("edx.forum.response.created", "server", data).data is data
        assert _fails_at("edx.forum.response.created", "server", dict(data, from_mfe_sidebar=1)) == [
            "from_mfe_sidebar"
        ]


class TestUnitNavigation:
    """openedx/frontend-app-learning src/courseware/course/sequence/Sequence.jsx (logEvent) and
    openedx/edx-platform common/djangoapps/track/transformers.py (seq_next/seq_prev/seq_goto mapping)."""

    MFE = {"current_tab": 2, "id": "block-v1:edX+DemoX+Demo_Course+type@vertical+block@v2", "tab_count": 4,
           "widget_placement": "top"}

    def test_mfe_shapes(self):
        """The MFE sends position, count, placement and the unit; tab_selected adds the target tab."""
        assert registry.validate("edx.ui.lms.sequence.next_selected", "browser", self.MFE).data is self.MFE
        tab = {**self.MFE, "target_tab": 3}
        assert registry.validate("edx.ui.lms.sequence.tab_selected", "browser", tab).data is tab
        wrong = dict(self.MFE, current_tab="2")
        assert _fails_at("edx.ui.lms.sequence.previous_selected", "browser", wrong) == ["current_tab"]

    def test_logged_seq_events_carry_the_new_members(self):
        """A move inside a subsection is logged as seq_goto with old/new beside the new members."""
        data = {"old": 3, "new": 7, "current_tab": 3, "target_tab": 7, "tab_count": 7, "id": _SEQUENCE,
                "widget_placement": "top"}
        assert registry.validate("seq_goto", "browser", data).data is data
        assert _fails_at("seq_goto", "browser", dict(data, tab_count=None)) == ["tab_count"]

    def test_link_outline_and_jump_nav(self):
        """Link, outline and breadcrumb events carry the reference's URLs, names and ids."""
        cases = {
            "edx.ui.lms.link_clicked": {"current_url": "https://lms/a", "target_url": "https://example.com"},
            "edx.ui.lms.outline.selected": {"current_url": "https://lms/a", "target_name": "Lesson 3",
                                            "target_url": "https://lms/b", "widget_placement": "accordion"},
            "edx.ui.lms.jump_nav.selected": {"target_name": "Part 3", "id": _SEQUENCE,
                                             "current_id": _SEQUENCE, "widget_placement": "breadcrumb"},
        }
        for name, data in cases.items():
            assert registry.validate(name, "browser", data).data is data, name
        assert _fails_at("edx.ui.lms.link_clicked", "browser", {"current_url": "x"}) == ["target_url"]


class TestNamespacedAndOra:
    """openedx/edx-platform xmodule/partitions/partitions_service.py, xmodule/split_test_block.py;
    openedx/edx-ora2 openassessment/xblock/static/js/src/lms/fileUploader.js."""

    def test_namespaced_content_experiment_names(self):
        """The namespaced names share the payload of the old ones and come from the server."""
        data = {"group_id": 1, "group_name": "B", "partition_id": 50, "partition_name": "Experiment"}
        name = "xmodule.partitions.assigned_user_to_partition"
        assert registry.validate(name, "server", data).data is data
        assert _fails_at(name, "server", dict(data, group_id="1")) == ["group_id"]
        assert registry.lookup(name, "browser") is None
        child = {"child_id": _PROBLEM}
        assert registry.validate("xblock.split_test.child_render", "server", child).data is child

    def test_upload_file_error(self):
        """The uploader logs the failed request's status text."""
        data = {"statusText": "Forbidden"}
        assert registry.validate("openassessment.upload_file_error", "browser", data).data is data
        assert _fails_at("openassessment.upload_file_error", "browser", {"statusText": 403}) == ["statusText"]
