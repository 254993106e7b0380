"""Events the current Open edX reference documents beyond the seed documents, built from emitted shapes.

Each class names the code that emits its events; the reference is
docs.openedx.org ``tracking_logs/student_event_types.rst``.
"""

from __future__ import annotations

import pytest

from event_hub.catalog import NoFields, registry
from event_hub.exceptions import InvalidEventError

_COURSE = "course-v1:edX+DemoX+Demo_Course"
_UNIT = "block-v1:edX+DemoX+Demo_Course+type@vertical+block@vertical_0270f6de40fc"


def _fails_at(name: str, source: str, data: object) -> list[str]:
    with pytest.raises(InvalidEventError) as excinfo:
        registry.validate(name, source, data)
    return list(excinfo.value.errors)


class TestBookmarks:
    """openedx/edx-platform openedx/core/djangoapps/bookmarks/api.py (_track_event), views.py (listed),
    lms/static/js/bookmarks/views/bookmarks_list.js (accessed)."""

    BOOKMARK = {"bookmark_id": f"edx,{_UNIT}", "component_type": "vertical", "component_usage_id": _UNIT}

    @pytest.mark.parametrize("name", ["edx.bookmark.added", "edx.bookmark.removed"])
    def test_added_and_removed_carry_the_course(self, name):
        """The server's bookmark events carry the bookmark, its component and the course."""
        data = {**self.BOOKMARK, "course_id": _COURSE}
        assert registry.validate(name, "server", data).data is data
        assert _fails_at(name, "server", self.BOOKMARK) == ["course_id"]

    def test_accessed_is_a_browser_event(self):
        """The bookmarks page logs ``edx.bookmark.accessed`` from the browser without the course."""
        assert registry.validate("edx.bookmark.accessed", "browser", self.BOOKMARK).data is self.BOOKMARK
        assert registry.lookup("edx.bookmark.accessed", "server") is None

    def test_listed_per_course_and_all_courses(self):
        """views.py sends ``course_id`` only for a 'per_course' listing."""
        all_courses = {"list_type": "all_courses", "bookmarks_count": 12, "page_size": 10, "page_number": 1}
        per_course = {**all_courses, "list_type": "per_course", "course_id": _COURSE}
        for data in (all_courses, per_course):
            assert registry.validate("edx.bookmark.listed", "server", data).data is data
        wrong = dict(all_courses, list_type="mine")
        assert _fails_at("edx.bookmark.listed", "server", wrong) == ["list_type"]


class TestCourseTool:
    """openedx/frontend-app-learning src/course-home/outline-tab/widgets/CourseTools.jsx (logClick)."""

    def test_learning_mfe_shape(self):
        """The learning MFE sends the tool name with the course, org and staff flag."""
        data = {"org_key": "edX", "courserun_key": _COURSE, "course_id": _COURSE, "is_staff": False,
                "tool_name": "edx.bookmarks"}
        assert registry.validate("edx.course.tool.accessed", "browser", data).data is data
        assert _fails_at("edx.course.tool.accessed", "browser", dict(data, is_staff="no")) == ["is_staff"]

    def test_legacy_course_home_shape(self):
        """The legacy course home page sent only ``tool_name`` (with ``page`` in later versions)."""
        data = {"tool_name": "edx.updates", "page": "course_home"}
        assert registry.validate("edx.course.tool.accessed", "browser", data).data is data
        assert _fails_at("edx.course.tool.accessed", "browser", {"page": "course_home"}) == ["tool_name"]


class TestStudentNotes:
    """openedx/edx-platform lms/static/js/edxnotes/plugins/events.js and the Notes page views."""

    NOTE = {
        "component_usage_id": "block-v1:edX+DemoX+Demo_Course+type@html+block@030e35c4756a",
        "highlighted_content": "the first law of thermodynamics",
        "note_id": "5df6b3c8a1c",
        "note_text": "compare with lecture 2",
        "tags": ["exam"],
        "truncated": [],
    }

    @pytest.mark.parametrize("name", ["edx.course.student_notes.added", "edx.course.student_notes.deleted"])
    def test_added_and_deleted(self, name):
        """Added and deleted notes carry the note, its highlight, tags and truncated member names."""
        assert registry.validate(name, "browser", self.NOTE).data is self.NOTE
        assert _fails_at(name, "browser", dict(self.NOTE, tags="exam")) == ["tags"]

    def test_edited_adds_the_old_text_and_tags(self):
        """An edit also carries the previous text and tags."""
        data = {**self.NOTE, "old_note_text": "compare", "old_tags": []}
        assert registry.validate("edx.course.student_notes.edited", "browser", data).data is data
        errors = _fails_at("edx.course.student_notes.edited", "browser", self.NOTE)
        assert sorted(errors) == ["old_note_text", "old_tags"]

    def test_page_search_link_and_view_events(self):
        """The Notes page events carry their view, search and link members; viewed lists note ids."""
        cases = {
            "edx.course.student_notes.notes_page_viewed": {"view": "Recent Activity"},
            "edx.course.student_notes.searched": {"number_of_results": 3, "search_string": "entropy"},
            "edx.course.student_notes.used_unit_link": {
                "component_usage_id": self.NOTE["component_usage_id"], "note_id": "5df6b3c8a1c",
                "view": "Search Results",
            },
            "edx.course.student_notes.viewed": {"notes": [{"note_id": "5df6b3c8a1c"}, {"note_id": "77aa"}]},
        }
        for name, data in cases.items():
            assert registry.validate(name, "browser", data).data is data, name
        errors = _fails_at("edx.course.student_notes.viewed", "browser", {"notes": [{"id": "77aa"}]})
        assert sorted(errors) == ["notes[0].id", "notes[0].note_id"]


