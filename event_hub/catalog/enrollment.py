"""Enrollment events (tracking-log "Enrollment Events" and the instructor enrollment variants)."""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER, SERVER, NoFields, context_fields, required
from event_hub.catalog.registry import event_type


@event_type(
    "edx.course.enrollment.activated",
    "edx.course.enrollment.deactivated",
    sources=SERVER,
    domain="enrollment",
)
@frozen
class EnrollmentChanged:
    """The server enrolled a learner in a course, or unenrolled one.

    Course team actions (batch enrollment, a course author creating a course)
    emit the same events; then ``username`` and ``context.user_id`` identify
    the team member and ``event.user_id`` the learner.
    """

    course_id: str = required(
        "Course the learner was enrolled in or unenrolled from. Set even when an external tool "
        "made the change and ``context.course_id`` is null."
    )
    mode: str = required("Enrollment mode: 'audit', 'honor', 'professional' or 'verified'.")
    user_id: int = required("Id of the learner who was enrolled or unenrolled.")


@event_type("edx.course.enrollment.mode_changed", sources=SERVER, domain="enrollment")
@frozen
class EnrollmentModeChanged:
    """The server finished moving a learner's enrollment to a different mode."""

    course_id: str = required("Course whose enrollment mode changed.")
    mode: str = required("The new enrollment mode: 'audit', 'honor', 'professional' or 'verified'.")
    user_id: int = required("Id of the learner whose enrollment mode changed.")


@context_fields
@frozen
class UpgradeContext:
    """Extra ``context`` member of the upgrade events."""

    mode: str = required(
        "Enrollment mode: 'audit' or 'honor' when the upgrade was clicked, 'verified' once it succeeded."
    )


event_type(
    "edx.course.enrollment.upgrade.clicked",
    sources=BROWSER,
    domain="enrollment",
    context=UpgradeContext,
    description="A learner enrolled as audit or honor clicked the upgrade to verified (Challenge Yourself) "
    "link on the dashboard.",
)(NoFields)
event_type(
    "edx.course.enrollment.upgrade.succeeded",
    sources=SERVER,
    domain="enrollment",
    context=UpgradeContext,
    description="The server finished upgrading a learner's enrollment from audit or honor to verified.",
)(NoFields)
