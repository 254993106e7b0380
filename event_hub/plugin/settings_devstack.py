"""``plugin_settings`` for the platform's ``devstack`` settings (see :mod:`event_hub.plugin.defaults`)."""

from __future__ import annotations

from typing import Any

from event_hub.plugin.defaults import fill


def plugin_settings(settings: Any) -> None:
    """Fill ``EVENT_HUB`` (and the middleware) of the platform's devstack settings."""
    fill(settings, "devstack")
