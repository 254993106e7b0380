"""Celery tasks: deliver one batch to one backend; re-publish the outbox and orphaned spool files.

``deliver_batch`` is acks-late and rejects on worker loss, so a pool process
killed mid-batch leaves the message to be delivered again. A message the broker
loses (a worker's main process killed on Redis) is published again from the
outbox, where the batch is held until this task *confirms* it settled
(delivered or dead-lettered) or postpones it while its retry is scheduled.
Backends drop what they receive twice (the file backend by batch, others by
event id). Each message is one batch for one backend, so a failing backend
never makes another backend send twice.

Failures are classified by the backend: retryable ones are retried with
exponential backoff up to ``RETRY_MAX`` times (the backend's own limits when it has them; a
``Retry-After`` from the destination is the least delay), permanent ones and exhausted
retries are dead-lettered. If the retry cannot be published, the batch is
parked in the outbox; if the database cannot take a dead letter or an outbox
row either, the message is requeued rather than dropped.
"""

from __future__ import annotations

import logging
import time
from typing import NoReturn

from celery import Task, shared_task
from celery.exceptions import Reject
from django.db import DatabaseError

from event_hub import invalid
from event_hub.delivery import outbox, republish, spool
from event_hub.delivery.attempt import Attempt, backoff_seconds, record_delivery, settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.exceptions import HandOffError

logger = logging.getLogger(__name__)

#: Seconds to wait before requeueing a message whose failure could not be recorded.
REQUEUE_PAUSE = 1.0


@shared_task(
    bind=True,
    name="event_hub.deliver_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,
)
def deliver_batch(self: Task, backend: str, payload: str, batch_id: str) -> int:
    """Deliver one batch to ``backend``; return how many events were delivered."""
    batch = Batch.from_payload(backend, payload, batch_id)
    retries = int(self.request.retries or 0)
    outcome = try_deliver(batch)
    record_delivery(batch, outcome)
    try:
        retry = settle(batch, outcome, attempts_made=retries + 1)
    except (DatabaseError, HandOffError) as exc:
        _requeue(batch, "cannot record the outcome", exc)
    if retry:
        _retry(self, batch, retries, outcome)
    else:
        _confirm(batch)
    return outcome.delivered


def _requeue(batch: Batch, problem: str, exc: Exception) -> NoReturn:
    """Give the message back to the broker (after a pause): what became of the batch could not be kept."""
    logger.error("%s of batch %s (%s); requeueing it", problem, batch.id, exc)
    time.sleep(REQUEUE_PAUSE)
    raise Reject(str(exc), requeue=True) from exc


def _confirm(batch: Batch) -> None:
    """Tell the outbox the batch is settled (delivered or dead-lettered), so it is not published again."""
    try:
        outbox.confirm(batch.id)
    except HandOffError as exc:
        # Not lost: the outbox publishes it again when due, and the backend drops the repeat.
        logger.warning("%s; it will be delivered again", exc)


def _retry(task: Task, batch: Batch, retries: int, outcome: Attempt) -> None:
    """Publish the retry and end the task in the RETRY state; park the batch if the retry cannot go out."""
    error = str(outcome.error)
    countdown = backoff_seconds(retries, batch, outcome)
    try:
        outbox.postpone(batch.id, countdown, error=error, attempts=retries + 1)
    except HandOffError as exc:
        logger.warning("%s; if its retry is lost it is published again sooner", exc)
    try:
        retry = task.retry(countdown=countdown, throw=False)
    except Exception as exc:  # noqa: BLE001 - the retry could not be published: park it instead
        logger.warning("cannot publish retry of batch %s (%s); parking it in the outbox", batch.id, exc)
        try:
            outbox.park(batch, error=error, attempts=retries + 1, delay=countdown)
        except HandOffError as park_error:
            _requeue(batch, "cannot publish the retry nor park it", park_error)
        return
    # The retry message is out: raising Retry acks this message and marks the task RETRY
    # (not SUCCESS), which is what monitoring should see.
    raise retry


@shared_task(name="event_hub.republish_outbox", ignore_result=True)
def republish_outbox() -> dict[str, int]:
    """Send due outbox batches on, and what dead processes left in their spool files (schedule this
    periodically, e.g. every minute)."""
    recovered = spool.recover_orphans()
    if recovered.files or recovered.remaining:
        logger.info("spool: %s", recovered)
    report = republish.republish()
    pruned = invalid.prune()
    if report.sent or report.delivered or report.failed:
        logger.info("outbox: %s", report)
    return {
        "spool_files": recovered.files,
        "spool_events": recovered.events,
        "spool_remaining": recovered.remaining,
        "sent": report.sent,
        "delivered": report.delivered,
        "retried": report.retried,
        "dead": report.dead,
        "failed": report.failed,
        "remaining": report.remaining,
        "invalid_pruned": pruned,
    }
