"""URLs of ``bench/api_load.py``: the dev host's, plus the baseline views.

``/bench/bare`` parses the body and answers (no authentication, no CSRF); ``/bench/bare-auth``
does the same for a signed-in session only (CSRF checked by the middleware, the user loaded),
the like-for-like baseline of the API's session rows. ``/bench/api-checks`` is ``/api/tracking``
without its hand-off (:class:`ChecksOnlyView`): the ceiling of the batch rows.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.request import Request

from devsite.urls import urlpatterns as devsite_urlpatterns
from event_hub.api.contract import batch_events_validator
from event_hub.api.serializers import EventErrors, check_batch, parse_event
from event_hub.api.views import TrackingView
from event_hub.envelope import new_event_id


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    """Parse the JSON body and answer 201: what any endpoint does at the least."""
    orjson.loads(request.body)
    return HttpResponse(b'{"id": "0"}', status=201, content_type="application/json")


def bare_auth(request: HttpRequest) -> HttpResponse:
    """The bare view behind the same session authentication as the API: CSRF checked, user loaded."""
    if not request.user.is_authenticated:
        return HttpResponse(b'{"detail": "not authenticated"}', status=401, content_type="application/json")
    orjson.loads(request.body)
    return HttpResponse(b'{"id": "0"}', status=201, content_type="application/json")


class ChecksOnlyView(TrackingView):
    """``/api/tracking`` for batches, stopped where the events would be sent.

    Authentication, throttles, the batch's schema and every event's own checks
    (:func:`~event_hub.api.serializers.parse_event`, as ``send_batch``'s first loop calls it),
    then an answer with a new id per event: nothing is built, processed, spooled or published.
    Whatever hands events on must add to this, as long as each event is checked in the request
    (a client learns which of its events were refused, and why): what it serves bounds the API's.
    """

    def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        events = check_batch(request.data)
        schema_valid = batch_events_validator().is_valid({"events": events})
        authenticated = bool(request.user.is_authenticated)
        results: list[dict[str, Any]] = []
        for index, item in enumerate(events):
            try:
                parse_event(item, request, schema_valid=schema_valid, authenticated=authenticated)
            except EventErrors as exc:
                results.append({"index": index, "errors": exc.errors})
            else:
                results.append({"index": index, "id": new_event_id()})
        accepted = sum("id" in result for result in results)
        body = {"results": results, "accepted": accepted, "rejected": len(results) - accepted}
        return HttpResponse(orjson.dumps(body), status=202, content_type="application/json")


urlpatterns = [
    path("bench/bare", bare),
    path("bench/bare-auth", bare_auth),
    path("bench/api-checks", ChecksOnlyView.as_view()),
    *devsite_urlpatterns,
]
