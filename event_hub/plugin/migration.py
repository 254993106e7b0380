"""From event-tracking's settings to ``EVENT_HUB``: what each setting of a running LMS becomes.

:func:`translate` reads a platform's settings (a mapping of setting names to values:
``vars(settings_module)`` or Django's ``settings``) and returns the ``EVENT_HUB`` that
delivers the same events to the same places, with a note for everything that has no
equivalent or needs a decision. ``docs/openedx_plugin.rst`` lists the mapping;
``manage.py event_hub_migrate_settings`` prints the result for the current settings.

The settings read, as the platform names them:

* ``EVENT_TRACKING_BACKENDS``: top-level backends, either routing backends
  (``RoutingBackend``, ``AsyncRoutingBackend``, ``EventBusRoutingBackend``) with
  ``OPTIONS.backends`` and ``OPTIONS.processors``, or leaf backends. Leaves become
  ``BACKENDS`` entries: the logger backend a JSON-lines file, the Segment backend the
  Segment backend, the event-bus backend the bus backend; processors become
  per-backend ``PROCESSORS``;
* ``EVENT_TRACKING_PROCESSORS``: processors of every backend (``PROCESSORS``);
* ``TRACKING_BACKENDS`` (the older ``track`` backends): its logger backend, when
  ``EVENT_TRACKING_BACKENDS`` has none;
* ``LOGGING``: the file the tracking logger's handler writes (else ``LOG_DIR``);
* ``TRACK_MAX_EVENT``, ``LMS_SEGMENT_KEY``, ``EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST``,
  ``EVENT_BUS_TRACKING_LOGS``, ``SEND_TRACKING_EVENT_EMITTED_SIGNAL``, ``CELERY_ALWAYS_EAGER``.

Whitelists differ in one way that matters: event-tracking's ``NameWhitelistProcessor``
lets nothing through with an empty list, event_hub's ``EventNameFilter`` lets
everything through with an empty ``allow``. An empty whitelist therefore becomes a
disabled backend, never an open filter.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

import attrs
from django.utils.module_loading import import_string

from event_hub.conf import DEFAULTS

JSONLOG_ENGINE = "event_hub.backends.jsonlog.JsonLinesBackend"
#: The Segment and bus backends of event_hub; an entry using one is left disabled when it is not installed.
SEGMENT_ENGINE = "event_hub.backends.segment.SegmentBackend"
BUS_ENGINE = "event_hub.backends.openedx_bus.OpenedxBusBackend"
NAME_FILTER = "event_hub.processors.filters.EventNameFilter"

#: event-tracking engines, by what they do (the platform spells some with a ``common.djangoapps.`` prefix).
ROUTING_ENGINES = frozenset(
    {
        "eventtracking.backends.routing.RoutingBackend",
        "eventtracking.backends.async_routing.AsyncRoutingBackend",
        "eventtracking.backends.event_bus.EventBusRoutingBackend",
    }
)
LOGGER_ENGINES = frozenset(
    {
        "eventtracking.backends.logger.LoggerBackend",
        "track.backends.logger.LoggerBackend",
        "common.djangoapps.track.backends.logger.LoggerBackend",
    }
)
SEGMENT_ENGINES = frozenset({"eventtracking.backends.segment.SegmentBackend"})
BUS_ENGINES = frozenset({"eventtracking.backends.event_bus.EventBusRoutingBackend"})
WHITELIST_PROCESSOR = "eventtracking.processors.whitelist.NameWhitelistProcessor"
#: Processors whose work the ``openedx`` format of the tracking log does itself.
BUILT_IN_PROCESSORS = {
    "track.shim.LegacyFieldMappingProcessor": "the 'openedx' format writes the legacy top-level fields",
    "track.shim.PrefixedEventProcessor": "the 'openedx' format names browser events as the platform does",
    "track.shim.GoogleAnalyticsProcessor": "the Segment backend adds the Google Analytics client id",
}

#: Platform settings with an ``EVENT_HUB`` key of their own, once that key exists in this version.
PLATFORM_KEYS = {
    "TRACKING_SEGMENTIO_WEBHOOK_SECRET": "SEGMENT_WEBHOOK_SECRET",
    "TRACKING_SEGMENTIO_ALLOWED_TYPES": "SEGMENT_WEBHOOK_ALLOWED_TYPES",
    "TRACKING_SEGMENTIO_DISALLOWED_SUBSTRING_NAMES": "SEGMENT_WEBHOOK_DISALLOWED_SUBSTRINGS",
    "TRACKING_SEGMENTIO_SOURCE_MAP": "SEGMENT_WEBHOOK_SOURCE_MAP",
}
#: Platform settings event_hub leaves where they are, and why.
KEPT_AS_THEY_ARE = {
    "EVENT_BUS_PRODUCER": "openedx-events reads it when the bus backend sends",
    "EVENT_BUS_PRODUCER_CONFIG": "openedx-events reads it when the bus backend sends",
    "EVENT_BUS_TOPIC_PREFIX": "openedx-events reads it when the bus backend sends",
    "TRACKING_IGNORE_URL_PATTERNS": "the platform's tracking middleware uses it; event_hub emits no "
    "event per request",
}
DEFAULT_LOGGER = "tracking"


@attrs.frozen
class Migration:
    """The ``EVENT_HUB`` for a set of platform settings, and what a person should read about it."""

    hub: dict[str, Any]
    notes: list[str]


def engine_available(path: str) -> bool:
    """Whether ``path`` imports in this install (the Segment and bus backends are optional)."""
    module, _, _name = path.rpartition(".")
    try:
        if importlib.util.find_spec(module) is None:
            return False
        import_string(path)
    except ImportError:
        return False
    return True


def strip_prefix(engine: str) -> str:
    """An engine path without the platform's ``common.djangoapps.`` prefix."""
    return engine.removeprefix("common.djangoapps.")


