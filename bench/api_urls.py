"""URLs of ``bench/api_load.py``: the dev host's, plus the baseline views.

``/bench/bare`` parses the body and answers (no authentication, no CSRF); ``/bench/bare-auth``
does the same for a signed-in session only (CSRF checked by the middleware, the user loaded),
the like-for-like baseline of the API's session rows.
"""

from __future__ import annotations

import orjson
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from devsite.urls import urlpatterns as devsite_urlpatterns


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


urlpatterns = [path("bench/bare", bare), path("bench/bare-auth", bare_auth), *devsite_urlpatterns]
