"""The xAPI backend against a real Ralph LRS on loopback: delivery, read-back, the router's failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from django.contrib.auth import get_user_model

from event_hub import tracker, xapi
from event_hub.backends import get_backend
from event_hub.backends.xapi import XapiBackend
from event_hub.delivery.attempt import settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.delivery.republish import republish
from event_hub.delivery.unit_of_work import unit_of_work
from event_hub.exceptions import PermanentDeliveryError, RetryableDeliveryError
from event_hub.models import DeadLetter, OutboxBatch
from tests.xapi import conformance, samples
from tests.xapi.ralph_lrs import PASSWORD, USERNAME, Ralph, SlowProxy, fixture_ralph
from tests.xapi.samples import LMS, envelope

pytestmark = pytest.mark.django_db
__all__ = ["fixture_ralph"]


@pytest.fixture(name="lrs_hub")
def fixture_lrs_hub(hub: Callable[..., Any], ralph: Ralph) -> Callable[..., None]:
    """Sync delivery to one xAPI backend named ``lrs`` on Ralph; keyword arguments change its options."""

    def configure(**options: Any) -> None:
        config = {
            "ENGINE": "event_hub.backends.xapi.XapiBackend",
            "OPTIONS": {
                "endpoint": ralph.endpoint,
                "lms_root_url": LMS,
                "username": USERNAME,
                "password": PASSWORD,
                "timeout": 5.0,
                **options,
            },
            "PROCESSORS": ["event_hub.xapi.allowlist.XapiEvents"],
        }
        hub(DELIVERY="sync", BACKENDS={"lrs": config})

    configure()
    return configure


def batch_of(*names: str) -> tuple[Batch, list[str]]:
    """A batch of sample events and the ids their statements will have."""
    envelopes = [envelope(name) for name in names]
    lines = [orjson.dumps(env.to_wire()) for env in envelopes]
    return Batch(backend="lrs", lines=lines), [xapi.statement_id(env.id) for env in envelopes]


def stored(ralph: Ralph, ids: list[str]) -> dict[str, dict[str, Any]]:
    wanted = set(ids)
    return {s["id"]: s for s in ralph.statements() if s["id"] in wanted}


class TestDelivery:
    def test_every_registered_event_is_stored_and_read_back(self, lrs_hub: Any, ralph: Ralph) -> None:
        """Statements of all 59 events pass Ralph's models on POST and are read back."""
        batch, ids = batch_of(*sorted(samples.PAYLOADS))
        attempt = try_deliver(batch)
        assert attempt.error is None
        assert attempt.rejected == ()
        found = stored(ralph, ids)
        assert set(found) == set(ids)
        for statement in found.values():
            statement.pop("stored")
            statement.pop("authority")
            assert conformance.problems(statement) == []

    def test_through_the_tracker(self, lrs_hub: Any, ralph: Ralph) -> None:
        """A signed-in user's event reaches the LRS under the anonymous id; others are filtered."""
        user = get_user_model().objects.create_user("learner", password="x")
        with unit_of_work():
            sent = tracker.send(
                "showanswer", {"problem_id": samples.PROBLEM}, user=user, course_id=samples.COURSE
            )
            tracker.send("edx.bookmark.added", {"course_id": samples.COURSE}, user=user)
        assert sent is not None
        found = stored(ralph, [xapi.statement_id(sent.id)])
        assert len(found) == 1
        (statement,) = found.values()
        assert statement["actor"]["account"] == {"homePage": LMS, "name": sent.context.anonymous_user_id}
        assert "learner" not in orjson.dumps(statement).decode()
        assert get_backend("lrs").skipped == 0  # the processor dropped the bookmark before the backend

    def test_replayed_batch_is_a_no_op(self, lrs_hub: Any, ralph: Ralph) -> None:
        """Sending a batch again (all duplicates, Ralph answers 204) succeeds and stores nothing new."""
        batch, ids = batch_of("play_video", "pause_video")
        assert try_deliver(batch).error is None
        before = len(ralph.statements())
        again = try_deliver(batch)
        assert again.error is None
        assert again.delivered == 2
        assert len(ralph.statements()) == before
        assert set(stored(ralph, ids)) == set(ids)


class TestFaults:
    def test_conflict_on_one_statement_keeps_the_others(self, lrs_hub: Any, ralph: Ralph) -> None:
        """A 409 for one statement of a batch splits it: the other statements are stored, nothing is dead."""
        batch, ids = batch_of("load_video", "play_video", "stop_video")
        clash = xapi.lookup(envelope("seek_video"))(envelope("seek_video"), xapi.Site(lms_root_url=LMS))  # type: ignore[misc]
        clash["id"] = ids[1]
        assert ralph.post([clash]) == 200
        outcome = try_deliver(batch)
        assert outcome.error is None
        assert settle(batch, outcome, attempts_made=1) is False
        found = stored(ralph, ids)
        assert set(found) == set(ids)
        assert found[ids[1]]["verb"]["id"] == clash["verb"]["id"]  # the LRS keeps what it had
        backend = get_backend("lrs")
        assert isinstance(backend, XapiBackend)
        assert backend.conflicts == 1
        assert DeadLetter.objects.count() == 0

    def test_wrong_credentials_dead_letter_the_batch(self, lrs_hub: Any, ralph: Ralph) -> None:
        """A 401 is permanent: the batch is dead-lettered at once with the LRS's answer."""
        lrs_hub(password="wrong")
        batch, _ = batch_of("play_video")
        outcome = try_deliver(batch)
        assert isinstance(outcome.error, PermanentDeliveryError)
        assert settle(batch, outcome, attempts_made=1) is False
        letter = DeadLetter.objects.get()
        assert letter.reason == DeadLetter.Reason.PERMANENT
        assert "HTTP 401" in letter.error

    def test_lrs_down_then_up(self, lrs_hub: Any, ralph: Ralph) -> None:
        """While the LRS is down the batch waits in the outbox; once it is up the batch is delivered."""
        user = get_user_model().objects.create_user("learner2", password="x")
        ralph.stop()
        try:
            with unit_of_work():
                sent = tracker.send(
                    "showanswer", {"problem_id": samples.PROBLEM}, user=user, course_id=samples.COURSE
                )
            assert sent is not None
            row = OutboxBatch.objects.get()
            assert "Connection" in row.last_error
        finally:
            ralph.start()
        OutboxBatch.objects.update(next_attempt_at=row.created_at)
        republish()
        assert OutboxBatch.objects.count() == 0
        assert DeadLetter.objects.count() == 0
        assert len(stored(ralph, [xapi.statement_id(sent.id)])) == 1

    def test_slow_lrs_times_out_retryably(self, lrs_hub: Any, ralph: Ralph) -> None:
        """An answer slower than the timeout is retryable; the retry succeeds once the LRS is quick."""
        proxy = SlowProxy(ralph.port)
        try:
            lrs_hub(endpoint=f"http://127.0.0.1:{proxy.port}/xAPI", timeout=0.3)
            batch, ids = batch_of("edx.forum.thread.viewed")
            proxy.delay = 1.0
            outcome = try_deliver(batch)
            assert isinstance(outcome.error, RetryableDeliveryError)
            assert settle(batch, outcome, attempts_made=1) is True
            proxy.delay = 0.0
            assert try_deliver(batch).error is None
        finally:
            proxy.close()
        assert set(stored(ralph, ids)) == set(ids)
