"""Timed, practice and proctored exam events (Open edX reference: "Special Exam Events").

edx-proctoring (``edx_proctoring/utils.py`` ``emit_event``, called from
``edx_proctoring/api.py``) names each event
``edx.special_exam.<kind>.<action>``, where ``kind`` is ``timed`` (not
proctored), ``practice`` (proctored practice) or ``proctored``. Exam events
(``created``, ``updated``, ``option-presented``) carry the exam's members;
attempt events are ``attempt.<status>``, one per status an attempt enters (the
statuses of ``edx_proctoring/statuses.py``), plus ``attempt.deleted``, for
practice exams ``attempt.reset_practice_exam``, and ``attempt.review_received``
(``edx_proctoring/handlers.py``) with the review; they carry the attempt;
allowance events (``allowance.created``/``updated``/``deleted``) carry the
exam and the allowance.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import SERVER, required
from event_hub.catalog.registry import event_type

DOMAIN = "special_exam"

KINDS = ("timed", "practice", "proctored")
#: Every status an attempt can enter (edx_proctoring/statuses.py), each an ``attempt.<status>`` event.
ATTEMPT_STATUSES = (
    "eligible", "created", "download_software_clicked", "ready_to_start", "started", "ready_to_submit",
    "declined", "timed_out", "submitted", "second_review_required", "verified", "rejected", "error",
    "expired", "onboarding_reset", "onboarding_missing", "onboarding_pending", "onboarding_failed",
    "onboarding_expired",
)
EXAM_ACTIONS = ("created", "updated", "option-presented")
ALLOWANCE_ACTIONS = ("created", "updated", "deleted")


def _names(kinds: tuple[str, ...], actions: tuple[str, ...]) -> list[str]:
    return [f"edx.special_exam.{kind}.{action}" for kind in kinds for action in actions]


ATTEMPT_NAMES = [
    *_names(KINDS, tuple(f"attempt.{status}" for status in (*ATTEMPT_STATUSES, "deleted"))),
    "edx.special_exam.practice.attempt.reset_practice_exam",
]
EXAM_NAMES = _names(KINDS, EXAM_ACTIONS)
#: A proctoring review arrived (edx_proctoring/handlers.py); timed exams are not reviewed.
REVIEW_NAMES = _names(("practice", "proctored"), ("attempt.review_received",))
ALLOWANCE_NAMES = _names(KINDS, tuple(f"allowance.{action}" for action in ALLOWANCE_ACTIONS))


@frozen(kw_only=True)
class SpecialExam:
    """The exam an event is about (edx-proctoring's baseline members)."""

    exam_id: int = required("Id of the exam in edx-proctoring.")
    exam_content_id: str = required("Usage key of the subsection that is the exam.")
    exam_name: str = required("Display name of the exam.")
    exam_default_time_limit_mins: int = required("Time limit of the exam in minutes, before allowances.")
    exam_is_proctored: bool = required("True for proctored and practice exams, false for timed exams.")
    exam_is_practice_exam: bool = required("True for practice exams.")
    exam_is_active: bool = required("Whether the exam is active.")


@event_type(*EXAM_NAMES, sources=SERVER, domain=DOMAIN, audience="course_team")
@frozen(kw_only=True)
class SpecialExamChanged(SpecialExam):
    """A course team member created or updated a special exam, or a learner was offered the choice to start
    it (``option-presented``).
    """


@event_type(*ATTEMPT_NAMES, sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class SpecialExamAttempt(SpecialExam):
    """A learner's attempt at a special exam entered the status the event names, or was deleted or reset."""

    attempt_id: int = required("Id of the attempt.")
    attempt_user_id: int = required("Id of the learner taking the exam.")
    attempt_started_at: str | None = required("When the attempt started (null before it starts).")
    attempt_completed_at: str | None = required("When the attempt was completed (null until then).")
    attempt_code: str = required("Code identifying the attempt to the proctoring service.")
    attempt_allowed_time_limit_mins: int | None = required(
        "Time the learner is allowed, in minutes, allowances included."
    )
    attempt_status: str = required("Status of the attempt when the event was emitted.")
    attempt_event_elapsed_time_secs: float | None = required(
        "Seconds since the attempt started (null if it has not)."
    )


@event_type(*REVIEW_NAMES, sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class SpecialExamReviewReceived(SpecialExamAttempt):
    """The proctoring service's review of an attempt arrived (the attempt's status follows from it)."""

    review_attempt_code: str = required("Code of the attempt the review is for.")
    review_status: str = required("The review's verdict as sent by the service, such as 'Clean'.")


@event_type(*ALLOWANCE_NAMES, sources=SERVER, domain=DOMAIN, audience="course_team")
@frozen(kw_only=True)
class SpecialExamAllowance(SpecialExam):
    """A course team member granted, changed or removed a learner's allowance for a special exam."""

    allowance_user_id: int = required("Id of the learner the allowance is for.")
    allowance_key: str = required(
        "What the allowance changes, such as 'additional_time_granted' or 'review_policy_exception'."
    )
    allowance_value: str = required("Value of the allowance (extra minutes are sent as a string).")
