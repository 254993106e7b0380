"""One realistic envelope per event name the xAPI registry covers, as the tracker builds them."""

from __future__ import annotations

import datetime
from typing import Any

import attrs

from event_hub.envelope import Envelope, EventContext, new_event_id

COURSE = "course-v1:edX+DemoX+Demo_Course"
PROBLEM = "block-v1:edX+DemoX+Demo_Course+type@problem+block@d2e35c1d294b4ba0b3b1048615605d2a"
SEQUENCE = "block-v1:edX+DemoX+Demo_Course+type@sequential+block@basic_questions"
LMS = "https://lms.example.com"
ANONYMOUS_ID = "5f8b0e7a2c9d4e13b6a1c0f2d3e4a5b6"

_VIDEO = {"id": "0b9e39477cf34507a7a48f74be381fdd", "code": "html5", "duration": 195.0}
_THREAD = {"id": "5d9b8b0e6a2c4e1f", "title": "How do I submit?", "thread_type": "question", "body": "…"}
_RESPONSE = {"id": "6a0c9c1f7b3d5f20", "discussion": {"id": "5d9b8b0e6a2c4e1f"}, "body": "…"}
_COMMENT = {**_RESPONSE, "id": "7b1dad208c4e6031", "response": {"id": "6a0c9c1f7b3d5f20"}}
_SUBMISSION = {
    "2_1": {
        "answer": "a rectangle",
        "correct": True,
        "input_type": "textline",
        "question": "Which shape has four right angles?",
        "response_type": "stringresponse",
        "variant": "",
    }
}

