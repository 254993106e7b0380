"""Course resource events (Open edX reference "Course Resource Events"): bookmarks and the course tools.

Bookmarks are added, removed and listed by the bookmarks API on the server
(edx-platform ``openedx/core/djangoapps/bookmarks``); following one from the
bookmarks page and opening a course tool are logged by the browser.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import BROWSER, SERVER, optional, required
from event_hub.catalog.registry import event_type

DOMAIN = "course_resources"

_BOOKMARK_ID = "Internal id of the bookmark, '<username>,<usage key>'."
_COMPONENT_TYPE = "Block type of the bookmarked component, such as 'vertical'."
_COMPONENT_USAGE_ID = "Usage key of the bookmarked component."


@event_type("edx.bookmark.accessed", sources=BROWSER, domain=DOMAIN)
@frozen
class BookmarkAccessed:
    """The browser recorded a learner following a bookmark from the bookmarks page."""

    bookmark_id: str = required(_BOOKMARK_ID)
    component_type: str = required(_COMPONENT_TYPE)
    component_usage_id: str = required(_COMPONENT_USAGE_ID)


@event_type("edx.bookmark.added", "edx.bookmark.removed", sources=SERVER, domain=DOMAIN)
@frozen
class BookmarkChanged:
    """The server recorded a learner bookmarking a page of a course, or removing a bookmark."""

    bookmark_id: str = required(_BOOKMARK_ID)
    component_type: str = required(_COMPONENT_TYPE)
    component_usage_id: str = required(_COMPONENT_USAGE_ID)
    course_id: str = required("Course holding the bookmarked component.")


@event_type("edx.bookmark.listed", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class BookmarksListed:
    """The server returned a page of a learner's bookmarks (one event per page of results)."""

    bookmarks_count: int = required(
        "How many bookmarks the learner has (in the course when ``course_id`` is given)."
    )
    course_id: str = optional("Course the list is limited to; only when ``list_type`` is 'per_course'.")
    list_type: Literal["per_course", "all_courses"] = required(
        "'per_course' for the bookmarks of one course, 'all_courses' for all of them."
    )
    page_number: int = required("Number of the page of results returned.")
    page_size: int = required("How many bookmarks a page holds.")


@event_type("edx.course.tool.accessed", sources=BROWSER, domain=DOMAIN)
@frozen(kw_only=True)
class CourseToolAccessed:
    """The browser recorded a learner opening one of the course tools (bookmarks, reviews, updates...).

    The learning micro-frontend adds the course and the learner's staff flag
    to the tool name the legacy course home page sent.
    """

    tool_name: str = required(
        "Analytics id of the tool, such as 'edx.bookmarks', 'edx.reviews', 'edx.updates' or "
        "'edx.tool.verified_upgrade'."
    )
    course_id: str = optional("Course whose tool was opened (learning micro-frontend).")
    courserun_key: str = optional("The same course run key (learning micro-frontend).")
    org_key: str = optional("Organization of the course (learning micro-frontend).")
    is_staff: bool = optional("Whether the learner has staff access (learning micro-frontend).")
    page: str = optional("Page the tool link was on, such as 'course_home' (legacy course home page).")
