"""The Open edX plugin, loaded the way the LMS loads plugins (edx-django-utils)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import checks
from django.test import override_settings
from django.urls import resolve, reverse
from django.utils.module_loading import import_string
from edx_django_utils.plugins import (
    add_plugins,
    connect_plugin_receivers,
    get_plugin_apps,
    get_plugin_url_patterns,
)
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED
from rest_framework.test import APIClient

from event_hub.api.platform_event import PlatformEventView
from event_hub.api.views import TrackingView
from event_hub.apps import EventHubConfig
from event_hub.openedx import bridge, samples
from event_hub.openedx.signals import all_signals
from event_hub.plugin import CMS, LMS, SETTINGS_TYPES
from event_hub.plugin import signals as plugin_signals
from event_hub.plugin.defaults import MIDDLEWARE, SIDE_BY_SIDE_LOG
from event_hub.plugin.receivers import bridge_dispatch_uid
from event_hub.plugin.signals import RECEIVERS
from tests.conftest import delivered
from tests.plugin.platform_settings import lms_common

pytestmark = pytest.mark.usefixtures("installed_plugin")

SETTINGS_MODULE = "tests_plugin_lms_settings"
URLCONF_MODULE = "tests_plugin_lms_urls"
ENROLLED = COURSE_ENROLLMENT_CREATED.event_type


@pytest.fixture(name="lms_settings")
def fixture_lms_settings() -> Iterator[types.ModuleType]:
    """A settings module holding the LMS's tracking settings, importable by name as the platform's are."""
    module = types.ModuleType(SETTINGS_MODULE)
    for name, value in lms_common().items():
        setattr(module, name, value)
    sys.modules[SETTINGS_MODULE] = module
    yield module
    del sys.modules[SETTINGS_MODULE]


@pytest.fixture(name="lms_urls")
def fixture_lms_urls() -> Iterator[str]:
    """A URLconf made, as the LMS's is, of the plugin URL patterns."""
    module = types.ModuleType(URLCONF_MODULE)
    module.urlpatterns = get_plugin_url_patterns(LMS)  # type: ignore[attr-defined]
    sys.modules[URLCONF_MODULE] = module
    yield URLCONF_MODULE
    del sys.modules[URLCONF_MODULE]


class TestApps:
    """The LMS and Studio find event_hub's app config through their entry point groups."""

    @pytest.mark.parametrize("project", [LMS, CMS])
    def test_plugin_app(self, project: str) -> None:
        """get_plugin_apps lists event_hub's AppConfig for both projects."""
        assert "event_hub.apps.EventHubConfig" in get_plugin_apps(project)


class TestSettings:
    """Each settings type fills EVENT_HUB from the platform's settings without overriding the operator."""

    def test_common(self, lms_settings: types.ModuleType) -> None:
        """The tracking log goes beside the platform's, the middleware after authentication."""
        add_plugins(SETTINGS_MODULE, LMS, "common")
        hub = lms_settings.EVENT_HUB
        assert hub["BACKENDS"]["tracking_logs"]["OPTIONS"] == {
            "path": f"/openedx/data/logs/{SIDE_BY_SIDE_LOG}",
            "max_event_bytes": 50000,
        }
        assert hub["BACKENDS"]["segmentio"]["ENABLED"] is False  # no LMS_SEGMENT_KEY
        middleware = lms_settings.MIDDLEWARE
        assert (
            middleware.index(MIDDLEWARE)
            == middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
        )

    def test_production_derives_again(self, lms_settings: types.ModuleType) -> None:
        """Values production's YAML changes after common ran are derived again; operator keys stay."""
        add_plugins(SETTINGS_MODULE, LMS, "common")
        lms_settings.CELERY_ALWAYS_EAGER = True
        lms_settings.EVENT_HUB = {**lms_settings.EVENT_HUB, "BATCH_MAX_EVENTS": 7}
        add_plugins(SETTINGS_MODULE, LMS, "production")
        assert lms_settings.EVENT_HUB["DELIVERY"] == "sync"
        assert lms_settings.EVENT_HUB["BATCH_MAX_EVENTS"] == 7
        lms_settings.CELERY_ALWAYS_EAGER = False
        add_plugins(SETTINGS_MODULE, LMS, "production")
        assert "DELIVERY" not in lms_settings.EVENT_HUB
        assert lms_settings.MIDDLEWARE.count(MIDDLEWARE) == 1

    def test_operator_keys_win(self, lms_settings: types.ModuleType) -> None:
        """BACKENDS set by the operator before the plugin runs are kept as they are."""
        own = {"mine": {"ENGINE": "event_hub.backends.memory.MemoryBackend"}}
        lms_settings.EVENT_HUB = {"BACKENDS": own}
        add_plugins(SETTINGS_MODULE, LMS, "common")
        assert lms_settings.EVENT_HUB["BACKENDS"] == own

    def test_test_and_devstack(self, lms_settings: types.ModuleType) -> None:
        """test settings deliver in process to memory; devstack in process to the log."""
        add_plugins(SETTINGS_MODULE, LMS, "test")
        assert lms_settings.EVENT_HUB["DELIVERY"] == "sync"
        assert list(lms_settings.EVENT_HUB["BACKENDS"]) == ["tracking_log"]
        del lms_settings.EVENT_HUB
        add_plugins(SETTINGS_MODULE, LMS, "devstack")
        assert lms_settings.EVENT_HUB["DELIVERY"] == "sync"
        assert "tracking_logs" in lms_settings.EVENT_HUB["BACKENDS"]

    @pytest.mark.parametrize("settings_type", SETTINGS_TYPES)
    def test_result_passes_the_checks(
        self, lms_settings: types.ModuleType, settings_type: str, tmp_path: Any
    ) -> None:
        """What every settings type produces passes event_hub's system checks.

        E007 (no Celery broker configured) is about the host's Celery app, which this suite has none of.
        """
        lms_settings.LOGGING["handlers"]["tracking"]["filename"] = str(tmp_path / "tracking.log")
        add_plugins(SETTINGS_MODULE, LMS, settings_type)
        with override_settings(EVENT_HUB=lms_settings.EVENT_HUB):
            errors = [m for m in checks.run_checks() if m.id.startswith("event_hub") and m.is_serious()]
        errors = [m for m in errors if m.id != "event_hub.E007"]
        assert errors == []


