"""``GET /api/metrics``: the hub's Prometheus metrics (:mod:`event_hub.metrics`), when turned on.

The page answers 404 unless ``EVENT_HUB["METRICS"]`` is True. With ``METRICS_TOKEN`` set, a
scraper must send ``Authorization: Bearer <token>`` (else 401); without it, restrict the URL
where the site is exposed (the counts name backends and event types, nothing personal).
"""

from __future__ import annotations

import hmac

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from event_hub import metrics
from event_hub.conf import hub_settings


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format."""
    if not hub_settings.METRICS:
        raise Http404("metrics are off (EVENT_HUB['METRICS'])")
    token = hub_settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("metrics need a bearer token\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="event_hub metrics"'
            return response
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