class TestDoneToggle:
    """openedx/DoneXBlock done/done.py (toggle_button) and done/static/js/src/done.js."""

    @pytest.mark.parametrize("source", ["browser", "server"])
    def test_done_from_browser_and_server(self, source):
        """Both the block's script and its handler log ``{'done': <bool>}``."""
        data = {"done": True}
        assert registry.validate("edx.done.toggled", source, data).data is data
        assert _fails_at("edx.done.toggled", source, {"done": "true"}) == ["done"]


class TestDragAndDrop:
    """openedx/xblock-drag-and-drop-v2 drag_and_drop_v2/drag_and_drop_v2.py, public/js/drag_and_drop.js."""

    def test_item_dropped_on_a_zone_and_back_in_the_bank(self):
        """The block publishes the item, its zone (``uid`` string, -1 for the bank) and correctness."""
        on_zone = {"item": "Goes to the top", "item_id": 0, "location": "The Top Zone", "location_id": "top",
                   "is_correct": True}
        bank = {**on_zone, "location": "item bank", "location_id": -1, "is_correct": False}
        documented = {**on_zone, "location_id": 1, "is_correct_location": True, "input": 42}
        for data in (on_zone, bank, documented):
            assert registry.validate("edx.drag_and_drop_v2.item.dropped", "server", data).data is data
        wrong = dict(on_zone, item_id="0")
        assert _fails_at("edx.drag_and_drop_v2.item.dropped", "server", wrong) == ["item_id"]

    def test_feedback_picked_up_and_loaded(self):
        """Feedback pop-ups carry content (``manually`` on close); picked_up an item id."""
        cases = {
            "edx.drag_and_drop_v2.feedback.closed": {
                "content": "Correct!", "manually": True, "truncated": False,
            },
            "edx.drag_and_drop_v2.feedback.opened": {"content": "Correct!", "truncated": False},
            "edx.drag_and_drop_v2.item.picked_up": {"item_id": 2},
        }
        for name, data in cases.items():
            assert registry.validate(name, "server", data).data is data, name
        assert registry.lookup("edx.drag_and_drop_v2.loaded", "server").payload is NoFields
        assert _fails_at("edx.drag_and_drop_v2.feedback.closed", "server", {"content": "x"}) == ["manually"]


class TestCertificates:
    """openedx/edx-platform lms/djangoapps/certificates (emit_certificate_event, generation toggle)."""

    def test_revoked_names_its_source(self):
        """A revoked certificate carries the certificate members and the source of the revocation."""
        data = {"certificate_id": "3b8c2e0f6a9d4c1e", "certificate_url": "/certificates/3b8c2e0f6a9d4c1e",
                "course_id": _COURSE, "enrollment_mode": "verified", "user_id": 42,
                "source": "certificate invalidation list"}
        assert registry.validate("edx.certificate.revoked", "server", data).data is data
        assert _fails_at("edx.certificate.revoked", "server", dict(data, user_id="42")) == ["user_id"]

    @pytest.mark.parametrize(
        "name", ["edx.certificate.generation.enabled", "edx.certificate.generation.disabled"]
    )
    def test_generation_toggle_carries_the_course(self, name):
        """Switching self-generated certificates on or off carries only the course run."""
        data = {"course_id": _COURSE}
        assert registry.validate(name, "server", data).data is data
        assert _fails_at(name, "server", {}) == ["course_id"]


