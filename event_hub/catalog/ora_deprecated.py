"""Prototype open response assessment (ORA 1) events (tracking-log "Open Response Assessment Events
(Deprecated)").

ORA 1 was deprecated in May 2014 and new ORA 1 problems could no longer be
added from December 2014; these types only describe historical logs.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER, NoFields, required
from event_hub.catalog.registry import event_type

DOMAIN = "ora_deprecated"

QUESTION_LOCATION = "Location of the question whose prompt was hidden or shown."


@event_type("oe_hide_question", "oe_show_question", sources=BROWSER, domain=DOMAIN, deprecated=True)
@frozen
class OpenEndedQuestionToggled:
    """A learner hid or showed again a combined open-ended problem (formerly ``oe_hide_problem`` and
    ``oe_show_problem``).
    """

    location: str = required(QUESTION_LOCATION)


@event_type("rubric_select", sources=BROWSER, domain=DOMAIN, deprecated=True)
@frozen
class RubricSelected:
    """A learner picked a value on the rubric of a combined open-ended problem."""

    category: int = required("Rubric category chosen.")
    location: str = required("Location of the question whose rubric was used.")
    selection: int = required("Value chosen on the rubric.")


event_type(
    "oe_show_full_feedback",
    "oe_show_respond_to_feedback",
    sources=BROWSER,
    domain=DOMAIN,
    deprecated=True,
    description="A learner opened the full feedback on, or the form to respond to the feedback on, a "
    "combined open-ended problem.",
)(NoFields)


@event_type("oe_feedback_response_selected", sources=BROWSER, domain=DOMAIN, deprecated=True)
@frozen
class FeedbackResponseSelected:
    """A learner picked a value in the form for responding to feedback on a combined open-ended problem."""

    value: int = required("Value chosen in the feedback response form.")


@event_type(
    "peer_grading_hide_question",
    "peer_grading_show_question",
    sources=BROWSER,
    domain=DOMAIN,
    deprecated=True,
)
@frozen
class PeerGradingQuestionToggled:
    """A user hid or showed again a peer-graded problem (formerly ``peer_grading_hide_problem`` and
    ``peer_grading_show_problem``).
    """

    location: str = required(QUESTION_LOCATION)


@event_type(
    "staff_grading_hide_question",
    "staff_grading_show_question",
    sources=BROWSER,
    domain=DOMAIN,
    deprecated=True,
)
@frozen
class StaffGradingQuestionToggled:
    """A user hid or showed again a staff-graded problem (formerly ``staff_grading_hide_problem`` and
    ``staff_grading_show_problem``).
    """

    location: str = required(QUESTION_LOCATION)
