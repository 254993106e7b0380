"""The receiver descriptions of the Open edX plugin's ``signals_config``, as plain data.

edx-django-utils connects, for each description, the function named
``receiver_func_name`` of :mod:`event_hub.plugin.signals` to the signal at
``signal_path`` with ``dispatch_uid``. event_hub declares the bridge
(:func:`event_hub.openedx.bridge.bridge_signal`) for every signal the installed
openedx-events defines, each under the dispatch uid that
:func:`event_hub.openedx.bridge.connect` uses too: whichever connects first,
Django keeps one connection per signal, so the app config connecting the bridge
and the platform connecting the plugin's receivers never deliver a signal twice.

This module imports openedx-events but nothing of Django's app registry, so the
app config can read it while apps load. Without openedx-events (the ``openedx``
extra) there is nothing to declare.
"""

from __future__ import annotations

import sys
from typing import Any

try:
    from openedx_events.tooling import OpenEdxPublicSignal, load_all_signals
except ImportError:  # the "openedx" extra is not installed
    OpenEdxPublicSignal = None

#: Name of the bridge receiver in :mod:`event_hub.plugin.signals`.
BRIDGE_RECEIVER = "bridge_signal"


def bridge_dispatch_uid(event_type: str) -> str:
    """The dispatch uid of the bridge's connection to the signal of ``event_type``."""
    return f"event_hub.openedx.bridge:{event_type}"


def signal_paths() -> dict[str, str]:
    """Import path of each signal of the installed openedx-events, by event type."""
    if OpenEdxPublicSignal is None:
        return {}
    load_all_signals()
    paths: dict[str, str] = {}
    modules = sorted(
        name for name in sys.modules if name.startswith("openedx_events.") and name.endswith(".signals")
    )
    for module in modules:
        for attribute, value in vars(sys.modules[module]).items():
            if isinstance(value, OpenEdxPublicSignal):
                paths.setdefault(value.event_type, f"{module}.{attribute}")
    return paths


def bridge_receivers() -> list[dict[str, Any]]:
    """One edx-django-utils receiver description of the bridge per signal."""
    return [
        {
            "receiver_func_name": BRIDGE_RECEIVER,
            "signal_path": path,
            "dispatch_uid": bridge_dispatch_uid(event_type),
        }
        for event_type, path in sorted(signal_paths().items())
    ]


#: What ``signals_config`` lists for the LMS and Studio.
RECEIVERS: list[dict[str, Any]] = bridge_receivers()
