"""Building blocks for catalog entries: sources, field helpers, the entry type.

An event type is an attrs ``@frozen`` payload class (what goes in the envelope's
``event`` member) registered under one or more names::

    @event_type("edx.cohort.created", sources=SERVER, domain="cohort")
    @frozen
    class CohortCreated:
        \"\"\"The server created a cohort.\"\"\"

        cohort_id: int = required("Numeric id of the cohort.")
        cohort_name: str = required("Display name of the cohort.")

Field helpers put the description (and a PII flag the privacy processor
honours) into attrs metadata, which the docs, the JSON Schema export and the
privacy processor read; nothing about a field is written twice. Events are
validated against the JSON Schema derived from these classes
(:mod:`event_hub.catalog.schema`), so a field's attrs ``validator`` must be one
the schema can express: a :class:`Matches` such as :data:`NOT_BLANK`.

A few events do not carry an object in ``event``: the shared markers
:class:`NoFields` (no members) and :class:`RawString` (an opaque string), or
any type :mod:`event_hub.catalog.schema` can express, registered with a
``description``::

    event_type("problem_graded", sources=BROWSER, domain="problem",
               description="...")(tuple[str, str])
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

import attrs

SERVER: Final = frozenset({"server"})
BROWSER: Final = frozenset({"browser"})
MOBILE: Final = frozenset({"mobile"})
BROWSER_OR_MOBILE: Final = BROWSER | MOBILE
BROWSER_OR_SERVER: Final = BROWSER | SERVER
ALL_SOURCES: Final = frozenset({"server", "browser", "mobile", "task"})

#: Audiences group the catalog pages: who typically causes the event.
AUDIENCES: Final = ("student", "course_team", "segment", "client")


@attrs.frozen
class Matches:
    """attrs validator of a string field that JSON Schema expresses as ``pattern``.

    ``expected`` says in words what the pattern accepts; it is the error message
    (``expected <words>``) and travels in the schema as ``x-expected``.
    """

    pattern: str
    expected: str

    def __call__(self, instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or re.search(self.pattern, value) is None:
            raise ValueError(f"expected {self.expected}")

    @property
    def json_schema(self) -> dict[str, Any]:
        """The keywords this validator adds to its field's schema."""
        return {"pattern": self.pattern, "x-expected": self.expected}


#: A string with at least one character that is not white space.
NOT_BLANK: Final = Matches(r"\S", "a non-empty string")


def required(
    description: str, *, pii: bool = False, json_name: str | None = None, validator: Matches | None = None
) -> Any:
    """A member the event must carry."""
    return attrs.field(validator=validator, metadata=_metadata(description, pii, json_name))


def optional(
    description: str,
    *,
    default: Any = None,
    pii: bool = False,
    json_name: str | None = None,
    validator: Matches | None = None,
) -> Any:
    """A member the event may leave out (``default`` is used for the typed view, never written out)."""
    metadata = _metadata(description, pii, json_name)
    if isinstance(default, (dict, list)):
        return attrs.field(factory=type(default), validator=validator, metadata=metadata)
    return attrs.field(default=default, validator=validator, metadata=metadata)


def _metadata(description: str, pii: bool, json_name: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"doc": " ".join(description.split()), "pii": pii}
    if json_name is not None:
        metadata["json_name"] = json_name
    return metadata


def field_json_name(field: attrs.Attribute[Any]) -> str:
    """The key a field has in JSON (its attribute name unless ``json_name`` says otherwise)."""
    return str(field.metadata.get("json_name", field.name))


def fields_of(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    """The attrs fields of ``cls`` with their annotations resolved to types (nested classes included)."""
    attrs.resolve_types(cls)
    return attrs.fields(cls)


@attrs.frozen
class NoFields:
    """Marker payload for events whose ``event`` member carries no fields."""


@attrs.frozen
class RawString:
    """Marker payload for browser events whose ``event`` member is an opaque string.

    Example: the browser ``problem_check`` event carries the serialized form
    inputs (``input_x=...&input_y=...``) as one string.
    """


def _source_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen
class EventType:
    """One entry of the catalog: a name, where it may come from, and its payload class."""

    name: str = attrs.field(validator=attrs.validators.min_len(1))
    #: What ``event`` holds: an attrs class, a marker (NoFields, RawString) or another checkable type.
    payload: Any = attrs.field()
    sources: frozenset[str] = attrs.field(
        converter=_source_set, validator=attrs.validators.deep_iterable(attrs.validators.in_(ALL_SOURCES))
    )
    domain: str
    audience: str = attrs.field(validator=attrs.validators.in_(AUDIENCES))
    description: str = ""
    #: Newer name carried in ``name`` by mobile events (``play_video`` -> ``edx.video.played``).
    mobile_name: str | None = None
    #: Extra ``context`` members this event carries (an attrs class), if any.
    context: type | None = None
    deprecated: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this entry answers to."""
        return (self.name, self.mobile_name) if self.mobile_name else (self.name,)

    def name_for(self, source: str) -> str:
        """The value of the envelope's ``name`` field for an event from ``source``."""
        if source == "mobile" and self.mobile_name:
            return self.mobile_name
        return self.name

    @property
    def key(self) -> str:
        """Stable identifier used for anchors and schema file names."""
        sources = "+".join(sorted(self.sources))
        return f"{self.name}@{sources}"


def context_fields[C: type](cls: C) -> C:
    """Resolve annotations of an extra-context class so the docs and schemas can read its types."""
    attrs.resolve_types(cls)
    return cls
