"""URLs of the test suite: the tracking API, the admin, and views used by middleware tests."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from tests import views

urlpatterns = [
    path("", include("event_hub.api.urls")),
    path("", include("event_hub.api.event_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("emit/", views.emit_view),
    path("emit-async/", views.emit_async_view),
    path("emit-and-fail/", views.emit_and_fail_view),
    path("courses/<path:course_id>/emit/", views.emit_view),
]
