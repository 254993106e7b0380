"""Cohort events (tracking-log "Student Cohort Events" and "Course Team Cohort Events")."""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import SERVER, required
from event_hub.catalog.registry import event_type

DOMAIN = "cohort"


@event_type("edx.cohort.created", sources=SERVER, domain=DOMAIN)
@frozen
class CohortCreated:
    """The server created a cohort, either for a course team member or automatically (the default
    cohort and those named in the ``auto_cohort_groups`` setting, when first needed).
    """

    cohort_id: int = required("Numeric id of the cohort.")
    cohort_name: str = required("Display name of the cohort.")


@event_type("edx.cohort.user_added", sources=SERVER, domain=DOMAIN)
@frozen
class CohortUserAdded:
    """The server put a user in a cohort: at a course team member's request (one by one or from an
    uploaded .csv file) or automatically when an unassigned user opens course content.
    """

    cohort_id: int = required("Numeric id of the cohort the user joined.")
    cohort_name: str = required("Display name of the cohort the user joined.")
    user_id: int = required("``auth_user.id`` of the user added.")


@event_type("edx.cohort.user_removed", sources=SERVER, domain=DOMAIN)
@frozen
class CohortUserRemoved:
    """The server took a user out of a cohort because a course team member changed the user's cohort
    on the Instructor Dashboard.
    """

    cohort_id: int = required("Numeric id of the cohort the user left.")
    cohort_name: str = required("Display name of the cohort the user left.")
    user_id: int = required("``auth_user.id`` of the user removed.")


@event_type("edx.cohort.creation_requested", sources=SERVER, domain=DOMAIN, audience="course_team")
@frozen
class CohortCreationRequested:
    """A course team member created a cohort by hand on the Instructor Dashboard (the server also emits
    ``edx.cohort.created``).
    """

    cohort_id: int = required("Numeric id of the new cohort.")
    cohort_name: str = required("Display name of the new cohort.")


@event_type("edx.cohort.user_add_requested", sources=SERVER, domain=DOMAIN, audience="course_team")
@frozen
class CohortUserAddRequested:
    """A course team member assigned a learner to a cohort on the Instructor Dashboard, one by one or
    by uploading a .csv file (the server also emits ``edx.cohort.user_added``).
    """

    cohort_id: int = required("Numeric id of the cohort the learner is assigned to.")
    cohort_name: str = required("Display name of the cohort the learner is assigned to.")
    previous_cohort_id: int | None = required(
        "Numeric id of the learner's cohort before the change; null if the learner had none."
    )
    previous_cohort_name: str | None = required(
        "Display name of the learner's cohort before the change; null if the learner had none."
    )
    user_id: int = required("``auth_user.id`` of the learner assigned.")
