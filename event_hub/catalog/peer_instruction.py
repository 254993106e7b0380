"""Peer instruction events of the UBC peer instruction XBlock (ubc/ubcpi).

A learner answers a multiple-choice question with a rationale, reads other
learners' answers, then may revise. The block publishes these through the
runtime (server source) under the ``ubc.peer_instruction`` namespace.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import SERVER, NoFields, optional, required
from event_hub.catalog.registry import event_type

DOMAIN = "peer_instruction"

event_type(
    "ubc.peer_instruction.accessed",
    sources=SERVER,
    domain=DOMAIN,
    description="A learner opened a peer instruction question. Only the common fields are recorded.",
)(NoFields)


@frozen
class OtherAnswer:
    """Another learner's answer shown for comparison."""

    option: int = required("Index of the option that learner chose.")
    rationale: str = required("That learner's rationale.")


@frozen
class OtherAnswers:
    """The answers of other learners shown after the first answer."""

    answers: list[OtherAnswer] = required("The answers shown.")


@event_type("ubc.peer_instruction.original_submitted", "ubc.peer_instruction.revised_submitted",
            sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class AnswerSubmitted:
    """A learner submitted the first answer to a peer instruction question, or the revised one."""

    answer: int = required("Index of the option the learner chose.")
    answer_text: str = required("Text of that option.")
    correct_answer: int = required(
        "Index of the correct option (the number of options when the question has no correct answer)."
    )
    correct_answer_text: str | list[str] = required(
        "Text of the correct option. The block sends it wrapped in a one-item array, or 'n/a' when the "
        "question has no correct answer."
    )
    correct_rationale: dict[str, str] = required("The course team's explanation, as ``{'text': ...}``.")
    other_student_responses: OtherAnswers = optional(
        "Other learners' answers shown for comparison; first answers only."
    )
    rationale: str = required("The learner's explanation of the choice (cut when too long).", pii=True)
    truncated: bool = required("True when ``rationale`` was cut.")
