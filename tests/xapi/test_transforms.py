"""The xAPI transforms: every registered event makes a conforming statement in the Open edX conventions."""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pytest

from event_hub import xapi
from event_hub.envelope import EventContext
from event_hub.exceptions import DropEvent, EventRejected
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.allowlist import XapiEvents
from event_hub.xapi.statement import STATEMENT_NAMESPACE, NoActor, Site
from tests.xapi import conformance, samples
from tests.xapi.samples import ANONYMOUS_ID, COURSE, LMS, PROBLEM, envelope

SITE = Site(lms_root_url=LMS)
ALL_NAMES = sorted(samples.PAYLOADS)


def transform(name: str, /, **changes: Any) -> dict[str, Any]:
    env = envelope(name, **changes)
    build = xapi.lookup(env)
    assert build is not None, name
    return build(env, SITE)


class TestRegistry:
    def test_families_cover_the_event_names_of_the_router(self) -> None:
        """Each family covers at least as many names as event-routing-backends does (59 in all)."""
        counts = {family: len(names) for family, names in xapi.families().items()}
        assert counts == {
            "video": 21,
            "forum": 18,
            "enrollment": 6,
            "navigation": 6,
            "problems": 5,
            "grading": 2,
            "completion": 1,
        }
        assert xapi.names() == set(samples.PAYLOADS)

    def test_allowlist_is_the_registry(self) -> None:
        """The allowlist processor passes exactly the registered names and drops the rest."""
        for name in ALL_NAMES:
            assert XapiEvents()(envelope(name)).name == name
        with pytest.raises(DropEvent):
            XapiEvents()(envelope("showanswer", name="edx.bookmark.added", event_type="edx.bookmark.added"))

    def test_mobile_names_are_found_by_name_or_type(self) -> None:
        """A mobile video event is found under its own name, a renamed one under its catalog type."""
        renamed = envelope("play_video", name="edx.video.something_new", event_type="play_video")
        assert xapi.lookup(renamed) is xapi.lookup(envelope("edx.video.played"))


class TestConformance:
    @pytest.mark.parametrize("name", ALL_NAMES)
    def test_statement_meets_xapi_1_0_3(self, name: str) -> None:
        """The statement of every registered event meets the xAPI 1.0.3 statement requirements."""
        made = transform(name)
        assert conformance.problems(made) == []
        assert made["version"] == "1.0.3"
        assert made["timestamp"] == "2024-03-03T12:00:01.250000+00:00"

    def test_checker_finds_broken_statements(self) -> None:
        """The requirement checker itself reports the faults it is there to find."""
        made = transform("problem_check")
        made["actor"]["mbox"] = "mailto:x@example.com"
        made["result"]["score"]["scaled"] = 2
        made["verb"]["id"] = "evaluated"
        made["object"]["definition"]["extensions"] = {"attempts": 1}
        made["context"]["extensions"]["http://example.com/x"] = None
        found = conformance.problems(made)
        assert len(found) == 5, found


class TestCommonParts:
    def test_actor_is_the_anonymous_id_on_the_lms(self) -> None:
        """The actor is an account named by the anonymous user id with the LMS root as home page."""
        made = transform("play_video", username="learner")
        assert made["actor"] == {"objectType": "Agent", "account": {"homePage": LMS, "name": ANONYMOUS_ID}}
        assert "learner" not in str(made)

    def test_username_only_when_asked(self) -> None:
        """With actor 'username' the account is named by the username; without one the event has no actor."""
        env = envelope("play_video", username="learner")
        build = xapi.lookup(env)
        assert build is not None
        made = build(env, Site(lms_root_url=LMS, actor="username"))
        assert made["actor"]["account"]["name"] == "learner"
        with pytest.raises(NoActor):
            build(envelope("play_video"), Site(lms_root_url=LMS, actor="username"))

    def test_no_signed_in_user_means_no_actor(self) -> None:
        """An event of a visitor who is not signed in has no actor."""
        with pytest.raises(NoActor):
            transform("play_video", context=EventContext(course_id=COURSE))

    def test_statement_id_is_uuid5_of_the_event_id(self) -> None:
        """The id is a UUIDv5 of the event id: the same event gives the same id, another event another."""
        env = envelope("showanswer")
        build = xapi.lookup(env)
        assert build is not None
        first, again = build(env, SITE), build(attrs.evolve(env, session=""), SITE)
        assert first["id"] == again["id"] == str(uuid.uuid5(STATEMENT_NAMESPACE, env.id))
        assert uuid.UUID(first["id"]).version == 5
        assert transform("showanswer")["id"] != first["id"]

    def test_course_is_the_parent_and_session_an_extension(self) -> None:
        """The course run is the parent; the session digest and transformer version are extensions."""
        made = transform("showanswer")
        assert made["context"]["contextActivities"]["parent"][0]["id"] == f"{LMS}/course/{COURSE}"
        assert made["context"]["extensions"][xv.SESSION_ID] == "0123456789abcdef0123456789abcdef"
        assert made["context"]["extensions"][xv.TRANSFORMER_VERSION].startswith("event-hub@")


