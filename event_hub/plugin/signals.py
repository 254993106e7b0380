"""Receivers the platform connects for event_hub (``signals_config`` of the Open edX plugin).

edx-django-utils imports this module once the apps are ready and connects, for
each description of :data:`RECEIVERS` (built in :mod:`event_hub.plugin.receivers`),
the function of this module it names to the signal at its ``signal_path``:
the bridge, :func:`~event_hub.openedx.bridge.bridge_signal`, for every Open edX
signal (it checks ``OPENEDX_BRIDGE_SIGNALS`` at each send).
"""

from __future__ import annotations

from event_hub.openedx.bridge import bridge_signal
from event_hub.plugin.receivers import RECEIVERS

__all__ = ["RECEIVERS", "bridge_signal"]
