"""``/api/tracking``: authenticate, throttle, hand the body to the serializer, answer.

* 201 ``{"id"}`` for one accepted event;
* 202 ``{"results", "accepted", "rejected"}`` for a batch with at least one accepted event
  (400 with the same body when none was);
* 400 ``{"errors": {field path: [messages]}}`` for an invalid request or event;
* 401 / 403 (authentication, CSRF), 411 (a chunked body the server cannot end),
  413 (body over ``API_MAX_BODY_BYTES``, announced or not),
  415 (not ``application/json``), 429 (throttled, with ``Retry-After``):
  ``{"detail": "..."}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpResponse
from django.utils.functional import LazyObject, empty
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from event_hub.api.authentication import authentication_classes
from event_hub.api.openapi import TRACKING_REJECTED, TRACKING_REQUEST
from event_hub.api.parsers import JSON, JSONOnlyNegotiation, JSONParser, JSONRenderer, read_unannounced_body
from event_hub.api.permissions import TrackingPermission
from event_hub.api.serializers import (
    BatchResultSerializer,
    DetailSerializer,
    EventCreatedSerializer,
    TrackingEventSerializer,
    accept_event,
    check_batch,
    send_batch,
    tracking_serializer,
)
from event_hub.api.throttling import TrackingThrottle

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every 400 shaped ``{"errors": {field path: [messages]}}``."""
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_400_BAD_REQUEST:
        detail = getattr(exc, "detail", None)
        if isinstance(exc, ValidationError) and isinstance(detail, dict):
            errors = detail
        elif isinstance(detail, list):
            errors = {"non_field_errors": detail}
        else:
            errors = {"non_field_errors": [str(detail)]}
        response.data = {"errors": errors}
    return response


def _json(data: Any, status_code: int) -> HttpResponse:
    """``data`` as :class:`~event_hub.api.parsers.JSONRenderer` would answer it in a DRF ``Response``."""
    return HttpResponse(orjson.dumps(data), status=status_code, content_type=JSON)


def unwrap(user: Any) -> Any:
    """The object behind a lazy user (evaluating it if nobody has yet)."""
    if user._wrapped is empty:
        user._setup()
    return user._wrapped


class TrackingView(APIView):
    """Accept events from browsers and mobile apps, one at a time or in batches."""

    parser_classes = (JSONParser,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONOnlyNegotiation
    permission_classes = (TrackingPermission,)
    #: An extra throttle scope (a key of ``API_THROTTLE_RATES``) for this view, if any.
    throttle_scope: str | None = None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        """The view, outside ``ATOMIC_REQUESTS``: accepted events of a batch stay accepted."""
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def get_authenticators(self) -> list[BaseAuthentication]:
        return [cls() for cls in authentication_classes()]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Read a chunked body first (authentication, permissions and parsing all need the body)."""
        read_unannounced_body(request._request)
        super().initial(request, *args, **kwargs)

    def perform_authentication(self, request: Request) -> None:
        """Authenticate now; credentials naming a user by a key of the wrong type are a 401.

        Authentication classes look the user up with what the credentials say (a JWT's
        ``user_id`` claim, for one); a correctly signed token whose claim is not a valid
        primary key makes the ORM raise instead of finding nobody.
        """
        try:
            user = request.user
        except (ValueError, TypeError, DjangoValidationError) as exc:
            logger.warning("credentials refused: %s", exc)
            request.user = AnonymousUser()
            raise AuthenticationFailed("The credentials do not name a valid user.") from None
        if isinstance(user, LazyObject):
            # Session authentication hands on the middleware's lazy user: every attribute read
            # through it costs a proxy call, and each event of a batch reads several. Use the user.
            request.user = unwrap(user)

    def get_throttles(self) -> list[BaseThrottle]:
        throttles: list[BaseThrottle] = [TrackingThrottle()]
        if self.throttle_scope:
            throttles.append(TrackingThrottle(self.throttle_scope))
        return throttles

    def get_authenticate_header(self, request: Request) -> str | None:
        """The first ``WWW-Authenticate`` challenge any authenticator offers (so 401, not 403)."""
        for authenticator in self.get_authenticators():
            header: str | None = authenticator.authenticate_header(request)
            if header:
                return header
        return None

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler

    @extend_schema(
        operation_id="tracking_create",
        summary="Send tracking events",
        description='Post one event, or a batch of events as {"events": [...]}. See docs/api.rst.',
        request=TRACKING_REQUEST,
        responses={
            201: EventCreatedSerializer,
            202: BatchResultSerializer,
            400: TRACKING_REJECTED,
            401: OpenApiResponse(DetailSerializer, description="Not authenticated."),
            403: OpenApiResponse(DetailSerializer, description="CSRF failed, or not allowed."),
            411: OpenApiResponse(
                DetailSerializer, description="Chunked body the server cannot end: send Content-Length."
            ),
            413: OpenApiResponse(DetailSerializer, description="Body larger than API_MAX_BODY_BYTES."),
            415: OpenApiResponse(DetailSerializer, description="Content-Type is not application/json."),
            429: OpenApiResponse(DetailSerializer, description="Throttled; see Retry-After."),
        },
        examples=[
            OpenApiExample(
                "Design note",
                request_only=True,
                value={
                    "tracking_event_type": "video",
                    "node_id": "block-v1:edX+DemoX+2024+type@video+block@intro",
                    "event_data": {"video_id": "intro", "video_event_type": "play"},
                },
            ),
            OpenApiExample(
                "Open edX browser event",
                request_only=True,
                value={
                    "event_type": "play_video",
                    "page": "https://lms.example.com/courses/course-v1:edX+DemoX+2024/",
                    "event": {"code": "html5", "currentTime": 12.5, "id": "intro"},
                },
            ),
            OpenApiExample(
                "Mobile app event",
                request_only=True,
                value={
                    "event_source": "mobile",
                    "name": "edx.video.played",
                    "event_type": "play_video",
                    "timestamp": "2024-05-01T10:00:00Z",
                    "event": '{"code": "mobile", "currentTime": 114, "id": "intro"}',
                    "context": {
                        "course_id": "course-v1:edX+DemoX+2024",
                        "component": "videoplayer",
                        "application": {"name": "edx.mobileapp.android", "version": "0.1.8"},
                    },
                },
            ),
            OpenApiExample(
                "Batch",
                request_only=True,
                value={
                    "events": [
                        {"event_type": "page_close", "event": "", "page": "https://lms.example.com/"},
                        {
                            "event_type": "play_video",
                            "event": {"code": "html5", "currentTime": 1, "id": "intro"},
                        },
                    ]
                },
            ),
        ],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        data = request.data
        if isinstance(data, dict):
            # The usual bodies, without a serializer and a template response per request: the
            # same checks, the same answers (rendered as JSONRenderer renders them).
            if "events" in data:
                outcome = send_batch(check_batch(data), request)
                return _json(
                    outcome, status.HTTP_202_ACCEPTED if outcome["accepted"] else status.HTTP_400_BAD_REQUEST
                )
            return _json({"id": accept_event(data, request).id}, status.HTTP_201_CREATED)
        serializer = tracking_serializer(data, request)
        serializer.is_valid(raise_exception=True)
        outcome = serializer.save()
        if isinstance(serializer, TrackingEventSerializer):
            return Response({"id": outcome.id}, status=status.HTTP_201_CREATED)
        return Response(
            outcome, status=status.HTTP_202_ACCEPTED if outcome["accepted"] else status.HTTP_400_BAD_REQUEST
        )
