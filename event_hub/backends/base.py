"""The backend base class: it owns the delivery flow, subclasses fill in two hooks.

A batch reaches a backend as processed envelopes (one
:meth:`~event_hub.envelope.Envelope.to_wire` JSON object per line, exactly as
the processors of its route left them). :meth:`Backend.deliver` runs the flow:

1. :meth:`Backend.transform` turns each envelope into what the destination
   takes (its own wire format: a tracking-log line, a Segment message, an xAPI
   statement). A backend whose format is a reshaping of the line itself may
   override :meth:`Backend.transform_line` instead, which receives the line
   and by default decodes the envelope and calls ``transform``. Raising
   :class:`~event_hub.exceptions.EventRejected` for one event sets that event
   aside (it is dead-lettered alone) and the rest goes on.
2. :meth:`Backend.send` the transformed items in one call.
3. Any error from ``send`` is classified by :meth:`Backend.classify` as
   retryable (the task retries the whole batch with backoff) or permanent
   (dead-lettered at once).

A concrete backend is usually a dozen lines: ``send`` and perhaps
``transform``, ``check_options`` and ``retryable``. A backend may also state
its own retry limits (:attr:`Backend.retry_max` …); ``BACKENDS[name]`` keys
override them.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from event_hub import jsonio
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope
from event_hub.exceptions import (
    DeliveryError,
    EventRejected,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from event_hub.processors import Processor


@attrs.frozen
class Rejected:
    """One event a backend refused, and why."""

    line: bytes
    reason: str


@attrs.frozen
class DeliveryResult:
    """What :meth:`Backend.deliver` achieved for a batch that did not fail as a whole."""

    delivered: int
    rejected: tuple[Rejected, ...] = ()


class Backend:
    """Base class of every backend."""

    #: Exception types from ``send`` that mean "try again later".
    retryable: ClassVar[tuple[type[BaseException], ...]] = (OSError, TimeoutError, ConnectionError)
    #: This backend's own retry limits (``None``: the ``EVENT_HUB`` defaults).
    retry_max: ClassVar[int | None] = None
    retry_backoff_seconds: ClassVar[float | None] = None
    retry_backoff_max_seconds: ClassVar[float | None] = None

    def __init__(self, name: str, **options: Any) -> None:
        # Options reach here from ``OPTIONS`` directly (a backend without its own ``__init__``)
        # or from a subclass's ``super().__init__``, which may pass its parent's options on.
        accepted = {option for klass in type(self).__mro__ for option in _keyword_only(klass)}
        unknown = set(options) - accepted
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown option(s): {', '.join(sorted(unknown))}")
        self.name = name

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Names ``OPTIONS`` may use (the keyword-only parameters of every ``__init__`` in the MRO)."""
        names: dict[str, None] = {}
        for klass in cls.__mro__:
            names.update(dict.fromkeys(_keyword_only(klass)))
        return tuple(names)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        """Problems with ``options``, as messages for the system checks (none by default)."""
        return []

    @classmethod
    def route_processors(cls, options: Mapping[str, Any]) -> tuple[Processor, ...]:
        """Processors this backend adds to its route, built from its ``OPTIONS`` (none by default).

        They run at emit time before the backend's ``PROCESSORS`` (an allowlist
        option drops events before they are ever handed off, for instance).
        """
        return ()

    def transform(self, envelope: Envelope) -> Any:
        """Turn one envelope into what :meth:`send` takes (the envelope itself by default)."""
        return envelope

    def transform_line(self, line: bytes) -> Any:
        """Turn one line of a batch into what :meth:`send` takes: ``transform(decode(line))``.

        A backend may override it to read the line its own, cheaper way (the file backend
        splits it with :func:`event_hub.wireline.split`; Segment and the bus read its JSON
        without building an envelope), provided the result, and the errors of a malformed
        line, are those of ``transform(decode(line))``.
        """
        return self.transform(decode(line))

    def send(self, items: Sequence[Any], batch: Batch) -> None:
        """Deliver ``items`` (the transformed events of ``batch``) to the destination; raise on failure."""
        raise NotImplementedError

    def classify(self, exc: Exception) -> DeliveryError:
        """Wrap an error from :meth:`send` as retryable or permanent."""
        if isinstance(exc, DeliveryError):
            return exc
        kind = RetryableDeliveryError if isinstance(exc, self.retryable) else PermanentDeliveryError
        error = kind(f"{self.name}: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return error

    def deliver(self, batch: Batch) -> DeliveryResult:
        """Transform, send and classify; raises only :class:`DeliveryError` subclasses."""
        items: list[Any] = []
        rejected: list[Rejected] = []
        transform_line = self.transform_line
        for line in batch.lines:
            try:
                items.append(transform_line(line))
            except EventRejected as exc:
                rejected.append(Rejected(line=line, reason=str(exc)))
            except (ValueError, TypeError, KeyError) as exc:
                rejected.append(Rejected(line=line, reason=f"cannot transform: {type(exc).__name__}: {exc}"))
        if items:
            try:
                self.send(items, batch)
            except Exception as exc:
                raise self.classify(exc) from exc
        return DeliveryResult(delivered=len(items), rejected=tuple(rejected))

    def close(self) -> None:
        """Release resources (files, connections); called when settings change."""


def decode(line: bytes) -> Envelope:
    """The envelope one line of a batch carries."""
    return Envelope.from_wire(jsonio.loads(line))


def _keyword_only(klass: type) -> tuple[str, ...]:
    """Keyword-only parameters of the ``__init__`` that ``klass`` itself defines."""
    init = vars(klass).get("__init__")
    if init is None:
        return ()
    params = inspect.signature(init).parameters
    return tuple(p.name for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY)
