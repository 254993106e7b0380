"""What the Open edX plugin puts into the platform's settings, for each settings type.

:func:`fill` runs from the ``plugin_settings`` of each settings module
(:mod:`event_hub.plugin.settings_common` and its siblings), at the end of the platform's
settings file of that type. It:

* adds :class:`~event_hub.middleware.EventHubMiddleware` after Django's authentication
  middleware when it is not in ``MIDDLEWARE`` yet;
* fills ``EVENT_HUB`` with what :func:`event_hub.plugin.migration.translate` derives from
  the platform's own settings (``LMS_SEGMENT_KEY``, the whitelists, ``EVENT_BUS_*``...),
  key by key, never over a key the operator set. ``production`` runs after the platform
  has read its YAML, so a key derived earlier by ``common`` is derived again there.

Side by side with event-tracking, the tracking log goes to its own file next to the
platform's (:data:`SIDE_BY_SIDE_LOG`), so the two never write one file twice; the
``test`` settings deliver in-process to memory, ``devstack`` in-process to the log.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from event_hub.plugin.migration import JSONLOG_ENGINE, translate

MIDDLEWARE = "event_hub.middleware.EventHubMiddleware"
AFTER = "django.contrib.auth.middleware.AuthenticationMiddleware"
#: Name of event_hub's tracking log beside the platform's.
SIDE_BY_SIDE_LOG = "tracking.event_hub.log"
#: Attribute of the settings module remembering what was derived (not a Django setting: lower case).
DERIVED_ATTRIBUTE = "_event_hub_derived"


def derived(settings: Any, settings_type: str) -> dict[str, Any]:
    """The ``EVENT_HUB`` keys the plugin derives for a platform settings module of ``settings_type``."""
    values = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
    hub = translate(values).hub
    if not hub.get("BACKENDS"):
        hub.pop("BACKENDS", None)  # nothing to translate: event_hub's default tracking log
    for entry in hub.get("BACKENDS", {}).values():
        if entry["ENGINE"] == JSONLOG_ENGINE:
            path = PurePosixPath(entry["OPTIONS"]["path"])
            entry["OPTIONS"]["path"] = str(path.with_name(SIDE_BY_SIDE_LOG))
    if settings_type == "test":
        hub["DELIVERY"] = "sync"
        hub["BACKENDS"] = {"tracking_log": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}}
    elif settings_type == "devstack":
        hub["DELIVERY"] = "sync"
    return hub


def fill(settings: Any, settings_type: str) -> None:
    """Add the middleware and the derived ``EVENT_HUB`` keys to the settings module ``settings``."""
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if MIDDLEWARE not in middleware:
        index = middleware.index(AFTER) + 1 if AFTER in middleware else len(middleware)
        middleware.insert(index, MIDDLEWARE)
        settings.MIDDLEWARE = middleware
    new = derived(settings, settings_type)
    previous: dict[str, Any] = getattr(settings, DERIVED_ATTRIBUTE, {})
    hub = dict(getattr(settings, "EVENT_HUB", None) or {})
    for key, value in previous.items():
        if key not in new and hub.get(key) == value:
            del hub[key]  # derived before, no longer derived (the YAML changed the platform setting)
    for key, value in new.items():
        if key not in hub or (key in previous and hub[key] == previous[key]):
            hub[key] = value
    settings.EVENT_HUB = hub
    setattr(settings, DERIVED_ATTRIBUTE, new)
