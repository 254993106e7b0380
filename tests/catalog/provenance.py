"""Where the catalog goes beyond the three specification documents, and the source of each addition.

``tests/catalog/test_coverage.py`` holds the registry to the documents in
``shared/seeds``; everything listed here is an event, a member or a shape the
documents lack but the current Open edX reference (docs.openedx.org, "Tracking
Log Events") or the code that emits the event shows. Each entry names that
source, so an addition without one fails the coverage tests.
"""

from __future__ import annotations

from event_hub.catalog import special_exam

#: The current Open edX reference: docs.openedx.org, repository openedx/docs.openedx.org.
OPENEDX_REFERENCE = (
    "openedx/docs.openedx.org: source/developers/references/internal_data_formats/"
    "tracking_logs/student_event_types.rst"
)
VIDEO_PLAYER = "openedx/edx-platform: xmodule/js/src/video/09_events_plugin.js"
BOOKMARKS = "openedx/edx-platform: openedx/core/djangoapps/bookmarks/api.py and views.py"
BOOKMARKS_JS = "openedx/edx-platform: lms/static/js/bookmarks/views/bookmarks_list.js"
COURSE_TOOLS = "openedx/frontend-app-learning: src/course-home/outline-tab/widgets/CourseTools.jsx"
COURSE_TOOLS_LEGACY = "openedx/edx-platform: openedx/features/course_experience/static/course_experience/js"
NOTES = "openedx/edx-platform: lms/static/js/edxnotes/ (notes plugins logging edx.course.student_notes.*)"
DONE = "openedx/DoneXBlock: done/done.py and done/static/js/src/done.js"
DND = "openedx/xblock-drag-and-drop-v2: drag_and_drop_v2/drag_and_drop_v2.py, public/js/drag_and_drop.js"
CERTIFICATES = "openedx/edx-platform: lms/djangoapps/certificates (emit_certificate_event, generation toggle)"
ORA_STAFF = (
    "openedx/edx-ora2: openassessment/xblock/staff_area_mixin.py, "
    "openassessment/xblock/apis/assessments/staff_assessment_api.py"
)
UBCPI = "ubc/ubcpi: ubcpi/ubcpi.py (event_namespace 'ubc.peer_instruction'), ubcpi/answer_pool.py"
CAPA = "openedx/edx-platform: xmodule/capa_block.py (get_answer publishes 'showanswer')"
CAPA_JS = "openedx/edx-platform: xmodule/js/src/capa/display.js (save logs the serialized inputs)"
PDF = OPENEDX_REFERENCE + " (Textbook Interaction Events)"
CONSENT = (
    "openedx/edx-enterprise: enterprise/static/enterprise/js/grant_data_sharing_permissions.js, "
    "enterprise/templates/enterprise/grant_data_sharing_permissions.html"
)
COURSE_TEAM_REFERENCE = (
    "openedx/docs.openedx.org: source/developers/references/internal_data_formats/"
    "tracking_logs/course_team_event_types.rst"
)
EVENT_LIST = (
    "openedx/docs.openedx.org: source/developers/references/internal_data_formats/"
    "tracking_log_event_list.rst"
)
GRADES = "openedx/edx-platform: lms/djangoapps/grades/events.py"
STATE_DELETED = "openedx/edx-platform: lms/djangoapps/instructor/enrollment.py (reset_student_attempts)"
PROCTORING = (
    "openedx/edx-proctoring: edx_proctoring/utils.py (emit_event), edx_proctoring/api.py, "
    "edx_proctoring/statuses.py, edx_proctoring/handlers.py (review_received)"
)
FORUM = "openedx/edx-platform: lms/djangoapps/discussion/django_comment_client/base/views.py (track_*_event)"
SEQUENCE_UI = (
    "openedx/frontend-app-learning: src/courseware/course/sequence/Sequence.jsx (logEvent); "
    "openedx/edx-platform: common/djangoapps/track/transformers.py"
)
SPLIT_TEST = (
    "openedx/edx-platform: xmodule/partitions/partitions_service.py, xmodule/split_test_block.py"
)
ORA_UPLOAD = "openedx/edx-ora2: openassessment/xblock/static/js/src/lms/fileUploader.js"

