"""Discussion forum events (tracking-log "Discussion Forums Events").

A thread (post) gets responses, and a response gets comments; the three
"created" events share most of their members. Contributions made in a team
discussion also carry ``team_id``.

The events that follow the "created" ones (votes, views, edits, deletions,
reports, locks, marks) come from edx-platform's
``lms/djangoapps/discussion/django_comment_client/base/views.py``
(``track_forum_event`` and the ``track_*_event`` helpers, which the
discussions REST API calls too) and the current Open edX reference.
``track_forum_event`` adds the common members of :class:`ForumActivity`; it
adds ``category_id``/``category_name`` only when the discussion is found in the
course's discussion map, so those are optional there.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import SERVER, optional, required
from event_hub.catalog.registry import event_type

DOMAIN = "forum"


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
    from_mfe_sidebar: bool = optional(
        "True when posted from the discussions sidebar of the learning MFE (edx-platform since 2024)."
    )


@event_type("edx.forum.thread.created", sources=SERVER, domain=DOMAIN)
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


@event_type("edx.forum.response.created", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ResponseCreated(ForumContribution):
    """The server recorded a new response that a user added to a thread."""

    discussion: ForumRef = required("The thread this response replies to.")


@event_type("edx.forum.comment.created", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class CommentCreated(ForumContribution):
    """The server recorded a new comment that a user added to a response."""

    discussion: ForumRef = required("The thread the commented response belongs to.")
    response: ForumRef = required("The response this comment was added to.")


@event_type("edx.forum.searched", sources=SERVER, domain=DOMAIN)
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


@frozen(kw_only=True)
class ForumActivity:
    """Members ``track_forum_event`` adds to every forum event other than the "created" ones."""

    id: str = required("Unique id of the thread, response or comment acted on.")
    commentable_id: str | None = required("Id of the discussion the contribution belongs to.")
    category_id: str = optional("Same as ``commentable_id``, when the discussion is in the course's map.")
    category_name: str = optional("Display name of the discussion, when it is in the course's map.")
    team_id: str | None = optional("The team whose discussion this is; only for team discussions.")
    url: str = required("URL of the page the user was on (the request's referrer, or '').")
    user_course_roles: list[str] = required("The acting user's course-level roles; empty for learners.")
    user_forums_roles: list[str] = required("The acting user's discussion roles, such as 'Student'.")


@event_type("edx.forum.thread.voted", "edx.forum.response.voted", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ForumVoted(ForumActivity):
    """A user voted for a thread or a response, or took the vote back."""

    target_username: str | None = required("Username of the author of the contribution voted on.")
    undo_vote: bool = required("True when the user took a previous vote back.")
    vote_value: str = required("The vote, 'up'.")


@event_type("edx.forum.thread.viewed", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ThreadViewed(ForumActivity):
    """A user opened a thread, in a browser or a mobile app."""

    title: str = required("Title of the thread (at most 1000 characters; see ``title_truncated``).")
    title_truncated: bool = required("True if ``title`` was cut to 1000 characters.")
    target_username: str = optional(
        "Username of the thread's author; left out by old mobile apps, and for anonymous posts by newer ones."
    )
    from_mfe_sidebar: bool = optional("True when viewed in the discussions sidebar of the learning MFE.")


@event_type("edx.forum.thread.locked", "edx.forum.thread.unlocked", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ThreadLocked(ForumActivity):
    """A moderator closed a thread to new contributions, or reopened it."""

    target_username: str | None = required("Username of the thread's author.")
    lock_reason: str | None = required("Code of the reason the moderator chose (null when none).")


ContentType = Literal["Post", "Response", "Comment"]


@frozen(kw_only=True)
class ForumModeration(ForumActivity):
    """Members the edit, delete and report events share."""

    content_type: ContentType = required("What was acted on: 'Post' (a thread), 'Response' or 'Comment'.")
    target_username: str | None = optional("Username of the author of the contribution.")


@event_type("edx.forum.thread.edited", "edx.forum.response.edited", "edx.forum.comment.edited",
            sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ForumEdited(ForumModeration):
    """A user edited a thread, a response or a comment."""

    own_content: bool = required("True when the user edited their own contribution.")
    edit_reason: str | None = required("Code of the reason given for a moderator's edit (null when none).")


@event_type("edx.forum.response.deleted", "edx.forum.comment.deleted", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ForumReplyDeleted(ForumModeration):
    """A user deleted a response or a comment."""

    body: str = required("Text of the deleted contribution (at most 2000 characters).")
    own_content: bool = required("True when the user deleted their own contribution.")


@event_type("edx.forum.thread.deleted", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ThreadDeleted(ForumReplyDeleted):
    """A user deleted a thread."""

    title: str = required("Title of the thread (at most 1000 characters).")
    title_truncated: bool = required("True if ``title`` was cut to 1000 characters.")


@event_type(
    "edx.forum.response.reported", "edx.forum.comment.reported", sources=SERVER, domain=DOMAIN
)
@frozen(kw_only=True)
class ForumReplyReported(ForumModeration):
    """A user reported a response or a comment as inappropriate."""

    body: str = required("Text of the contribution (at most 2000 characters; see ``truncated``).")
    truncated: bool = required("True if ``body`` was cut to 2000 characters.")


@event_type(
    "edx.forum.response.unreported", "edx.forum.comment.unreported", sources=SERVER, domain=DOMAIN
)
@frozen(kw_only=True)
class ForumReplyUnreported(ForumReplyReported):
    """A user took back a report of a response or a comment."""

    reported_status_cleared: bool = required(
        "True when no report is left (a moderator cleared it, or every reporter took theirs back)."
    )


@event_type("edx.forum.thread.reported", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ThreadReported(ForumReplyReported):
    """A user reported a thread as inappropriate."""

    title: str = required("Title of the thread (at most 1000 characters).")
    title_truncated: bool = required("True if ``title`` was cut to 1000 characters.")
    thread_type: str = required("'discussion' or 'question' ('' when unknown).")
    group_id: int | str | None = required("Id of the cohort the thread is limited to ('' or null when none).")


@event_type("edx.forum.thread.unreported", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ThreadUnreported(ThreadReported):
    """A user took back a report of a thread."""

    reported_status_cleared: bool = required(
        "True when no report is left (a moderator cleared it, or every reporter took theirs back)."
    )


@event_type("edx.forum.response.mark", "edx.forum.response.unmark", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ResponseMarked(ForumActivity):
    """A user marked a response as the answer to a question (or endorsed it in a discussion), or took the
    mark back.
    """

    discussion: ForumRef = required("The thread the response belongs to.")
    is_thread_author: bool = required("True when the user is the thread's author.")
    is_global_staff: bool = required("True when the user is global staff.")
    mark_type: Literal["Answer", "Endorse"] = required("'Answer' for a question thread, 'Endorse' otherwise.")
    target_username: str | None = required("Username of the response's author.")
