"""Open edX plugin registration: what the LMS and Studio read to install event_hub by themselves.

The platform finds plugin apps through the entry point groups ``lms.djangoapp``
and ``cms.djangoapp`` (``pyproject.toml``) and reads :data:`PLUGIN_APP`, the
``plugin_app`` attribute of :class:`~event_hub.apps.EventHubConfig`, with
edx-django-utils:

* ``url_config``: :mod:`event_hub.plugin.urls` mounted at the site root
  (``/api/tracking``, and ``/event-hub/event``, the drop-in for ``/event``);
* ``settings_config``: for each settings type a module whose ``plugin_settings(settings)``
  fills ``EVENT_HUB`` from the platform's own settings (:mod:`event_hub.plugin.defaults`);
* ``signals_config``: :mod:`event_hub.plugin.signals` and the bridge receivers it declares
  (:mod:`event_hub.plugin.receivers`).

The dictionary uses plain strings, so importing it needs neither edx-django-utils nor the platform.
"""

from __future__ import annotations

from typing import Any

from event_hub.plugin.receivers import RECEIVERS

#: Entry point groups (edx-django-utils' ``ProjectType``).
LMS = "lms.djangoapp"
CMS = "cms.djangoapp"
PROJECT_TYPES = (LMS, CMS)
#: Settings types (edx-django-utils' ``SettingsType``) with a module of their own.
SETTINGS_TYPES = ("common", "production", "devstack", "test")


def _plugin_app() -> dict[str, Any]:
    return {
        "url_config": {
            project: {"namespace": "event_hub", "regex": r"^", "relative_path": "plugin.urls"}
            for project in PROJECT_TYPES
        },
        "settings_config": {
            project: {kind: {"relative_path": f"plugin.settings_{kind}"} for kind in SETTINGS_TYPES}
            for project in PROJECT_TYPES
        },
        "signals_config": {
            project: {"relative_path": "plugin.signals", "receivers": list(RECEIVERS)}
            for project in PROJECT_TYPES
        },
    }


PLUGIN_APP: dict[str, Any] = _plugin_app()
