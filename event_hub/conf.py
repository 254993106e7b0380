"""The ``EVENT_HUB`` settings accessor.

Every part of event_hub reads configuration through :data:`hub_settings`, at
call time, never at import time::

    from event_hub.conf import hub_settings
    hub_settings.BATCH_MAX_EVENTS

* Missing keys fall back to :data:`DEFAULTS`; an unknown key is a
  :class:`~event_hub.exceptions.ConfigurationError` (so a typo never silently
  does nothing).
* Keys in :data:`IMPORT_STRINGS` hold dotted paths and are returned imported.
* The cache is dropped when Django's ``setting_changed`` fires for
  ``EVENT_HUB`` (``override_settings`` in tests), and every function registered
  with :func:`on_reload` runs so caches built from settings (backends,
  processor chains) are rebuilt too.

The full shape check lives in :mod:`event_hub.checks`, which runs at startup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from event_hub.exceptions import ConfigurationError

SETTING_NAME = "EVENT_HUB"

#: Default values of every key of ``EVENT_HUB``. ``docs/settings.rst`` describes each.
DEFAULTS: dict[str, Any] = {
    # Where events go: name -> backend configuration (see BACKEND_DEFAULTS).
    "BACKENDS": {
        "tracking_log": {
            "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
            "OPTIONS": {"path": "var/log/tracking.log"},
        },
    },
    # Processors run for every backend, before the backend's own PROCESSORS.
    "PROCESSORS": [],
    # "celery": batches are published to the broker and delivered by a worker.
    # "sync": batches are delivered in-process when the unit of work ends.
    "DELIVERY": "celery",
    # Celery queue for delivery tasks; None uses the app's default queue.
    "CELERY_QUEUE": None,
    # How a request hands its batches to the broker (DELIVERY "celery" only):
    # "spool": it appends them to a local file with one write, and a thread of the process
    # holds and publishes them, many per message; "direct": it holds and publishes them itself
    # (a database write and a broker round trip in the request). docs/architecture.rst.
    "HANDOFF": "spool",
    # Folder of the spool files (created if missing); keep it on a local disk.
    "SPOOL_DIR": "var/spool",
    # The spool publisher wakes this often (seconds): each wake that finds events costs a message...
    "SPOOL_FLUSH_SECONDS": 0.2,
    # ... or as soon as this many events wait; it publishes batches of up to this many events.
    "SPOOL_MAX_BATCH_EVENTS": 1000,
    # A unit of work hands its events off when it ends, or earlier when one
    # backend's batch reaches this many events or this age.
    "BATCH_MAX_EVENTS": 100,
    "BATCH_MAX_SECONDS": 2.0,
    # Retries of a retryable delivery failure, with exponential backoff.
    "RETRY_MAX": 8,
    "RETRY_BACKOFF_SECONDS": 2.0,
    "RETRY_BACKOFF_MAX_SECONDS": 600.0,
    # After the broker refused a publish, go straight to the outbox for this long.
    "BROKER_COOLDOWN_SECONDS": 30.0,
    # Seconds a publish may wait on the broker (to connect, then to send) before parking the batch.
    "BROKER_PUBLISH_TIMEOUT_SECONDS": 1.0,
    # Compression of the batch inside each broker message: "zlib" or None.
    "BROKER_COMPRESSION": "zlib",
    # A batch published to the broker stays in the outbox until a worker confirms it delivered
    # (or dead-lettered); if no confirmation comes within this many seconds it is published again.
    "CONFIRM_TIMEOUT_SECONDS": 60.0,
    # Batches re-published from the outbox per run of the republish task.
    "OUTBOX_REPUBLISH_LIMIT": 500,
    # Secret for the anonymous user id (HMAC); None derives one from SECRET_KEY.
    "ANONYMOUS_ID_SECRET": None,
    # Optional callable(user) -> str replacing the built-in anonymous id.
    "ANONYMOUS_ID_FUNCTION": None,
    # Callable(node) -> ContentNode | None turning ``course_content_node`` into ids.
    "CONTENT_NODE_RESOLVER": "event_hub.context.resolve_content_node",
    # Value of the ``host`` field outside a request; None uses the machine's hostname.
    "HOST": None,
    # Number of proxies in front of Django that append to X-Forwarded-For.
    "TRUSTED_PROXY_COUNT": 0,
    # Validate events against the catalog.
    "VALIDATE": True,
    # Treat ``event`` members the catalog does not list as errors (off: they are delivered).
    "STRICT_FIELDS": False,
    # What to do with a name the catalog does not know (real LMSs emit many: every XBlock can):
    # "deliver" (deliver as it came and record the problem), "accept" (deliver, record nothing),
    # "record" (store as invalid, do not deliver), "reject" (raise).
    "UNREGISTERED_EVENTS": "deliver",
    # What to do with a server event the catalog rejects:
    # "deliver" (deliver as it came and record the problem), "record" (store as invalid, do not
    # deliver) or "raise".
    "INVALID_SERVER_EVENTS": "deliver",
    # An event delivered despite a catalog problem is counted every time, but stored in the
    # invalid-events table (and logged) at most once per event name and source in this many seconds.
    "INVALID_SAMPLE_SECONDS": 60.0,
    # --- /api/tracking (event_hub.api; docs/api.rst) ---
    # DRF authentication classes (import paths) of the tracking API. Session authentication
    # enforces CSRF; mobile apps send a DRF token (add a JWT class for JWT).
    "API_AUTHENTICATION": [
        "event_hub.api.authentication.CachedSessionAuthentication",
        "event_hub.api.authentication.CachedTokenAuthentication",
    ],
    # Seconds a process remembers a DRF token's or a session's user (CachedTokenAuthentication,
    # CachedSessionAuthentication); 0 = always ask the DB.
    "API_TOKEN_CACHE_SECONDS": 30,
    # Event names (fnmatch patterns, e.g. "edx.ui.lms.*") anonymous clients may post; [] = none.
    "API_ANONYMOUS_EVENTS": [],
    # Largest request body accepted (bytes); larger bodies get 413.
    "API_MAX_BODY_BYTES": 512 * 1024,
    # Most events one batch request may carry.
    "API_MAX_BATCH_EVENTS": 100,
    # Request rates ("N/second|minute|hour|day", or None for no limit) by throttle scope:
    # "anon" per client IP, "user" per user; a view's throttle_scope adds its own key.
    "API_THROTTLE_RATES": {"anon": "600/minute", "user": "3000/minute"},
    # Cache alias holding the throttle counters.
    "API_THROTTLE_CACHE": "default",
    # --- Open edX signals and the event bus (event_hub.openedx; docs/openedx.rst) ---
    # Event types (or ["*"]) whose received signals become tracking events.
    "OPENEDX_BRIDGE_SIGNALS": [],
    # Also emit the platform's tracking-log event for the same action, where there is one.
    "OPENEDX_BRIDGE_LEGACY_EVENTS": True,
    # Redis of the event bus; None uses the platform's EVENT_BUS_REDIS_CONNECTION_URL.
    "OPENEDX_BUS_REDIS_URL": None,
    # Name of the BACKENDS entry (an OpenedxBusBackend) the producer hands signals to.
    "OPENEDX_BUS_BACKEND": "openedx_bus",
    # Consumer: entries read (and acknowledged) at a time, and how long a read waits for new ones.
    "OPENEDX_BUS_CONSUMER_BATCH": 100,
    "OPENEDX_BUS_CONSUMER_BLOCK_SECONDS": 1.0,
    # Consumer: retries of an entry whose receivers failed, with exponential backoff, then a dead letter.
    "OPENEDX_BUS_CONSUMER_RETRY_MAX": 3,
    "OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_SECONDS": 0.5,
    "OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_MAX_SECONDS": 30.0,
    # Consumer: stop with an error after this many consecutive errors (0: never).
    "OPENEDX_BUS_CONSUMER_ERRORS_LIMIT": 10,
    # Consumer: how long handled metadata ids are remembered to drop redelivered duplicates.
    "OPENEDX_BUS_DEDUPE_SECONDS": 7 * 24 * 3600,
    # Consumer: streams longer than this are trimmed of entries every group acknowledged,
    # at most every OPENEDX_BUS_TRIM_SECONDS.
    "OPENEDX_BUS_STREAM_MAX_LEN": 10_000,
    "OPENEDX_BUS_TRIM_SECONDS": 10.0,
    # --- operations (docs/operations.rst) ---
    # Count Prometheus metrics (needs the "metrics" extra) and serve them at /api/metrics.
    "METRICS": False,
    # When set, /api/metrics wants "Authorization: Bearer <token>".
    "METRICS_TOKEN": None,
    # Invalid events held back, stored per client (user, else IP) per hour; beyond it only counted and logged.
    "INVALID_EVENTS_CLIENT_RATE": 100,
    # The invalid-events table keeps at most this many rows (the oldest go first; None: no cap) ...
    "INVALID_EVENTS_MAX_ROWS": 100_000,
    # ... and rows at most this many days (None: kept until deleted); pruned by the republish task.
    "INVALID_EVENTS_RETENTION_DAYS": 30,
    # --- /segmentio/event, the Segment webhook for mobile apps (docs/segment.rst) ---
    # Shared secret of the webhook; None uses Django's TRACKING_SEGMENTIO_WEBHOOK_SECRET.
    "SEGMENT_WEBHOOK_SECRET": None,
    # Segment library name -> event_source: only messages from these libraries are taken.
    "SEGMENT_WEBHOOK_SOURCES": {
        "analytics-android": "mobile",
        "analytics-ios": "mobile",
        "analytics-kotlin": "mobile",
        "analytics-swift": "mobile",
    },
}

#: Defaults of each entry of ``BACKENDS``.
BACKEND_DEFAULTS: dict[str, Any] = {
    "ENGINE": None,
    "OPTIONS": {},
    "PROCESSORS": [],
    # True lets username and IP (and catalog fields marked PII) through to this backend.
    "PII": False,
    # Without PII: "drop" blanks personal data, "pseudonymise" replaces it with keyed digests.
    "PRIVACY": "drop",
    # This backend's retry limits; None takes the backend class's own, else the EVENT_HUB ones.
    "RETRY_MAX": None,
    "RETRY_BACKOFF_SECONDS": None,
    "RETRY_BACKOFF_MAX_SECONDS": None,
    "ENABLED": True,
}

#: Keys whose values are dotted import paths.
IMPORT_STRINGS = frozenset({"ANONYMOUS_ID_FUNCTION", "CONTENT_NODE_RESOLVER"})

DELIVERY_MODES = ("celery", "sync")
HANDOFF_MODES = ("direct", "spool")
UNREGISTERED_POLICIES = ("deliver", "accept", "record", "reject")
INVALID_SERVER_POLICIES = ("deliver", "record", "raise")
PRIVACY_MODES = ("drop", "pseudonymise")

_reload_hooks: list[Callable[[], None]] = []


def on_reload(func: Callable[[], None]) -> Callable[[], None]:
    """Register ``func`` to run whenever ``EVENT_HUB`` changes; usable as a decorator."""
    _reload_hooks.append(func)
    return func


def perform_import(value: Any, key: str) -> Any:
    """Import ``value`` when it is a dotted path; pass objects through unchanged."""
    if value is None or not isinstance(value, str):
        return value
    try:
        return import_string(value)
    except ImportError as exc:
        raise ConfigurationError(f"EVENT_HUB[{key!r}]: cannot import {value!r}: {exc}") from exc


class HubSettings:
    """Lazy, cached view of ``settings.EVENT_HUB`` with defaults applied."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}
        self._user: dict[str, Any] | None = None

    @property
    def user_settings(self) -> dict[str, Any]:
        """The raw ``EVENT_HUB`` dict from Django settings (empty when unset)."""
        if self._user is None:
            value = getattr(settings, SETTING_NAME, {})
            if not isinstance(value, dict):
                raise ConfigurationError(f"{SETTING_NAME} must be a dict, not {type(value).__name__}")
            self._user = value
        return self._user

    def __getattr__(self, key: str) -> Any:
        # Only called for a setting not read since the last reload: the value is then stored
        # as an instance attribute, so later reads are plain attribute lookups (hot path).
        if key.startswith("_") or key not in DEFAULTS:
            raise AttributeError(f"{SETTING_NAME} has no setting {key!r}")
        value = self.user_settings.get(key, DEFAULTS[key])
        if key in IMPORT_STRINGS:
            value = perform_import(value, key)
        setattr(self, key, value)
        return value

    def unknown_keys(self) -> list[str]:
        """Keys of ``EVENT_HUB`` that event_hub does not know (reported by the system checks)."""
        return sorted(set(self.user_settings) - set(DEFAULTS))

    def backend_configs(self) -> Any:
        """``BACKENDS`` with :data:`BACKEND_DEFAULTS` filled in for each entry, disabled ones left out."""
        try:
            return self._cache["__backends__"]
        except KeyError:
            pass
        configs: dict[str, dict[str, Any]] = {}
        for name, raw in self.BACKENDS.items():
            if not isinstance(raw, dict):
                raise ConfigurationError(f"EVENT_HUB['BACKENDS'][{name!r}] must be a dict")
            config = {**BACKEND_DEFAULTS, **raw}
            if config["ENABLED"]:
                configs[name] = config
        self._cache["__backends__"] = configs
        return configs

    def reload(self) -> None:
        """Forget cached values and rebuild everything derived from them."""
        for key in DEFAULTS:
            self.__dict__.pop(key, None)
        self._cache.clear()
        self._user = None
        for hook in list(_reload_hooks):
            hook()


#: The accessor. Import this, never ``settings.EVENT_HUB``.
hub_settings = HubSettings()


@receiver(setting_changed)
def _reload_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting in (SETTING_NAME, "DEBUG", "SECRET_KEY"):
        hub_settings.reload()
