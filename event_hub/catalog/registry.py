"""The catalog registry: event name (and source) -> :class:`EventType`.

Domain modules register their entries at import with the
:func:`event_type` decorator (defined here, beside the registry it fills); :mod:`event_hub.catalog`
imports every domain module, so importing the package fills the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import attrs

from event_hub.catalog.base import EventType, NoFields, RawString
from event_hub.catalog.schema import shared_event_schema
from event_hub.catalog.validation import Contract, PayloadErrors
from event_hub.exceptions import InvalidEventError, UnknownEventError


class Validated(NamedTuple):
    """Outcome of a successful validation (a named tuple: one per event, half the cost of an attrs class)."""

    spec: EventType | None  #: None for an unregistered event accepted as untyped.
    event_type: str  #: value for the envelope's ``event_type``
    name: str  #: value for the envelope's ``name``
    data: Any  #: the payload to emit (the caller's own object when it was valid)


class Registry:
    """Every event type event_hub knows, indexed by each of its names."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[EventType]] = {}
        self._entries: list[EventType] = []
        #: (name, source, strict) -> (entry, event_type, envelope name, contract): the fast path.
        self._resolved: dict[tuple[str, str, bool], tuple[EventType, str, str, Contract]] = {}
        #: (entry, strict) -> the entry's schema compiled by jsonschema-rs, built on first use.
        self._contracts: dict[tuple[EventType, bool], Contract] = {}

    def register(self, spec: EventType) -> None:
        """Add ``spec``; a name may repeat only with sources that do not overlap."""
        for name in spec.names:
            for existing in self._by_name.get(name, ()):
                overlap = existing.sources & spec.sources
                if overlap:
                    raise ValueError(f"event {name!r} is already registered for source(s) {sorted(overlap)}")
        for name in spec.names:
            self._by_name.setdefault(name, []).append(spec)
        self._entries.append(spec)
        self._resolved.clear()

    def unregister(self, spec: EventType) -> None:
        """Remove ``spec`` (for tests that register throw-away types)."""
        self._entries.remove(spec)
        self._resolved.clear()
        self._contracts.pop((spec, True), None)
        self._contracts.pop((spec, False), None)
        for name in spec.names:
            specs = self._by_name[name]
            specs.remove(spec)
            if not specs:
                del self._by_name[name]

    def __iter__(self) -> Iterator[EventType]:
        return iter(sorted(self._entries, key=lambda s: (s.name, sorted(s.sources))))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        """Every registered name, including mobile names."""
        return sorted(self._by_name)

    def lookup(self, name: str, source: str) -> EventType | None:
        """The entry for ``name`` from ``source``, or ``None``."""
        for spec in self._by_name.get(name, ()):
            if source in spec.sources:
                return spec
        return None

    def entries_for(self, name: str) -> list[EventType]:
        """Every entry registered under ``name`` (one per distinct set of sources)."""
        return list(self._by_name.get(name, ()))

    def contract(self, spec: EventType, *, strict: bool = True) -> Contract:
        """The compiled schema of ``spec``'s ``event`` member (built once per entry and strictness)."""
        contract = self._contracts.get((spec, strict))
        if contract is None:
            contract = Contract(shared_event_schema(spec, strict), spec.payload)
            self._contracts[(spec, strict)] = contract
        return contract

    def validate(self, name: str, source: str, data: Any, *, strict: bool = True) -> Validated:
        """Check an event against the catalog.

        Raises :class:`UnknownEventError` for a name the catalog lacks and
        :class:`InvalidEventError` for a known name from a wrong source or with a
        payload that does not match its entry's JSON Schema.
        """
        resolved = self._resolved.get((name, source, strict))
        if resolved is None:
            resolved = self._resolve(name, source, strict)
        spec, event_type, envelope_name, contract = resolved
        try:
            checked = contract.check(data)
        except PayloadErrors as exc:
            raise InvalidEventError(name, exc.errors) from None
        return Validated(spec, event_type, envelope_name, checked)

    def _resolve(self, name: str, source: str, strict: bool) -> tuple[EventType, str, str, Contract]:
        specs = self._by_name.get(name)
        if not specs:
            raise UnknownEventError(name, {"": [f"unknown event type {name!r}"]})
        spec = self.lookup(name, source)
        if spec is None:
            allowed = sorted({s for entry in specs for s in entry.sources})
            raise InvalidEventError(
                name, {"": [f"event_source {source!r} is not allowed; expected one of {allowed}"]}
            )
        resolved = (spec, spec.name, spec.name_for(source), self.contract(spec, strict=strict))
        self._resolved[(name, source, strict)] = resolved
        return resolved


#: The process-wide registry.
registry = Registry()


def event_type(
    *names: str,
    sources: Iterable[str],
    domain: str,
    audience: str = "student",
    mobile_names: Iterable[str | None] | None = None,
    context: type | None = None,
    deprecated: bool = False,
    description: str | None = None,
) -> Callable[[Any], Any]:
    """Register the decorated payload class under each of ``names``.

    ``mobile_names`` pairs each name with the newer name mobile events carry in
    ``name`` (``None`` where there is none). The class docstring's first
    paragraph becomes the description unless ``description`` is given (it must
    be for the shared :class:`NoFields` and :class:`RawString` markers and for
    payloads that are not attrs classes, such as ``tuple[str, str]``).
    """
    source_set = frozenset(sources)
    if "server" in source_set:
        source_set |= {"task"}
    pairs = list(mobile_names) if mobile_names is not None else [None] * len(names)
    if len(pairs) != len(names):
        raise ValueError("mobile_names must pair one-to-one with names")

    def decorate[P](cls: P) -> P:
        is_class = isinstance(cls, type) and attrs.has(cls)
        if is_class:
            attrs.resolve_types(cls)  # type: ignore[type-var]
        if description is not None:
            text = description
        elif cls in (NoFields, RawString) or not is_class:
            raise ValueError(f"{names[0]}: events using {cls!r} as payload need a description")
        else:
            text = (cls.__doc__ or "").strip().split("\n\n", 1)[0]
        for name, mobile_name in zip(names, pairs, strict=True):
            registry.register(
                EventType(
                    name=name,
                    payload=cls,
                    sources=source_set,
                    domain=domain,
                    audience=audience,
                    description=" ".join(text.split()),
                    mobile_name=mobile_name,
                    context=context,
                    deprecated=deprecated,
                )
            )
        return cls

    return decorate
