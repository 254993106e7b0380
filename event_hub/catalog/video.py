"""Video interaction events (tracking-log "Video Interaction Events").

Most of these come from the browser or the edX mobile app. Every event keeps
its original name in ``event_type``; events from the mobile app also carry a
newer name (``play_video`` -> ``edx.video.played``) in ``name`` and a few extra
``context`` members describing the app and device. Pre-roll video events live
in :mod:`event_hub.catalog.video_bumper`.
"""

from __future__ import annotations

from typing import Any, Literal

from attrs import frozen

from event_hub.catalog.base import (
    BROWSER,
    BROWSER_OR_MOBILE,
    context_fields,
    optional,
    required,
)
from event_hub.catalog.registry import event_type

DOMAIN = "video"

_CODE = (
    "Which player source was used: the YouTube id of the video for YouTube videos in a browser "
    "(e.g. 'OEyXaRPEzfM'), 'html5' (or 'hls' for HLS streams) for other videos in a browser, 'mobile' "
    "for the edX mobile app."
)
_DURATION = (
    "Length of the video in seconds. The browser player adds it, with ``id`` and ``code``, to every "
    "video event it logs; older events and mobile events leave it out."
)
_CURRENT_TIME = "Position in the video, in seconds, when the event happened."
_ID = (
    "Identifier of the video component: the name the course team gave it or a system-generated hash "
    "(e.g. '0b9e39477cf34507a7a48f74be381fdd'); older courses use an HTML-escaped "
    "``courseware_studentmodule.module_id`` such as 'i4x-HarvardX-PH207x-video-Simple_Random_Sample'."
)


# --- extra context of mobile video events ----------------------------------------------------


@frozen
class MobileApplication:
    """Which edX mobile app sent the event."""

    name: str = required("Identifier of the app, e.g. 'edx.mobileapp.android'.")
    version: str = required("Version of the app, e.g. '0.1.8'.")


@context_fields
@frozen
class MobileVideoContext:
    """Extra ``context`` members of video events sent by the edX mobile app (absent from browser events)."""

    application: MobileApplication = optional("Mobile app that emitted the event; mobile events only.")
    client: dict[str, Any] = optional(
        "Device data (network, locale, app, library, device, os, screen, ...) gathered by the third-party "
        "event collection library; its content can change without notice. Mobile events only."
    )
    component: Literal["videoplayer"] = optional("Always 'videoplayer'. Mobile events only.")
    received_at: str | float = optional(
        "When the event collection library received the event, which can be later than ``time`` "
        "because the app forwards events only once it is online. The reference types it as a number "
        "while its example carries an ISO 8601 string, so both are accepted. Reflects a third-party "
        "integration and may change without notice. Mobile events only."
    )


# --- payloads --------------------------------------------------------------------------------
# The browser player logs every video event through one function that merges ``id``, ``code`` and
# ``duration`` into the event's own members (edx-platform xmodule/js/src/video/09_events_plugin.js),
# so every payload below accepts those three.


@event_type(
    "pause_video",
    "play_video",
    "stop_video",
    sources=BROWSER_OR_MOBILE,
    domain=DOMAIN,
    mobile_names=(
        "edx.video.paused",
        "edx.video.played",
        "edx.video.stopped",
    ),
    context=MobileVideoContext,
)
@event_type(
    "complete_video",
    sources=BROWSER,
    domain=DOMAIN,
    description="The browser recorded that a learner watched a video to the point where the player "
    "counts it as complete (the player's completion threshold, near the end).",
)
@frozen(kw_only=True)
class VideoAtTime:
    """The browser or mobile app recorded a learner playing or pausing a video, or the player stopping at
    the end of the video (or at its configured stop time).

    A browser video reaching its end or its stop time emits both ``pause_video``
    and ``stop_video``; the mobile app ignores stop and start times and emits
    ``stop_video`` only at the end of the file. Positions are numbers: the
    browser player reports fractions of a second.
    """

    code: str = required(_CODE)
    currentTime: float = required(
        "Position in the video, in seconds, when the event happened (where play started, paused or stopped)."
    )
    duration: float = optional(_DURATION)
    id: str = required(_ID)


@event_type(
    "hide_transcript",
    "show_transcript",
    sources=BROWSER_OR_MOBILE,
    domain=DOMAIN,
    mobile_names=("edx.video.transcript.hidden", "edx.video.transcript.shown"),
    context=MobileVideoContext,
)
@frozen(kw_only=True)
class TranscriptToggled:
    """The browser or mobile app recorded a learner showing or hiding the transcript of a video.

    The reference names the position ``currentTime``; the browser player sends
    it as ``current_time``. Either is accepted.
    """

    code: str = required(_CODE)
    currentTime: float = optional(
        "Position in the video, in seconds, where the transcript was shown or hidden (the reference's and "
        "the mobile app's name)."
    )
    current_time: float = optional(
        "Position in the video, in seconds, where the transcript was shown or hidden (the browser "
        "player's name)."
    )
    duration: float = optional(_DURATION)
    id: str = required(_ID)


