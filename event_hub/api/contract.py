"""The request contract of ``/api/tracking``, written once as JSON Schema (draft 2020-12).

The same dictionaries serve twice:

* validation: :func:`event_validator` and :func:`batch_validator` compile them with
  jsonschema-rs, and :func:`schema_errors` turns its errors into ``{field path: [messages]}``;
* documentation: :mod:`event_hub.api.openapi` hands them to drf-spectacular as the
  ``TrackingEvent``, ``TrackingBatch``, ``AppContext`` and ``MobileApplication`` components.

The schema says the shape of a request: members, types, lengths, allowed values, and which
members only the server sets (``x-server-set``: refused with *"set by the server"*). What
depends on more than one member or on the catalog (give one name key; ``name`` and
``event_type`` name one type; app context only on mobile events; a resolvable ``node_id``, a
course key, a date that exists, the payload's catalog type, nesting depth) is checked by
:func:`event_hub.api.serializers.parse_event` and said in the descriptions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema_rs

from event_hub.catalog.schema import payload_schema
from event_hub.catalog.validation import json_type
from event_hub.catalog.video import MobileApplication
from event_hub.conf import hub_settings, on_reload
from event_hub.invalid import clip

Schema = dict[str, Any]
ErrorMap = dict[str, list[str]]

CLIENT_SOURCES = ("browser", "mobile")
MAX_NAME = 255
MAX_PAGE = 2048
MAX_NODE_ID = 1024
MAX_SHORT = 255
#: How deeply a free-form member (the payload, ``context.client``) may nest objects and arrays.
MAX_DEPTH = 32
#: An ISO-8601 date-time as clients send it; without an offset it is UTC.
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)

SERVER_ONLY = "set by the server; a client cannot send it"
UNKNOWN = "unknown field"
REQUIRED = "this field is required"
#: The key of errors about an event (or a request) as a whole.
NON_FIELD = "non_field_errors"

#: Envelope fields only the server sets.
SERVER_FIELDS = (
    "id",
    "time",
    "username",
    "user_id",
    "anonymous_user_id",
    "anon_username",
    "ip",
    "agent",
    "host",
    "referer",
    "accept_language",
    "session",
    "course_slug",
    "course_run",
    "module_id",
    "section_id",
    "unit_id",
    "page_url",
)
#: ``context`` members only the server sets.
SERVER_CONTEXT = (
    "user_id",
    "username",
    "anonymous_user_id",
    "org_id",
    "path",
    "module",
    "module_id",
    "section_id",
    "unit_id",
    "course_user_tags",
    "client_time",
    "ip",
    "session",
    "course_run",
    "course_slug",
)


def _string(description: str, max_length: int, *, min_length: int = 0, nullable: bool = False) -> Schema:
    schema: Schema = {"type": ["string", "null"] if nullable else "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    schema["description"] = description
    return schema


_FREE_FORM = f"nested at most {MAX_DEPTH} levels deep"

#: ``context.application``, as the catalog types it.
MOBILE_APPLICATION: Schema = {
    **payload_schema(MobileApplication),
    "description": "context.application: which app sent the event.",
}

APP_CONTEXT: Schema = {
    "type": ["object", "null"],
    "description": (
        "Course and mobile app context. Browsers may send course_id only; the server adds the rest."
    ),
    "properties": {
        "course_id": _string("Course key, e.g. 'course-v1:edX+DemoX+2024'.", MAX_SHORT),
        "application": {"$ref": "#/$defs/MobileApplication"},
        "client": {
            "type": "object",
            "additionalProperties": True,
            "description": f"Device data (mobile events only; {_FREE_FORM}).",
        },
        "component": _string("e.g. 'videoplayer' (mobile events only).", MAX_SHORT),
        "received_at": {
            "anyOf": [{"type": "string", "maxLength": MAX_SHORT}, {"type": "number"}],
            "description": "When the app's event library received the event (mobile events only).",
            "x-expected": "a date-time string or a number",
        },
    },
    "additionalProperties": False,
    "x-server-set": list(SERVER_CONTEXT),
}

_PAYLOAD: Schema = {
    "oneOf": [
        {"type": "object", "additionalProperties": True},
        {"type": "string", "description": "The payload object as a JSON string, or an opaque string."},
        {"type": "null"},
    ],
    "x-expected": "an object or a JSON string",
}

TRACKING_EVENT: Schema = {
    "type": "object",
    "description": (
        "One event from a browser or a mobile app. Name it with exactly one of event_type, name "
        "(mobile apps may send both, naming one event type) or tracking_event_type; give its payload "
        "as event or event_data, not both."
    ),
    "properties": {
        "event_type": _string(
            "Event type, e.g. 'play_video' (Open edX browser shape).", MAX_NAME, min_length=1
        ),
        "name": _string(
            "Event name, e.g. 'edx.video.played' (mobile apps; resolved to its event type).",
            MAX_NAME,
            min_length=1,
        ),
        "tracking_event_type": _string(
            "Event type, e.g. 'video' (design-note shape).", MAX_NAME, min_length=1
        ),
        "event": {**_PAYLOAD, "description": f"Payload: an object or a JSON string ({_FREE_FORM})."},
        "event_data": {**_PAYLOAD, "description": f"Payload (design-note shape; {_FREE_FORM})."},
        "page": _string("URL of the page the event happened on.", MAX_PAGE, nullable=True),
        "node_id": _string("Usage key of the course node the event happened in.", MAX_NODE_ID, nullable=True),
        "timestamp": {
            "type": ["string", "null"],
            "pattern": TIMESTAMP_PATTERN,
            "description": (
                "Client time, ISO-8601 (without an offset it is UTC); kept as context.client_time, "
                "never as the event time."
            ),
            "x-expected": "an ISO-8601 date-time",
        },
        "event_source": {
            "type": "string",
            "enum": list(CLIENT_SOURCES),
            "description": "'browser' (default) or 'mobile'; server and task events come from the server.",
        },
        "context": {"$ref": "#/$defs/AppContext"},
    },
    "additionalProperties": False,
    "x-server-set": list(SERVER_FIELDS),
}

DEFINITIONS: dict[str, Schema] = {
    "TrackingEvent": TRACKING_EVENT,
    "AppContext": APP_CONTEXT,
    "MobileApplication": MOBILE_APPLICATION,
}

#: Members of an event, and of its ``context``, a client may send.
EVENT_KEYS = frozenset(TRACKING_EVENT["properties"])
CONTEXT_KEYS = frozenset(APP_CONTEXT["properties"])


def batch_schema(max_events: int) -> Schema:
    """``{"events": [event, ...]}`` with 1 to ``max_events`` events."""
    return {
        "type": "object",
        "description": "Many events in one request, each accepted or rejected on its own.",
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_events,
                "items": {"$ref": "#/$defs/TrackingEvent"},
                "description": f"The events, 1 to API_MAX_BATCH_EVENTS ({max_events}).",
            }
        },
        "required": ["events"],
        "additionalProperties": False,
    }


def _document(root: Schema) -> Schema:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": DEFINITIONS}


# --- validation --------------------------------------------------------------------------------------


class ContractValidator:
    """A compiled schema, and the subschema of each field path for the error messages."""

    def __init__(self, root: Schema) -> None:
        self.validator = jsonschema_rs.validator_for(_document(root))
        self.fields: dict[str, Schema] = {}
        self._index("", root)

    def _index(self, path: str, schema: Schema) -> None:
        ref = schema.get("$ref")
        if ref is not None:
            schema = DEFINITIONS[ref.rsplit("/", 1)[1]]
        self.fields[path] = schema
        for name, member in schema.get("properties", {}).items():
            self._index(_join(path, name), member)

    def is_valid(self, instance: Any) -> bool:
        return bool(self.validator.is_valid(instance))

    def errors(self, instance: Any) -> ErrorMap:
        """``{field path: [messages]}`` for ``instance`` (empty when it is valid), one message per path."""
        try:
            return schema_errors(self.validator.iter_errors(instance), self.fields)
        except ValueError:
            # jsonschema-rs cannot describe an error on a value nested deeper than it converts
            # back; the contract's own members are shallow, so a clipped copy has the same errors.
            return schema_errors(self.validator.iter_errors(clip(instance, MAX_DEPTH + 1)), self.fields)


@functools.cache
def event_validator() -> ContractValidator:
    """The validator of one event."""
    return ContractValidator(TRACKING_EVENT)


@functools.cache
def batch_validator() -> ContractValidator:
    """The validator of a batch's own members (each event is validated on its own)."""
    root = batch_schema(hub_settings.API_MAX_BATCH_EVENTS)
    events = {**root["properties"]["events"], "items": True}
    return ContractValidator({**root, "properties": {"events": events}})


