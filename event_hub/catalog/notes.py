"""Student notes events (Open edX reference "Notes Events"), logged by the browser's notes tool.

Long texts are cut at 8333 characters; ``truncated`` names the members that were.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER, required
from event_hub.catalog.registry import event_type

DOMAIN = "notes"

_TRUNCATED = (
    "Names of the members that were truncated ('note_text', 'highlighted_content', 'tags', and for an "
    "edit 'old_note_text', 'old_tags'); empty when nothing was."
)


@event_type("edx.course.student_notes.added", "edx.course.student_notes.deleted", sources=BROWSER,
            domain=DOMAIN)
@frozen
class NoteChanged:
    """The browser recorded a learner adding a note to a text component, or deleting one."""

    component_usage_id: str = required("Usage key of the component the note is attached to.")
    highlighted_content: str = required("Course text the learner highlighted.", pii=True)
    note_id: str = required("Id of the note.")
    note_text: str = required("Text of the note.", pii=True)
    tags: list[str] = required("Tags the learner gave the note (only whole tags survive truncation).")
    truncated: list[str] = required(_TRUNCATED)


@event_type("edx.course.student_notes.edited", sources=BROWSER, domain=DOMAIN)
@frozen
class NoteEdited(NoteChanged):
    """The browser recorded a learner editing a note: the new note and its previous text and tags."""

    old_note_text: str = required("Text of the note before the edit.", pii=True)
    old_tags: list[str] = required("Tags of the note before the edit.")


@event_type("edx.course.student_notes.notes_page_viewed", sources=BROWSER, domain=DOMAIN)
@frozen
class NotesPageViewed:
    """The browser recorded a learner opening the Notes page, or switching its view."""

    view: str = required("View shown: 'Recent Activity' (the default) or 'Search Results'.")


@event_type("edx.course.student_notes.searched", sources=BROWSER, domain=DOMAIN)
@frozen
class NotesSearched:
    """The browser recorded a learner searching their notes on the Notes page."""

    number_of_results: int = required("How many notes matched.")
    search_string: str = required("Text searched for.", pii=True)


@event_type("edx.course.student_notes.used_unit_link", sources=BROWSER, domain=DOMAIN)
@frozen
class NoteUnitLinkUsed:
    """The browser recorded a learner following a note's link from the Notes page to its component."""

    component_usage_id: str = required("Usage key of the component the note is attached to.")
    note_id: str = required("Id of the note.")
    view: str = required("View the learner was in: 'Recent Activity' or 'Search Results'.")


@frozen
class VisibleNote:
    """One note on screen."""

    note_id: str = required("Id of the note.")


@event_type("edx.course.student_notes.viewed", sources=BROWSER, domain=DOMAIN)
@frozen
class NotesViewed:
    """The browser recorded notes becoming visible to a learner on a course page."""

    notes: list[VisibleNote] = required("The notes currently visible, each with its ``note_id``.")
