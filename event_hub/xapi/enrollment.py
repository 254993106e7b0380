"""Enrollment and course-grade milestone events (6 names).

Object: the course run (``{root}/course/{course id}``), with the enrollment
mode as the ``type`` extension of its definition. Verbs: registered
(activated, mode changed), unregistered (deactivated), passed (first time, now
passed), failed (now failed).
"""

from __future__ import annotations

from typing import Any

from event_hub.envelope import Envelope
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.registry import register
from event_hub.xapi.statement import Site, course_activity, payload, statement

FAMILY = "enrollment"

VERBS: dict[str, dict[str, Any]] = {
    "edx.course.enrollment.activated": xv.REGISTERED,
    "edx.course.enrollment.mode_changed": xv.REGISTERED,
    "edx.course.enrollment.deactivated": xv.UNREGISTERED,
    "edx.course.grade.passed.first_time": xv.PASSED,
    "edx.course.grade.now_passed": xv.PASSED,
    "edx.course.grade.now_failed": xv.FAILED,
}


@register(FAMILY, *VERBS)
def enrollment(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    obj = course_activity(envelope, site, str(data.get("course_id") or ""))
    if data.get("mode"):
        obj["definition"]["extensions"] = {xv.MODE: data["mode"]}
    return statement(envelope, site, VERBS[envelope.name], obj, course_parent=False)
