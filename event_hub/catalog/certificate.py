"""Certificate events (tracking-log "Certificate Events").

The document lists ``edx.certificate.shared`` and ``edx.certificate.evidence_visited``
with "Browser" as event source yet says the server emits them, so both sources
are accepted.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import BROWSER_OR_SERVER, SERVER, required
from event_hub.catalog.registry import event_type

DOMAIN = "certificate"


@event_type("edx.certificate.created", sources=SERVER, domain=DOMAIN)
@frozen
class CertificateCreated:
    """The server generated a certificate for a learner (a row was added to
    ``certificates_generatedcertificate``).
    """

    certificate_id: str = required(
        "The certificate's ``verify.uuid`` in ``certificates_generatedcertificate``; printed at the foot "
        "of the certificate."
    )
    certificate_url: str = required("Address of the certificate's web page.")
    course_id: str = required("Course the certificate was issued for.")
    enrollment_mode: str = required("Enrollment mode the certificate goes with.")
    generation_mode: Literal["batch", "self"] = required(
        "'batch' when a command generated certificates for a whole course, 'self' when the learner "
        "generated their own."
    )
    user_id: int = required("Numeric id of the learner who earned the certificate.")


@event_type("edx.certificate.shared", sources=BROWSER_OR_SERVER, domain=DOMAIN)
@frozen
class CertificateShared:
    """A learner shared the address of their certificate on a social media site."""

    certificate_id: str = required("The certificate's ``verify.uuid``, as in ``edx.certificate.created``.")
    certificate_url: str = required("Address of the certificate's web page.")
    course_id: str = required("Course the certificate was issued for.")
    enrollment_mode: str = required("Enrollment mode the certificate goes with.")
    user_id: int = required("Numeric id of the learner who earned the certificate.")
    social_network: str = required("Where it was shared, for example 'LinkedIn', 'Facebook' or 'Twitter'.")


@event_type("edx.certificate.evidence_visited", sources=BROWSER_OR_SERVER, domain=DOMAIN)
@frozen
class CertificateEvidenceVisited:
    """Someone followed a link to a learner's certificate from a social network site where the learner
    had shared it.
    """

    certificate_id: str = required("The certificate's ``verify.uuid``, as in ``edx.certificate.created``.")
    certificate_url: str = required("Address of the certificate's web page.")
    course_id: str = required("Course the certificate was issued for.")
    enrollment_mode: str = required("Enrollment mode the certificate goes with.")
    user_id: int = required("Numeric id of the learner who earned the certificate.")
    social_network: str = required(
        "Social network the certificate was shared on, for example 'LinkedIn', 'Facebook' or 'Twitter'."
    )
    source_url: str = required(
        "Page on which the link to the certificate was followed; the same address as the event's ``referer``."
    )


@event_type("edx.certificate.revoked", sources=SERVER, domain=DOMAIN)
@frozen
class CertificateRevoked:
    """The server took a learner's course certificate away (no longer passing, added to the certificate
    invalidation list, or flagged during a proctored exam)."""

    certificate_id: str = required("The certificate's ``verify_uuid``, as in ``edx.certificate.created``.")
    certificate_url: str = required("Address of the certificate's web page.")
    course_id: str = required("Course the certificate was issued for.")
    enrollment_mode: str = required("Enrollment mode the certificate goes with.")
    source: str = required(
        "What asked for the revocation, such as the instructor dashboard's certificate invalidation tool."
    )
    user_id: int = required("Numeric id of the learner whose certificate was revoked.")


@event_type("edx.certificate.generation.enabled", "edx.certificate.generation.disabled", sources=SERVER,
            domain=DOMAIN, audience="course_team")
@frozen
class CertificateGenerationToggled:
    """The server switched learner-generated (self-generated) certificates on or off for a course run."""

    course_id: str = required("Course run the setting changed for.")
