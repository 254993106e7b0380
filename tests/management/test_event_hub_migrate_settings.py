"""``event_hub_migrate_settings`` on a sample of real event-tracking settings (tests/plugin)."""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.management import call_command
from django.test import override_settings
from django.utils.module_loading import import_string

from event_hub.backends.openedx_bus import OpenedxBusBackend
from event_hub.plugin.migration import BUS_ENGINE, JSONLOG_ENGINE, NAME_FILTER, SEGMENT_ENGINE, translate
from tests.plugin.platform_settings import event_bus_backend, lms_common


def run(**settings: Any) -> dict[str, Any]:
    out = io.StringIO()
    with override_settings(**settings):
        call_command("event_hub_migrate_settings", "--json", stdout=out)
    return json.loads(out.getvalue())


class TestLmsDefaults:
    """The LMS's own tracking settings become one tracking log and a disabled Segment entry."""

    def test_tracking_log(self) -> None:
        """The logger backend becomes a JSON-lines file at the tracking handler's path, same size limit."""
        result = run(**lms_common())
        assert result["EVENT_HUB"]["BACKENDS"]["tracking_logs"] == {
            "ENGINE": JSONLOG_ENGINE,
            "OPTIONS": {"path": "/openedx/data/logs/tracking.log", "max_event_bytes": 50000},
        }
        assert any("LegacyFieldMappingProcessor is not needed" in note for note in result["notes"])

    def test_segment_without_key_is_disabled(self) -> None:
        """No LMS_SEGMENT_KEY: the Segment entry is there but disabled, and a note says why."""
        segment = run(**lms_common())["EVENT_HUB"]["BACKENDS"]["segmentio"]
        assert (segment["ENGINE"], segment["ENABLED"]) == (SEGMENT_ENGINE, False)

    def test_python_output_is_a_settings_block(self) -> None:
        """Without --json the command prints an EVENT_HUB assignment that evaluates to the translation."""
        out = io.StringIO()
        values = lms_common()
        with override_settings(**values):
            call_command("event_hub_migrate_settings", stdout=out)
        namespace: dict[str, Any] = {}
        exec(out.getvalue(), namespace)  # our own output: comments and a dict literal
        assert namespace["EVENT_HUB"] == translate(values).hub


class TestWhitelists:
    """Whitelists keep their meaning: an empty one lets nothing through."""

    def test_segment_whitelist_and_emit_whitelist(self) -> None:
        """Segment allows the whitelist plus EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST, with its key."""
        values = lms_common()
        values["LMS_SEGMENT_KEY"] = "write-key"
        values["EVENT_TRACKING_BACKENDS"]["segmentio"]["OPTIONS"]["processors"][0]["OPTIONS"]["whitelist"] = [
            "edx.course.enrollment.activated"
        ]
        values["EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST"] = ["edx.bi.user.account.registered"]
        segment = translate(values).hub["BACKENDS"]["segmentio"]
        assert segment["OPTIONS"] == {"write_key": "write-key"}
        assert segment["PROCESSORS"] == [
            [NAME_FILTER, {"allow": ["edx.bi.user.account.registered", "edx.course.enrollment.activated"]}]
        ]

    def test_empty_shared_whitelist_denies_everything(self) -> None:
        """An empty whitelist in EVENT_TRACKING_PROCESSORS becomes a filter denying every name."""
        values = lms_common()
        values["EVENT_TRACKING_PROCESSORS"] = [
            {
                "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                "OPTIONS": {"whitelist": []},
            }
        ]
        assert translate(values).hub["PROCESSORS"] == [[NAME_FILTER, {"deny": ["*"]}]]

    def test_event_bus(self) -> None:
        """The bus entry allows what both the routing whitelist and EVENT_BUS_TRACKING_LOGS list."""
        values = lms_common()
        values["EVENT_TRACKING_BACKENDS"]["event_bus"] = event_bus_backend()
        values["EVENT_BUS_TRACKING_LOGS"] = {"edx.course.enrollment.activated", "play_video"}
        values["SEND_TRACKING_EVENT_EMITTED_SIGNAL"] = True
        values["EVENT_BUS_PRODUCER"] = "edx_event_bus_redis.create_producer"
        migration = translate(values)
        bus = migration.hub["BACKENDS"]["event_bus"]
        assert bus["ENGINE"] == BUS_ENGINE
        # The engine is the real bus backend class, so the entry stays enabled.
        assert import_string(bus["ENGINE"]) is OpenedxBusBackend
        assert bus.get("ENABLED", True) is True
        assert bus["PROCESSORS"] == [[NAME_FILTER, {"allow": ["edx.course.enrollment.activated"]}]]
        assert any(note.startswith("EVENT_BUS_PRODUCER: kept as it is") for note in migration.notes)


class TestOtherSettings:
    """Settings outside EVENT_TRACKING_BACKENDS."""

    def test_old_tracking_backends_only(self) -> None:
        """A site with only TRACKING_BACKENDS gets its logger as the tracking log (LOG_DIR when no file)."""
        result = run(
            EVENT_TRACKING_BACKENDS={},
            TRACKING_BACKENDS=lms_common()["TRACKING_BACKENDS"],
            LOGGING={"version": 1},
            LOG_DIR="/edx/var/log/tracking",
        )
        assert (
            result["EVENT_HUB"]["BACKENDS"]["logger"]["OPTIONS"]["path"]
            == "/edx/var/log/tracking/tracking.log"
        )

    def test_eager_celery_delivers_in_process(self) -> None:
        """CELERY_ALWAYS_EAGER maps to DELIVERY 'sync'."""
        assert run(**lms_common(), CELERY_ALWAYS_EAGER=True)["EVENT_HUB"]["DELIVERY"] == "sync"
