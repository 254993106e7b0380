"""Serializers of ``/api/tracking``: they validate what a client posted and call the Tracker.

Two request shapes (``docs/api.rst``):

* one event, :class:`TrackingEventSerializer`, in any of three dialects:

  - the design note: ``{"tracking_event_type", "node_id", "event_data"}``;
  - the Open edX browser shape: ``{"event_type", "event" (object or JSON string), "page"}``;
  - mobile apps: ``{"event_source": "mobile", "name", "event", "context": {application, client,
    component, received_at}}``;

  with an optional client ``timestamp`` (kept as ``context.client_time``: ``time``
  is always the server's);
* a batch, :class:`TrackingBatchSerializer`: ``{"events": [event, ...]}``, at most
  ``API_MAX_BATCH_EVENTS``, answered event by event.

The server decides who, when and from where: the user comes from
authentication, ``time`` from the clock, ``event_source`` is ``browser`` or
``mobile`` only, and a client sending ``username``, ``ip``, ``context.user_id``
and the like gets a 400. Every refused event is recorded in the invalid-events
store as it was posted, with the errors the client got, except events refused
only because the client is anonymous.

The declared fields describe the shapes for the OpenAPI schema; validation of
one event is a single hand-written pass (:func:`parse_event`) so a batch of
100 costs little more than the Tracker's own work.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import attrs
import orjson
from drf_spectacular.utils import extend_schema_field
from opaque_keys import InvalidKeyError
from rest_framework import serializers
from rest_framework.request import Request

from event_hub import invalid
from event_hub.api.permissions import NAME_KEYS, anonymous_allowed
from event_hub.catalog import registry
from event_hub.catalog.base import EventType
from event_hub.catalog.validation import PayloadErrors, check_payload, json_type
from event_hub.catalog.video import MobileApplication
from event_hub.conf import hub_settings
from event_hub.context import ContentNode, InvalidContentNodeError, course_id_from_path, course_info
from event_hub.envelope import Envelope, format_time
from event_hub.exceptions import EventHubError, InvalidEventError, UnknownEventError
from event_hub.tracker import tracker

ErrorMap = dict[str, list[str]]

CLIENT_SOURCES = ("browser", "mobile")
DATA_KEYS = ("event", "event_data")
EVENT_KEYS = frozenset({*NAME_KEYS, *DATA_KEYS, "page", "node_id", "timestamp", "event_source", "context"})
#: Envelope fields only the server sets.
SERVER_FIELDS = frozenset(
    {
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
    }
)
#: ``context`` members only the server sets.
SERVER_CONTEXT = frozenset(
    {
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
    }
)
#: ``context`` members of events sent by the edX mobile app.
APP_CONTEXT = frozenset({"application", "client", "component", "received_at"})
CONTEXT_KEYS = {"browser": frozenset({"course_id"}), "mobile": APP_CONTEXT | {"course_id"}}

MAX_NAME = 255
MAX_PAGE = 2048
MAX_NODE_ID = 1024
MAX_SHORT = 255

SERVER_ONLY = "set by the server; a client cannot send it"
UNKNOWN = "unknown field"


class EventErrors(Exception):
    """One posted event was refused; ``errors`` maps field paths to messages."""

    def __init__(self, errors: ErrorMap) -> None:
        super().__init__(errors)
        self.errors = errors


@attrs.frozen
class ClientEvent:
    """One posted event, validated and ready for :meth:`Tracker.send`."""

    name: str
    source: str
    data: Any
    name_key: str
    data_key: str
    #: The event as posted (what the invalid-events store keeps if the catalog refuses it).
    posted: Any = attrs.field(repr=False, eq=False)
    page: str | None = None
    node: ContentNode | None = None
    course_id: str | None = None
    context: Mapping[str, Any] | None = None


# --- validation of one event ------------------------------------------------------------------------


def parse_event(item: Any, request: Request) -> ClientEvent:
    """Validate one posted event; raise :class:`EventErrors` (after recording it as invalid)."""
    errors: ErrorMap = {}
    if not isinstance(item, dict):
        errors["non_field_errors"] = [f"expected an event object, got {json_type(item)}"]
        _record(item, "", "browser", errors, request)
        raise EventErrors(errors)

    for key in item.keys() - EVENT_KEYS:
        errors[key] = [SERVER_ONLY if key in SERVER_FIELDS else UNKNOWN]

    source = item.get("event_source", "browser")
    if source not in CLIENT_SOURCES:
        errors["event_source"] = [
            f"{source!r} events come from the server only; clients send 'browser' or 'mobile'"
            if source in ("server", "task")
            else f"expected 'browser' or 'mobile', got {_short(source)}"
        ]
        source = "browser"

    name, name_key = _name(item, source, errors)
    if name and not anonymous_ok(request, name, source):
        raise EventErrors({name_key: ["authentication is required to send this event type"]})

    data_key = "event_data" if "event_data" in item else "event"
    data = _data(item, errors)
    page = _string(item, "page", MAX_PAGE, errors)
    node = _node(item, errors)
    spec = registry.lookup(name, source) if name else None
    context, course_id = _context(item.get("context"), source, spec, errors)
    client_time = _timestamp(item.get("timestamp"), errors)
    if client_time is not None:
        context["client_time"] = client_time
    if errors:
        _record(item, name, source, errors, request)
        raise EventErrors(errors)
    if course_id is None and node is None and page:
        course_id = course_id_from_path(page) or None
    return ClientEvent(
        name=name,
        source=source,
        data=data,
        name_key=name_key,
        data_key=data_key,
        posted=item,
        page=page,
        node=node,
        course_id=course_id,
        context=context or None,
    )


def anonymous_ok(request: Request, name: str, source: str) -> bool:
    """Whether the requesting client may send ``name`` (authenticated, or allowed anonymously)."""
    user = request.user
    return bool(user is not None and user.is_authenticated) or anonymous_allowed(name, source)


def _name(item: dict[str, Any], source: str, errors: ErrorMap) -> tuple[str, str]:
    given = [key for key in NAME_KEYS if key in item]
    if not given:
        errors["event_type"] = ["this field is required (or give 'name' or 'tracking_event_type')"]
        return "", "event_type"
    for key in given:
        value = item[key]
        if not isinstance(value, str) or not value or len(value) > MAX_NAME:
            errors[key] = [f"expected a string of 1 to {MAX_NAME} characters, got {_short(value)}"]
    if any(key in errors for key in given):
        return "", given[0]
    if "tracking_event_type" in given and len(given) > 1:
        errors["tracking_event_type"] = ["give either 'tracking_event_type' or 'event_type'/'name', not both"]
        return "", "tracking_event_type"
    name_key = given[0]
    name = item[name_key]
    if name_key == "name" and "event_type" in item and item["event_type"] != name:
        # Mobile events carry both (name "edx.video.played", event_type "play_video"): one event type.
        spec = registry.lookup(name, source)
        if spec is None or spec is not registry.lookup(item["event_type"], source):
            errors["event_type"] = [f"{item['event_type']!r} is not the event type of name {name!r}"]
    return name, name_key


def _data(item: dict[str, Any], errors: ErrorMap) -> Any:
    if "event" in item and "event_data" in item:
        errors["event_data"] = ["give either 'event' or 'event_data', not both"]
        return None
    key = "event_data" if "event_data" in item else "event"
    value = item.get(key)
    if isinstance(value, str):
        if value.lstrip()[:1] in ("{", "["):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                errors[key] = [f"not valid JSON: {exc}"]
                return None
        return value
    if value is None:
        return {}  # what the catalog makes of a missing payload
    if isinstance(value, dict):
        return value
    errors[key] = [f"expected an object or a JSON string, got {json_type(value)}"]
    return None


def _string(
    item: Mapping[str, Any], key: str, max_length: int, errors: ErrorMap, prefix: str = ""
) -> str | None:
    value = item.get(key)
    if value is None or (isinstance(value, str) and len(value) <= max_length):
        return value
    errors[prefix + key] = [f"expected a string of at most {max_length} characters, got {_short(value)}"]
    return None


def _node(item: dict[str, Any], errors: ErrorMap) -> ContentNode | None:
    node_id = _string(item, "node_id", MAX_NODE_ID, errors)
    if not node_id:
        return None
    try:
        node = hub_settings.CONTENT_NODE_RESOLVER(node_id)
    except (InvalidContentNodeError, InvalidKeyError, EventHubError, ValueError, TypeError) as exc:
        errors["node_id"] = [str(exc) or f"{node_id!r} is not a course content node"]
        return None
    return node if isinstance(node, ContentNode) else None


def _context(
    raw: Any, source: str, spec: EventType | None, errors: ErrorMap
) -> tuple[dict[str, Any], str | None]:
    if raw is None:
        return {}, None
    if not isinstance(raw, dict):
        errors["context"] = [f"expected an object, got {json_type(raw)}"]
        return {}, None
    allowed = CONTEXT_KEYS[source]
    for key in raw.keys() - allowed:
        if key in SERVER_CONTEXT:
            message = SERVER_ONLY
        elif key in APP_CONTEXT:
            message = "only events from mobile apps (event_source 'mobile') carry an app context"
        else:
            message = UNKNOWN
        errors[f"context.{key}"] = [message]
    course_id = _string(raw, "course_id", MAX_SHORT, errors, "context.")
    if course_id and not course_info(course_id).org_id:
        errors["context.course_id"] = [f"{course_id!r} is not a course key"]
    app = {key: raw[key] for key in APP_CONTEXT if key in raw} if source == "mobile" else {}
    if not app:
        return app, course_id or None
    before = len(errors)
    if "application" in app:
        try:
            check_payload(MobileApplication, app["application"], forbid_extra_keys=True)
        except PayloadErrors as exc:
            for path, messages in exc.errors.items():
                errors["context.application" + (f".{path}" if path else "")] = messages
    if "client" in app and not isinstance(app["client"], dict):
        errors["context.client"] = [f"expected an object, got {json_type(app['client'])}"]
    _string(app, "component", MAX_SHORT, errors, "context.")
    received_at = app.get("received_at")
    if received_at is not None and not (
        (isinstance(received_at, str) and len(received_at) <= MAX_SHORT)
        or (isinstance(received_at, (int, float)) and not isinstance(received_at, bool))
    ):
        errors["context.received_at"] = [
            f"expected a date-time string or a number, got {_short(received_at)}"
        ]
    if len(errors) == before and spec is not None and spec.context is not None:
        try:  # the catalog types the app context of some events (video events: MobileVideoContext)
            check_payload(spec.context, app, forbid_extra_keys=False)
        except PayloadErrors as exc:
            for path, messages in exc.errors.items():
                errors["context" + (f".{path}" if path else "")] = messages
    return app, course_id or None


def _timestamp(value: Any, errors: ErrorMap) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.UTC)
            return format_time(moment)
        except (ValueError, OverflowError):
            pass
    errors["timestamp"] = [f"expected an ISO-8601 date-time, got {_short(value)}"]
    return None


def _short(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    return json_type(value)


def _record(item: Any, name: str, source: str, errors: ErrorMap, request: Request) -> None:
    user = request.user
    # invalid.record writes in a savepoint of its own: a refused row cannot break a transaction.
    invalid.record(
        name=name,
        source=source,
        payload=item,
        errors=errors,
        user_id=user.pk if user is not None and user.is_authenticated else None,
        path=request.path,
    )


# --- hand-off to the Tracker ---------------------------------------------------------------------------


def send_event(event: ClientEvent, request: Request) -> Envelope:
    """Emit ``event`` for the requesting user; raise :class:`EventErrors` when the catalog refuses it.

    A refused event is recorded here, with the whole posted event and the errors as the
    client sees them (the Tracker is asked to raise only).
    """
    try:
        envelope = tracker.send(
            event.name,
            event.data,
            user=request.user,
            course_content_node=event.node,
            course_id=event.course_id,
            source=event.source,
            page=event.page,
            context=event.context,
            on_invalid="raise",
        )
    except InvalidEventError as exc:
        errors = _catalog_errors(exc, event)
        _record(event.posted, event.name, event.source, errors, request)
        raise EventErrors(errors) from None
    if envelope is None:  # pragma: no cover - on_invalid="raise" raises instead
        raise EventErrors({event.data_key: ["the event was not accepted"]})
    return envelope


def _catalog_errors(exc: InvalidEventError, event: ClientEvent) -> ErrorMap:
    """Catalog errors with request field paths (``event.currentTime``, ``event_data.video_id``)."""
    if isinstance(exc, UnknownEventError):
        return {event.name_key: [message for messages in exc.errors.values() for message in messages]}
    errors: ErrorMap = {}
    for path, messages in exc.errors.items():
        if path:
            key = f"{event.data_key}.{path}" if not path.startswith("[") else f"{event.data_key}{path}"
        elif registry.lookup(event.name, event.source) is None:
            key = "event_source"  # a known event type that this source may not send
        else:
            key = event.data_key
        errors.setdefault(key, []).extend(messages)
    return errors


# --- the serializers ------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "object", "additionalProperties": True},
            {"type": "string", "description": "The payload object as a JSON string, or an opaque string."},
        ],
        "nullable": True,
    }
)
class EventPayloadField(serializers.JSONField):
    """The ``event`` / ``event_data`` member: an object, or that object as a JSON string."""


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}]})
class ReceivedAtField(serializers.JSONField):
    """``context.received_at``: when the app's event library received the event."""


