"""URLs of the tracking API; include at the site root to serve ``/api/tracking``."""

from django.urls import path

from event_hub.api.views import TrackingView

app_name = "event_hub"

urlpatterns = [
    path("api/tracking", TrackingView.as_view(), name="tracking"),
]
