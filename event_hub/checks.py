"""Django system checks: a wrong ``EVENT_HUB`` stops startup with a clear message.

Stable ids (documented in ``docs/settings.rst``):

* ``event_hub.E001`` ``EVENT_HUB`` is not a dict, or has an unknown key.
* ``event_hub.E002`` a setting has a value of the wrong type or outside its choices.
* ``event_hub.E003`` an import path in the settings cannot be imported.
* ``event_hub.E004`` a backend entry is wrong (not a dict, unknown key, bad ENGINE, PRIVACY or retry limit).
* ``event_hub.E005`` a backend's OPTIONS are wrong.
* ``event_hub.E006`` a processor entry cannot be built.
* ``event_hub.E007`` ``DELIVERY`` is ``celery`` but no Celery broker is configured.
* ``event_hub.E008`` ``HANDOFF`` is ``spool`` but ``SPOOL_DIR`` cannot be created or written.
* ``event_hub.W001`` a backend receives personal data (``PII: True``).
* ``event_hub.W002`` ``EventHubMiddleware`` is not installed: requests get no context or batching.
* ``event_hub.W003`` no backend is enabled: events go nowhere.
* ``event_hub.W004`` ``DELIVERY`` is ``celery`` and the Celery app does not set ``db_reuse_max``
  (``CELERY_DB_REUSE_MAX``): every delivery task opens a new database connection.
* ``event_hub.E010`` ``API_AUTHENTICATION`` is not a list of importable DRF authentication classes.
* ``event_hub.E011`` ``API_THROTTLE_RATES`` has a malformed rate, or ``API_THROTTLE_CACHE`` is not a cache.
* ``event_hub.E012`` ``API_ANONYMOUS_EVENTS`` is not a list of event-name patterns.
* ``event_hub.E013`` ``API_MAX_BODY_BYTES`` or ``API_MAX_BATCH_EVENTS`` is not a positive integer,
  or ``API_TOKEN_CACHE_SECONDS`` is negative.
* ``event_hub.W010`` ``API_ANONYMOUS_EVENTS`` lets anonymous clients post every event type.
* ``event_hub.E014`` ``METRICS`` is on without ``prometheus-client``, ``METRICS_TOKEN`` is not a
  string, or an ``INVALID_EVENTS_*`` bound is not a positive integer or None.
* ``event_hub.E020`` an ``OPENEDX_*`` setting has the wrong type or is out of range.
* ``event_hub.E022`` ``SEGMENT_WEBHOOK_SECRET`` or ``SEGMENT_WEBHOOK_SOURCES`` is malformed.
* ``event_hub.E021`` ``EVENT_BUS_PRODUCER_CONFIG`` sends signals to the bus but ``OPENEDX_BUS_BACKEND``
  names no enabled ``OpenedxBusBackend`` of ``BACKENDS``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from event_hub import conf, metrics
from event_hub.exceptions import ConfigurationError

_POSITIVE_NUMBERS = (
    "BATCH_MAX_SECONDS",
    "CONFIRM_TIMEOUT_SECONDS",
    "BROKER_PUBLISH_TIMEOUT_SECONDS",
    "RETRY_BACKOFF_SECONDS",
    "RETRY_BACKOFF_MAX_SECONDS",
    "SPOOL_FLUSH_SECONDS",
)
_POSITIVE_INTEGERS = ("BATCH_MAX_EVENTS", "OUTBOX_REPUBLISH_LIMIT", "SPOOL_MAX_BATCH_EVENTS")
_NON_NEGATIVE = ("RETRY_MAX", "TRUSTED_PROXY_COUNT", "BROKER_COOLDOWN_SECONDS", "INVALID_SAMPLE_SECONDS")
_CHOICES = {
    "DELIVERY": conf.DELIVERY_MODES,
    "HANDOFF": conf.HANDOFF_MODES,
    "UNREGISTERED_EVENTS": conf.UNREGISTERED_POLICIES,
    "INVALID_SERVER_EVENTS": conf.INVALID_SERVER_POLICIES,
}
_BOOLEANS = ("VALIDATE", "STRICT_FIELDS", "METRICS")
#: OPENEDX_* keys by what they must be: positive integers, integers of at least 0, positive numbers,
#: numbers of at least 0.
_OPENEDX_RANGES: dict[str, tuple[str, Any]] = {
    "OPENEDX_BUS_CONSUMER_BATCH": ("a positive integer", lambda v: isinstance(v, int) and v >= 1),
    "OPENEDX_BUS_STREAM_MAX_LEN": ("a positive integer", lambda v: isinstance(v, int) and v >= 1),
    "OPENEDX_BUS_CONSUMER_RETRY_MAX": ("an integer of at least 0", lambda v: isinstance(v, int) and v >= 0),
    "OPENEDX_BUS_CONSUMER_ERRORS_LIMIT": (
        "an integer of at least 0",
        lambda v: isinstance(v, int) and v >= 0,
    ),
    "OPENEDX_BUS_CONSUMER_BLOCK_SECONDS": (
        "a positive number",
        lambda v: isinstance(v, (int, float)) and v > 0,
    ),
    "OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_MAX_SECONDS": (
        "a positive number",
        lambda v: isinstance(v, (int, float)) and v > 0,
    ),
    "OPENEDX_BUS_DEDUPE_SECONDS": ("a positive number", lambda v: isinstance(v, (int, float)) and v > 0),
    "OPENEDX_BUS_TRIM_SECONDS": ("a positive number", lambda v: isinstance(v, (int, float)) and v > 0),
    "OPENEDX_BUS_CONSUMER_RETRY_BACKOFF_SECONDS": (
        "a number of at least 0",
        lambda v: isinstance(v, (int, float)) and v >= 0,
    ),
}
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_OPTIONAL_POSITIVE_INTEGERS = (
    "INVALID_EVENTS_CLIENT_RATE",
    "INVALID_EVENTS_MAX_ROWS",
    "INVALID_EVENTS_RETENTION_DAYS",
)


@register(Tags.compatibility, "event_hub")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check the whole of ``EVENT_HUB``."""
    try:
        user = conf.hub_settings.user_settings
    except ConfigurationError as exc:
        return [Error(str(exc), id="event_hub.E001")]
    messages: list[CheckMessage] = [
        Error(
            f"EVENT_HUB has an unknown key {key!r}",
            hint=f"Known keys: {', '.join(conf.DEFAULTS)}",
            id="event_hub.E001",
        )
        for key in conf.hub_settings.unknown_keys()
    ]
    hub = conf.hub_settings
    values = {key: user.get(key, default) for key, default in conf.DEFAULTS.items()}
    messages += _check_scalars(values)
    messages += _check_compression(values["BROKER_COMPRESSION"])
    for key in sorted(conf.IMPORT_STRINGS):
        try:
            getattr(hub, key)
        except ConfigurationError as exc:
            messages.append(Error(str(exc), id="event_hub.E003"))
    messages += _check_processors(values["PROCESSORS"], "EVENT_HUB['PROCESSORS']")
    messages += _check_backends(values["BACKENDS"])
    if values["DELIVERY"] == "celery":
        messages += _check_celery()
        if values["HANDOFF"] == "spool":
            messages += _check_spool_dir(values["SPOOL_DIR"])
    messages += _check_api(values)
    messages += _check_operations(values)
    messages += _check_openedx(values)
    messages += _check_segment_webhook(values)
    if "event_hub.middleware.EventHubMiddleware" not in getattr(settings, "MIDDLEWARE", ()):
        messages.append(
            Warning(
                "EventHubMiddleware is not in MIDDLEWARE: events emitted in requests carry no request "
                "context and are not batched per request",
                hint="Add 'event_hub.middleware.EventHubMiddleware' after the authentication middleware.",
                id="event_hub.W002",
            )
        )
    return messages