class MobileApplicationSerializer(serializers.Serializer):
    """``context.application``: which app sent the event."""

    name = serializers.CharField(help_text="App identifier, e.g. 'edx.mobileapp.android'.")
    version = serializers.CharField(help_text="App version, e.g. '0.1.8'.")


class AppContextSerializer(serializers.Serializer):
    """``context`` members a client may send (the server adds the rest)."""

    course_id = serializers.CharField(
        required=False, max_length=MAX_SHORT, help_text="Course key, e.g. 'course-v1:edX+DemoX+2024'."
    )
    application = MobileApplicationSerializer(required=False, help_text="Mobile events only.")
    client = serializers.DictField(required=False, help_text="Device data (mobile events only).")
    component = serializers.CharField(
        required=False, max_length=MAX_SHORT, help_text="e.g. 'videoplayer' (mobile events only)."
    )
    received_at = ReceivedAtField(
        required=False, help_text="When the app's event library received the event (mobile events only)."
    )


class TrackingEventSerializer(serializers.Serializer):
    """One event from a browser or a mobile app.

    Name it with exactly one of ``event_type``, ``name`` (mobile apps may send
    both) or ``tracking_event_type``; give its payload as ``event`` or ``event_data``.
    """

    event_type = serializers.CharField(
        required=False,
        max_length=MAX_NAME,
        help_text="Event type, e.g. 'play_video' (Open edX browser shape).",
    )
    name = serializers.CharField(
        required=False,
        max_length=MAX_NAME,
        help_text="Event name, e.g. 'edx.video.played' (mobile apps; resolved to its event type).",
    )
    tracking_event_type = serializers.CharField(
        required=False, max_length=MAX_NAME, help_text="Event type, e.g. 'video' (design-note shape)."
    )
    event = EventPayloadField(required=False, help_text="Payload: an object or a JSON string.")
    event_data = EventPayloadField(required=False, help_text="Payload (design-note shape).")
    page = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=MAX_PAGE,
        help_text="URL of the page the event happened on.",
    )
    node_id = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=MAX_NODE_ID,
        help_text="Usage key of the course node the event happened in.",
    )
    timestamp = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Client time (ISO-8601); kept as context.client_time, never as the event time.",
    )
    event_source = serializers.ChoiceField(
        choices=CLIENT_SOURCES, required=False, help_text="'browser' (default) or 'mobile'."
    )
    context = AppContextSerializer(
        required=False, allow_null=True, help_text="Course and mobile app context."
    )

    def run_validators(self, value: Any) -> None:
        """Nothing to add: :meth:`to_internal_value` checked everything (skipping this skips a field copy)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            return {"event": parse_event(data, self.context["request"])}
        except EventErrors as exc:
            raise serializers.ValidationError(exc.errors) from None

    def create(self, validated_data: dict[str, Any]) -> Envelope:
        """Send the event; a catalog error becomes a :class:`ValidationError` (400)."""
        try:
            return send_event(validated_data["event"], self.context["request"])
        except EventErrors as exc:
            raise serializers.ValidationError(exc.errors) from None


class TrackingBatchSerializer(serializers.Serializer):
    """Many events in one request, each accepted or rejected on its own."""

    events = TrackingEventSerializer(many=True, help_text="The events, at most API_MAX_BATCH_EVENTS.")

    def run_validators(self, value: Any) -> None:
        """Nothing to add: :meth:`to_internal_value` checked the batch, each event is checked on its own."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        errors: ErrorMap = {key: [UNKNOWN] for key in data.keys() - {"events"}}
        events = data.get("events")
        limit: int = hub_settings.API_MAX_BATCH_EVENTS
        if not isinstance(events, list):
            errors["events"] = [f"expected an array of events, got {json_type(events)}"]
        elif not events:
            errors["events"] = ["give at least one event"]
        elif len(events) > limit:
            errors["events"] = [f"at most {limit} events per request, got {len(events)}"]
        if errors:
            raise serializers.ValidationError(errors)
        return {"events": events}

    def create(self, validated_data: dict[str, Any]) -> dict[str, Any]:
        """Send each event; answer ``{"results": [...], "accepted": n, "rejected": m}``."""
        request = self.context["request"]
        results: list[dict[str, Any]] = []
        accepted = 0
        for index, item in enumerate(validated_data["events"]):
            try:
                envelope = send_event(parse_event(item, request), request)
            except EventErrors as exc:
                results.append({"index": index, "errors": exc.errors})
            else:
                results.append({"index": index, "id": envelope.id})
                accepted += 1
        return {"results": results, "accepted": accepted, "rejected": len(results) - accepted}


