"""URLs of ``bench/api_load.py``: the dev host's, plus ``/bench/bare``, the baseline view."""

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


urlpatterns = [path("bench/bare", bare), *devsite_urlpatterns]
