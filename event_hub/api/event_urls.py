"""URL of the drop-in for the platform's ``/event`` (optional); include at the site root."""

from django.urls import path

from event_hub.api.platform_event import PlatformEventView

app_name = "event_hub_event"

urlpatterns = [
    path("event", PlatformEventView.as_view(), name="event"),
]
