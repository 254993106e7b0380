"""Build each backend's processor chain from ``EVENT_HUB``.

For backend ``B`` the chain is::

    EVENT_HUB["PROCESSORS"]  +  B's own  +  BACKENDS[B]["PROCESSORS"]  +  Privacy(B.PRIVACY)

where "B's own" are the processors the backend class builds from its ``OPTIONS``
(:meth:`~event_hub.backends.base.Backend.route_processors`), and ``Privacy`` is
left out only for a backend with ``"PII": True``. A processor that raises
(anything but :class:`DropEvent`) stops the event for that backend only:
:meth:`Route.apply` lets the error through and the tracker logs it with its
traceback while the other backends still get the event.

A processor entry is an import path (of a callable, or of a class built with
no arguments), a ``[path, {keyword arguments}]`` pair, or a callable object.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import attrs
from django.utils.module_loading import import_string

from event_hub.backends import backend_class
from event_hub.conf import hub_settings, on_reload
from event_hub.envelope import Envelope
from event_hub.exceptions import ConfigurationError, DropEvent
from event_hub.processors import Processor
from event_hub.processors.privacy import Privacy


def build_processor(entry: Any, where: str) -> Processor:
    """One processor from one configuration entry."""
    kwargs: dict[str, Any] = {}
    target = entry
    if isinstance(entry, (list, tuple)):
        if len(entry) != 2 or not isinstance(entry[1], dict):
            raise ConfigurationError(f"{where}: a pair must be [import path, {{options}}], got {entry!r}")
        target, kwargs = entry
    if isinstance(target, str):
        try:
            target = import_string(target)
        except ImportError as exc:
            raise ConfigurationError(f"{where}: cannot import {target!r}: {exc}") from exc
    if isinstance(target, type):
        try:
            target = target(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{where}: {exc}") from exc
    elif kwargs:
        raise ConfigurationError(f"{where}: options given for {target!r}, which is not a class")
    if not callable(target):
        raise ConfigurationError(f"{where}: {target!r} is not callable")
    processor: Processor = target
    return processor


def build_processors(entries: Sequence[Any], where: str) -> tuple[Processor, ...]:
    """Processors of a ``PROCESSORS`` list."""
    if not isinstance(entries, (list, tuple)):
        raise ConfigurationError(f"{where} must be a list")
    return tuple(build_processor(entry, f"{where}[{i}]") for i, entry in enumerate(entries))


@attrs.frozen
class Route:
    """One backend and the processors its events go through."""

    backend: str
    processors: tuple[Processor, ...]
    #: Whether the backend needs personal data collected: it takes it (``PII``), or pseudonymises it.
    pii: bool

    def apply(self, envelope: Envelope) -> Envelope | None:
        """The envelope as this backend receives it, or ``None`` if a processor dropped it."""
        try:
            for processor in self.processors:
                envelope = processor(envelope)
        except DropEvent:
            return None
        return envelope


@attrs.frozen
class Routes:
    """Every enabled backend's route, and the processors shared by all of them."""

    shared: tuple[Processor, ...]
    routes: tuple[Route, ...]
    #: Whether some backend takes or pseudonymises personal data (otherwise it is never collected).
    any_pii: bool = attrs.field(init=False)

    @any_pii.default
    def _any_pii(self) -> bool:
        return any(route.pii for route in self.routes)


@functools.cache
def routes() -> Routes:
    """The routes built from current settings (cached until settings change)."""
    shared = build_processors(hub_settings.PROCESSORS, "EVENT_HUB['PROCESSORS']")
    built = []
    for name, config in hub_settings.backend_configs().items():
        where = f"EVENT_HUB['BACKENDS'][{name!r}]"
        own = (
            *_backend_processors(name, config),
            *build_processors(config["PROCESSORS"], f"{where}['PROCESSORS']"),
        )
        tail: list[Processor] = []
        if not config["PII"]:
            try:
                tail.append(Privacy(config["PRIVACY"]))
            except ValueError as exc:
                raise ConfigurationError(f"{where}['PRIVACY']: {exc}") from exc
        needs_pii = bool(config["PII"]) or config["PRIVACY"] == "pseudonymise"
        built.append(Route(backend=name, processors=(*own, *tail), pii=needs_pii))
    return Routes(shared=shared, routes=tuple(built))


def _backend_processors(name: str, config: dict[str, Any]) -> tuple[Processor, ...]:
    """The processors backend ``name`` builds from its options (none when its class cannot be imported:
    the system checks report that, and its batches fail at delivery as they always did)."""
    try:
        cls = backend_class(config["ENGINE"], name)
    except ConfigurationError:
        return ()
    return cls.route_processors(config["OPTIONS"])


@on_reload
def _forget_routes() -> None:
    routes.cache_clear()
