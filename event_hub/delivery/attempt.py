"""One delivery attempt of a batch, and what to do with its outcome.

Used by the Celery task, by in-process (``sync``) delivery, by the outbox
republisher and by dead-letter replay, so every path classifies failures the
same way.
"""

from __future__ import annotations

import logging

import attrs
from celery.utils.time import get_exponential_backoff_interval

from event_hub.backends import get_backend
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


def try_deliver(batch: Batch) -> Attempt:
    """Give ``batch`` to its backend once; never raises."""
    try:
        backend = get_backend(batch.backend)
    except ConfigurationError as exc:
        error = PermanentDeliveryError(f"backend {batch.backend!r} is not configured here: {exc}")
        error.__cause__ = exc
        return Attempt(error=error)
    try:
        result = backend.deliver(batch.lines)
    except DeliveryError as exc:
        return Attempt(error=exc)
    return Attempt(delivered=result.delivered, rejected=result.rejected)


def backoff_seconds(retries_so_far: int) -> int:
    """Delay before retry number ``retries_so_far + 1`` (exponential, full jitter, capped)."""
    return int(
        get_exponential_backoff_interval(
            factor=hub_settings.RETRY_BACKOFF_SECONDS,
            retries=retries_so_far,
            maximum=hub_settings.RETRY_BACKOFF_MAX_SECONDS,
            full_jitter=True,
        )
    )


def settle(batch: Batch, attempt: Attempt, *, attempts_made: int) -> bool:
    """Dead-letter what must be; return True when the batch should be retried.

    Rejected single events are dead-lettered alone. A permanent failure, or a
    retryable one after ``RETRY_MAX`` retries, dead-letters the batch.
    """
    if attempt.rejected:
        for rejected in attempt.rejected:
            deadletters.record(
                batch.subset([rejected.line]),
                reason=DeadLetter.Reason.REJECTED,
                error=rejected.reason,
                attempts=attempts_made,
            )
        logger.warning("backend %s rejected %d event(s) of batch %s", batch.backend, len(attempt.rejected), batch.id)
    if attempt.error is None:
        return False
    if attempt.retryable and attempts_made <= hub_settings.RETRY_MAX:
        logger.warning(
            "delivery of batch %s to %s failed (attempt %d), will retry: %s",
            batch.id, batch.backend, attempts_made, attempt.error,
        )
        return True
    reason = DeadLetter.Reason.RETRIES_EXHAUSTED if attempt.retryable else DeadLetter.Reason.PERMANENT
    deadletters.record(batch, reason=reason, error=deadletters.describe(attempt.error), attempts=attempts_made)
    logger.error(
        "batch %s (%d events) to %s dead-lettered (%s): %s",
        batch.id, len(batch), batch.backend, reason, attempt.error,
    )
    return False
