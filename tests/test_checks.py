"""Tests of the system checks: each misconfiguration has its stable id."""

from __future__ import annotations

from typing import Any

import pytest

from event_hub.checks import check_settings

MEMORY = {"ENGINE": "event_hub.backends.memory.MemoryBackend"}


def ids(settings: Any, config: Any) -> list[str]:
    settings.EVENT_HUB = config
    return [message.id for message in check_settings()]


class TestChecks:
    def test_valid_configuration_is_clean(self, settings: Any, tmp_path: Any) -> None:
        """A correct configuration produces no message."""
        config = {
            "DELIVERY": "sync",
            "BACKENDS": {
                "log": {
                    "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
                    "OPTIONS": {"path": str(tmp_path / "t.log")},
                }
            },
        }
        assert ids(settings, config) == []

    @pytest.mark.parametrize(
        ("config", "expected"),
        [
            (["not", "a", "dict"], "event_hub.E001"),
            ({"DELIVERY": "sync", "BACKENDZ": {}}, "event_hub.E001"),
            ({"DELIVERY": "carrier-pigeon"}, "event_hub.E002"),
            ({"DELIVERY": "sync", "BATCH_MAX_EVENTS": 0}, "event_hub.E002"),
            ({"DELIVERY": "sync", "VALIDATE": "yes"}, "event_hub.E002"),
            ({"DELIVERY": "sync", "UNREGISTERED_EVENTS": "ignore"}, "event_hub.E002"),
            ({"DELIVERY": "sync", "BROKER_COMPRESSION": "zip"}, "event_hub.E002"),
            ({"DELIVERY": "sync", "HANDOFF": "pigeon-hole"}, "event_hub.E002"),
            ({"DELIVERY": "sync", "SPOOL_FLUSH_SECONDS": 0}, "event_hub.E002"),
            ({"DELIVERY": "sync", "SPOOL_MAX_BATCH_EVENTS": 0.5}, "event_hub.E002"),
            ({"DELIVERY": "sync", "SPOOL_DIR": None}, "event_hub.E002"),
            ({"DELIVERY": "sync", "CONTENT_NODE_RESOLVER": "no.such.function"}, "event_hub.E003"),
            ({"DELIVERY": "sync", "BACKENDS": {"x": {"ENGINE": "no.such.Backend"}}}, "event_hub.E004"),
            ({"DELIVERY": "sync", "BACKENDS": {"x": {**MEMORY, "FORMAT": "xml"}}}, "event_hub.E004"),
            ({"DELIVERY": "sync", "BACKENDS": {"x": {**MEMORY, "ENGIN": "typo"}}}, "event_hub.E004"),
            (
                {"DELIVERY": "sync", "BACKENDS": {"x": {"ENGINE": "event_hub.envelope.Envelope"}}},
                "event_hub.E004",
            ),
            ({"DELIVERY": "sync", "BACKENDS": {"x": {**MEMORY, "OPTIONS": {"colour": 1}}}}, "event_hub.E005"),
            (
                {
                    "DELIVERY": "sync",
                    "BACKENDS": {
                        "x": {"ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend", "OPTIONS": {}}
                    },
                },
                "event_hub.E005",
            ),
            ({"DELIVERY": "sync", "PROCESSORS": ["no.such.processor"]}, "event_hub.E006"),
            (
                {
                    "DELIVERY": "sync",
                    "BACKENDS": {
                        "x": {
                            **MEMORY,
                            "PROCESSORS": [["event_hub.processors.privacy.Privacy", {"mode": "bad"}]],
                        }
                    },
                },
                "event_hub.E006",
            ),
            ({"DELIVERY": "sync", "BACKENDS": {"x": {**MEMORY, "PII": True}}}, "event_hub.W001"),
            ({"DELIVERY": "sync", "BACKENDS": {}}, "event_hub.W003"),
            ({"DELIVERY": "sync", "BACKENDS": {"m": MEMORY}, "METRICS_TOKEN": ""}, "event_hub.E014"),
            ({"DELIVERY": "sync", "BACKENDS": {"m": MEMORY}, "INVALID_EVENTS_MAX_ROWS": 0}, "event_hub.E014"),
            (
                {"DELIVERY": "sync", "BACKENDS": {"m": MEMORY}, "INVALID_EVENTS_CLIENT_RATE": True},
                "event_hub.E014",
            ),
            ({"DELIVERY": "sync", "BACKENDS": {"m": MEMORY}, "SEGMENT_WEBHOOK_SECRET": ""}, "event_hub.E022"),
            (
                {
                    "DELIVERY": "sync",
                    "BACKENDS": {"m": MEMORY},
                    "SEGMENT_WEBHOOK_SOURCES": {"analytics-kotlin": "tv"},
                },
                "event_hub.E022",
            ),
        ],
    )
    def test_misconfiguration_is_reported(self, settings: Any, config: Any, expected: str) -> None:
        """Each kind of mistake is reported with its own stable id."""
        assert expected in ids(settings, config)

    def test_celery_without_broker(self, settings: Any, monkeypatch: Any) -> None:
        """DELIVERY celery with no broker configured on the Celery app is E007."""
        from celery import current_app

        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery reads it before its conf
        monkeypatch.setattr(current_app.conf, "broker_url", None)
        assert "event_hub.E007" in ids(settings, {"DELIVERY": "celery", "BACKENDS": {"m": MEMORY}})

    def test_celery_closing_connections_per_task_is_warned(self, settings: Any, monkeypatch: Any) -> None:
        """DELIVERY celery without CELERY_DB_REUSE_MAX on the Celery app is W004; with it, no warning."""
        from celery import current_app

        config = {"DELIVERY": "celery", "HANDOFF": "direct", "BACKENDS": {"m": MEMORY}}
        monkeypatch.setattr(current_app.conf, "broker_url", "redis://127.0.0.1:6379/15")
        monkeypatch.setitem(current_app.conf, "CELERY_DB_REUSE_MAX", None)
        assert "event_hub.W004" in ids(settings, config)
        monkeypatch.setitem(current_app.conf, "CELERY_DB_REUSE_MAX", 1000)
        assert "event_hub.W004" not in ids(settings, config)
        assert "event_hub.W004" not in ids(settings, {**config, "DELIVERY": "sync"})

    def test_spool_dir_must_be_writable(self, settings: Any, tmp_path: Any) -> None:
        """HANDOFF spool with a SPOOL_DIR that cannot be created is E008; a missing one is created."""
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        config = {"DELIVERY": "celery", "HANDOFF": "spool", "BACKENDS": {"m": MEMORY}}
        assert "event_hub.E008" in ids(settings, {**config, "SPOOL_DIR": str(blocker / "spool")})
        assert "event_hub.E008" not in ids(settings, {**config, "SPOOL_DIR": str(tmp_path / "new" / "spool")})
        assert (tmp_path / "new" / "spool").is_dir()

    def test_missing_middleware_is_a_warning(self, settings: Any) -> None:
        """Without EventHubMiddleware the project is warned (W002)."""
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "event_hub" not in m]
        assert "event_hub.W002" in ids(settings, {"DELIVERY": "sync", "BACKENDS": {"m": MEMORY}})

    def test_checks_run_at_startup(self, settings: Any) -> None:
        """The check is registered with Django, so `manage.py check` fails on a bad EVENT_HUB."""
        from django.core.management import call_command
        from django.core.management.base import SystemCheckError

        settings.EVENT_HUB = {"DELIVERY": "carrier-pigeon"}
        with pytest.raises(SystemCheckError, match=r"event_hub\.E002"):
            call_command("check")


