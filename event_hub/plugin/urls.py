"""URLs the Open edX plugin mounts at the LMS's (and Studio's) root, in the ``event_hub`` namespace.

``/api/tracking`` (the tracking API, ``event_hub:tracking`` as on any site) and
``/event-hub/event``, the drop-in for the platform's ``/event``: the platform keeps its own
``/event`` route, which comes first, so a site switching its browsers over points ``/event``
at this path (``docs/openedx_plugin.rst``).
"""

from django.urls import path

from event_hub.api.platform_event import PlatformEventView
from event_hub.api.views import TrackingView

urlpatterns = [
    path("api/tracking", TrackingView.as_view(), name="tracking"),
    path("event-hub/event", PlatformEventView.as_view(), name="event"),
]
