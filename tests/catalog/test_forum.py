"""Discussion forum events."""

from __future__ import annotations

import copy

import pytest

import event_hub.catalog.forum  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

SHARED = {
    "body": "Is the midterm open book?",
    "category_id": "i4x-edX-DemoX-discussion-1",
    "category_name": "Week 1",
    "commentable_id": "i4x-edX-DemoX-discussion-1",
    "id": "54f4bc2c56c02c48d9000001",
    "options": {"followed": True},
    "truncated": False,
    "url": "https://courses.example.com/courses/edX/DemoX/Demo/discussion/forum/1/threads/54f4",
    "user_course_roles": [],
    "user_forums_roles": ["Student"],
}
THREAD = {
    **SHARED,
    "anonymous": False,
    "anonymous_to_peers": False,
    "group_id": None,
    "thread_type": "question",
    "title": "Midterm",
}


class TestForumEvents:
    def test_thread_created_validates(self):
        """A new thread validates unchanged, with or without a team and a cohort."""
        assert registry.validate("edx.forum.thread.created", "server", THREAD).data is THREAD
        team = {**THREAD, "team_id": "team-1", "group_id": 4}
        assert registry.validate("edx.forum.thread.created", "server", team).data is team

    def test_response_and_comment_validate(self):
        """Responses reference their thread; comments reference the thread and the response."""
        response = {**SHARED, "discussion": {"id": "54f4"}}
        assert registry.validate("edx.forum.response.created", "server", response).data is response
        comment = {**response, "response": {"id": "54f5"}, "user_course_roles": ["Staff"]}
        assert registry.validate("edx.forum.comment.created", "server", comment).data is comment

    def test_thread_only_members_are_rejected_on_responses(self):
        """``title`` belongs to threads; strict validation rejects it on a response."""
        response = {**SHARED, "discussion": {"id": "54f4"}, "title": "nope"}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.forum.response.created", "server", response)
        assert excinfo.value.errors == {"title": ["unknown field"]}

    def test_wrong_nested_type_names_the_path(self):
        """A non-boolean ``options.followed`` is reported under its nested path."""
        thread = copy.deepcopy(THREAD)
        thread["options"]["followed"] = "yes"
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.forum.thread.created", "server", thread)
        assert excinfo.value.errors == {"options.followed": ["expected true or false, got string"]}

    def test_missing_reference_names_the_field(self):
        """A comment without ``response`` is reported under ``response``."""
        comment = {**SHARED, "discussion": {"id": "54f4"}}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.forum.comment.created", "server", comment)
        assert excinfo.value.errors == {"response": ["this field is required"]}

    def test_searched_validates(self):
        """A search validates with null ``corrected_text`` and ``group_id``; a string ``page`` fails."""
        data = {"corrected_text": None, "group_id": None, "page": 1, "query": "midterm", "total_results": 3}
        assert registry.validate("edx.forum.searched", "server", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.forum.searched", "server", {**data, "page": "1"})
        assert list(excinfo.value.errors) == ["page"]
