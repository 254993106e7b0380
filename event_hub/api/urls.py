"""URLs of the tracking API; include at the site root to serve ``/api/tracking`` and ``/segmentio/event``."""

from django.urls import path

from event_hub.api.monitoring import metrics_view
from event_hub.api.segment_webhook import segment_webhook
from event_hub.api.views import TrackingView

app_name = "event_hub"

urlpatterns = [
    path("api/tracking", TrackingView.as_view(), name="tracking"),
    # 404 unless EVENT_HUB["METRICS"] is True (docs/operations.rst).
    path("api/metrics", metrics_view, name="metrics"),
    path("segmentio/event", segment_webhook, name="segment-webhook"),
]
