"""Course content completion (Open edX reference "Course Content Completion Event").

The Done XBlock (openedx/DoneXBlock) adds a toggle learners use to mark content
as complete; both its browser script and its server handler log the toggle.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER_OR_SERVER, required
from event_hub.catalog.registry import event_type

DOMAIN = "completion"


@event_type("edx.done.toggled", sources=BROWSER_OR_SERVER, domain=DOMAIN)
@frozen
class DoneToggled:
    """The browser or the server recorded a learner switching the Done XBlock's completion toggle."""

    done: bool = required("State of the toggle after the switch: true for completed.")