class TestUrls:
    """The plugin's URLs serve the tracking API and the /event drop-in."""

    def test_routes(self, lms_urls: str) -> None:
        """/api/tracking and /event-hub/event resolve to their views in the event_hub namespace."""
        assert resolve("/api/tracking", urlconf=lms_urls).func.view_class is TrackingView
        assert resolve("/event-hub/event", urlconf=lms_urls).func.view_class is PlatformEventView
        assert reverse("event_hub:tracking", urlconf=lms_urls) == "/api/tracking"

    @pytest.mark.django_db
    def test_event_through_plugin_urls(self, lms_urls: str, memory_hub: Any, django_user_model: Any) -> None:
        """An event posted to the mounted /api/tracking is delivered."""
        memory_hub(API_THROTTLE_RATES={})
        client = APIClient()
        client.force_login(django_user_model.objects.create_user(username="plugin-user"))
        with override_settings(ROOT_URLCONF=lms_urls):
            response = client.post("/api/tracking", {"event_type": "page_close", "event": {}}, format="json")
        assert response.status_code == 201
        assert [event["name"] for event in delivered()] == ["page_close"]


class TestSignals:
    """The platform connects the receivers the plugin declares."""

    @pytest.mark.parametrize("project", [LMS, CMS])
    def test_receivers(self, project: str) -> None:
        """signals_config lists RECEIVERS, and connect_plugin_receivers connects each of them."""
        config = EventHubConfig.plugin_app["signals_config"][project]
        assert config == {"relative_path": "plugin.signals", "receivers": RECEIVERS}
        connect_plugin_receivers(project)

    def test_every_signal_has_the_bridge(self) -> None:
        """RECEIVERS names, for each of openedx-events' signals, its import path and the bridge function."""
        by_type = {import_string(entry["signal_path"]).event_type: entry for entry in RECEIVERS}
        assert sorted(by_type) == sorted(signal.event_type for signal in all_signals())
        assert len(RECEIVERS) == len(by_type)
        for entry in RECEIVERS:
            assert getattr(plugin_signals, entry["receiver_func_name"]) is bridge.bridge_signal

    @pytest.mark.django_db
    def test_signal_reaches_a_backend_once(self, bridge_disconnected: None, memory_hub: Any) -> None:
        """Connected by the platform, the bridge turns a signal into one tracking event; the app
        config's own connection on top of it adds no second one."""
        memory_hub(OPENEDX_BRIDGE_SIGNALS=[ENROLLED], OPENEDX_BRIDGE_LEGACY_EVENTS=False)
        send_enrollment(seed=1)
        assert delivered() == []  # nothing bridges the signal yet
        connect_plugin_receivers(LMS)
        send_enrollment(seed=2)
        assert [event["name"] for event in delivered()] == [ENROLLED]
        bridge.connect()  # what the app config does at startup
        send_enrollment(seed=3)
        assert [event["name"] for event in delivered()] == [ENROLLED, ENROLLED]


def send_enrollment(seed: int) -> None:
    COURSE_ENROLLMENT_CREATED.send_event(**samples.sample_data(COURSE_ENROLLMENT_CREATED, seed=seed))


@pytest.fixture(name="bridge_disconnected")
def fixture_bridge_disconnected() -> Iterator[None]:
    """The bridge's connections (made by the app config) removed for one test, made again after it."""
    for signal in all_signals():
        signal.disconnect(dispatch_uid=bridge_dispatch_uid(signal.event_type))
    yield
    bridge.connect()
