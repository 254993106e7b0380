"""Grading events (Open edX reference, course team events: "Grading Events").

The grades app of edx-platform (``lms/djangoapps/grades/events.py``, and
``lms/djangoapps/instructor/enrollment.py`` for deleted state) emits these as a
chain: a learner's submission, a rescore, an override or a state deletion
starts a transaction; the subsection and course grades recalculated because of
it carry the same ``event_transaction_id``. The code sends every identifier
as a string (``str(...)`` of user ids, keys and timestamps) and the scores as
numbers. Where the reference names a member differently from the code
(``percent``/``percent_grade``, ``course_edited_on``/``course_edited_timestamp``,
``subtree_edited_on``/``subtree_edited_timestamp``), the catalog follows the code.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import SERVER, optional, required
from event_hub.catalog.registry import event_type

DOMAIN = "grades"
AUDIENCE = "course_team"


@frozen(kw_only=True)
class GradeTransaction:
    """Members every grading event carries: who, which course, and the transaction it belongs to."""

    user_id: str = required("Id of the learner whose grade changed, as a string.")
    course_id: str = required("Course run key.")
    event_transaction_id: str = required(
        "Id shared by every grading event caused by one learner or course team action."
    )
    event_transaction_type: str = required(
        "Name of the event that started the transaction, such as 'edx.grades.problem.submitted'."
    )


@event_type("edx.grades.problem.submitted", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen(kw_only=True)
class ProblemSubmittedGrade(GradeTransaction):
    """The server saved the score of a learner's submission to a problem."""

    problem_id: str = required("Usage key of the problem.")
    weighted_earned: float | None = required("The learner's weighted score on the problem (null if unknown).")
    weighted_possible: float | None = required("The problem's weighted maximum score (null if unknown).")
    weight: float | None = optional(
        "Weight of the problem; listed by the reference, not sent by current edx-platform."
    )


@event_type(
    "edx.grades.problem.rescored",
    "edx.grades.problem.score_overridden",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
)
@frozen(kw_only=True)
class ProblemRegraded(GradeTransaction):
    """A course team member rescored a learner's problem, or overrode its score, and the new score was
    saved.
    """

    problem_id: str = required("Usage key of the problem.")
    new_weighted_earned: float | None = required("The learner's weighted score after the change.")
    new_weighted_possible: float | None = required("The problem's weighted maximum score after the change.")
    only_if_higher: bool | None = required(
        "Whether the rescore was asked to keep the new score only when it is higher (null when not given)."
    )
    instructor_id: str = required("Id of the course team member who made the change, as a string.")


@event_type("edx.grades.problem.state_deleted", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen(kw_only=True)
class ProblemStateDeleted(GradeTransaction):
    """A course team member deleted a learner's state for a problem (its submission and score)."""

    problem_id: str = required("Usage key of the problem.")
    instructor_id: str = required("Id of the course team member who deleted the state, as a string.")


@event_type("edx.grades.subsection.score_overridden", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen(kw_only=True)
class SubsectionScoreOverridden(GradeTransaction):
    """A course team member overrode (or removed the override of) a learner's subsection score, and each
    problem's score was saved again.
    """

    problem_id: str = required("Usage key of the problem whose score was saved again.")
    only_if_higher: bool | None = required("Whether only a higher score was to be kept (null if not given).")
    override_deleted: bool = required("True when the override was removed rather than set.")


@event_type("edx.grades.subsection.grade_calculated", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen(kw_only=True)
class SubsectionGradeCalculated(GradeTransaction):
    """The server saved a learner's recalculated grade for a subsection."""

    block_id: str = required("Usage key of the subsection.")
    course_version: str = required("Version of the course content the grade was calculated on.")
    weighted_total_earned: float = required("Weighted points earned on every problem of the subsection.")
    weighted_total_possible: float = required("Weighted points possible on every problem of the subsection.")
    weighted_graded_earned: float = required("Weighted points earned on the graded problems.")
    weighted_graded_possible: float = required("Weighted points possible on the graded problems.")
    first_attempted: str = required(
        "When the learner first attempted a problem of the subsection ('None' when never)."
    )
    subtree_edited_timestamp: str = required("When the subsection's content was last edited.")
    visible_blocks_hash: str = required("Hash of the content the learner could see at calculation time.")


@event_type("edx.grades.course.grade_calculated", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen(kw_only=True)
class CourseGradeCalculated(GradeTransaction):
    """The server saved a learner's recalculated grade for the course."""

    course_version: str = required("Version of the course content the grade was calculated on.")
    percent_grade: float = required("The course grade as a fraction between 0 and 1.")
    letter_grade: str = required("The letter grade of the grading policy ('' when the learner has none).")
    course_edited_timestamp: str = required("When the course content was last edited.")
    grading_policy_hash: str = required("Hash of the grading policy the grade was calculated with.")


@event_type(
    "edx.course.grade.passed.first_time",
    "edx.course.grade.now_passed",
    "edx.course.grade.now_failed",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
)
@frozen(kw_only=True)
class CoursePassingStatusChanged(GradeTransaction):
    """A learner's course grade crossed the passing line: passed for the first time, passed again, or fell
    below it.
    """
