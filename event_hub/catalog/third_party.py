"""Third-party content events (tracking-log "Third-Party Content Events"): Google components."""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import SERVER, required
from event_hub.catalog.registry import event_type


@event_type(
    "edx.googlecomponent.calendar.displayed",
    "edx.googlecomponent.document.displayed",
    sources=SERVER,
    domain="third_party",
)
@frozen
class GoogleComponentDisplayed:
    """The server showed a learner a Google Calendar, or a Google Drive file (document, spreadsheet,
    image and so on), embedded in the LMS.
    """

    displayed_in: Literal["img", "iframe"] = required(
        "How the content was embedded: 'img' for Google Drive images, 'iframe' for calendars and every "
        "other kind of Drive file."
    )
    url: str = required("Address of the image, or of the file the iframe loaded.")
