"""Small views that emit events, for middleware and request-context tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from event_hub import emit

ENROLLMENT = {"course_id": "course-v1:edX+DemoX+2024", "mode": "audit", "user_id": 7}


def emit_view(request: HttpRequest, course_id: str | None = None) -> HttpResponse:
    count = int(request.GET.get("count", "1"))
    for _ in range(count):
        emit("edx.course.enrollment.activated", ENROLLMENT)
    return HttpResponse(str(count))


async def emit_async_view(request: HttpRequest) -> HttpResponse:
    emit("edx.course.enrollment.activated", ENROLLMENT)
    return HttpResponse("1")


def emit_and_fail_view(request: HttpRequest) -> HttpResponse:
    emit("edx.course.enrollment.activated", ENROLLMENT)
    raise RuntimeError("the view failed after emitting")