BUS = {"ENGINE": "event_hub.backends.openedx_bus.OpenedxBusBackend"}
PRODUCE = {"org.openedx.learning.course.enrollment.created.v1": {"learning": {"enabled": True}}}


class TestOpenedxChecks:
    """The OPENEDX_* settings of the bridge and the event bus."""

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("OPENEDX_BRIDGE_SIGNALS", "*"),
            ("OPENEDX_BRIDGE_SIGNALS", ["org.openedx.learning.course.enrollment.created.v1", 3]),
            ("OPENEDX_BRIDGE_LEGACY_EVENTS", "yes"),
            ("OPENEDX_BUS_REDIS_URL", "127.0.0.1:6379"),
            ("OPENEDX_BUS_BACKEND", ""),
            ("OPENEDX_BUS_CONSUMER_BATCH", 0),
            ("OPENEDX_BUS_CONSUMER_BATCH", 10.5),
            ("OPENEDX_BUS_STREAM_MAX_LEN", True),
            ("OPENEDX_BUS_CONSUMER_RETRY_MAX", -1),
            ("OPENEDX_BUS_CONSUMER_ERRORS_LIMIT", "10"),
            ("OPENEDX_BUS_CONSUMER_BLOCK_SECONDS", 0),
            ("OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_SECONDS", -0.5),
            ("OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_MAX_SECONDS", None),
            ("OPENEDX_BUS_DEDUPE_SECONDS", 0),
            ("OPENEDX_BUS_TRIM_SECONDS", "often"),
        ],
    )
    def test_wrong_value(self, settings: Any, key: str, value: Any) -> None:
        """A value of the wrong type or out of range is E020."""
        assert ids(settings, {"DELIVERY": "sync", "BACKENDS": {"m": MEMORY}, key: value}) == [
            "event_hub.E020"
        ]

    def test_valid_values(self, settings: Any) -> None:
        """Values in range, including the edges (0 retries, no error limit, no backoff), are clean."""
        config = {
            "DELIVERY": "sync",
            "BACKENDS": {"m": MEMORY},
            "OPENEDX_BRIDGE_SIGNALS": ["*"],
            "OPENEDX_BUS_REDIS_URL": "rediss://bus.example:6380/2",
            "OPENEDX_BUS_CONSUMER_RETRY_MAX": 0,
            "OPENEDX_BUS_CONSUMER_ERRORS_LIMIT": 0,
            "OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_SECONDS": 0,
            "OPENEDX_BUS_CONSUMER_BLOCK_SECONDS": 0.05,
        }
        assert ids(settings, config) == []

    @pytest.mark.parametrize(
        "backends",
        [
            {"m": MEMORY},
            {"m": MEMORY, "openedx_bus": {**BUS, "ENABLED": False}},
            {"openedx_bus": MEMORY},
        ],
        ids=["missing", "disabled", "not-a-bus-backend"],
    )
    def test_producer_needs_the_bus_backend(self, settings: Any, backends: dict[str, Any]) -> None:
        """With signals configured for the bus, the bus backend named must be enabled (E021)."""
        settings.EVENT_BUS_PRODUCER_CONFIG = PRODUCE
        assert "event_hub.E021" in ids(settings, {"DELIVERY": "sync", "BACKENDS": backends})

    def test_bus_backend_present_or_not_needed(self, settings: Any) -> None:
        """An enabled bus backend satisfies the producer; without producer config none is needed."""
        settings.EVENT_BUS_PRODUCER_CONFIG = PRODUCE
        assert ids(settings, {"DELIVERY": "sync", "BACKENDS": {"openedx_bus": BUS}}) == []
        assert (
            ids(settings, {"DELIVERY": "sync", "BACKENDS": {"bus": BUS}, "OPENEDX_BUS_BACKEND": "bus"}) == []
        )
        settings.EVENT_BUS_PRODUCER_CONFIG = {
            "org.openedx.learning.course.enrollment.created.v1": {"learning": {"enabled": False}}
        }
        assert ids(settings, {"DELIVERY": "sync", "BACKENDS": {"m": MEMORY}}) == []