#: Event names the documents lack -> where the name (with its source and members) comes from.
NAMES_BEYOND_DOCUMENTS: dict[str, str] = {
    "showanswer": CAPA,
    "textbook.pdf.page.scrolled": PDF,
    "textbook.pdf.searchcasesensitivity.toggled": PDF,
    "complete_video": VIDEO_PLAYER,
    "auto_advance_change_video": VIDEO_PLAYER,
    "edx.video.closed_captions.hidden": VIDEO_PLAYER + "; " + OPENEDX_REFERENCE,
    "edx.video.closed_captions.shown": VIDEO_PLAYER + "; " + OPENEDX_REFERENCE,
    "edx.video.language_menu.hidden": VIDEO_PLAYER + "; " + OPENEDX_REFERENCE,
    "edx.video.language_menu.shown": VIDEO_PLAYER + "; " + OPENEDX_REFERENCE,
    "edx.bookmark.accessed": BOOKMARKS_JS + "; " + OPENEDX_REFERENCE,
    "edx.bookmark.added": BOOKMARKS + "; " + OPENEDX_REFERENCE,
    "edx.bookmark.listed": BOOKMARKS + "; " + OPENEDX_REFERENCE,
    "edx.bookmark.removed": BOOKMARKS + "; " + OPENEDX_REFERENCE,
    "edx.course.tool.accessed": COURSE_TOOLS + "; " + COURSE_TOOLS_LEGACY + "; " + OPENEDX_REFERENCE,
    **{
        f"edx.course.student_notes.{action}": NOTES + "; " + OPENEDX_REFERENCE
        for action in (
            "added", "deleted", "edited", "notes_page_viewed", "searched", "used_unit_link", "viewed"
        )
    },
    "edx.done.toggled": DONE + "; " + OPENEDX_REFERENCE,
    **{
        f"edx.drag_and_drop_v2.{action}": DND + "; " + OPENEDX_REFERENCE
        for action in ("feedback.closed", "feedback.opened", "item.dropped", "item.picked_up", "loaded")
    },
    "edx.certificate.revoked": CERTIFICATES + "; " + OPENEDX_REFERENCE,
    "edx.certificate.generation.enabled": CERTIFICATES + "; " + OPENEDX_REFERENCE,
    "edx.certificate.generation.disabled": CERTIFICATES + "; " + OPENEDX_REFERENCE,
    "openassessmentblock.staff_assess": ORA_STAFF + "; " + OPENEDX_REFERENCE,
    "openassessmentblock.get_submission_for_staff_grading": ORA_STAFF + "; " + OPENEDX_REFERENCE,
    "ubc.peer_instruction.accessed": UBCPI,
    "ubc.peer_instruction.original_submitted": UBCPI,
    "ubc.peer_instruction.revised_submitted": UBCPI,
    **{
        name: GRADES + "; " + COURSE_TEAM_REFERENCE
        for name in (
            "edx.grades.problem.submitted", "edx.grades.problem.rescored",
            "edx.grades.problem.score_overridden", "edx.grades.subsection.grade_calculated",
            "edx.grades.course.grade_calculated",
        )
    },
    "edx.grades.problem.state_deleted": STATE_DELETED + "; " + GRADES + "; " + COURSE_TEAM_REFERENCE,
    **{
        name: GRADES
        for name in (
            "edx.grades.subsection.score_overridden", "edx.course.grade.passed.first_time",
            "edx.course.grade.now_passed", "edx.course.grade.now_failed",
        )
    },
    **{
        name: PROCTORING + "; " + EVENT_LIST
        for name in (
            *special_exam.ATTEMPT_NAMES, *special_exam.EXAM_NAMES, *special_exam.ALLOWANCE_NAMES,
            *special_exam.REVIEW_NAMES,
        )
    },
    **{
        f"edx.forum.{name}": FORUM + "; " + OPENEDX_REFERENCE
        for name in (
            "thread.voted", "response.voted", "thread.viewed", "thread.locked", "thread.unlocked",
            "thread.edited", "response.edited", "comment.edited", "thread.deleted", "response.deleted",
            "comment.deleted", "thread.reported", "response.reported", "comment.reported",
            "thread.unreported", "response.unreported", "comment.unreported", "response.mark",
            "response.unmark",
        )
    },
    **{
        f"edx.ui.lms.sequence.{name}": SEQUENCE_UI + "; " + OPENEDX_REFERENCE
        for name in ("next_selected", "previous_selected", "tab_selected")
    },
    "edx.ui.lms.link_clicked": OPENEDX_REFERENCE,
    "edx.ui.lms.outline.selected": OPENEDX_REFERENCE,
    "edx.ui.lms.jump_nav.selected": OPENEDX_REFERENCE,
    "xmodule.partitions.assigned_user_to_partition": SPLIT_TEST + "; " + EVENT_LIST,
    "xblock.split_test.child_render": SPLIT_TEST + "; " + EVENT_LIST,
    "openassessment.upload_file_error": ORA_UPLOAD + "; " + EVENT_LIST,
}

_VIDEO_WITH_DURATION = (
    "hide_transcript", "load_video", "pause_video", "play_video", "seek_video", "show_transcript",
    "speed_change_video", "stop_video", "video_hide_cc_menu", "video_show_cc_menu",
)

#: (event name, top-level ``event`` member) the document's list for that event lacks -> source.
MEMBERS_BEYOND_DOCUMENTS: dict[tuple[str, str], str] = {
    **{(name, "duration"): VIDEO_PLAYER for name in _VIDEO_WITH_DURATION},
    ("speed_change_video", "id"): VIDEO_PLAYER,
    ("speed_change_video", "code"): VIDEO_PLAYER,
    ("hide_transcript", "current_time"): VIDEO_PLAYER,
    ("show_transcript", "current_time"): VIDEO_PLAYER,
    ("video_hide_cc_menu", "language"): VIDEO_PLAYER,
    ("video_show_cc_menu", "language"): VIDEO_PLAYER,
    **{
        (name, member): SEQUENCE_UI + "; " + OPENEDX_REFERENCE
        for name in ("seq_goto", "seq_next", "seq_prev")
        for member in ("current_tab", "tab_count", "target_tab", "widget_placement")
    },
    **{
        (f"edx.forum.{kind}.created", "from_mfe_sidebar"): FORUM
        for kind in ("thread", "response", "comment")
    },
}

#: Events the document says carry no members, but whose emitting code sends a value -> source.
VALUE_WHERE_DOCUMENT_SAYS_NONE: dict[str, str] = {"problem_save": CAPA_JS}

#: (Segment event, property) the Segment document lacks -> source.
SEGMENT_PROPERTIES_BEYOND_DOCUMENT: dict[tuple[str, str], str] = {
    (name, "licenseUuid"): CONSENT
    for name in ("edx.bi.user.consent_form.shown", "edx.bi.user.consent_form.accepted",
                 "edx.bi.user.consent_form.denied")
}
