"""Prometheus metrics: counted only when METRICS is on, served at /api/metrics, summed across processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from event_hub import invalid, metrics
from tests.conftest import ROOT, subprocess_env


def sample(name: str, **labels: str) -> float:
    """The current value of a sample of the default registry (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(name="metrics_on")
def fixture_metrics_on(memory_hub: Callable[..., None]) -> None:
    memory_hub(METRICS=True)


class TestCounting:
    def test_off_by_default_counts_nothing(self, memory_hub: Callable[..., None]) -> None:
        """With METRICS off the functions return at once and no sample moves."""
        before = sample("event_hub_events_emitted_total", backend="off-backend", event_type="x")
        metrics.emitted("off-backend", "x")
        metrics.delivered("off-backend", 5, 0.1)
        assert not metrics.enabled()
        assert sample("event_hub_events_emitted_total", backend="off-backend", event_type="x") == before
        assert sample("event_hub_events_delivered_total", backend="off-backend") == 0.0

    def test_every_function_counts_when_on(self, metrics_on: None) -> None:
        """Each function moves its own metric by what it was told, with its labels."""
        calls: list[
            tuple[Callable[..., None], tuple[Any, ...], dict[str, Any], str, dict[str, str], float]
        ] = [
            (
                metrics.emitted,
                ("b1", "ev"),
                {},
                "event_hub_events_emitted_total",
                {"backend": "b1", "event_type": "ev"},
                1,
            ),
            (metrics.delivered, ("b1", 7), {}, "event_hub_events_delivered_total", {"backend": "b1"}, 7),
            (metrics.retried, ("b1", 3), {}, "event_hub_events_retried_total", {"backend": "b1"}, 3),
            (
                metrics.dead_lettered,
                ("b1", 2, "permanent"),
                {},
                "event_hub_events_dead_lettered_total",
                {"backend": "b1", "reason": "permanent"},
                2,
            ),
            (
                metrics.invalid,
                ("ev", "browser"),
                {"delivered": False},
                "event_hub_events_invalid_total",
                {"event_type": "ev", "source": "browser", "outcome": "held"},
                1,
            ),
            (
                metrics.dropped,
                ("b1", "ev", "filtered"),
                {},
                "event_hub_events_dropped_total",
                {"backend": "b1", "event_type": "ev", "reason": "filtered"},
                1,
            ),
        ]
        for function, args, kwargs, name, labels, step in calls:
            before = sample(name, **labels)
            function(*args, **kwargs)
            assert sample(name, **labels) == before + step, name

    def test_latency_histograms(self, metrics_on: None) -> None:
        """Hand-off and delivery latencies land in their histograms' buckets."""
        count = sample("event_hub_handoff_seconds_count", mode="direct")
        fast = sample("event_hub_handoff_seconds_bucket", mode="direct", le="0.001")
        metrics.handoff_latency("direct", 0.0007)
        assert sample("event_hub_handoff_seconds_count", mode="direct") == count + 1
        assert sample("event_hub_handoff_seconds_bucket", mode="direct", le="0.001") == fast + 1
        slow = sample("event_hub_delivery_seconds_bucket", backend="b2", le="1.0")
        metrics.delivered("b2", 1, latency=2.0)
        assert sample("event_hub_delivery_seconds_bucket", backend="b2", le="1.0") == slow
        assert sample("event_hub_delivery_seconds_bucket", backend="b2", le="2.5") >= 1

    @pytest.mark.django_db
    def test_invalid_events_are_counted(self, metrics_on: None) -> None:
        """The invalid-events store counts what it holds back and what is delivered anyway."""
        labels = {"event_type": "counted.event", "source": "server"}
        held = sample("event_hub_events_invalid_total", outcome="held", **labels)
        passed = sample("event_hub_events_invalid_total", outcome="delivered", **labels)
        invalid.record(name="counted.event", source="server", payload={}, errors={"": ["bad"]})
        invalid.note_delivered(name="counted.event", source="server", payload={}, errors={"": ["bad"]})
        assert sample("event_hub_events_invalid_total", outcome="held", **labels) == held + 1
        assert sample("event_hub_events_invalid_total", outcome="delivered", **labels) == passed + 1


class TestView:
    def test_not_found_when_off(self, memory_hub: Callable[..., None]) -> None:
        """/api/metrics answers 404 unless METRICS is on."""
        assert Client().get("/api/metrics").status_code == 404

    def test_prometheus_text_when_on(self, metrics_on: None) -> None:
        """The page is Prometheus' text format and carries the counts."""
        metrics.delivered("viewed", 4)
        response = Client().get("/api/metrics")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
        [delivered] = [
            s
            for s in families["event_hub_events_delivered"].samples
            if s.name.endswith("_total") and s.labels == {"backend": "viewed"}
        ]
        assert delivered.value >= 4

    def test_token_required_when_set(self, memory_hub: Callable[..., None]) -> None:
        """With METRICS_TOKEN a scraper without the bearer token gets 401, with it 200."""
        memory_hub(METRICS=True, METRICS_TOKEN="s3cret")
        client = Client()
        assert client.get("/api/metrics").status_code == 401
        assert client.get("/api/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        assert client.get("/api/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


COUNT = textwrap.dedent(
    """
    import django
    django.setup()
    from event_hub import metrics
    metrics.delivered("multi", int(__import__("sys").argv[1]))
    """
)
RENDER = textwrap.dedent(
    """
    import django
    django.setup()
    from event_hub import metrics
    print(metrics.render()[0].decode())
    """
)


class TestMultiprocess:
    def test_counts_of_several_processes_are_summed(self, tmp_path: Path) -> None:
        """With PROMETHEUS_MULTIPROC_DIR, what two processes counted is served summed by a third."""
        folder = tmp_path / "prometheus"
        folder.mkdir()
        config = {
            "DELIVERY": "sync",
            "METRICS": True,
            "BACKENDS": {"memory": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}},
        }
        env = subprocess_env(config, PROMETHEUS_MULTIPROC_DIR=str(folder))
        for count in ("3", "4"):
            subprocess.run([sys.executable, "-c", COUNT, count], env=env, cwd=ROOT, check=True, timeout=60)
        text = subprocess.run(
            [sys.executable, "-c", RENDER], env=env, cwd=ROOT, check=True, timeout=60, capture_output=True
        ).stdout.decode()
        values = [
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "event_hub_events_delivered_total" and s.labels.get("backend") == "multi"
        ]
        assert values == [7.0]
