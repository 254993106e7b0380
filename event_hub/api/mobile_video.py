"""Mobile video events: the app's names and members brought to the tracking-log shape.

The edX mobile apps cannot send their video events exactly as the browser
player does; the platform rewrites them on arrival, and so does event_hub
before the catalog sees them (the catalog then gives each its legacy
``event_type``: ``edx.video.played`` is a ``play_video`` event):

* ``edx.video.seeked`` (never meant to be sent) is ``edx.video.position.changed``;
* ``module_id`` (a usage key) becomes ``id``, the key's HTML id;
* ``current_time`` becomes ``currentTime``;
* ``seek_type`` ``slide``/``skip`` becomes ``type`` ``onSlideSeek``/``onSkipSeek``;
* a skip whose ``requested_skip_interval`` is not ±30 s was really a slide
  (one Android build could not tell them apart);
* the iOS build ``1.0.02`` reported a -30 s skip as +30 s;
* ``context.open_in_browser_url`` gives ``page``: that URL without its last
  path segment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import attrs
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import UsageKey

logger = logging.getLogger(__name__)

#: The name the app sends by mistake, and the one it means.
RENAMED = {"edx.video.seeked": "edx.video.position.changed"}
#: ``seek_type`` values of the app and the ``type`` values of the tracking log.
SEEK_TYPES = {"slide": "onSlideSeek", "skip": "onSkipSeek"}
SKIP_SECONDS = 30
#: The app build that sent +30 for a backward skip.
IOS_SKIP_BUG = ("edx.mobileapp.iOS", "1.0.02")


@attrs.frozen
class MobileVideoEvent:
    """A mobile video event after the rewrite."""

    name: str
    data: Any
    context: dict[str, Any]
    page: str | None = None


def is_video_event(name: str) -> bool:
    """Whether ``name`` is one of the app's video event names (``edx.video.*``)."""
    return name.startswith("edx.video.")


def rewrite(name: str, data: Any, context: Mapping[str, Any]) -> MobileVideoEvent:
    """``name``, ``data`` and ``context`` of a mobile video event as the tracking log keeps them."""
    name = RENAMED.get(name, name)
    context = dict(context)
    page = None
    url = context.pop("open_in_browser_url", None)
    if isinstance(url, str) and url:
        page = url.rpartition("/")[0]
    if not isinstance(data, dict) or not data:
        return MobileVideoEvent(name=name, data=data, context=context, page=page)
    data = dict(data)
    if "module_id" in data:
        module_id = data.pop("module_id")
        try:
            data["id"] = UsageKey.from_string(str(module_id)).html_id()  # type: ignore[attr-defined]
        except InvalidKeyError:
            # Dropped as the platform drops it; the catalog then reports the missing ``id``.
            logger.warning("mobile video event %r: module_id %r is not a usage key", name, module_id)
    if "current_time" in data:
        data["currentTime"] = data.pop("current_time")
    if "seek_type" in data:
        seek_type = data.pop("seek_type")
        if seek_type in SEEK_TYPES:
            data["type"] = SEEK_TYPES[seek_type]
    interval = data.get("requested_skip_interval")
    if isinstance(interval, (int, float)) and "type" in data:
        if abs(interval) != SKIP_SECONDS:
            data["type"] = SEEK_TYPES["slide"]
        elif interval == SKIP_SECONDS and data["type"] == SEEK_TYPES["skip"] and _ios_skip_bug(context):
            data["requested_skip_interval"] = -SKIP_SECONDS
    return MobileVideoEvent(name=name, data=data, context=context, page=page)


def _ios_skip_bug(context: Mapping[str, Any]) -> bool:
    application = context.get("application")
    if not isinstance(application, Mapping):
        return False
    return (application.get("name"), application.get("version")) == IOS_SKIP_BUG
