"""Pre-roll video events (tracking-log "Pre-Roll Video Interaction Events").

A course can play a short pre-roll ("bumper") video before its other videos,
at most once per learner per week. Only browsers on edx.org play it (the
mobile apps do not), and interacting with it emits these ``edx.video.bumper.*``
events instead of the ordinary video events.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import BROWSER, required
from event_hub.catalog.registry import event_type

DOMAIN = "video_bumper"

_BUMPER_ID = "Escaped URL of the pre-roll video file."
_CODE = "Always 'html5': pre-roll videos are never YouTube videos."
_DURATION = "Length of the pre-roll video, in seconds."
_HOST_COMPONENT_ID = (
    "Id of the video component the learner chose, which plays once the pre-roll video is over."
)


@event_type("edx.video.bumper.loaded", sources=BROWSER, domain=DOMAIN)
@frozen
class BumperLoaded:
    """The browser recorded that a pre-roll video was rendered and ready to play."""

    bumper_id: str = required(_BUMPER_ID)
    code: Literal["html5"] = required(_CODE)
    duration: int = required(_DURATION)
    host_component_id: str = required(_HOST_COMPONENT_ID)


@event_type(
    "edx.video.bumper.dismissed",
    "edx.video.bumper.played",
    "edx.video.bumper.skipped",
    "edx.video.bumper.stopped",
    "edx.video.bumper.transcript.hidden",
    "edx.video.bumper.transcript.menu.hidden",
    "edx.video.bumper.transcript.menu.shown",
    "edx.video.bumper.transcript.shown",
    sources=BROWSER,
    domain=DOMAIN,
)
@frozen
class BumperAtTime:
    """The browser recorded a learner playing, skipping or opting out of a pre-roll video, showing or hiding
    its transcript or transcript language menu, or the pre-roll video stopping at its end or on pause.

    ``dismissed`` means the learner chose not to see the pre-roll video again;
    ``stopped`` is also the only event sent when the learner pauses it.
    """

    bumper_id: str = required(_BUMPER_ID)
    code: Literal["html5"] = required(_CODE)
    currentTime: float = required(
        "Position in the pre-roll video, in seconds, when the event happened (where it played, was skipped "
        "or stopped, or where its transcript or transcript menu was shown or hidden)."
    )
    duration: int = required(_DURATION)
    host_component_id: str = required(_HOST_COMPONENT_ID)