@event_type(
    "edx.video.closed_captions.hidden",
    "edx.video.closed_captions.shown",
    sources=BROWSER,
    domain=DOMAIN,
)
@frozen(kw_only=True)
class CaptionsToggled:
    """The browser recorded a learner showing or hiding the closed captions drawn over a video."""

    code: str = required(_CODE)
    current_time: float = required(_CURRENT_TIME)
    duration: float = optional(_DURATION)
    id: str = required(_ID)


@event_type(
    "load_video",
    sources=BROWSER_OR_MOBILE,
    domain=DOMAIN,
    mobile_names=("edx.video.loaded",),
    context=MobileVideoContext,
)
@frozen(kw_only=True)
class VideoIdentified:
    """The browser or mobile app recorded that a video was fully rendered and ready to play."""

    code: str = required(_CODE)
    duration: float = optional(_DURATION)
    id: str = required(_ID)


@event_type(
    "video_hide_cc_menu",
    "video_show_cc_menu",
    "edx.video.language_menu.hidden",
    "edx.video.language_menu.shown",
    sources=BROWSER,
    domain=DOMAIN,
)
@frozen(kw_only=True)
class LanguageMenuToggled:
    """The browser recorded a learner opening the transcript language (CC) menu of a video with
    transcripts in several languages (sent with show_transcript), or closing it by picking a language.

    The current player logs these as ``edx.video.language_menu.shown`` and
    ``edx.video.language_menu.hidden`` (the latter with the chosen ``language``).
    """

    code: str = required(_CODE)
    duration: float = optional(_DURATION)
    id: str = required(_ID)
    language: str = optional("Language code of the transcript the learner picked; only when the menu closes.")


@event_type(
    "seek_video",
    sources=BROWSER_OR_MOBILE,
    domain=DOMAIN,
    mobile_names=("edx.video.position.changed",),
    context=MobileVideoContext,
)
@frozen(kw_only=True)
class VideoSought:
    """The browser or mobile app recorded a learner moving to another point in a video, by dragging the
    playback bar, clicking the transcript or (in the app) tapping the skip-back button.

    Before 25 Jun 2014 ``old_time`` and ``new_time`` always held the same value.
    The reference types both as integers; the browser player sends its
    positions as they are, fractions of a second included, so any number is
    accepted.
    """

    code: str = required(_CODE)
    duration: float = optional(_DURATION)
    id: str = required(_ID)
    new_time: float = required("Position in the video, in seconds, the learner moved to.")
    old_time: float = required("Position in the video, in seconds, the learner moved away from.")
    requested_skip_interval: int = optional(
        "Mobile app only (since 10 Mar 2015): how many seconds the learner skipped, negative when "
        "moving backward."
    )
    type: Literal["onCaptionSeek", "onSlideSeek", "onSkipSeek"] = required(
        "How the learner moved: 'onCaptionSeek' (transcript click, desktop browser), 'onSlideSeek' "
        "(playback bar) or 'onSkipSeek' (skip button, mobile app)."
    )


@event_type("speed_change_video", sources=BROWSER, domain=DOMAIN)
@frozen(kw_only=True)
class VideoSpeedChanged:
    """The browser recorded a learner choosing a different playback speed for a video.

    Before 12 Feb 2014 the event was also sent when the learner picked the
    speed already in use. The player writes speeds as strings ('1.50'); the
    reference types them as numbers, so both are accepted.
    """

    code: str = optional(_CODE)
    current_time: float = required("Position in the video, in seconds, when the speed was changed.")
    duration: float = optional(_DURATION)
    id: str = optional(_ID)
    new_speed: float | str = required("Speed the learner picked, e.g. 0.75, 1.0, 1.25 or 1.5 (or '1.50').")
    old_speed: float | str = required("Speed the video was playing at before the change.")


@event_type("auto_advance_change_video", sources=BROWSER, domain=DOMAIN)
@frozen(kw_only=True)
class AutoAdvanceChanged:
    """The browser recorded a learner switching the player's auto-advance option (go on to the next unit
    when the video ends) on or off."""

    code: str = required(_CODE)
    duration: float = optional(_DURATION)
    enabled: bool = required("True when auto-advance was switched on.")
    id: str = required(_ID)
