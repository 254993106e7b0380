"""Drag and drop problem events (Open edX reference "Drag and Drop Events").

The drag and drop XBlock (openedx/xblock-drag-and-drop-v2) publishes these
through the runtime, so they reach the tracking log with the server as source
even when the learner's browser asked for them. They carry the common
``context.module`` member.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import SERVER, NoFields, optional, required
from event_hub.catalog.registry import event_type

DOMAIN = "drag_and_drop"

event_type(
    "edx.drag_and_drop_v2.loaded",
    sources=SERVER,
    domain=DOMAIN,
    description="A drag and drop problem was shown to a learner in the LMS. Only the common fields are "
    "recorded.",
)(NoFields)


@event_type("edx.drag_and_drop_v2.feedback.closed", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class FeedbackClosed:
    """A pop-up feedback message of a drag and drop problem closed."""

    content: str = required("Text of the feedback message (cut at 12,500 characters).")
    manually: bool = required("True when the learner closed the pop-up, false when the browser did.")
    truncated: bool = optional("True only when ``content`` was cut.")


@event_type("edx.drag_and_drop_v2.feedback.opened", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class FeedbackOpened:
    """A pop-up feedback message of a drag and drop problem opened."""

    content: str = required("Text of the feedback message (cut at 12,500 characters).")
    truncated: bool = optional("True only when ``content`` was cut.")


@event_type("edx.drag_and_drop_v2.item.dropped", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class ItemDropped:
    """A learner released a draggable item on a zone (or, in assessment mode, back in the item bank), or
    submitted the number input that goes with a dropped item."""

    input: int | float = optional("Number the learner entered, for problems that ask for one.")
    is_correct: bool = required(
        "Whether the item is in a correct zone (and, when a number is asked for, the number is right too)."
    )
    is_correct_location: bool = optional(
        "Whether the item is in a correct zone, regardless of the number input (older versions only)."
    )
    item: str = optional("Display name of the item, or its image address when it has none.")
    item_id: int = required("Index of the draggable item.")
    location: str = required("Title of the zone the item was dropped on ('item bank' for the bank).")
    location_id: int | str = optional(
        "Id of that zone: the reference types it as an integer; current versions send the zone's "
        "``uid`` (a string such as 'top'), and -1 for the item bank."
    )


@event_type("edx.drag_and_drop_v2.item.picked_up", sources=SERVER, domain=DOMAIN)
@frozen
class ItemPickedUp:
    """A learner picked up a draggable item."""

    item_id: int = required("Index of the draggable item.")
