"""Poll and survey XBlock events (tracking-log "Poll and Survey Events")."""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import SERVER, NoFields, required
from event_hub.catalog.registry import event_type

DOMAIN = "poll_survey"


@event_type("xblock.poll.submitted", sources=SERVER, domain=DOMAIN)
@frozen
class PollSubmitted:
    """The server recorded a user's answer to a poll XBlock."""

    url_name: str = required("Location identifier of the poll XBlock.")
    choice: str = required("Internal id of the answer the user picked.")


@event_type("xblock.survey.submitted", sources=SERVER, domain=DOMAIN)
@frozen
class SurveySubmitted:
    """The server recorded a user's answers to a survey XBlock."""

    url_name: str = required("Location identifier of the survey XBlock.")
    choices: dict[str, str] = required("Each survey question's name mapped to the answer the user picked.")


event_type(
    "xblock.poll.view_results",
    sources=SERVER,
    domain=DOMAIN,
    description="The server showed a user the tally of a poll's answers (right after answering, when the "
    "poll's results are not private).",
)(NoFields)
event_type(
    "xblock.survey.view_results",
    sources=SERVER,
    domain=DOMAIN,
    description="The server showed a user the table of answer percentages of a survey (right after "
    "answering, when the survey's results are not private).",
)(NoFields)
