"""Navigational events (tracking-log "Navigational Events"): leaving a page and moving through a sequence."""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER, NoFields, required
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
