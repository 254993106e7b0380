"""Grade calculation events (2 names), verb earned.

* ``edx.grades.subsection.grade_calculated``: object the subsection
  (``{root}/xblock/{block_id}``); result the weighted score, success when all
  points were earned.
* ``edx.grades.course.grade_calculated``: object the course run; result the
  percentage as a 0 to 1 score and the letter grade (``Fail`` when none) as the
  grade-classification extension.
"""

from __future__ import annotations

from typing import Any

from event_hub.envelope import Envelope
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.registry import register
from event_hub.xapi.statement import Site, activity, course_activity, payload, required, statement

FAMILY = "grading"


def number(value: Any) -> float:
    """A score as a number (``None`` and unreadable values count as 0)."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def score(raw: float, maximum: float) -> dict[str, float]:
    """An xAPI score: ``scaled`` is ``raw / max`` kept within [-1, 1], 0 when nothing was possible."""
    scaled = raw / maximum if maximum > 0 else 0.0
    return {
        "min": 0.0,
        "max": maximum,
        "raw": min(max(raw, 0.0), maximum),
        "scaled": min(max(scaled, -1.0), 1.0),
    }


@register(FAMILY, "edx.grades.subsection.grade_calculated")
def subsection_graded(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    obj = activity(site.iri("xblock", str(required(data, "block_id", envelope))), xv.RESOURCE)
    earned = number(data.get("weighted_total_earned"))
    possible = number(data.get("weighted_total_possible"))
    result = {"success": earned >= possible, "score": score(earned, possible)}
    return statement(envelope, site, xv.EARNED, obj, result=result)


@register(FAMILY, "edx.grades.course.grade_calculated")
def course_graded(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    obj = course_activity(envelope, site, str(data.get("course_id") or ""))
    percent = min(max(number(data.get("percent_grade")), 0.0), 1.0)
    result = {
        "score": {"min": 0.0, "max": 1.0, "raw": percent, "scaled": percent},
        "extensions": {xv.GRADE_CLASSIFICATION: data.get("letter_grade") or "Fail"},
    }
    return statement(envelope, site, xv.EARNED, obj, result=result, course_parent=False)