def _check_scalars(values: dict[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []

    def wrong(key: str, expected: str) -> None:
        messages.append(
            Error(f"EVENT_HUB[{key!r}] must be {expected}, not {values[key]!r}", id="event_hub.E002")
        )

    for key, choices in _CHOICES.items():
        if values[key] not in choices:
            wrong(key, f"one of {choices}")
    for key in _POSITIVE_NUMBERS:
        if isinstance(values[key], bool) or not isinstance(values[key], (int, float)) or values[key] <= 0:
            wrong(key, "a positive number")
    for key in _POSITIVE_INTEGERS:
        if isinstance(values[key], bool) or not isinstance(values[key], int) or values[key] < 1:
            wrong(key, "a positive integer")
    for key in _NON_NEGATIVE:
        if isinstance(values[key], bool) or not isinstance(values[key], (int, float)) or values[key] < 0:
            wrong(key, "a number of at least 0")
    for key in _BOOLEANS:
        if not isinstance(values[key], bool):
            wrong(key, "True or False")
    if not isinstance(values["BACKENDS"], dict):
        wrong("BACKENDS", "a dict of backend name to configuration")
    if not isinstance(values["SPOOL_DIR"], (str, os.PathLike)) or not str(values["SPOOL_DIR"]):
        wrong("SPOOL_DIR", "a path")
    return messages


def _check_operations(values: dict[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if values["METRICS"] is True and metrics.prometheus_client is None:
        messages.append(
            Error(
                "EVENT_HUB['METRICS'] is True but prometheus-client is not installed",
                hint="pip install 'event-hub[metrics]'",
                id="event_hub.E014",
            )
        )
    token = values["METRICS_TOKEN"]
    if token is not None and (not isinstance(token, str) or not token):
        messages.append(
            Error(
                f"EVENT_HUB['METRICS_TOKEN'] must be a non-empty string or None, not {token!r}",
                id="event_hub.E014",
            )
        )
    for key in _OPTIONAL_POSITIVE_INTEGERS:
        value = values[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            messages.append(
                Error(
                    f"EVENT_HUB[{key!r}] must be a positive integer or None, not {value!r}",
                    id="event_hub.E014",
                )
            )
    return messages


def _check_compression(name: Any) -> list[CheckMessage]:
    if name in (None, "zlib"):
        return []
    return [
        Error(f"EVENT_HUB['BROKER_COMPRESSION'] must be 'zlib' or None, not {name!r}", id="event_hub.E002")
    ]


def _check_processors(entries: Any, where: str) -> list[CheckMessage]:
    from event_hub.processors.chain import build_processors

    try:
        build_processors(entries, where)
    except ConfigurationError as exc:
        return [Error(str(exc), id="event_hub.E006")]
    return []


def _check_backends(backends: Any) -> list[CheckMessage]:
    from event_hub.backends import backend_class

    if not isinstance(backends, dict):
        return []
    messages: list[CheckMessage] = []
    enabled = 0
    for name, raw in backends.items():
        where = f"EVENT_HUB['BACKENDS'][{name!r}]"
        if not isinstance(raw, dict):
            messages.append(Error(f"{where} must be a dict", id="event_hub.E004"))
            continue
        unknown = sorted(set(raw) - set(conf.BACKEND_DEFAULTS))
        if unknown:
            messages.append(
                Error(
                    f"{where} has unknown key(s) {unknown}",
                    hint=f"Known: {', '.join(conf.BACKEND_DEFAULTS)}",
                    id="event_hub.E004",
                )
            )
        config = {**conf.BACKEND_DEFAULTS, **raw}
        if config["PRIVACY"] not in conf.PRIVACY_MODES:
            messages.append(
                Error(f"{where}['PRIVACY'] must be one of {conf.PRIVACY_MODES}", id="event_hub.E004")
            )
        for key in ("RETRY_MAX", "RETRY_BACKOFF_SECONDS", "RETRY_BACKOFF_MAX_SECONDS"):
            value = config[key]
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if value is not None and (not number or value < 0):
                messages.append(
                    Error(f"{where}[{key!r}] must be None or a non-negative number", id="event_hub.E004")
                )
        if not config["ENABLED"]:
            continue
        enabled += 1
        try:
            cls = backend_class(config["ENGINE"], name)
        except ConfigurationError as exc:
            messages.append(Error(str(exc), id="event_hub.E004"))
            continue
        options = config["OPTIONS"]
        if not isinstance(options, dict):
            messages.append(Error(f"{where}['OPTIONS'] must be a dict", id="event_hub.E005"))
        else:
            unknown_options = sorted(set(options) - set(cls.option_names()))
            if unknown_options:
                messages.append(
                    Error(
                        f"{where}['OPTIONS'] has unknown option(s) {unknown_options}",
                        hint=f"{cls.__name__} takes: {', '.join(cls.option_names()) or 'no options'}",
                        id="event_hub.E005",
                    )
                )
            messages += [
                Error(f"{where}: {problem}", id="event_hub.E005") for problem in cls.check_options(options)
            ]
        messages += _check_processors(config["PROCESSORS"], f"{where}['PROCESSORS']")
        if config["PII"]:
            messages.append(
                Warning(
                    f"backend {name!r} receives personal data (username, IP, PII event fields)",
                    hint="Intended? Only backends that must have personal data should set PII: True.",
                    id="event_hub.W001",
                )
            )
    if not enabled:
        messages.append(
            Warning(
                "EVENT_HUB has no enabled backend: events are validated but go nowhere", id="event_hub.W003"
            )
        )
    return messages


def _check_celery() -> list[CheckMessage]:
    from celery import current_app

    if not current_app.conf.broker_url:
        return [
            Error(
                "EVENT_HUB['DELIVERY'] is 'celery' but the current Celery app has no broker_url",
                hint="Create a Celery app configured from Django settings (see docs/quickstart.rst), "
                "or set DELIVERY to 'sync'.",
                id="event_hub.E007",
            )
        ]
    if current_app.conf.get("CELERY_DB_REUSE_MAX") is None:  # the key Celery's Django fixup reads
        return [
            Warning(
                "the Celery app does not set db_reuse_max: Celery then closes the database connection "
                "before and after every task, so each delivery task opens a new one to confirm its batch "
                "(on PostgreSQL a new server process, several milliseconds per batch)",
                hint="Set CELERY_DB_REUSE_MAX = 1000 in the settings the worker's Celery app reads "
                "(docs/scaling.rst has the figures), or silence event_hub.W004.",
                id="event_hub.W004",
            )
        ]
    return []


def _check_spool_dir(directory: Any) -> list[CheckMessage]:
    """The spool folder exists (or can be made) and takes a new file."""
    if not isinstance(directory, (str, os.PathLike)) or not str(directory):
        return []  # E002
    path = Path(directory).absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        return [
            Error(
                f"EVENT_HUB['SPOOL_DIR'] {str(path)!r} cannot be written: {exc}",
                hint="HANDOFF is 'spool': give SPOOL_DIR a folder on a local disk the processes can write, "
                "or set HANDOFF to 'direct'.",
                id="event_hub.E008",
            )
        ]
    return []


def _check_api(values: dict[str, Any]) -> list[CheckMessage]:
    """The ``API_*`` settings of ``/api/tracking``."""
    from django.core.cache import caches
    from django.core.cache.backends.base import InvalidCacheBackendError

    from event_hub.api.authentication import load_authentication_classes
    from event_hub.api.throttling import parse_rate

    messages: list[CheckMessage] = []
    try:
        load_authentication_classes(values["API_AUTHENTICATION"])
    except ConfigurationError as exc:
        messages.append(Error(str(exc), id="event_hub.E010"))
    rates = values["API_THROTTLE_RATES"]
    if not isinstance(rates, dict):
        messages.append(
            Error("EVENT_HUB['API_THROTTLE_RATES'] must be a dict of scope to rate", id="event_hub.E011")
        )
    else:
        for scope, rate in rates.items():
            if rate is None:
                continue
            try:
                parse_rate(rate)
            except ValueError as exc:
                messages.append(
                    Error(f"EVENT_HUB['API_THROTTLE_RATES'][{scope!r}]: {exc}", id="event_hub.E011")
                )
    try:
        caches[values["API_THROTTLE_CACHE"]]
    except (InvalidCacheBackendError, TypeError) as exc:
        messages.append(
            Error(
                f"EVENT_HUB['API_THROTTLE_CACHE']: {exc}", hint="Name a key of CACHES.", id="event_hub.E011"
            )
        )
    patterns = values["API_ANONYMOUS_EVENTS"]
    if not isinstance(patterns, (list, tuple)) or not all(isinstance(p, str) and p for p in patterns):
        messages.append(
            Error(
                "EVENT_HUB['API_ANONYMOUS_EVENTS'] must be a list of event names or patterns",
                hint="e.g. ['page_close', 'edx.ui.lms.*']",
                id="event_hub.E012",
            )
        )
    elif "*" in patterns:
        messages.append(
            Warning(
                "EVENT_HUB['API_ANONYMOUS_EVENTS'] lets anonymous clients post every client event",
                hint="List only the event types pages show to anonymous visitors.",
                id="event_hub.W010",
            )
        )
    seconds = values["API_TOKEN_CACHE_SECONDS"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        messages.append(
            Error(
                f"EVENT_HUB['API_TOKEN_CACHE_SECONDS'] must be a number of at least 0, not {seconds!r}",
                id="event_hub.E013",
            )
        )
    for key in ("API_MAX_BODY_BYTES", "API_MAX_BATCH_EVENTS"):
        if isinstance(values[key], bool) or not isinstance(values[key], int) or values[key] < 1:
            messages.append(
                Error(
                    f"EVENT_HUB[{key!r}] must be a positive integer, not {values[key]!r}", id="event_hub.E013"
                )
            )
    return messages


def _check_openedx(values: dict[str, Any]) -> list[CheckMessage]:
    """The ``OPENEDX_*`` settings of the bridge and the event bus."""
    messages: list[CheckMessage] = []

    def wrong(key: str, expected: str) -> None:
        messages.append(
            Error(f"EVENT_HUB[{key!r}] must be {expected}, not {values[key]!r}", id="event_hub.E020")
        )

    for key, (expected, valid) in _OPENEDX_RANGES.items():
        if isinstance(values[key], bool) or not valid(values[key]):
            wrong(key, expected)
    names = values["OPENEDX_BRIDGE_SIGNALS"]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
        wrong("OPENEDX_BRIDGE_SIGNALS", 'a list of event types (or ["*"])')
    if not isinstance(values["OPENEDX_BRIDGE_LEGACY_EVENTS"], bool):
        wrong("OPENEDX_BRIDGE_LEGACY_EVENTS", "True or False")
    url = values["OPENEDX_BUS_REDIS_URL"]
    if url is not None and (not isinstance(url, str) or not url.startswith(_REDIS_SCHEMES)):
        wrong("OPENEDX_BUS_REDIS_URL", f"None or a Redis URL ({', '.join(_REDIS_SCHEMES)})")
    backend = values["OPENEDX_BUS_BACKEND"]
    if not isinstance(backend, str) or not backend:
        wrong("OPENEDX_BUS_BACKEND", "the name of a BACKENDS entry")
    elif _produces_to_bus():
        problem = _bus_backend_problem(backend, values["BACKENDS"])
        if problem:
            messages.append(
                Error(
                    f"EVENT_BUS_PRODUCER_CONFIG sends signals to the event bus, but "
                    f"EVENT_HUB['OPENEDX_BUS_BACKEND'] {backend!r} {problem}",
                    hint="Add an enabled backend with ENGINE "
                    "'event_hub.backends.openedx_bus.OpenedxBusBackend' and name it in OPENEDX_BUS_BACKEND.",
                    id="event_hub.E021",
                )
            )
    return messages


def _produces_to_bus() -> bool:
    """Whether ``EVENT_BUS_PRODUCER_CONFIG`` enables some topic of some signal."""
    config = getattr(settings, "EVENT_BUS_PRODUCER_CONFIG", None)
    if not isinstance(config, dict):
        return False
    return any(
        isinstance(topic, dict) and topic.get("enabled") is True
        for topics in config.values()
        if isinstance(topics, dict)
        for topic in topics.values()
    )


def _bus_backend_problem(name: str, backends: Any) -> str | None:
    """Why ``name`` is not an enabled bus backend of ``backends`` (``None`` when it is)."""
    from event_hub.backends import backend_class
    from event_hub.backends.openedx_bus import OpenedxBusBackend

    entry = backends.get(name) if isinstance(backends, dict) else None
    if not isinstance(entry, dict):
        return "is not a key of BACKENDS"
    if not {**conf.BACKEND_DEFAULTS, **entry}["ENABLED"]:
        return "is disabled"
    try:
        cls = backend_class(entry.get("ENGINE"), name)
    except ConfigurationError:
        return None  # E004 reports it
    if not issubclass(cls, OpenedxBusBackend):
        return f"is a {cls.__name__}, not an OpenedxBusBackend"
    return None
def _check_segment_webhook(values: dict[str, Any]) -> list[CheckMessage]:
    """``SEGMENT_WEBHOOK_*``: the secret and the library -> source map of ``/segmentio/event``."""
    from event_hub.envelope import SOURCES

    messages: list[CheckMessage] = []
    secret = values["SEGMENT_WEBHOOK_SECRET"]
    if secret is not None and (not isinstance(secret, str) or not secret):
        messages.append(
            Error(
                "EVENT_HUB['SEGMENT_WEBHOOK_SECRET'] must be None or a non-empty string", id="event_hub.E022"
            )
        )
    sources = values["SEGMENT_WEBHOOK_SOURCES"]
    if not isinstance(sources, dict) or not all(
        isinstance(library, str) and source in SOURCES for library, source in sources.items()
    ):
        messages.append(
            Error(
                "EVENT_HUB['SEGMENT_WEBHOOK_SOURCES'] must map Segment library names to event sources",
                hint=f"e.g. {{'analytics-kotlin': 'mobile'}}; sources: {', '.join(SOURCES)}",
                id="event_hub.E022",
            )
        )
    return messages
