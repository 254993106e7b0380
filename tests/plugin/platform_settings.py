"""A sample of real event-tracking settings, as edx-platform's ``lms/envs/common.py`` sets them.

Values (not code) of the platform's tracking section: the ``tracking_logs`` routing backend
(logger backend, legacy-field and prefix processors), the ``segmentio`` routing backend
(Segment backend behind a name whitelist and the Google Analytics processor), the older
``TRACKING_BACKENDS``, the Segment webhook settings; an event-bus backend as
event-tracking documents it; a production-style ``LOGGING`` whose ``tracking`` handler
writes a file.
"""

from __future__ import annotations

from typing import Any

TRACK_MAX_EVENT = 50000


def lms_common() -> dict[str, Any]:
    """The tracking settings of an LMS, fresh each call (plugin_settings mutates what it gets)."""
    return {
        "LMS_SEGMENT_KEY": None,
        "TRACK_MAX_EVENT": TRACK_MAX_EVENT,
        "TRACKING_BACKENDS": {
            "logger": {
                "ENGINE": "common.djangoapps.track.backends.logger.LoggerBackend",
                "OPTIONS": {"name": "tracking"},
            }
        },
        "TRACKING_IGNORE_URL_PATTERNS": [r"^/event", r"^/login", r"^/heartbeat", r"^/segmentio/event"],
        "EVENT_TRACKING_ENABLED": True,
        "EVENT_TRACKING_BACKENDS": {
            "tracking_logs": {
                "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                "OPTIONS": {
                    "backends": {
                        "logger": {
                            "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                            "OPTIONS": {"name": "tracking", "max_event_size": TRACK_MAX_EVENT},
                        }
                    },
                    "processors": [
                        {"ENGINE": "common.djangoapps.track.shim.LegacyFieldMappingProcessor"},
                        {"ENGINE": "common.djangoapps.track.shim.PrefixedEventProcessor"},
                    ],
                },
            },
            "segmentio": {
                "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                "OPTIONS": {
                    "backends": {"segment": {"ENGINE": "eventtracking.backends.segment.SegmentBackend"}},
                    "processors": [
                        {
                            "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                            "OPTIONS": {"whitelist": []},
                        },
                        {"ENGINE": "common.djangoapps.track.shim.GoogleAnalyticsProcessor"},
                    ],
                },
            },
        },
        "EVENT_TRACKING_PROCESSORS": [],
        "EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST": [],
        "TRACKING_SEGMENTIO_WEBHOOK_SECRET": None,
        "TRACKING_SEGMENTIO_ALLOWED_TYPES": ["track"],
        "TRACKING_SEGMENTIO_DISALLOWED_SUBSTRING_NAMES": [],
        "TRACKING_SEGMENTIO_SOURCE_MAP": {"analytics-android": "mobile", "analytics-ios": "mobile"},
        "LOGGING": {
            "version": 1,
            "handlers": {
                "tracking": {
                    "level": "DEBUG",
                    "class": "logging.handlers.WatchedFileHandler",
                    "filename": "/openedx/data/logs/tracking.log",
                }
            },
            "loggers": {"tracking": {"handlers": ["tracking"], "level": "DEBUG", "propagate": False}},
        },
        "MIDDLEWARE": [
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
    }


def event_bus_backend() -> dict[str, Any]:
    """An ``EVENT_TRACKING_BACKENDS`` entry sending whitelisted events to the bus (event-tracking's docs)."""
    return {
        "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
        "OPTIONS": {
            "backends": {"event_bus": {"ENGINE": "eventtracking.backends.event_bus.EventBusRoutingBackend"}},
            "processors": [
                {
                    "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                    "OPTIONS": {"whitelist": ["edx.course.enrollment.activated"]},
                }
            ],
        },
    }