def tracking_serializer(data: Any, request: Request) -> TrackingEventSerializer | TrackingBatchSerializer:
    """The serializer for a request body: a batch when it has ``events``, else one event."""
    context = {"request": request}
    if isinstance(data, dict) and "events" in data:
        return TrackingBatchSerializer(data=data, context=context)
    return TrackingEventSerializer(data=data, context=context)


# --- response shapes (OpenAPI only) --------------------------------------------------------------------


class ErrorsField(serializers.DictField):
    """``{field path: [messages]}``."""

    child = serializers.ListField(child=serializers.CharField())


class EventCreatedSerializer(serializers.Serializer):
    """201: the event was accepted."""

    id = serializers.CharField(help_text="Id of the event (unique; sinks use it to drop duplicates).")


class BatchItemSerializer(serializers.Serializer):
    """Outcome of one event of a batch: its ``id``, or its ``errors``."""

    index = serializers.IntegerField(help_text="Position of the event in 'events'.")
    id = serializers.CharField(required=False, help_text="Id of the accepted event.")
    errors = ErrorsField(required=False, help_text="Why the event was rejected: field path -> messages.")


class BatchResultSerializer(serializers.Serializer):
    """202 (some accepted) or 400 (none accepted): one result per event."""

    results = BatchItemSerializer(many=True)
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()


class ValidationErrorSerializer(serializers.Serializer):
    """400: the request (or its one event) is invalid."""

    errors = ErrorsField(help_text="Field path -> messages, e.g. {'event.currentTime': ['...']}.")


class DetailSerializer(serializers.Serializer):
    """401, 403, 413, 415, 429: why the request was refused."""

    detail = serializers.CharField()
