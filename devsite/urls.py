"""URLs of the dev host."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("event_hub.api.urls")),
    path("admin/", admin.site.urls),
]
