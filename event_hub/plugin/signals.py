"""Receivers the platform connects for event_hub (``signals_config`` of the Open edX plugin).

Each entry of :data:`RECEIVERS` is an edx-django-utils receiver description:
``receiver_func_name`` (a function of this module), ``signal_path`` (import path of the
signal) and optionally ``sender_path`` and ``dispatch_uid``. The bridge from
openedx-events signals to the hub adds its receivers here.
"""

from __future__ import annotations

from typing import Any

RECEIVERS: list[dict[str, Any]] = []
