"""A drop-in for the platform's ``/event``: what ``Logger.log`` posts, through ``/api/tracking``'s machinery.

The LMS's JavaScript logger sends each browser event form-encoded, as
``event_type``, ``event`` (the payload as a JSON string, empty for ``page_close``),
``page`` (the page's URL) and ``courserun_key`` (the course run the page belongs to,
empty outside a course); ``page_close`` goes as a GET query string. This view
reads those fields into the browser shape of the tracking API and hands it to the
same code (:func:`~event_hub.api.serializers.parse_event`,
:func:`~event_hub.api.serializers.send_event`): the same contract, catalog policy,
authentication, anonymous-event rule, throttling, privacy and delivery.

What differs from ``/api/tracking`` is only what the platform's clients expect:

* the answer to an accepted event is ``200`` with the body ``success``;
* ``GET`` is served as well as ``POST``;
* CSRF is left to the site's ``CsrfViewMiddleware`` (the view is not exempt), so
  every ``POST`` needs the token the LMS pages send in ``X-CSRFToken``, signed in or
  not, while a ``GET`` needs none;
* errors name the form fields (``courserun_key``, ``event.currentTime``).

Mount it with ``path("", include("event_hub.api.event_urls"))`` (``docs/api.rst``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.http import HttpResponse, QueryDict
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from event_hub.api.contract import ErrorMap
from event_hub.api.parsers import read_limited
from event_hub.api.serializers import EventErrors, parse_event, send_event
from event_hub.api.views import TrackingView

FORM = "application/x-www-form-urlencoded"
#: The form fields ``Logger.log`` sends, as the keys of the tracking API's browser shape.
FORM_FIELDS = {"event_type": "event_type", "event": "event", "page": "page"}
#: The form field naming the course run; it becomes ``context.course_id``.
COURSE_FIELD = "courserun_key"
#: Error keys of the tracking API that have another name in the form.
FORM_ERROR_KEYS = {"context.course_id": COURSE_FIELD}
SUCCESS = b"success"


def browser_event(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The tracking API's browser event for the fields of a ``/event`` request.

    Empty ``page`` and ``courserun_key`` are left out (jQuery sends ``null`` as an empty
    value); a missing ``event`` is an event without fields, as on the platform.
    """
    item: dict[str, Any] = {}
    for field, key in FORM_FIELDS.items():
        value = fields.get(field)
        if value is not None and (value != "" or field != "page"):
            item[key] = value
    course_id = fields.get(COURSE_FIELD)
    if course_id:
        item["context"] = {"course_id": course_id}
    return item


def form_errors(errors: ErrorMap) -> ErrorMap:
    """``errors`` with the keys of the form (``courserun_key`` for ``context.course_id``)."""
    return {FORM_ERROR_KEYS.get(key, key): messages for key, messages in errors.items()}


class FormParser(BaseParser):
    """Parse a form-encoded body into the browser event it carries, within ``API_MAX_BODY_BYTES``."""

    media_type = FORM

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return browser_event(QueryDict(read_limited(stream, parser_context), encoding="utf-8"))


class PlatformEventView(TrackingView):
    """``/event``: one browser event, form-encoded (POST) or in the query string (GET)."""

    parser_classes = (FormParser,)
    #: Not in the OpenAPI document: it describes ``/api/tracking``, this serves the platform's clients.
    schema = None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        """The view, checked by ``CsrfViewMiddleware`` like any Django view (DRF exempts its views)."""
        view = super().as_view(**initkwargs)
        view.csrf_exempt = False
        return view

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """A GET carries its event in the query string: it is the request's data from here on.

        Permissions (which event types an anonymous client may send) read ``request.data``.
        """
        if request.method == "GET":
            request._full_data = browser_event(request.query_params)
        super().initial(request, *args, **kwargs)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse | Response:
        try:
            send_event(parse_event(request.data, request), request)
        except EventErrors as exc:
            raise ValidationError(form_errors(exc.errors)) from None
        return HttpResponse(SUCCESS, content_type="text/plain; charset=utf-8")

    get = post
