"""Send any Open edX signal by its event type, through openedx-events itself.

:func:`send_signal` looks the signal up (after ``load_all_signals()``), lets
openedx-events validate the data exactly as it does for every sender, and sends
it. The library refuses a falsy value for any argument (its check is
``if not argument``); that refusal, and every other one, comes back as a
:class:`SignalRefused` that names the event type and the argument.

Receivers the hub connects (the bridge, the bus producer) are ordinary
receivers of the signal: sending through this façade or through
``SIGNAL.send_event`` is the same.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from openedx_events.exceptions import SenderValidationError
from openedx_events.tooling import OpenEdxPublicSignal, load_all_signals

from event_hub.exceptions import EventHubError

#: Other names of event types: the published list of events calls the grade-summary signal by this name.
ALIASES: Mapping[str, str] = {
    "org.openedx.learning.course.persistent_grade.summary.v1": (
        "org.openedx.learning.course.persistent_grade_summary.changed.v1"
    ),
}


class UnknownSignal(EventHubError, KeyError):
    """No Open edX signal has this event type."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SignalRefused(EventHubError, ValueError):
    """openedx-events refused the data of a signal."""


@functools.cache
def _loaded() -> None:
    load_all_signals()


def all_signals() -> list[OpenEdxPublicSignal]:
    """Every signal the installed openedx-events defines, in definition order."""
    _loaded()
    return list(OpenEdxPublicSignal.all_events())


def canonical(event_type: str) -> str:
    """The event type openedx-events uses for ``event_type`` (aliases resolved)."""
    return ALIASES.get(event_type, event_type)


def get_signal(event_type: str) -> OpenEdxPublicSignal:
    """The signal of ``event_type`` (or of one of its aliases)."""
    _loaded()
    try:
        return OpenEdxPublicSignal.get_signal_by_type(canonical(event_type))
    except KeyError:
        raise UnknownSignal(f"no Open edX signal has event type {event_type!r}") from None


def refusal(signal: OpenEdxPublicSignal, data: Mapping[str, Any]) -> str | None:
    """Why openedx-events would refuse ``data`` for ``signal`` (in our words), or ``None``."""
    expected = signal.init_data
    missing = sorted(set(expected) - set(data))
    unknown = sorted(set(data) - set(expected))
    if missing or unknown:
        return f"expects arguments {sorted(expected)}; missing {missing}, unexpected {unknown}"
    for key, kind in expected.items():
        value = data[key]
        if not value:
            return (
                f"argument {key!r} is {value!r}: openedx-events refuses every falsy value "
                "(None, 0, False, '', empty containers), even a valid one"
            )
        if not isinstance(value, kind):
            return f"argument {key!r} must be a {kind.__name__}, not {type(value).__name__}"
    return None


def send_signal(event_type: str, *, send_robust: bool = True, **data: Any) -> list[tuple[Any, Any]]:
    """Send the signal ``event_type`` with ``data``; return the receivers' responses.

    Raises :class:`UnknownSignal` for an unknown event type and
    :class:`SignalRefused` when openedx-events refuses the data.
    """
    signal = get_signal(event_type)
    try:
        responses: list[tuple[Any, Any]] = signal.send_event(send_robust=send_robust, **data)
    except SenderValidationError as exc:
        reason = refusal(signal, data) or str(exc)
        raise SignalRefused(f"{signal.event_type}: {reason}") from exc
    return responses
