"""Serializers of ``/api/tracking``: they validate what a client posted and call the Tracker.

Two request shapes (``docs/api.rst``), both defined once in :mod:`event_hub.api.contract`
(the JSON Schema that validates them is the one the OpenAPI document shows):

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

:func:`parse_event` checks one event: the contract's schema (jsonschema-rs), then what
the schema cannot say (the rules that join members or ask the catalog).
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import orjson
from opaque_keys import InvalidKeyError
from rest_framework import serializers
from rest_framework.request import Request

from event_hub import invalid, jsonio
from event_hub.api.contract import (
    NON_FIELD,
    REQUIRED,
    ErrorMap,
    batch_events_validator,
    batch_validator,
    event_validator,
    too_deep,
)
from event_hub.api.permissions import NAME_KEYS, anonymous_allowed
from event_hub.catalog import registry
from event_hub.catalog.base import EventType
from event_hub.catalog.validation import PayloadErrors, check_payload
from event_hub.conf import hub_settings
from event_hub.context import ContentNode, InvalidContentNodeError, course_id_from_path, course_info
from event_hub.envelope import Envelope, format_time
from event_hub.exceptions import EventHubError, InvalidEventError, UnknownEventError
from event_hub.tracker import tracker

logger = logging.getLogger(__name__)

TOO_DEEP = "nested too deeply"
SERVER_FAILED = "the server failed on this event; it was not accepted (it may be sent again)"
APP_CONTEXT_ONLY = "only events from mobile apps (event_source 'mobile') carry an app context"


class EventErrors(Exception):
    """One posted event was refused; ``errors`` maps field paths to messages."""

    def __init__(self, errors: ErrorMap) -> None:
        super().__init__(errors)
        self.errors = errors


@attrs.define
class ClientEvent:
    """One posted event, validated and ready for :meth:`Tracker.send`.

    Not frozen (nothing changes it): a frozen class pays an ``object.__setattr__`` per field,
    per event of a batch.
    """

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


def parse_event(
    item: Any, request: Request, *, schema_valid: bool = False, authenticated: bool | None = None
) -> ClientEvent:
    """Validate one posted event; raise :class:`EventErrors` (after recording it as invalid).

    ``schema_valid``: the caller validated ``item`` against the event schema already (a batch
    is validated whole first). ``authenticated``: whether the request's user is, when the
    caller knows it (once per batch rather than once per event).
    """
    if schema_valid:
        errors: ErrorMap = {}
    else:
        validator = event_validator()
        errors = {} if validator.is_valid(item) else validator.errors(item)
        if not isinstance(item, dict):
            _record(item, "", "browser", errors, request)
            raise EventErrors(errors)

    source = item.get("event_source") or "browser"
    if "event_source" in errors:
        source = "browser"
    name, name_key = _name(item, source, errors)
    signed_in = authenticated if authenticated is not None else _is_authenticated(request.user)
    if name and not signed_in and not anonymous_allowed(name, source):
        raise EventErrors({name_key: ["authentication is required to send this event type"]})

    data_key = "event_data" if "event_data" in item else "event"
    data = _data(item, errors)
    page = item.get("page") if "page" not in errors else None
    node = _node(item, errors)
    raw_context = item.get("context")
    spec = registry.lookup(name, source) if name and raw_context else None  # only the app context needs it
    context, course_id = _context(raw_context, source, spec, errors)
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


def _is_authenticated(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated)


def _name(item: dict[str, Any], source: str, errors: ErrorMap) -> tuple[str, str]:
    if "event_type" in item and "name" not in item and "tracking_event_type" not in item:
        # The browser shape, nearly every event: one name key.
        if "event_type" in errors:
            return "", "event_type"
        return item["event_type"], "event_type"
    given = [key for key in NAME_KEYS if key in item]
    if not given:
        errors["event_type"] = [f"{REQUIRED} (or give 'name' or 'tracking_event_type')"]
        return "", "event_type"
    if any(key in errors for key in given):  # the schema refused it
        return "", given[0]
    if "tracking_event_type" in given and len(given) > 1:
        errors["tracking_event_type"] = ["give either 'tracking_event_type' or 'event_type'/'name', not both"]
        return "", "tracking_event_type"
    name_key = given[0]
    name: str = item[name_key]
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
    if key in errors:
        return None
    value = item.get(key)
    if value is None:
        return {}  # what the catalog makes of a missing payload
    if isinstance(value, str):
        if value.lstrip()[:1] not in ("{", "["):
            return value
        try:
            value = jsonio.loads(value)
        except orjson.JSONDecodeError as exc:
            errors[key] = [f"not valid JSON: {exc}"]
            return None
    if too_deep(value):
        errors[key] = [TOO_DEEP]
        return None
    return value


def _node(item: dict[str, Any], errors: ErrorMap) -> ContentNode | None:
    node_id = item.get("node_id")
    if not node_id or "node_id" in errors:
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
    if raw is None or any(key == "context" or key.startswith("context.") for key in errors):
        return {}, None
    course_id = raw.get("course_id")
    if course_id and not course_info(course_id).org_id:
        errors["context.course_id"] = [f"{course_id!r} is not a course key"]
    app = {key: value for key, value in raw.items() if key != "course_id"}
    if app and source != "mobile":
        errors.update((f"context.{key}", [APP_CONTEXT_ONLY]) for key in app)
        return {}, None
    if "client" in app and too_deep(app["client"]):
        errors["context.client"] = [TOO_DEEP]
    elif app and spec is not None and spec.context is not None:
        try:  # the catalog types the app context of some events (video events: MobileVideoContext)
            check_payload(spec.context, app, forbid_extra_keys=False)
        except PayloadErrors as exc:
            for path, messages in exc.errors.items():
                errors["context" + (f".{path}" if path else "")] = messages
    return app, course_id or None


#: What JavaScript's ``Date.toISOString()`` writes: ``YYYY-MM-DDThh:mm:ss.sssZ``.
_JS_TIME = re.compile(r"\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):\d\d:\d\d\.\d{3}Z", re.ASCII).fullmatch


def _timestamp(value: Any, errors: ErrorMap) -> str | None:
    """The client's time in the envelope's format (the schema checked its form, this its date)."""
    if value is None or "timestamp" in errors:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
        if _JS_TIME(value):
            # What a browser's Date.toISOString() writes (UTC, milliseconds): the envelope's form is
            # that text with three more digits and the zone written out (1 µs per event here
            # against 3 µs formatting the parsed time again).
            return value[:23] + "000+00:00"
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return format_time(moment)
    except (ValueError, OverflowError) as exc:
        errors["timestamp"] = [f"not a date-time that exists: {exc}"]
        return None


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


def send_event(event: ClientEvent, request: Request, user: Any = None) -> Envelope:
    """Emit ``event`` for the requesting user; raise :class:`EventErrors` when the catalog refuses it.

    For a signed-in client the hub's policy applies as for server events: by default an
    unknown or invalid event is delivered and its problem noted (the catalog is never the
    reason an event is lost). An anonymous client's event must match the catalog. A refused
    event is recorded here, with the whole posted event and the errors as the client sees them.
    ``user``: ``request.user``, when the caller read it already (once per batch).
    """
    if user is None:
        user = request.user
    try:
        envelope = tracker.send(
            event.name,
            event.data,
            user=user,
            course_content_node=event.node,
            course_id=event.course_id,
            source=event.source,
            page=event.page,
            context=event.context,
            on_invalid=None if user.is_authenticated else "raise",
        )
    except InvalidEventError as exc:
        errors = _catalog_errors(exc, event)
        _record(event.posted, event.name, event.source, errors, request)
        raise EventErrors(errors) from None
    if envelope is None:  # the policy holds such events back; the Tracker stored it as invalid
        raise EventErrors({event.data_key: ["the event does not match the catalog; stored as invalid"]})
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
# They declare no fields: the contract validates, and event_hub.api.openapi documents them with it.


class TrackingEventSerializer(serializers.Serializer):
    """One event from a browser or a mobile app (``contract.TRACKING_EVENT``)."""

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
    """Many events in one request, each accepted or rejected on its own (``contract.batch_schema``)."""

    def run_validators(self, value: Any) -> None:
        """Nothing to add: :meth:`to_internal_value` checked the batch, each event is checked on its own."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return {"events": check_batch(data)}

    def create(self, validated_data: dict[str, Any]) -> dict[str, Any]:
        """Send each event; answer ``{"results": [...], "accepted": n, "rejected": m}``."""
        return send_batch(validated_data["events"], self.context["request"])