@functools.cache
def batch_events_validator() -> ContractValidator:
    """The validator of a whole batch, its events included: one call for the usual, valid, batch."""
    return ContractValidator(batch_schema(hub_settings.API_MAX_BATCH_EVENTS))


on_reload(batch_validator.cache_clear)
on_reload(batch_events_validator.cache_clear)


def schema_errors(errors: Iterable[Any], fields: Mapping[str, Schema]) -> ErrorMap:
    """jsonschema-rs errors as ``{field path: [message]}``, in the API's own words."""
    result: ErrorMap = {}
    for error in errors:
        path = ".".join(str(part) for part in error.instance_path)
        kind = error.kind
        schema = fields.get(path, {})
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            server_set = schema.get("x-server-set", ())
            for key in kind.unexpected:
                result.setdefault(_join(path, key), [SERVER_ONLY if key in server_set else UNKNOWN])
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            result.setdefault(_join(path, kind.property), [REQUIRED])
        else:
            message = f"expected {expected(schema)}, got {short(error.instance)}"
            result.setdefault(path or NON_FIELD, [message])
    return result


def expected(schema: Schema) -> str:
    """What ``schema`` asks for, in words."""
    if "x-expected" in schema:
        return str(schema["x-expected"])
    if "enum" in schema:
        return " or ".join(repr(value) for value in schema["enum"])
    types = schema.get("type", ())
    kind = types if isinstance(types, str) else next((t for t in types if t != "null"), "")
    if kind == "string" and "maxLength" in schema:
        if "minLength" in schema:
            return f"a string of {schema['minLength']} to {schema['maxLength']} characters"
        return f"a string of at most {schema['maxLength']} characters"
    if kind == "array":
        return f"an array of {schema.get('minItems', 0)} to {schema.get('maxItems', 'any number of')} items"
    return {"object": "an object", "string": "a string"}.get(kind, kind or "something else")


def short(value: Any) -> str:
    """``value`` in an error message: a short string as itself, else its JSON type (and size)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    return json_type(value)


#: The types of JSON's scalars as decoded.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests objects and arrays more than ``limit`` levels deep."""
    if type(value) is dict and limit >= 1 and _SCALARS.issuperset(map(type, value.values())):
        return False  # an object of scalars, as most payloads are: checked without a walk in Python
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(limit):
        if not level:
            return False
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, (dict, list))
        ]
    return bool(level)


def _join(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)
