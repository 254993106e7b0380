"""The invalid-events table is bounded: a per-client rate, a row cap and a retention period."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from event_hub import invalid
from event_hub.models import InvalidEvent
from tests.api.api_support import BROWSER_PLAY, PLAY, post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    caches["default"].clear()
    yield
    caches["default"].clear()


def bad_batch(size: int) -> dict[str, Any]:
    return {"events": [{**BROWSER_PLAY, "event": {**PLAY, "currentTime": "soon"}}] * size}


def store(count: int, **values: Any) -> None:
    for number in range(count):
        invalid.record(name=f"e{number}", source="server", payload={}, errors={"": ["bad"]}, **values)


class TestClientRate:
    def test_anonymous_client_cannot_fill_the_table(self, api_hub: Callable[..., None]) -> None:
        """Batches of invalid events from one IP store at most INVALID_EVENTS_CLIENT_RATE rows an hour."""
        api_hub(API_ANONYMOUS_EVENTS=["*"], INVALID_EVENTS_CLIENT_RATE=30)
        client = APIClient()
        for _ in range(3):
            assert post(client, bad_batch(20)).status_code == 400
        assert InvalidEvent.objects.count() == 30
        assert invalid.refused_counts[(BROWSER_PLAY["event_type"], "browser")] >= 30

    def test_clients_are_counted_apart(self, api_hub: Callable[..., None]) -> None:
        """Another IP has its own allowance."""
        api_hub(API_ANONYMOUS_EVENTS=["*"], INVALID_EVENTS_CLIENT_RATE=5)
        post(APIClient(REMOTE_ADDR="198.51.100.1"), bad_batch(10))
        post(APIClient(REMOTE_ADDR="198.51.100.2"), bad_batch(10))
        assert InvalidEvent.objects.count() == 10

    def test_server_events_are_not_rate_limited(self, memory_hub: Callable[..., None]) -> None:
        """Held-back server events (trusted code) are all stored."""
        memory_hub(INVALID_EVENTS_CLIENT_RATE=2)
        store(5)
        assert InvalidEvent.objects.count() == 5

    def test_no_rate(self, api_hub: Callable[..., None]) -> None:
        """INVALID_EVENTS_CLIENT_RATE None stores every held-back client event."""
        api_hub(API_ANONYMOUS_EVENTS=["*"], INVALID_EVENTS_CLIENT_RATE=None)
        post(APIClient(), bad_batch(40))
        assert InvalidEvent.objects.count() == 40


class TestPrune:
    def test_rows_beyond_the_cap_go_oldest_first(self, memory_hub: Callable[..., None]) -> None:
        """prune() keeps the newest INVALID_EVENTS_MAX_ROWS rows."""
        memory_hub(INVALID_EVENTS_MAX_ROWS=3)
        store(5)
        assert invalid.prune() == 2
        assert sorted(InvalidEvent.objects.values_list("name", flat=True)) == ["e2", "e3", "e4"]

    def test_rows_past_retention_go(self, memory_hub: Callable[..., None]) -> None:
        """Rows older than INVALID_EVENTS_RETENTION_DAYS are deleted, younger ones kept."""
        memory_hub(INVALID_EVENTS_RETENTION_DAYS=7)
        store(2)
        old = timezone.now() - datetime.timedelta(days=8)
        InvalidEvent.objects.filter(name="e0").update(created_at=old)
        assert invalid.prune() == 1
        assert list(InvalidEvent.objects.values_list("name", flat=True)) == ["e1"]

    def test_storing_prunes_every_so_often(
        self, memory_hub: Callable[..., None], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without any scheduled task the table still stays near its cap: storing prunes periodically."""
        memory_hub(INVALID_EVENTS_MAX_ROWS=4)
        monkeypatch.setattr(invalid, "PRUNE_EVERY", 5)
        monkeypatch.setattr(invalid, "_stored_since_prune", 0)
        store(12)
        assert InvalidEvent.objects.count() <= 4 + 5

    def test_command(self, memory_hub: Callable[..., None], capsys: pytest.CaptureFixture[str]) -> None:
        """manage.py event_hub_invalid prune deletes and says how many."""
        memory_hub(INVALID_EVENTS_MAX_ROWS=1)
        store(3)
        call_command("event_hub_invalid", "prune")
        assert InvalidEvent.objects.count() == 1
        assert "deleted 2" in capsys.readouterr().out
