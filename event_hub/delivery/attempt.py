"""One delivery attempt of a batch, and what to do with its outcome.

Used by the Celery task, by in-process (``sync``) delivery, by the outbox
republisher and by dead-letter replay, so every path classifies failures the
same way.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import attrs

from event_hub import metrics, progress
from event_hub.backends import backend_class, get_backend
from event_hub.backends.base import Rejected
from event_hub.conf import hub_settings
from event_hub.delivery import deadletters
from event_hub.delivery.batch import Batch
from event_hub.exceptions import (
    ConfigurationError,
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from event_hub.models import DeadLetter

logger = logging.getLogger(__name__)


@attrs.frozen
class Attempt:
    """The outcome of handing a batch to its backend once."""

    delivered: int = 0
    rejected: tuple[Rejected, ...] = ()
    error: DeliveryError | None = None

    @property
    def retryable(self) -> bool:
        """Whether the whole batch failed for a reason worth retrying."""
        return isinstance(self.error, RetryableDeliveryError)

    @property
    def retry_after(self) -> float:
        """The least delay the destination asked for before the next attempt (0 when it did not)."""
        if isinstance(self.error, RetryableDeliveryError) and self.error.retry_after:
            return float(self.error.retry_after)
        return 0.0


@attrs.frozen
class RetryPolicy:
    """How often, and how far apart, a backend's failed batches are retried."""

    max_retries: int
    backoff_seconds: float
    backoff_max_seconds: float

    def delay(self, retries_so_far: int, attempt: Attempt | None = None) -> float:
        """Delay before retry number ``retries_so_far + 1``: exponential, capped, with "equal jitter".

        The ceiling is ``backoff_seconds * 2 ** retries_so_far`` (at most
        ``backoff_max_seconds``); the delay is drawn between half the ceiling
        and the ceiling, so retries of many batches spread out but never come
        back at once. A ``Retry-After`` of the failed attempt is a lower bound.
        """
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** min(retries_so_far, 64))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter, not cryptography
        return max(delay, attempt.retry_after if attempt is not None else 0.0)


def retry_policy(backend: str | None) -> RetryPolicy:
    """The retry policy of ``backend``: its ``BACKENDS`` keys, else its class's, else ``EVENT_HUB``'s
    (only those for ``None`` or a backend not configured here)."""
    config = hub_settings.backend_configs().get(backend, {}) if backend is not None else {}
    cls: Any = None
    if config:
        try:
            cls = backend_class(config.get("ENGINE"), str(backend))
        except ConfigurationError:
            cls = None

    def pick(key: str, attribute: str) -> Any:
        if config.get(key) is not None:
            return config[key]
        own = getattr(cls, attribute, None)
        return own if own is not None else getattr(hub_settings, key)

    return RetryPolicy(
        max_retries=int(pick("RETRY_MAX", "retry_max")),
        backoff_seconds=float(pick("RETRY_BACKOFF_SECONDS", "retry_backoff_seconds")),
        backoff_max_seconds=float(pick("RETRY_BACKOFF_MAX_SECONDS", "retry_backoff_max_seconds")),
    )


def try_deliver(batch: Batch) -> Attempt:
    """Give ``batch`` to its backend once; never raises."""
    try:
        backend = get_backend(batch.backend)
    except ConfigurationError as exc:
        return Attempt(error=_permanent(f"backend {batch.backend!r} is not configured here: {exc}", exc))
    except Exception as exc:  # noqa: BLE001 - a backend that cannot be built: keep the batch as a dead letter
        return Attempt(error=_permanent(f"backend {batch.backend!r} cannot be built: {exc!r}", exc))
    try:
        result = backend.deliver(batch)
    except DeliveryError as exc:
        return Attempt(error=exc)
    except Exception as exc:  # noqa: BLE001 - a bug in the backend: dead-letter the batch (with the traceback)
        return Attempt(error=_permanent(f"{batch.backend}: unexpected {type(exc).__name__}: {exc}", exc))
    return Attempt(delivered=result.delivered, rejected=result.rejected)


def record_delivery(batch: Batch, attempt: Attempt) -> None:
    """Count what ``attempt`` delivered and note it as the backend's last delivery (``event_hub_status``)."""
    if attempt.delivered:
        metrics.delivered(batch.backend, attempt.delivered, batch.age())
        progress.note_delivered(batch.backend, batch.id, attempt.delivered)


def _permanent(message: str, cause: BaseException) -> PermanentDeliveryError:
    error = PermanentDeliveryError(message)
    error.__cause__ = cause
    return error


def backoff_seconds(retries_so_far: int, batch: Batch | None = None, attempt: Attempt | None = None) -> float:
    """Delay before retry number ``retries_so_far + 1`` of ``batch`` (see :meth:`RetryPolicy.delay`)."""
    return retry_policy(batch.backend if batch is not None else None).delay(retries_so_far, attempt)


def settle(batch: Batch, attempt: Attempt, *, attempts_made: int) -> bool:
    """Dead-letter what must be; return True when the batch should be retried.

    Rejected single events are dead-lettered alone. A permanent failure, or a
    retryable one after ``RETRY_MAX`` retries, dead-letters the batch.
    """
    if attempt.rejected:
        metrics.dead_lettered(batch.backend, len(attempt.rejected), DeadLetter.Reason.REJECTED)
        for rejected in attempt.rejected:
            deadletters.record(
                batch.subset([rejected.line]),
                reason=DeadLetter.Reason.REJECTED,
                error=rejected.reason,
                attempts=attempts_made,
            )
        logger.warning(
            "backend %s rejected %d event(s) of batch %s", batch.backend, len(attempt.rejected), batch.id
        )
    if attempt.error is None:
        return False
    if attempt.retryable and attempts_made <= retry_policy(batch.backend).max_retries:
        metrics.retried(batch.backend, len(batch))
        logger.warning(
            "delivery of batch %s to %s failed (attempt %d), will retry: %s",
            batch.id, batch.backend, attempts_made, attempt.error,
        )
        return True
    reason = DeadLetter.Reason.RETRIES_EXHAUSTED if attempt.retryable else DeadLetter.Reason.PERMANENT
    metrics.dead_lettered(batch.backend, len(batch), reason)
    deadletters.record(
        batch, reason=reason, error=deadletters.describe(attempt.error), attempts=attempts_made
    )
    logger.error(
        "batch %s (%d events) to %s dead-lettered (%s): %s",
        batch.id, len(batch), batch.backend, reason, attempt.error,
    )
    return False
