"""Course team events: actions taken on the Instructor Dashboard (tracking-log "Course Team Events").

The instructor enrollment events reuse :mod:`event_hub.catalog.enrollment` and
the course team cohort events live with the other cohort events; neither is
registered here.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER, SERVER, NoFields, required
from event_hub.catalog.registry import event_type

AUDIENCE = "course_team"
DOMAIN = "instructor"

event_type(
    "dump-answer-dist-csv",
    "dump-graded-assignments-config",
    "dump-grades",
    "dump-grades-csv",
    "dump-grades-csv-raw",
    "dump-grades-raw",
    "list-beta-testers",
    "list-instructors",
    "list-staff",
    "list-students",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
    description="A course team member exported grade or answer data, or listed the people holding a "
    "course role, from the Instructor Dashboard. Only the common fields are recorded.",
)(NoFields)


@event_type("add_instructor", "remove_instructor", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class InstructorRoleChanged:
    """A course team member granted or withdrew the instructor role for another user."""

    instructor: str = required("Username or email of the user gaining or losing the role.", pii=True)


@event_type(
    "delete-student-module-state",
    "rescore-student-submission",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
)
@frozen
class StudentProblemAction:
    """A course team member cleared or rescored one learner's state for a single problem."""

    course: str = required("Course the problem belongs to.")
    problem: str = required("Problem whose learner state was deleted or rescored.")
    student: str = required("Username or email of the learner affected.", pii=True)


@event_type("edx.instructor.report.downloaded", sources=BROWSER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class ReportDownloaded:
    """A course team member clicked a link on the Instructor Dashboard to download a generated report."""

    report_url: str = required("Where the downloaded report file lives.")


@event_type("edx.instructor.report.requested", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class ReportRequested:
    """A course team member asked the Instructor Dashboard to generate a report."""

    report_type: str = required("Kind of report asked for.")


@event_type("get-student-progress-page", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class StudentProgressViewed:
    """A course team member opened one learner's progress page."""

    course: str = required("Course whose progress page was opened.")
    instructor: str = required("Username or email of the team member viewing the page.", pii=True)
    student: str = required("Username or email of the learner whose progress was shown.", pii=True)


@event_type(
    "rescore-all-submissions",
    "reset-all-attempts",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
)
@frozen
class ProblemBulkAction:
    """A course team member rescored all submissions to a problem, or reset all learners' attempts on it."""

    course: str = required("Course the problem belongs to.")
    problem: str = required("Problem acted on for all learners.")


@event_type("reset-student-attempts", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class StudentAttemptsReset:
    """A course team member set one learner's attempt count on a problem back to zero."""

    course: str = required("Course the problem belongs to.")
    old_attempts: str = required("Attempt count the learner had before the reset (sent as a string).")
    problem: str = required("Problem whose attempts were reset.")
    student: str = required("Username or email of the learner whose attempts were reset.", pii=True)


@event_type(
    "list-forum-admins",
    "list-forum-mods",
    "list-forum-community-TAs",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
)
@frozen
class DiscussionTeamListed:
    """A course team member listed the discussion administrators, moderators or community TAs."""

    course: str = required("Course whose discussion team was listed.")


@event_type(
    "add-forum-admin",
    "remove-forum-admin",
    "add-forum-mod",
    "remove-forum-mod",
    "add-forum-community-TA",
    "remove-forum-community-TA",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
)
@frozen
class DiscussionTeamChanged:
    """A course team member granted or withdrew a discussion admin, moderator or community TA role."""

    course: str = required("Course whose discussion team changed.")
    username: str = required("Username of the user gaining or losing the discussion role.", pii=True)


@event_type("psychometrics-histogram-generation", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class PsychometricsHistogramGenerated:
    """A course team member produced the psychometrics histogram for a problem."""

    problem: str = required("Problem the histogram describes.")


@event_type("add-or-remove-user-group", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class UserGroupChanged:
    """A course team member put a user into a course group or took the user out of one."""

    event: str = required("What was done to the membership (adding or removing).")
    event_name: str = required("Name of the group concerned.")
    user: str = required("Username or email of the user whose membership changed.", pii=True)