def tracking_log_path(values: Mapping[str, Any], logger_name: str, notes: list[str]) -> str:
    """The file the platform's tracking logger writes, from ``LOGGING`` (else ``LOG_DIR``)."""
    logging_config = values.get("LOGGING") or {}
    handlers = logging_config.get("handlers", {})
    logger = logging_config.get("loggers", {}).get(logger_name, {})
    for handler_name in logger.get("handlers", ()):
        handler = handlers.get(handler_name, {})
        if handler.get("filename"):
            return str(handler["filename"])
        if "SysLog" in str(handler.get("class", "")):
            notes.append(
                f"logger {logger_name!r} writes to syslog (handler {handler_name!r}); event_hub writes "
                "the file itself: check 'path' is the file your log shippers read"
            )
    log_dir = values.get("LOG_DIR")
    if log_dir:
        return f"{str(log_dir).rstrip('/')}/tracking.log"
    notes.append(f"no file found for logger {logger_name!r}: 'path' is event_hub's default, set it")
    return str(DEFAULTS["BACKENDS"]["tracking_log"]["OPTIONS"]["path"])


def translate(values: Mapping[str, Any]) -> Migration:
    """The ``EVENT_HUB`` matching the event-tracking settings in ``values``."""
    translator = _Translator(values)
    translator.run()
    return Migration(hub=translator.hub, notes=translator.notes)


