"""Segment events emitted by edx-enterprise: enterprise course enrollment and data sharing consent."""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import SERVER, optional, required
from event_hub.catalog.registry import event_type

AUDIENCE = "segment"
DOMAIN = "segment_enterprise"


@event_type("edx.bi.user.enterprise.onboarding", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class EnterpriseOnboarding:
    """An ``EnterpriseCourseEnrollment`` record was created for a learner."""

    pathway: Literal[
        "admin-enrollment",
        "pending-admin-enrollment",
        "rest-api-enrollment",
        "data-consent-page-enrollment",
        "course-landing-page-enrollment",
        "direct-audit-enrollment",
        "customer-admin-enrollment",
    ] = required(
        "Mechanism that created the enrollment: an admin through Manage Learners, a pending admin "
        "enrollment, the REST API, the data sharing consent page, the course landing page, direct "
        "audit enrollment, or a customer admin through the admin portal."
    )
    course_run_id: str = required("Course run the enterprise enrollment is for.")
    url_path: str | None = required(
        "Path of the page the learner was on when the enrollment was made; null when no learner "
        "request was involved (admin or REST API enrollments)."
    )


@event_type("edx.bi.user.enterprise.enrollment.course", sources=SERVER, domain=DOMAIN, audience=AUDIENCE)
@frozen
class EnterpriseCourseEnrollment:
    """The enterprise app enrolled a learner in a course."""

    label: str = required("Course the learner was enrolled in.")
    enterprise_customer_uuid: str = required("UUID of the enterprise customer behind the enrollment.")
    enterprise_customer_name: str = required("Display name of the enterprise customer behind the enrollment.")
    mode: str = required("Enrollment mode, such as 'audit' or 'verified'.")


@event_type(
    "edx.bi.user.consent_form.shown",
    "edx.bi.user.consent_form.accepted",
    "edx.bi.user.consent_form.denied",
    sources=SERVER,
    domain=DOMAIN,
    audience=AUDIENCE,
)
@frozen
class ConsentForm:
    """A learner was shown the data sharing consent page, or submitted it granting or refusing consent.

    All three events carry the same form details.
    """

    deferCreation: bool | Literal["true", "false"] = required(
        "Whether creating the course enrollment is postponed until later. The consent page's template "
        "writes it as the string 'true' or 'false', so both forms are accepted."
    )
    successUrl: str = required("Where the learner goes once consent is given.")
    failureUrl: str = required("Where the learner goes when consent is refused.")
    courseId: str | None = optional(
        "Course the consent is asked for; absent or null when the consent concerns a program."
    )
    programId: str | None = optional(
        "Program the consent is asked for; absent or null when the consent concerns a single course."
    )
    licenseUuid: str | None = optional(
        "UUID of the subscription license the learner enrols with, when consent leads to a licensed "
        "enrollment; the consent page sends the string 'null' when there is none."
    )