class TestOraStaffGrading:
    """openedx/edx-ora2 openassessment/xblock/openassessmentblock.py (publish_assessment_event),
    staff_area_mixin.py and apis/assessments/staff_assessment_api.py."""

    ASSESSMENT = {
        "feedback": "",
        "rubric": {"content_hash": "d2e4a8c1b07f"},
        "scorer_id": "staff-anon-1",
        "score_type": "ST",
        "scored_at": "2024-03-05T10:12:44.123456+00:00",
        "submission_uuid": "0e6b4c2a-5a4f-11e4-8ed6-0800200c9a66",
        "parts": [
            {"option": {"name": "Good", "points": 3}, "criterion": {"name": "Ideas", "points_possible": 3},
             "feedback": ""},
            {"option": None, "criterion": {"name": "Comments", "points_possible": 0}, "feedback": "Thanks"},
        ],
    }

    @pytest.mark.parametrize("kind", ["full-grade", "regrade"])
    def test_staff_assess_as_emitted(self, kind):
        """A staff assessment: option objects, ``content_hash``, score type 'ST' and the grading type."""
        data = {**self.ASSESSMENT, "type": kind}
        assert registry.validate("openassessmentblock.staff_assess", "server", data).data is data
        assert _fails_at("openassessmentblock.staff_assess", "server", self.ASSESSMENT) == ["type"]

    def test_peer_assess_with_option_objects_validates(self):
        """Peer assessments as ORA 2 emits them carry option objects and ``rubric.content_hash``."""
        data = dict(self.ASSESSMENT, score_type="PE")
        assert registry.validate("openassessmentblock.peer_assess", "server", data).data is data
        wrong = dict(data, parts=[dict(data["parts"][0], option={"name": "Good"})])
        assert _fails_at("openassessmentblock.peer_assess", "server", wrong) == ["parts[0].option.points"]

    def test_get_submission_for_staff_grading(self):
        """staff_area_mixin.py publishes type, requesting_staff_id, item_id and submission_returned_uuid."""
        data = {"type": "full-grade", "requesting_staff_id": "staff-anon-1",
                "item_id": "block-v1:edX+DemoX+Demo_Course+type@openassessment+block@a1",
                "submission_returned_uuid": "0e6b4c2a-5a4f-11e4-8ed6-0800200c9a66"}
        name = "openassessmentblock.get_submission_for_staff_grading"
        assert registry.validate(name, "server", data).data is data
        assert _fails_at(name, "server", dict(data, type="regrade")) == ["type"]

    def test_create_submission_with_parts_and_files(self):
        """create_submission's ``answer`` is ``{'parts': [...]}`` and data_conversion.py's file lists."""
        data = {"submission_uuid": "0e6b4c2a", "attempt_number": 1,
                "created_at": "2024-03-05T10:12:44+00:00", "submitted_at": "2024-03-05T10:12:44+00:00",
                "answer": {"parts": [{"text": "My essay"}], "file_keys": ["k/1"],
                           "files_descriptions": ["fig"], "files_names": ["fig.png"], "files_sizes": [2048]}}
        assert registry.validate("openassessmentblock.create_submission", "server", data).data is data
        wrong = dict(data, answer={"parts": [{"text": "x"}], "file_keys": "k/1"})
        assert _fails_at("openassessmentblock.create_submission", "server", wrong) == ["answer.file_keys"]

    def test_save_submission_as_a_json_string(self):
        """submissions_actions.py saves the draft as ``json.dumps`` of ``{'parts': [...]}``."""
        data = {"saved_response": '{"parts": [{"text": "draft"}]}'}
        assert registry.validate("openassessmentblock.save_submission", "server", data).data is data


class TestPeerInstruction:
    """ubc/ubcpi ubcpi/ubcpi.py (record_response, student_view) and ubcpi/answer_pool.py."""

    ORIGINAL = {
        "answer": 1, "answer_text": "Red", "rationale": "Longer wavelength", "correct_answer": 1,
        "correct_answer_text": ["Red"], "correct_rationale": {"text": "Rayleigh scattering"},
        "truncated": False,
        "other_student_responses": {"answers": [{"option": 0, "rationale": "It looks blue"}]},
    }

    def test_original_and_revised_answers(self):
        """ubcpi wraps the correct answer text in a one-item array or 'n/a'; revisions omit others."""
        assert registry.validate("ubc.peer_instruction.original_submitted", "server", self.ORIGINAL).data
        revised = {k: v for k, v in self.ORIGINAL.items() if k != "other_student_responses"}
        revised["correct_answer_text"] = "n/a"
        assert registry.validate("ubc.peer_instruction.revised_submitted", "server", revised).data is revised
        wrong = dict(self.ORIGINAL, answer="1")
        assert _fails_at("ubc.peer_instruction.original_submitted", "server", wrong) == ["answer"]

    def test_accessed_carries_nothing(self):
        """``student_view`` publishes ``ubc.peer_instruction.accessed`` with an empty dict."""
        assert registry.validate("ubc.peer_instruction.accessed", "server", {}).data == {}
        assert _fails_at("ubc.peer_instruction.accessed", "server", {"answer": 1}) == ["answer"]