class _Translator:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.backends: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.hub: dict[str, Any] = {}

    def run(self) -> None:
        for name, config in (self.values.get("EVENT_TRACKING_BACKENDS") or {}).items():
            self.top_level(name, config or {})
        if not any(entry["ENGINE"] == JSONLOG_ENGINE for entry in self.backends.values()):
            for name, config in (self.values.get("TRACKING_BACKENDS") or {}).items():
                if strip_prefix(config.get("ENGINE", "")) in LOGGER_ENGINES:
                    self.logger(name, config.get("OPTIONS") or {}, [])
                else:
                    self.notes.append(f"TRACKING_BACKENDS[{name!r}] ({config.get('ENGINE')}): no equivalent")
        shared = self.values.get("EVENT_TRACKING_PROCESSORS")
        processors = self.processors("EVENT_TRACKING_PROCESSORS", shared)
        if processors:
            self.hub["PROCESSORS"] = processors
        self.hub["BACKENDS"] = self.backends
        if self.values.get("CELERY_ALWAYS_EAGER"):
            self.hub["DELIVERY"] = "sync"
            self.notes.append("CELERY_ALWAYS_EAGER is on: events are delivered in process (DELIVERY 'sync')")
        for setting, key in PLATFORM_KEYS.items():
            if self.values.get(setting) is None:
                continue
            if key in DEFAULTS:
                self.hub[key] = self.values[setting]
            else:
                self.notes.append(f"{setting}: no EVENT_HUB key in this version (would be {key})")
        for setting, why in KEPT_AS_THEY_ARE.items():
            if self.values.get(setting):
                self.notes.append(f"{setting}: kept as it is ({why})")

    def top_level(self, name: str, config: Mapping[str, Any]) -> None:
        engine = strip_prefix(config.get("ENGINE", ""))
        options = config.get("OPTIONS") or {}
        where = f"EVENT_TRACKING_BACKENDS[{name!r}]"
        processors = options.get("processors") or []
        if engine in BUS_ENGINES:
            # Events go on the bus; its backends are what the bus consumer routes to.
            self.bus(name, processors)
            for child, child_config in (options.get("backends") or {}).items():
                self.notes.append(
                    f"{where}: backend {child!r} ({(child_config or {}).get('ENGINE')}) runs in the bus "
                    "consumer, not in event_hub"
                )
            return
        if engine in ROUTING_ENGINES and "backends" in options:
            for child, child_config in options["backends"].items():
                leaf = f"{name}.{child}" if len(options["backends"]) > 1 else name
                self.leaf(leaf, child_config or {}, processors, where)
            return
        self.leaf(name, config, [], f"EVENT_TRACKING_BACKENDS[{name!r}]")

    def leaf(self, name: str, config: Mapping[str, Any], processors: list[Any], where: str) -> None:
        engine = strip_prefix(config.get("ENGINE", ""))
        options = config.get("OPTIONS") or {}
        if engine in LOGGER_ENGINES:
            self.logger(name, options, processors)
        elif engine in SEGMENT_ENGINES:
            self.segment(name, processors)
        elif engine in BUS_ENGINES:
            self.bus(name, processors)
        elif engine.startswith("event_routing_backends."):
            self.notes.append(f"{where}: {engine} (xAPI/Caliper) has no equivalent here yet")
        else:
            self.notes.append(f"{where}: {engine or 'no ENGINE'} has no equivalent")

    def logger(self, name: str, options: Mapping[str, Any], processors: list[Any]) -> None:
        logger_name = options.get("name", DEFAULT_LOGGER)
        backend_options: dict[str, Any] = {"path": tracking_log_path(self.values, logger_name, self.notes)}
        max_size = options.get("max_event_size", self.values.get("TRACK_MAX_EVENT"))
        if max_size:
            backend_options["max_event_bytes"] = int(max_size)
            self.notes.append(
                f"{name}: events over {max_size} bytes go to the dead-letter table instead of being dropped "
                "(set oversize='truncate' to shorten them)"
            )
        entry = {"ENGINE": JSONLOG_ENGINE, "OPTIONS": backend_options}
        self.add(name, entry, processors)

    def segment(self, name: str, processors: list[Any]) -> None:
        extra = list(self.values.get("EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST") or [])
        entry: dict[str, Any] = {"ENGINE": SEGMENT_ENGINE, "OPTIONS": {}}
        key = self.values.get("LMS_SEGMENT_KEY")
        if key:
            entry["OPTIONS"]["write_key"] = key
        else:
            entry["ENABLED"] = False
            self.notes.append(f"{name}: LMS_SEGMENT_KEY is not set, so the platform sends nothing: disabled")
        self.add(name, entry, processors, extra_allowed=extra)

    def bus(self, name: str, processors: list[Any]) -> None:
        # An event reaches the bus when the routing whitelist and EVENT_BUS_TRACKING_LOGS both list it.
        on_bus = set(self.values.get("EVENT_BUS_TRACKING_LOGS") or ())
        whitelists = [p for p in processors if strip_prefix(_engine(p)) == WHITELIST_PROCESSOR]
        for processor in whitelists:
            on_bus &= set((processor.get("OPTIONS") or {}).get("whitelist") or ())
        entry: dict[str, Any] = {"ENGINE": BUS_ENGINE, "OPTIONS": {}}
        if not self.values.get("SEND_TRACKING_EVENT_EMITTED_SIGNAL"):
            entry["ENABLED"] = False
            self.notes.append(f"{name}: SEND_TRACKING_EVENT_EMITTED_SIGNAL is off: nothing goes on the bus")
        rest = [p for p in processors if p not in whitelists]
        self.add(name, entry, rest, extra_allowed=sorted(on_bus), whitelist_required=True)

    def add(
        self,
        name: str,
        entry: dict[str, Any],
        processors: list[Any],
        *,
        extra_allowed: list[str] | None = None,
        whitelist_required: bool = False,
    ) -> None:
        whitelists = [p for p in processors if strip_prefix(_engine(p)) == WHITELIST_PROCESSOR]
        allowed = [n for p in whitelists for n in ((p.get("OPTIONS") or {}).get("whitelist") or [])]
        allowed += extra_allowed or []
        rest = [p for p in processors if p not in whitelists]
        converted = self.processors(name, rest)
        if whitelists or whitelist_required:
            if allowed:
                converted.insert(0, [NAME_FILTER, {"allow": sorted(set(allowed))}])
            elif entry.get("ENABLED", True):
                entry["ENABLED"] = False
                self.notes.append(f"{name}: its whitelist is empty, so the platform sends nothing: disabled")
        if converted:
            entry["PROCESSORS"] = converted
        if entry["ENGINE"] != JSONLOG_ENGINE and not engine_available(entry["ENGINE"]):
            entry["ENABLED"] = False
            self.notes.append(f"{name}: {entry['ENGINE']} is not installed here: disabled")
        if name in self.backends:
            name = f"{name}_{len(self.backends)}"
        self.backends[name] = entry

    def processors(self, where: str, processors: Any) -> list[Any]:
        converted: list[Any] = []
        for processor in processors or []:
            engine = strip_prefix(_engine(processor))
            if engine in BUILT_IN_PROCESSORS:
                self.notes.append(f"{where}: {engine} is not needed ({BUILT_IN_PROCESSORS[engine]})")
            elif engine == WHITELIST_PROCESSOR:
                allowed = (processor.get("OPTIONS") or {}).get("whitelist") or []
                # An empty whitelist lets nothing through: so does a filter denying every name.
                converted.append([NAME_FILTER, {"allow": sorted(allowed)} if allowed else {"deny": ["*"]}])
            else:
                self.notes.append(f"{where}: processor {engine or processor!r} has no equivalent")
        return converted


def _engine(processor: Any) -> str:
    return str(processor.get("ENGINE", "")) if isinstance(processor, Mapping) else str(processor)
