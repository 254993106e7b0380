"""URLs of the tracking API; include at the site root to serve ``/api/tracking`` and ``/segmentio/event``."""

from django.urls import path

from event_hub.api.segment_webhook import segment_webhook
from event_hub.api.views import TrackingView

app_name = "event_hub"

urlpatterns = [
    path("api/tracking", TrackingView.as_view(), name="tracking"),
    path("segmentio/event", segment_webhook, name="segment-webhook"),
]
