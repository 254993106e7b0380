"""The backend base class: it owns the delivery flow, subclasses fill in two hooks.

A batch reaches a backend as JSON lines (one rendered event per line, exactly
as processors left it). :meth:`Backend.deliver` runs the flow:

1. :meth:`Backend.serialize` each line into what the destination takes. Raising
   :class:`~event_hub.exceptions.EventRejected` for one event sets that event
   aside (it is dead-lettered alone) and the rest goes on.
2. :meth:`Backend.send` the serialized items in one call.
3. Any error from ``send`` is classified by :meth:`Backend.classify` as
   retryable (the task retries the whole batch with backoff) or permanent
   (dead-lettered at once).

A concrete backend is usually a dozen lines: ``send`` and perhaps
``serialize``, ``check_options`` and ``retryable``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs
import orjson

from event_hub.exceptions import (
    DeliveryError,
    EventRejected,
    PermanentDeliveryError,
    RetryableDeliveryError,
)


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
        """Names ``OPTIONS`` may use (the keyword parameters of ``__init__``)."""
        import inspect

        params = inspect.signature(cls.__init__).parameters
        return tuple(p.name for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        """Problems with ``options``, as messages for the system checks (none by default)."""
        return []

    def serialize(self, line: bytes) -> Any:
        """Turn one JSON line into what :meth:`send` takes (the decoded dict by default)."""
        return orjson.loads(line)

    def send(self, items: Sequence[Any]) -> None:
        """Deliver ``items`` to the destination; raise on failure."""
        raise NotImplementedError

    def classify(self, exc: Exception) -> DeliveryError:
        """Wrap an error from :meth:`send` as retryable or permanent."""
        if isinstance(exc, DeliveryError):
            return exc
        kind = RetryableDeliveryError if isinstance(exc, self.retryable) else PermanentDeliveryError
        error = kind(f"{self.name}: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return error

    def deliver(self, lines: Sequence[bytes]) -> DeliveryResult:
        """Serialize, send and classify; raises only :class:`DeliveryError` subclasses."""
        items: list[Any] = []
        rejected: list[Rejected] = []
        for line in lines:
            try:
                items.append(self.serialize(line))
            except EventRejected as exc:
                rejected.append(Rejected(line=line, reason=str(exc)))
            except (ValueError, TypeError) as exc:
                rejected.append(Rejected(line=line, reason=f"cannot serialize: {exc}"))
        if items:
            try:
                self.send(items)
            except Exception as exc:
                raise self.classify(exc) from exc
        return DeliveryResult(delivered=len(items), rejected=tuple(rejected))

    def close(self) -> None:
        """Release resources (files, connections); called when settings change."""


def _keyword_only(klass: type) -> tuple[str, ...]:
    """Keyword-only parameters of the ``__init__`` that ``klass`` itself defines."""
    import inspect

    init = vars(klass).get("__init__")
    if init is None:
        return ()
    params = inspect.signature(init).parameters
    return tuple(p.name for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY)