#: Event name -> (source, payload).
PAYLOADS: dict[str, tuple[str, Any]] = {
    "load_video": ("browser", _VIDEO),
    "edx.video.loaded": ("mobile", _VIDEO),
    "play_video": ("browser", {**_VIDEO, "currentTime": 12.5}),
    "edx.video.played": ("mobile", {**_VIDEO, "currentTime": 12.5}),
    "pause_video": ("browser", {**_VIDEO, "currentTime": 30.25}),
    "edx.video.paused": ("mobile", {**_VIDEO, "currentTime": 30.25}),
    "stop_video": ("browser", {**_VIDEO, "currentTime": 195.0}),
    "edx.video.stopped": ("mobile", {**_VIDEO, "currentTime": 195.0}),
    "complete_video": ("browser", {**_VIDEO, "currentTime": 190.0}),
    "edx.video.completed": ("mobile", {**_VIDEO, "currentTime": 190.0}),
    "seek_video": ("browser", {**_VIDEO, "old_time": 10.0, "new_time": 60.0, "type": "onSlideSeek"}),
    "edx.video.position.changed": (
        "mobile",
        {**_VIDEO, "old_time": 10.0, "new_time": 60.0, "type": "onSkipSeek"},
    ),
    "speed_change_video": (
        "browser",
        {**_VIDEO, "current_time": 5.0, "old_speed": "1.0", "new_speed": "1.50"},
    ),
    "show_transcript": ("browser", {**_VIDEO, "current_time": 7.0}),
    "hide_transcript": ("browser", {**_VIDEO, "current_time": 8.0}),
    "edx.video.transcript.shown": ("mobile", {**_VIDEO, "current_time": 7.0}),
    "edx.video.transcript.hidden": ("mobile", {**_VIDEO, "current_time": 8.0}),
    "edx.video.closed_captions.shown": ("browser", {**_VIDEO, "current_time": 9.0}),
    "edx.video.closed_captions.hidden": ("browser", {**_VIDEO, "current_time": 9.5}),
    "video_show_cc_menu": ("browser", _VIDEO),
    "video_hide_cc_menu": ("browser", {**_VIDEO, "language": "fr"}),
    "edx.forum.thread.created": ("server", _THREAD),
    "edx.forum.thread.edited": ("server", _THREAD),
    "edx.forum.thread.viewed": ("server", _THREAD),
    "edx.forum.thread.deleted": ("server", _THREAD),
    "edx.forum.thread.voted": ("server", {**_THREAD, "vote_value": "up"}),
    "edx.forum.thread.reported": ("server", _THREAD),
    "edx.forum.thread.unreported": ("server", _THREAD),
    "edx.forum.response.created": ("server", _RESPONSE),
    "edx.forum.response.edited": ("server", _RESPONSE),
    "edx.forum.response.deleted": ("server", _RESPONSE),
    "edx.forum.response.voted": ("server", {**_RESPONSE, "vote_value": "down"}),
    "edx.forum.response.reported": ("server", _RESPONSE),
    "edx.forum.response.unreported": ("server", _RESPONSE),
    "edx.forum.comment.created": ("server", _COMMENT),
    "edx.forum.comment.edited": ("server", _COMMENT),
    "edx.forum.comment.deleted": ("server", _COMMENT),
    "edx.forum.comment.reported": ("server", _COMMENT),
    "edx.forum.comment.unreported": ("server", _COMMENT),
    "edx.course.enrollment.activated": ("server", {"course_id": COURSE, "user_id": 7, "mode": "audit"}),
    "edx.course.enrollment.mode_changed": ("server", {"course_id": COURSE, "user_id": 7, "mode": "verified"}),
    "edx.course.enrollment.deactivated": ("server", {"course_id": COURSE, "user_id": 7, "mode": "audit"}),
    "edx.course.grade.passed.first_time": ("server", {"course_id": COURSE, "user_id": 7}),
    "edx.course.grade.now_passed": ("server", {"course_id": COURSE, "user_id": 7}),
    "edx.course.grade.now_failed": ("server", {"course_id": COURSE, "user_id": 7}),
    "edx.ui.lms.link_clicked": (
        "browser",
        {"current_url": f"{LMS}/courses/{COURSE}/courseware", "target_url": "https://www.edx.org/about"},
    ),
    "edx.ui.lms.outline.selected": (
        "browser",
        {"target_name": "Homework - Question Styles", "target_url": f"{LMS}/courses/{COURSE}/jump_to/x"},
    ),
    "edx.ui.lms.sequence.outline.selected": (
        "browser",
        {"target_name": "Example Week 1", "target_url": f"{LMS}/courses/{COURSE}/jump_to/y"},
    ),
    "edx.ui.lms.sequence.next_selected": (
        "browser",
        {"id": SEQUENCE, "current_tab": 2, "tab_count": 5, "target_tab": 3, "widget_placement": "top"},
    ),
    "edx.ui.lms.sequence.previous_selected": (
        "browser",
        {"id": SEQUENCE, "current_tab": 3, "tab_count": 5, "target_tab": 2, "widget_placement": "bottom"},
    ),
    "edx.ui.lms.sequence.tab_selected": (
        "browser",
        {"id": SEQUENCE, "current_tab": 1, "tab_count": 5, "target_tab": 4, "widget_placement": "top"},
    ),
    "showanswer": ("server", {"problem_id": PROBLEM}),
    "edx.problem.hint.demandhint_displayed": (
        "server",
        {"hint_index": 0, "hint_len": 2, "hint_text": "Count the corners.", "module_id": PROBLEM},
    ),
    "edx.problem.completed": ("server", {"problem_id": PROBLEM}),
    "edx.grades.problem.submitted": (
        "server",
        {"problem_id": PROBLEM, "weighted_earned": 1, "weighted_possible": 2, "event_transaction_id": "x"},
    ),
    "problem_check": (
        "server",
        {
            "problem_id": PROBLEM,
            "attempts": 2,
            "grade": 1,
            "max_grade": 1,
            "success": "correct",
            "submission": _SUBMISSION,
            "answers": {"2_1": "a rectangle"},
            "correct_map": {},
            "state": {},
        },
    ),
    "edx.grades.subsection.grade_calculated": (
        "server",
        {
            "block_id": SEQUENCE,
            "weighted_total_earned": 3.0,
            "weighted_total_possible": 4.0,
            "course_id": COURSE,
        },
    ),
    "edx.grades.course.grade_calculated": (
        "server",
        {"course_id": COURSE, "percent_grade": 0.82, "letter_grade": "B"},
    ),
    "edx.completion.block_completion.changed": ("server", {"block_id": PROBLEM, "completion": 1.0}),
}

#: The catalog's type of mobile video names (the envelope's ``event_type``).
MOBILE_TYPES = {
    "edx.video.loaded": "load_video",
    "edx.video.played": "play_video",
    "edx.video.paused": "pause_video",
    "edx.video.stopped": "stop_video",
    "edx.video.position.changed": "seek_video",
    "edx.video.transcript.shown": "show_transcript",
    "edx.video.transcript.hidden": "hide_transcript",
}


def envelope(name: str, /, **changes: Any) -> Envelope:
    """The sample envelope of ``name`` (``changes`` replace its fields)."""
    source, data = PAYLOADS[name]
    made = Envelope(
        id=new_event_id(),
        name=name,
        event_type=MOBILE_TYPES.get(name, name),
        event_source=source,
        time=datetime.datetime(2024, 3, 3, 12, 0, 1, 250000, tzinfo=datetime.UTC),
        event=data,
        context=EventContext(
            course_id=COURSE,
            org_id="edX",
            path="/event",
            user_id=7,
            anonymous_user_id=ANONYMOUS_ID,
        ),
        host="lms.example.com",
        session="0123456789abcdef0123456789abcdef",
    )
    return attrs.evolve(made, **changes) if changes else made
