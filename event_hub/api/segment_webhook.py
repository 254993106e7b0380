"""``/segmentio/event``: the endpoint Segment's webhook destination calls with mobile app events.

The edX mobile apps send their tracking to Segment; a webhook destination there
posts each message, one per request, to this view, which turns it into a
tracking-log event as the LMS's view of the same URL does:

* **Authentication**: the shared secret (``SEGMENT_WEBHOOK_SECRET``, else Django's
  ``TRACKING_SEGMENTIO_WEBHOOK_SECRET``) as the ``key`` query parameter (what the
  LMS expects), or an ``X-Signature`` header (the HMAC-SHA1 hex digest of the
  body that Segment's webhook sends when given a shared secret); both compared
  in constant time. Anything else gets 401.
* **What is taken**: ``track`` calls from the libraries of
  ``SEGMENT_WEBHOOK_SOURCES`` (the mobile ones by default). ``properties.name``
  is the event name, ``properties.data`` the payload, ``userId`` the LMS user,
  ``timestamp`` the client's time (``context.client_time``) and ``receivedAt``
  Segment's (``context.received_at``). ``properties.context`` is laid over the
  event context (course id, component …); the application name and version, the
  device data (``context.client``), the user agent and the IP are taken over as
  the platform does, and the IP is subject to each backend's privacy policy.
* **Video events** are rewritten first (:mod:`event_hub.api.mobile_video`).
* **Answers tell the truth**: 200 ``{"id"}`` when the event was accepted (the
  hub's invalid-event policy applies: by default an unknown or invalid event is
  delivered and its problem noted); 400 ``{"errors": {...}}`` with the reason
  otherwise, and every message refused after authentication is stored in the
  invalid-events table. Segment does not retry a 4xx, and nothing is answered
  200 and dropped.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from event_hub import context as ctx
from event_hub import invalid
from event_hub.api import mobile_video
from event_hub.api.contract import too_deep
from event_hub.conf import hub_settings
from event_hub.envelope import format_time
from event_hub.exceptions import InvalidEventError
from event_hub.tracker import tracker

logger = logging.getLogger(__name__)

#: The only Segment call type taken (identify, page, screen … carry no tracking-log event).
TRACK = "track"
#: Members of Segment's ``context`` left out of ``context.client``: user traits (personal data), the
#: user agent (it has its own field) and
#: The device's IP is kept in the ``ip`` field only, where each backend's privacy policy applies.
CLIENT_DROPPED = ("traits", "integrations", "userAgent", "ip")
#: Old Android apps sent forum screen views without a name; this label names them.
FORUM_THREAD_LABEL = "Forum: View Thread"
FORUM_THREAD_EVENT = "edx.bi.app.navigation.screen"


class Refused(Exception):
    """The message cannot be taken; ``errors`` maps a member to the reasons."""

    def __init__(self, errors: dict[str, list[str]], name: str = "", *, recorded: bool = False) -> None:
        super().__init__(errors)
        self.errors = errors
        self.name = name
        #: The tracker stored it as invalid already (the hub's policy held it back).
        self.recorded = recorded


def webhook_secret() -> str:
    """The shared secret (``""`` when none is configured: every request is then refused)."""
    secret = hub_settings.SEGMENT_WEBHOOK_SECRET or getattr(settings, "TRACKING_SEGMENTIO_WEBHOOK_SECRET", "")
    return str(secret or "")


def authenticated(request: HttpRequest, secret: str) -> bool:
    """Whether the request carries the secret (``?key=``) or a valid ``X-Signature`` of its body."""
    if not secret:
        return False
    key = request.GET.get("key")
    if key is not None:
        return hmac.compare_digest(key.encode(), secret.encode())
    signature = request.headers.get("X-Signature")
    if signature:
        expected = hmac.new(secret.encode(), request.body, hashlib.sha1).hexdigest()
        return hmac.compare_digest(signature.encode(), expected.encode())
    return False


@csrf_exempt
@require_POST
def segment_webhook(request: HttpRequest) -> HttpResponse:
    """Take one Segment message (see the module docstring)."""
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > hub_settings.API_MAX_BODY_BYTES:  # refused before the body is read
        return JsonResponse({"detail": "request body too large"}, status=413)
    if not authenticated(request, webhook_secret()):
        return JsonResponse({"detail": "missing or wrong webhook secret"}, status=401)
    try:
        message = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        return _refuse(request, request.body.decode("utf-8", "replace"), Refused({"": [f"not JSON: {exc}"]}))
    try:
        envelope_id = take(request, message)
    except Refused as exc:
        return _refuse(request, message, exc)
    return JsonResponse({"id": envelope_id}, status=200)


def take(request: HttpRequest, message: Any) -> str:
    """Emit the event ``message`` carries; return its id or raise :class:`Refused`."""
    if not isinstance(message, dict) or too_deep(message):
        raise Refused({"": ["a Segment message is a JSON object (of reasonable depth)"]})
    segment_context = message.get("context") or {}
    properties = message.get("properties") or {}
    if not isinstance(segment_context, dict) or not isinstance(properties, dict):
        raise Refused({"": ["'context' and 'properties' must be objects"]})
    library_info = segment_context.get("library")
    library = library_info.get("name") if isinstance(library_info, dict) else None
    source = hub_settings.SEGMENT_WEBHOOK_SOURCES.get(library) if isinstance(library, str) else None
    if not source:
        raise Refused({"context.library.name": [f"library {library!r} is not a configured source"]})
    if message.get("type") != TRACK:
        raise Refused({"type": [f"only {TRACK!r} calls are taken, not {message.get('type')!r}"]})
    name = properties.get("name")
    if not name and properties.get("label") == FORUM_THREAD_LABEL:
        name = FORUM_THREAD_EVENT
    if not isinstance(name, str) or not name:
        raise Refused({"properties.name": ["the event name is required"]})
    if "data" not in properties:
        raise Refused({"properties.data": ["the payload is required"]}, name)
    user = _user(message.get("userId"), name)
    client_time = _time(message, "timestamp", name)
    received_at = _time(message, "receivedAt", name)

    app_context = properties.get("context") or {}
    if not isinstance(app_context, dict):
        raise Refused({"properties.context": ["must be an object"]}, name)
    app_context = dict(app_context)
    app_name = app_context.pop("app_name", "")
    ip = app_context.pop("ip", "") or segment_context.get("ip", "")
    page = app_context.pop("page", None)
    context: dict[str, Any] = {}
    if "application" not in app_context:
        app = segment_context.get("app")
        version = app.get("version", "") if isinstance(app, dict) else ""
        context["application"] = {"name": app_name, "version": version}
    context["client"] = {key: value for key, value in segment_context.items() if key not in CLIENT_DROPPED}
    context.update(app_context)
    context["client_time"] = client_time
    context["received_at"] = received_at
    if "label" in properties:
        context["label"] = properties["label"]
    course_id = properties.get("course_id") or context.pop("course_id", None)
    context.pop("course_id", None)

    data = properties["data"]
    if mobile_video.is_video_event(name):
        rewritten = mobile_video.rewrite(name, data, context)
        name, data, context, page = rewritten.name, rewritten.data, rewritten.context, rewritten.page or page
    agent = segment_context.get("userAgent", "")
    info = ctx.RequestInfo(
        ip=ip if isinstance(ip, str) else "",
        agent=agent if isinstance(agent, str) else "",
        host=request.get_host(),
        path=request.path,
    )
    try:
        with ctx.push("segment", request=info):
            envelope = tracker.send(
                name,
                data,
                user=user,
                course_id=course_id if isinstance(course_id, str) else None,
                source=source,
                page=page if isinstance(page, str) else None,
                context=context,
            )
    except InvalidEventError as exc:
        errors = {f"properties.data.{key}" if key else "properties.name": v for key, v in exc.errors.items()}
        raise Refused(errors, name) from None
    if envelope is None:  # the hub's policy holds such events back; the tracker stored it as invalid
        raise Refused(
            {"properties.data": ["the event does not match the catalog; stored as invalid"]},
            name,
            recorded=True,
        )
    return envelope.id


def _user(value: Any, name: str) -> Any:
    if value in (None, ""):
        raise Refused({"userId": ["the LMS user id is required"]}, name)
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Refused({"userId": [f"{value!r} is not an LMS user id"]}, name) from None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None:
        raise Refused({"userId": [f"no LMS user with id {pk}"]}, name)
    return user


def _time(message: Mapping[str, Any], key: str, name: str) -> str:
    value = message.get(key)
    if not isinstance(value, str):
        raise Refused({key: ["required (an ISO 8601 date-time)"]}, name)
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refused({key: [f"{value!r} is not an ISO 8601 date-time"]}, name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return format_time(moment)


def _refuse(request: HttpRequest, payload: Any, exc: Refused) -> HttpResponse:
    """Store the refused message as invalid and answer 400 with the reasons."""
    if exc.recorded:
        return JsonResponse({"errors": exc.errors}, status=400)
    invalid.record(
        name=exc.name,
        source="mobile",
        payload=payload,
        errors=exc.errors,
        path=request.path,
    )
    return JsonResponse({"errors": exc.errors}, status=400)
