"""Backends: where batches of events are delivered.

:func:`get_backend` builds each configured backend once per process (so a file
backend keeps its handle open) and rebuilds them when ``EVENT_HUB`` changes.
"""

from __future__ import annotations

import threading

from django.utils.module_loading import import_string

from event_hub.backends.base import Backend, DeliveryResult, Rejected
from event_hub.conf import hub_settings, on_reload
from event_hub.exceptions import ConfigurationError

_instances: dict[str, Backend] = {}
_lock = threading.Lock()


def backend_class(engine: object, name: str) -> type[Backend]:
    """Import and check the ``ENGINE`` of backend ``name``."""
    if not isinstance(engine, str) or not engine:
        raise ConfigurationError(f"EVENT_HUB['BACKENDS'][{name!r}]['ENGINE'] must be an import path")
    try:
        cls = import_string(engine)
    except ImportError as exc:
        raise ConfigurationError(f"backend {name!r}: cannot import {engine!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise ConfigurationError(f"backend {name!r}: {engine!r} is not a subclass of {Backend.__qualname__}")
    return cls


def get_backend(name: str) -> Backend:
    """The configured backend ``name`` (built on first use)."""
    try:
        return _instances[name]
    except KeyError:
        pass
    with _lock:
        if name not in _instances:
            configs = hub_settings.backend_configs()
            if name not in configs:
                raise ConfigurationError(f"no enabled backend named {name!r} in EVENT_HUB['BACKENDS']")
            config = configs[name]
            cls = backend_class(config["ENGINE"], name)
            try:
                _instances[name] = cls(name, **config["OPTIONS"])
            except TypeError as exc:
                raise ConfigurationError(f"backend {name!r}: {exc}") from exc
        return _instances[name]


@on_reload
def close_all() -> None:
    """Close and forget every built backend."""
    with _lock:
        instances = list(_instances.values())
        _instances.clear()
    for backend in instances:
        backend.close()


__all__ = ["Backend", "DeliveryResult", "Rejected", "backend_class", "close_all", "get_backend"]
