"""One delivery attempt of a batch, and what to do with its outcome.

Used by the Celery task, by in-process (``sync``) delivery, by the outbox
republisher and by dead-letter replay, so every path classifies failures the
same way.
"""

from __future__ import annotations

import logging
import random

import attrs

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
        return Attempt(error=_permanent(f"backend {batch.backend!r} is not configured here: {exc}", exc))
    except Exception as exc:  # noqa: BLE001 - a backend that cannot be built: keep the batch as a dead letter
        return Attempt(error=_permanent(f"backend {batch.backend!r} cannot be built: {exc!r}", exc))
    try:
        result = backend.deliver(batch.lines)
    except DeliveryError as exc:
        return Attempt(error=exc)
    except Exception as exc:  # noqa: BLE001 - a bug in the backend: dead-letter the batch (with the traceback)
        return Attempt(error=_permanent(f"{batch.backend}: unexpected {type(exc).__name__}: {exc}", exc))
    return Attempt(delivered=result.delivered, rejected=result.rejected)


def _permanent(message: str, cause: BaseException) -> PermanentDeliveryError:
    error = PermanentDeliveryError(message)
    error.__cause__ = cause
    return error


def backoff_seconds(retries_so_far: int) -> float:
    """Delay before retry number ``retries_so_far + 1``: exponential, capped, with "equal jitter".

    The ceiling is ``RETRY_BACKOFF_SECONDS * 2 ** retries_so_far`` (at most
    ``RETRY_BACKOFF_MAX_SECONDS``); the delay is drawn between half the ceiling
    and the ceiling, so retries of many batches spread out but never come
    back at once.
    """
    ceiling = min(
        float(hub_settings.RETRY_BACKOFF_MAX_SECONDS),
        float(hub_settings.RETRY_BACKOFF_SECONDS) * 2 ** min(retries_so_far, 64),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter, not cryptography


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
        logger.warning(
            "backend %s rejected %d event(s) of batch %s", batch.backend, len(attempt.rejected), batch.id
        )
    if attempt.error is None:
        return False
    if attempt.retryable and attempts_made <= hub_settings.RETRY_MAX:
        logger.warning(
            "delivery of batch %s to %s failed (attempt %d), will retry: %s",
            batch.id, batch.backend, attempts_made, attempt.error,
        )
        return True
    reason = DeadLetter.Reason.RETRIES_EXHAUSTED if attempt.retryable else DeadLetter.Reason.PERMANENT
    deadletters.record(
        batch, reason=reason, error=deadletters.describe(attempt.error), attempts=attempts_made
    )
    logger.error(
        "batch %s (%d events) to %s dead-lettered (%s): %s",
        batch.id, len(batch), batch.backend, reason, attempt.error,
    )
    return False
