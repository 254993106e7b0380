"""Client events: tracking events that front-end components POST to ``/api/tracking``.

The body names the event (``tracking_event_type``) and the course node it
happened in (``node_id``); the payload typed here is its ``event_data`` member.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER_OR_MOBILE, NOT_BLANK, required
from event_hub.catalog.registry import event_type


@event_type("video", sources=BROWSER_OR_MOBILE, domain="client", audience="client")
@frozen
class VideoActivity:
    """A learner did something with a video player in the client, such as playing or pausing it.

    ``video_event_type`` is kept an open string: the design notes give no fixed
    list of player actions, so any non-empty value the player reports is accepted.
    """

    video_id: str = required("Identifier of the video the learner interacted with.")
    video_event_type: str = required(
        "Player action the client reported, for example 'play', 'pause', 'seek' or 'ended'. "
        "Any non-empty string is accepted.",
        validator=NOT_BLANK,
    )
