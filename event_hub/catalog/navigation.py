"""Navigational events (tracking-log "Navigational Events"): leaving a page and moving through a sequence.

Since 2016 the unit navigation bar logs ``edx.ui.lms.sequence.*`` events
(the legacy LMS and frontend-app-learning's ``Sequence.jsx``); edx-platform's
tracking-log transformers (``common/djangoapps/track/transformers.py``) record
a move inside a subsection under the old ``seq_next``/``seq_prev``/``seq_goto``
event type with ``old``/``new`` added, so those carry the new members too.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER, NoFields, optional, required
from event_hub.catalog.registry import event_type

DOMAIN = "navigation"

event_type(
    "page_close",
    sources=BROWSER,
    domain=DOMAIN,
    description="The JavaScript Logger in the browser recorded that the learner closed or left a page. "
    "Only the common fields are recorded.",
)(NoFields)


@event_type("seq_goto", "seq_next", "seq_prev", sources=BROWSER, domain=DOMAIN)
@frozen
class SequenceNavigated:
    """The browser recorded a learner moving between units of a sequence with its navigation controls.

    ``seq_goto`` is a jump to a chosen unit, ``seq_next`` and ``seq_prev`` a
    step to the following or preceding unit.
    """

    id: str | int = required(
        "Identifier of the sequence the learner moved through. The reference types it as an integer; "
        "the sequence block's script sends the sequence's usage key as a string "
        "(``block-v1:...+type@sequential+block@...``, or an ``i4x://`` locator in old courses)."
    )
    new: int = required("Index of the unit the learner arrived at.")
    old: int = required("Index of the unit the learner left.")
    current_tab: int = optional("1-based position of the unit the learner was on (events since May 2016).")
    tab_count: int = optional("Number of units in the subsection (events since May 2016).")
    target_tab: int = optional("1-based position of the unit chosen (``seq_goto`` since May 2016).")
    widget_placement: str = optional("Where the control used sits: 'top' or 'bottom' of the page.")


@event_type(
    "edx.ui.lms.sequence.next_selected",
    "edx.ui.lms.sequence.previous_selected",
    "edx.ui.lms.sequence.tab_selected",
    sources=BROWSER,
    domain=DOMAIN,
)
@frozen
class SequenceControlSelected:
    """The browser recorded a learner using the unit navigation bar: "next", "previous" or a unit's tab.

    "Next" on a subsection's last unit (or "previous" on its first) moves to
    the neighbouring subsection.
    """

    current_tab: int = required("1-based position of the unit the learner was on.")
    tab_count: int = required("Number of units in the subsection.")
    widget_placement: str = required("Where the control used sits: 'top' or 'bottom' of the page.")
    id: str = optional(
        "Usage key the learning MFE sends (the current unit); the legacy LMS sent the subsection's."
    )
    target_tab: int = optional("1-based position of the unit chosen (tab_selected only).")
    new: int = optional("Index of the unit arrived at, when the tracking log recorded it.")
    old: int = optional("Index of the unit left, when the tracking log recorded it.")


@event_type("edx.ui.lms.link_clicked", sources=BROWSER, domain=DOMAIN)
@frozen
class CourseLinkClicked:
    """The browser recorded a learner following a link inside course content."""

    current_url: str = required("URL of the page holding the link.")
    target_url: str = required("URL the link leads to.")


@event_type("edx.ui.lms.outline.selected", sources=BROWSER, domain=DOMAIN)
@frozen
class OutlineSelected:
    """The browser recorded a learner opening a subsection from the course navigation pane or outline."""

    current_url: str = required("URL of the page showing the navigation pane.")
    target_name: str = required("Display name of the subsection chosen.")
    target_url: str = required("URL of the subsection chosen.")
    widget_placement: str = required("Where the control sits; 'accordion' for the navigation pane.")


@event_type("edx.ui.lms.jump_nav.selected", sources=BROWSER, domain=DOMAIN)
@frozen
class JumpNavSelected:
    """The browser recorded a learner choosing a destination in the breadcrumb jump menus above a unit."""

    target_name: str = required("Title of the destination.")
    id: str = required("Block id of the destination.")
    current_id: str = required("Block id of the unit the learner left.")
    widget_placement: str = required("Where the menu sits, such as 'breadcrumb'.")
