"""Discussion forum events (tracking-log "Discussion Forums Events").

A thread (post) gets responses, and a response gets comments; the three
"created" events share most of their members. Contributions made in a team
discussion also carry ``team_id``.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import SERVER, optional, required
from event_hub.catalog.registry import event_type


@frozen
class ForumOptions:
    """Choices the author made when posting."""

    followed: bool = required("True if the author chose to follow replies to this contribution.")


@frozen
class ForumRef:
    """Reference to another forum contribution."""

    id: str = required("Unique id of the referenced contribution.")


@frozen(kw_only=True)
class ForumContribution:
    """Members shared by the thread, response and comment "created" events."""

    body: str = required("Text of the contribution (at most 2000 characters; see ``truncated``).")
    category_id: str = required("Id of the discussion component or course-wide discussion it belongs to.")
    category_name: str = required("Display name of the discussion component or course-wide discussion.")
    commentable_id: str = required("Same value as ``category_id``.")
    id: str = required("Unique id of this contribution.")
    options: ForumOptions = required("Posting choices, such as whether the author follows it.")
    team_id: str = optional("The team whose discussion this was posted in; only for team discussions.")
    truncated: bool = required("True if ``body`` was cut to 2000 characters.")
    url: str = required("Escaped URL of the page the user was on.")
    user_course_roles: list[str] = required(
        "The author's course-level roles ('Instructor' meaning Admin, or 'Staff'); empty for learners."
    )
    user_forums_roles: list[str] = required(
        "The author's discussion roles: 'Student', or 'Community TA', 'Moderator', 'Administrator'."
    )


@event_type("edx.forum.thread.created", sources=SERVER, domain="forum")
@frozen(kw_only=True)
class ThreadCreated(ForumContribution):
    """The server recorded a new top-level thread (post) that a user submitted."""

    anonymous: bool = required(
        "True if the author posted anonymously to everyone (only in courses that allow it)."
    )
    anonymous_to_peers: bool = required(
        "True if the author posted anonymously to other learners; staff who manage discussions still "
        "see the name (only in courses that allow it)."
    )
    group_id: int | str | None = required(
        "Numeric id of the cohort the post is limited to, or null when it is visible to all. The "
        "reference types it as a string yet calls it numeric, so an integer or a string is accepted."
    )
    thread_type: Literal["discussion", "question"] = required(
        "What the author said the post is: 'discussion' or 'question'."
    )
    title: str = required("Short title the author gave the post.")


@event_type("edx.forum.response.created", sources=SERVER, domain="forum")
@frozen(kw_only=True)
class ResponseCreated(ForumContribution):
    """The server recorded a new response that a user added to a thread."""

    discussion: ForumRef = required("The thread this response replies to.")


@event_type("edx.forum.comment.created", sources=SERVER, domain="forum")
@frozen(kw_only=True)
class CommentCreated(ForumContribution):
    """The server recorded a new comment that a user added to a response."""

    discussion: ForumRef = required("The thread the commented response belongs to.")
    response: ForumRef = required("The response this comment was added to.")


@event_type("edx.forum.searched", sources=SERVER, domain="forum")
@frozen
class ForumSearched:
    """The server ran a text search a user entered in the course Discussion page sidebar."""

    corrected_text: str | None = required(
        "Respelled query the search engine used instead of the original, which happens only when the "
        "original matched nothing but a similar one did; null otherwise."
    )
    group_id: int | None = required(
        "Numeric id of the cohort the search was limited to, or null when it was not limited."
    )
    page: int = required("Which page of results (20 per page) was requested.")
    query: str = required("The search text the user entered.")
    total_results: int = required("How many results matched the query.")
