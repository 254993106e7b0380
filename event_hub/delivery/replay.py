"""Replaying a dead letter: deliver it again, in this process, and keep what still fails."""

from __future__ import annotations

import uuid

from django.utils import timezone

from event_hub.delivery.attempt import try_deliver
from event_hub.delivery.batch import Batch
from event_hub.delivery.deadletters import describe
from event_hub.models import DeadLetter


def replay(letter: DeadLetter) -> bool:
    """Deliver a dead letter again, in this process. True when it was delivered.

    Events the backend rejects again stay dead: the letter keeps its row with
    the new error, and nothing else of the batch is sent twice.
    """
    # batch_id is a UUID once loaded, but the hex str it was created with on a fresh instance.
    batch = Batch.from_payload(letter.backend, letter.payload, uuid.UUID(str(letter.batch_id)).hex)
    outcome = try_deliver(batch)
    letter.replay_attempts += 1
    failure = describe(outcome.error) if outcome.error else "; ".join(r.reason for r in outcome.rejected)
    if outcome.error is None and not outcome.rejected:
        letter.replayed_at = timezone.now()
        letter.last_replay_error = ""
    elif outcome.error is None:
        # Part of it went through: keep only the still-rejected events in the letter.
        letter.payload = batch.subset([r.line for r in outcome.rejected]).payload
        letter.event_count = len(outcome.rejected)
        letter.last_replay_error = failure
    else:
        letter.last_replay_error = failure
    letter.save()
    return letter.replayed_at is not None
