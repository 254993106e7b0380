"""The one exception hierarchy of event_hub.

This module imports nothing from the package so every other module can use it
without import cycles.

* :class:`EventHubError` is the root: ``except EventHubError`` catches anything
  event_hub raises on purpose.
* Configuration problems also subclass Django's ``ImproperlyConfigured``.
* Bad input (an event that does not match the catalog) also subclasses
  ``ValueError``.
* Delivery problems are split into retryable and permanent; the delivery task
  retries the first kind with backoff and dead-letters the second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import ImproperlyConfigured


class EventHubError(Exception):
    """Base class of every error event_hub raises on purpose."""


class ConfigurationError(EventHubError, ImproperlyConfigured):
    """The ``EVENT_HUB`` setting (or a part it names) is wrong."""


class DropEvent(EventHubError):
    """Raised by a processor to drop the event for the backend it runs for.

    Dropping is not an error: the event is simply not delivered to that
    backend.
    """


class InvalidEventError(EventHubError, ValueError):
    """An event does not match the catalog.

    ``errors`` maps a field path (``"event.attempts"``, ``"event.correct_map.x.npoints"``)
    to the list of messages for that field; ``""`` holds errors about the event
    as a whole (an unknown name, a source not allowed for the type).
    """

    def __init__(self, name: str, errors: Mapping[str, Sequence[str]]) -> None:
        self.name = name
        self.errors: dict[str, list[str]] = {key: list(messages) for key, messages in errors.items()}
        summary = "; ".join(
            f"{path or 'event'}: {', '.join(messages)}" for path, messages in self.errors.items()
        )
        super().__init__(f"invalid event {name!r}: {summary}")


class UnknownEventError(InvalidEventError):
    """The event name is not in the catalog (and the policy does not accept untyped events)."""


class DeliveryError(EventHubError):
    """A backend could not deliver a batch."""


class RetryableDeliveryError(DeliveryError):
    """Delivery failed for a reason that may go away (network, disk full, rate limit).

    ``retry_after`` is the earliest the destination wants the next attempt, in
    seconds (an HTTP ``Retry-After``); the retry waits at least that long.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Delivery failed for a reason retrying will not fix (rejected payload, bug)."""


class EventRejected(PermanentDeliveryError):
    """A backend refuses one event of a batch (too large, not representable); the rest goes on."""


class HandOffError(EventHubError):
    """A batch could not be handed on (published, or parked in the outbox)."""


class BrokerUnavailableError(HandOffError):
    """The broker refused a publish, or refused one a moment ago and is given time to recover."""
