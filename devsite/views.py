"""Pages of the dev host: the browser-client demo.

``/api/tracking`` takes events from signed-in users (session authentication,
which enforces CSRF) and from anonymous clients only for the event types
``EVENT_HUB["API_ANONYMOUS_EVENTS"]`` allows. Like a learner in the LMS, a
visitor of the demo is signed in, as the learner ``demo``, unless already
signed in as someone else.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from event_hub.conf import hub_settings

#: Ids the demo sends, in the shapes an Open edX course would use.
COURSE_KEY = "edX+DemoX+Demo_Course"
VIDEO_ID = "0b9e39477cf34507a7a48f74be381fdd"
VIDEO_NODE = f"block-v1:{COURSE_KEY}+type@video+block@{VIDEO_ID}"
SEQUENCE_ID = 1
SEQUENCE_NODE = f"block-v1:{COURSE_KEY}+type@sequential+block@demo_sequence"
DEMO_USERNAME = "demo"


def sign_in_demo_learner(request: HttpRequest) -> None:
    """Sign the visitor in as the demo learner (created without a usable password)."""
    user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")


@require_safe
@ensure_csrf_cookie
def demo(request: HttpRequest) -> HttpResponse:
    """A video and a sequence wired to ``event-hub.js``; sets the CSRF cookie the client sends back."""
    if not request.user.is_authenticated:
        sign_in_demo_learner(request)
    log_paths = [
        str(config["OPTIONS"]["path"])
        for config in hub_settings.backend_configs().values()
        if "path" in (config.get("OPTIONS") or {})
    ]
    context = {
        "log_paths": log_paths,
        "username": request.user.get_username(),
        "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
        "video_id": VIDEO_ID,
        "video_node": VIDEO_NODE,
        "sequence_id": SEQUENCE_ID,
        "sequence_node": SEQUENCE_NODE,
        "units": ["Video", "Reading", "Quiz"],
    }
    return render(request, "event_hub/demo.html", context)