class TestFamilies:
    @pytest.mark.parametrize(
        ("name", "verb"),
        [
            ("load_video", xv.INITIALIZED),
            ("edx.video.played", xv.PLAYED),
            ("pause_video", xv.PAUSED),
            ("stop_video", xv.TERMINATED),
            ("complete_video", xv.COMPLETED),
            ("seek_video", xv.SEEKED),
            ("speed_change_video", xv.INTERACTED),
            ("edx.forum.thread.created", xv.POSTED),
            ("edx.forum.comment.edited", xv.EDITED),
            ("edx.forum.thread.viewed", xv.VIEWED),
            ("edx.forum.response.deleted", xv.DELETED),
            ("edx.forum.response.voted", xv.VOTED),
            ("edx.forum.thread.reported", xv.REPORTED),
            ("edx.forum.comment.unreported", xv.UNREPORTED),
            ("edx.course.enrollment.activated", xv.REGISTERED),
            ("edx.course.enrollment.deactivated", xv.UNREGISTERED),
            ("edx.course.grade.now_passed", xv.PASSED),
            ("edx.course.grade.now_failed", xv.FAILED),
            ("edx.ui.lms.link_clicked", xv.NAVIGATED),
            ("problem_check", xv.EVALUATED),
            ("edx.grades.problem.submitted", xv.ATTEMPTED),
            ("showanswer", xv.ASKED),
            ("edx.problem.completed", xv.COMPLETED),
            ("edx.grades.subsection.grade_calculated", xv.EARNED),
            ("edx.completion.block_completion.changed", xv.PROGRESSED),
        ],
    )
    def test_verb(self, name: str, verb: dict[str, Any]) -> None:
        """Each event gets the verb of the Open edX profile."""
        assert transform(name)["verb"] == verb

    def test_video(self) -> None:
        """A video statement names the video block and carries the position, length and seek range."""
        played = transform("play_video")
        assert played["object"]["id"] == (
            f"{LMS}/xblock/block-v1:edX+DemoX+Demo_Course+type@video+block@0b9e39477cf34507a7a48f74be381fdd"
        )
        assert played["object"]["definition"]["type"] == xv.VIDEO
        assert played["result"]["extensions"] == {xv.VIDEO_TIME: 12.5}
        assert played["context"]["extensions"][xv.VIDEO_LENGTH] == 195.0
        seek = transform("seek_video")["result"]["extensions"]
        assert seek == {xv.VIDEO_TIME_FROM: 10.0, xv.VIDEO_TIME_TO: 60.0}
        speed = transform("speed_change_video")["result"]["extensions"]
        assert (speed[xv.SPEED_FROM], speed[xv.SPEED_TO]) == ("1.0x", "1.50x")
        assert transform("hide_transcript")["result"]["extensions"][xv.VIDEO_CC_ENABLED] is False
        assert (
            transform("edx.video.closed_captions.shown")["result"]["extensions"][xv.VIDEO_CC_ENABLED] is True
        )

    def test_forum(self) -> None:
        """A thread is named by its title; a comment is grouped under its thread."""
        thread = transform("edx.forum.thread.created")
        assert thread["object"]["id"] == f"{LMS}/api/discussion/v1/threads/5d9b8b0e6a2c4e1f"
        assert thread["object"]["definition"]["name"] == {"en": "How do I submit?"}
        assert thread["context"]["extensions"][xv.MODE] == "question"
        comment = transform("edx.forum.comment.created")
        assert comment["object"]["id"] == f"{LMS}/api/discussion/v1/comments/7b1dad208c4e6031"
        assert comment["context"]["contextActivities"]["grouping"][0]["id"] == thread["object"]["id"]

    def test_enrollment(self) -> None:
        """An enrollment statement's object is the course run, with the mode as an extension."""
        made = transform("edx.course.enrollment.mode_changed")
        assert made["object"]["id"] == f"{LMS}/course/{COURSE}"
        assert made["object"]["definition"]["extensions"] == {xv.MODE: "verified"}

    def test_problem_check(self) -> None:
        """A graded check carries the interaction type, attempt, success, score and answer."""
        made = transform("problem_check")
        assert made["object"]["id"] == f"{LMS}/xblock/{PROBLEM}"
        assert made["object"]["definition"]["interactionType"] == "fill-in"
        assert made["object"]["definition"]["extensions"] == {xv.ATTEMPT_ID: 2}
        assert made["result"] == {
            "success": True,
            "score": {"min": 0.0, "max": 1.0, "raw": 1.0, "scaled": 1.0},
            "response": "a rectangle",
        }

    def test_browser_problem_check_uses_the_context_component(self) -> None:
        """The browser's check is an attempt on the component of its context, its form as the response."""
        env = envelope(
            "problem_check",
            event_source="browser",
            event="input_2_1=a+rectangle",
            context=EventContext(
                course_id=COURSE, anonymous_user_id=ANONYMOUS_ID, module={"usage_key": PROBLEM}
            ),
        )
        build = xapi.lookup(env)
        assert build is not None
        made = build(env, SITE)
        assert made["verb"] == xv.ATTEMPTED
        assert made["object"]["id"] == f"{LMS}/xblock/{PROBLEM}"
        assert made["result"] == {"response": "input_2_1=a+rectangle"}
        assert conformance.problems(made) == []

    def test_grades_and_completion(self) -> None:
        """Grades give a bounded score; completion a progress percentage."""
        sub = transform("edx.grades.subsection.grade_calculated")["result"]
        assert sub == {"success": False, "score": {"min": 0.0, "max": 4.0, "raw": 3.0, "scaled": 0.75}}
        course = transform("edx.grades.course.grade_calculated")["result"]
        assert course["score"]["scaled"] == 0.82
        assert course["extensions"] == {xv.GRADE_CLASSIFICATION: "B"}
        done = transform("edx.completion.block_completion.changed")["result"]
        assert done == {"completion": True, "extensions": {xv.PROGRESS: 100.0}}

    def test_navigation(self) -> None:
        """Moving in a sequence names the sequence, its unit count and the units moved between."""
        made = transform("edx.ui.lms.sequence.tab_selected")
        assert made["object"]["definition"]["extensions"] == {xv.TOTAL_ITEMS: 5}
        assert made["context"]["extensions"][xv.STARTING_POSITION] == 1
        assert made["context"]["extensions"][xv.ENDING_POINT] == 4
        assert (
            transform("edx.ui.lms.sequence.next_selected")["context"]["extensions"][xv.ENDING_POINT]
            == "next unit"
        )

    @pytest.mark.parametrize(
        ("name", "event"),
        [("play_video", {"code": "html5"}), ("showanswer", {}), ("edx.ui.lms.link_clicked", {})],
    )
    def test_missing_data_rejects_the_event(self, name: str, event: dict[str, Any]) -> None:
        """An event without the data its statement needs is rejected (dead-lettered alone)."""
        with pytest.raises(EventRejected) as caught:
            transform(name, event=event)
        assert not isinstance(caught.value, NoActor)

    def test_browser_payload_as_json_string(self) -> None:
        """A browser payload logged as a JSON string is read like a decoded one."""
        as_string = transform("play_video", event='{"id": "abc", "currentTime": 3, "code": "html5"}')
        assert as_string["result"]["extensions"] == {xv.VIDEO_TIME: 3.0}
