"""Video events (21 names: the browser's legacy names and the mobile ``edx.video.*`` ones).

Object: the video component, ``{root}/xblock/{usage key}``, the usage key
built from the course key and the payload's ``id`` (the block id of the
video), typed as an xAPI video. Context: the video length. Result: the
position (``time``), the from/to positions of a seek, the speeds of a speed
change (``"1.5x"``), whether captions are on after a transcript or caption
toggle, and ``completion`` for a completed video.
"""

from __future__ import annotations

from typing import Any

from event_hub.envelope import Envelope
from event_hub.exceptions import EventRejected
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.registry import register
from event_hub.xapi.statement import Site, activity, extensions, payload, required, seconds, statement

FAMILY = "video"

#: Event name -> (verb, kind of result).
VERBS: dict[str, tuple[dict[str, Any], str]] = {
    "load_video": (xv.INITIALIZED, "none"),
    "edx.video.loaded": (xv.INITIALIZED, "none"),
    "play_video": (xv.PLAYED, "time"),
    "edx.video.played": (xv.PLAYED, "time"),
    "pause_video": (xv.PAUSED, "time"),
    "edx.video.paused": (xv.PAUSED, "time"),
    "stop_video": (xv.TERMINATED, "time"),
    "edx.video.stopped": (xv.TERMINATED, "time"),
    "complete_video": (xv.COMPLETED, "completed"),
    "edx.video.completed": (xv.COMPLETED, "completed"),
    "seek_video": (xv.SEEKED, "seek"),
    "edx.video.position.changed": (xv.SEEKED, "seek"),
    "speed_change_video": (xv.INTERACTED, "speed"),
    "show_transcript": (xv.INTERACTED, "cc_on"),
    "edx.video.transcript.shown": (xv.INTERACTED, "cc_on"),
    "hide_transcript": (xv.INTERACTED, "cc_off"),
    "edx.video.transcript.hidden": (xv.INTERACTED, "cc_off"),
    "edx.video.closed_captions.shown": (xv.INTERACTED, "cc_on"),
    "edx.video.closed_captions.hidden": (xv.INTERACTED, "cc_off"),
    "video_show_cc_menu": (xv.INTERACTED, "cc_on"),
    "video_hide_cc_menu": (xv.INTERACTED, "cc_off"),
}


def video_usage_key(course_id: str, video_id: str) -> str:
    """The usage key of a course's video block from the course key and the block id."""
    if video_id.startswith(("block-v1:", "i4x://")):
        return video_id
    if course_id.startswith("course-v1:"):
        return f"block-v1:{course_id[len('course-v1:') :]}+type@video+block@{video_id}"
    org, course, _run = [*course_id.split("/"), "", "", ""][:3]
    return f"i4x://{org}/{course}/video/{video_id}"


def _current_time(data: Any) -> float | None:
    return seconds(data.get("currentTime", data.get("current_time")))


def _result(kind: str, data: Any) -> dict[str, Any] | None:
    ext: dict[str, Any]
    if kind == "none":
        return None
    if kind == "time":
        ext = {xv.VIDEO_TIME: _current_time(data)}
    elif kind == "completed":
        return {"completion": True, "extensions": extensions({xv.VIDEO_TIME: seconds(data.get("duration"))})}
    elif kind == "seek":
        ext = {
            xv.VIDEO_TIME_FROM: seconds(data.get("old_time")),
            xv.VIDEO_TIME_TO: seconds(data.get("new_time")),
        }
    elif kind == "speed":
        ext = {
            xv.VIDEO_TIME: _current_time(data),
            xv.SPEED_FROM: f"{data.get('old_speed')}x",
            xv.SPEED_TO: f"{data.get('new_speed')}x",
        }
    else:
        ext = {xv.VIDEO_TIME: _current_time(data), xv.VIDEO_CC_ENABLED: kind == "cc_on"}
    found = extensions(ext)
    return {"extensions": found} if found else None


@register(FAMILY, *VERBS)
def video(envelope: Envelope, site: Site) -> dict[str, Any]:
    verb, kind = VERBS.get(envelope.name) or VERBS[envelope.event_type]
    data = payload(envelope)
    video_id = str(required(data, "id", envelope))
    course_id = envelope.context.course_id
    if not course_id and not video_id.startswith(("block-v1:", "i4x://")):
        raise EventRejected(f"{envelope.name}: no course id to make the video's usage key")
    obj = activity(site.iri("xblock", video_usage_key(course_id, video_id)), xv.VIDEO)
    context = {xv.VIDEO_LENGTH: seconds(data.get("duration"))}
    if data.get("language"):
        context[xv.VIDEO_CC_LANGUAGE] = data["language"]
    return statement(envelope, site, verb, obj, result=_result(kind, data), context_extensions=context)