def check_batch(data: Any) -> list[Any]:
    """The events of a batch body; :class:`ValidationError` when the batch's own members are invalid."""
    validator = batch_validator()
    if not validator.is_valid(data):
        raise serializers.ValidationError(validator.errors(data))
    events: list[Any] = data["events"]
    return events


def send_batch(events: list[Any], request: Request) -> dict[str, Any]:
    """Send each event of a batch; answer ``{"results": [...], "accepted": n, "rejected": m}``.

    Once an event is accepted the answer is never a 5xx (a retry would send it twice):
    an event the server fails on is reported, and logged, as not accepted.

    The whole batch is checked against the contract's schema in one call first; when it
    passes (nearly always) no event is checked against it again. The user is read once.
    Every event is parsed before the first is sent: two loops over the batch, each keeping
    its own code hot, cost 2 to 3 µs less per event than parsing and sending each in turn.
    """
    schema_valid = batch_events_validator().is_valid({"events": events})
    user = request.user
    authenticated = _is_authenticated(user)
    results: list[dict[str, Any]] = [{"index": index} for index in range(len(events))]
    failures: list[Exception] = []
    parsed = _each(
        zip(results, events, strict=True),
        lambda item: parse_event(item, request, schema_valid=schema_valid, authenticated=authenticated),
        failures,
    )
    sent = _each(parsed, lambda event: send_event(event, request, user), failures)
    for result, envelope in sent:
        result["id"] = envelope.id
    accepted = len(sent)
    if failures and not accepted:
        raise failures[0]
    return {"results": results, "accepted": accepted, "rejected": len(results) - accepted}


def _each(
    pairs: Iterable[tuple[dict[str, Any], Any]], step: Callable[[Any], Any], failures: list[Exception]
) -> list[tuple[dict[str, Any], Any]]:
    """``(result, step(item))`` for each ``(result, item)`` that ``step`` takes; the others get their
    errors in ``result`` (a server failure is logged and added to ``failures``)."""
    done: list[tuple[dict[str, Any], Any]] = []
    for result, item in pairs:
        try:
            done.append((result, step(item)))
        except EventErrors as exc:
            result["errors"] = exc.errors
        except Exception as exc:  # reported in the answer; re-raised by the caller if nothing was accepted
            logger.exception("event %d of a batch failed on the server", result["index"])
            result["errors"] = {NON_FIELD: [SERVER_FAILED]}
            failures.append(exc)
    return done


def accept_event(data: dict[str, Any], request: Request) -> Envelope:
    """One posted event (a JSON object): validate and send it; :class:`ValidationError` (400) if refused.

    What :class:`TrackingEventSerializer` does for an object, without a serializer per request.
    """
    try:
        return send_event(parse_event(data, request), request)
    except EventErrors as exc:
        raise serializers.ValidationError(exc.errors) from None


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
