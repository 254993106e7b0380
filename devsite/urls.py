"""URLs of the dev host."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from devsite import views

urlpatterns = [
    path("", include("event_hub.api.urls")),
    path("admin/", admin.site.urls),
    # OpenAPI schema of /api/tracking, and its browsable docs (docs/api.rst), with Swagger UI and Redoc
    # served from drf-spectacular-sidecar's static files (SPECTACULAR_SETTINGS in devsite/settings.py).
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path(
        "api/docs/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="event_hub/redoc.html"),
        name="api-redoc",
    ),
    path("demo/", views.demo, name="demo"),
]
