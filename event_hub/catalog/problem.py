"""Problem interaction events (tracking-log "Problem Interaction Events").

These cover the capa problem types: checking, saving, resetting, rescoring and
showing answers, plus the hint and feedback events. Other problem-like
XBlocks (open response assessment, polls and surveys) have their own events.
"""

from __future__ import annotations

from typing import Any, Literal

from attrs import frozen

from event_hub.catalog.base import (
    BROWSER,
    BROWSER_OR_SERVER,
    SERVER,
    RawString,
    context_fields,
    optional,
    required,
)
from event_hub.catalog.registry import event_type

# --- shared nested shapes -------------------------------------------------------------------


@frozen
class QueueState:
    """Where an answer sent to an external grader stands in the queue."""

    key: str = required("Secret string identifying the queued submission.")
    time: str = required("When the answer was queued, as a '%Y%m%d%H%M%S' timestamp string.")


@frozen
class CorrectMapEntry:
    """Grading outcome for one answer id of a problem."""

    correctness: Literal["correct", "incorrect", "partially-correct", "incomplete"] = required(
        "How this answer was graded: 'correct', 'incorrect', 'partially-correct' (partial credit) or "
        "'incomplete'."
    )
    hint: str | None = required("Hint shown with the result, if the problem defines one; may be null.")
    hintmode: Literal["on_request", "always"] | None = required(
        "When the hint is shown: 'on_request', 'always', or null when there is no hint."
    )
    msg: str = required("Additional message returned with the grading result (may contain HTML).")
    npoints: float | None = required(
        "Points given for this answer id; null when not set. Partial credit gives fractions such as 0.5, "
        "so any number is accepted."
    )
    queuestate: QueueState | None = required(
        "Queue details when the answer awaits an external grader; null when it is not queued."
    )
    answervariable: str | None = optional(
        "Name of the answer variable capa's grading map records for this answer id (null when the "
        "response type sets none); newer capa versions write it into every entry."
    )


@frozen
class SubmissionEntry:
    """What the learner submitted for one question of the problem, and how it was graded."""

    answer: str | list[str] = required(
        "The learner's answer: the text entered, or the display name of the choice selected "
        "(a list of names for questions that allow several choices)."
    )
    correct: bool = required("True if this answer was judged correct.")
    input_type: str = required(
        "Kind of input the learner used, named after the Advanced Editor XML element "
        "(for example 'checkboxgroup', 'choicegroup', 'textline')."
    )
    question: str = required("Text of the question.")
    response_type: str = required(
        "Kind of problem, named after the Advanced Editor XML element "
        "(for example 'choiceresponse', 'optionresponse')."
    )
    variant: str | int = required(
        "For randomized problems (answer pools, choice shuffling), the id of the variant this learner "
        "saw. The reference types it as an integer while its example carries an empty string for a "
        "problem that is not randomized, so both are accepted."
    )


# --- hints and feedback ---------------------------------------------------------------------


@event_type("edx.problem.hint.demandhint_displayed", sources=SERVER, domain="problem")
@frozen
class DemandHintDisplayed:
    """The server showed a learner one of a problem's hints because the learner asked for it."""

    hint_index: int = required("Zero-based position of the displayed hint among the problem's hints.")
    hint_len: int = required("How many hints the problem defines in total.")
    hint_text: str = required("The hint text the learner saw.")
    module_id: str = required("Id of the problem component the hint belongs to.")


@frozen
class FeedbackHint:
    """One feedback message shown to the learner."""

    text: str = required("The feedback text that was displayed.")


@event_type("edx.problem.hint.feedback_displayed", sources=SERVER, domain="problem")
@frozen(kw_only=True)
class FeedbackDisplayed:
    """The server showed the feedback a course team attached to the answer a learner submitted.

    Emitted each time the learner checks a problem that defines feedback messages.
    """

    choice_all: list[str] = optional(
        "Every answer choice the problem offers; only for problems with a fixed set of choices, "
        "such as checkboxes."
    )
    correctness: bool = required("True if the learner's answer is correct, false otherwise.")
    hint_label: str = required("Optional label shown before the feedback, such as 'Correct: '.")
    hints: list[FeedbackHint] = required(
        "The feedback messages displayed; several when feedback covers more than one answer at once."
    )
    module_id: str = required("Id of the problem component the feedback belongs to.")
    problem_part_id: str = required(
        "In a component holding several problems, the id of the problem the feedback is for."
    )
    question_type: str = required("XML tag of the problem type, such as 'stringresponse'.")
    student_answer: list[str] = required(
        "The value(s) the learner chose or entered; for multi-answer problems every option, "
        "selected or not, is listed."
    )
    trigger_type: Literal["single", "compound"] = required(
        "'compound' when the feedback matched an exact combination of checkbox selections, "
        "'single' for all other feedback."
    )


# --- problem_check ----------------------------------------------------------------------------

event_type(
    "problem_check",
    sources=BROWSER,
    domain="problem",
    description="A learner checked a problem in the browser; the event is the problem's input values "
    "serialized as a query string.",
)(RawString)


@frozen
class ProblemModule:
    """The ``context.module`` dictionary: the component the event is about."""

    display_name: str = required("Display name of the problem component.")
    usage_key: str = optional("Usage key of the component in the course.")
    original_usage_key: str = optional(
        "For content delivered from a library, the component's usage key in that library."
    )
    original_usage_version: str = optional(
        "For content delivered from a library, the library version the component came from."
    )


@context_fields
@frozen
class ProblemCheckContext:
    """Extra ``context`` member of the server ``problem_check`` event."""

    module: ProblemModule = required("The problem component the server checked.")


@event_type("problem_check", sources=SERVER, domain="problem", context=ProblemCheckContext)
@frozen
class ProblemChecked:
    """The server successfully checked (graded) a learner's answers to a problem.

    Before 15 Oct 2013 this event was named ``save_problem_check``.
    """

    answers: dict[str, Any] = required(
        "Learner's answers keyed by answer id; a component with several problems lists each one."
    )
    attempts: int = required("How many times the learner has tried the problem.")
    correct_map: dict[str, CorrectMapEntry] = required("Grading outcome for each answer id in ``answers``.")
    grade: int = required("The learner's current score on the problem.")
    max_grade: int = required("The highest score possible on the problem.")
    problem_id: str = required("Id of the problem that was checked.")
    state: dict[str, Any] = required("The problem's state at the time of the check.")
    submission: dict[str, SubmissionEntry] = required(
        "Per answer id, what the learner submitted and whether it was correct."
    )
    success: Literal["correct", "incorrect"] = required("Overall result: 'correct' or 'incorrect'.")


@event_type("problem_check_fail", sources=SERVER, domain="problem")
@frozen
class ProblemCheckFailed:
    """The server could not check a learner's answers to a problem.

    Before 15 Oct 2013 this event was named ``save_problem_check_fail``.
    """

    answers: dict[str, Any] = required("Learner's answers keyed by answer id.")
    failure: Literal["closed", "unreset"] = required(
        "Why the check failed: 'closed' (no longer open) or 'unreset' (must be reset first)."
    )
    problem_id: str = required("Id of the problem whose check failed.")
    state: dict[str, Any] = required("The problem's state at the time of the attempt.")


#: ``problem_graded`` carries a bare two-item array, ``[answers, contents]``, not an object.
event_type(
    "problem_graded",
    sources=BROWSER_OR_SERVER,
    domain="problem",
    description="A learner's answer to a problem was checked and graded successfully. The ``event`` member "
    "is a two-item array: first the answers the learner checked (the problem's inputs serialized as a "
    "query string), then the problem's HTML as built in Studio (display name, text, choices or field "
    "labels), covering every problem of the component.",
)(tuple[str, str])


# --- rescoring --------------------------------------------------------------------------------


@event_type("problem_rescore", sources=SERVER, domain="problem")
@frozen
class ProblemRescored:
    """The server successfully rescored a learner's answer to a problem."""

    attempts: int = required("How many times the learner has tried the problem.")
    correct_map: dict[str, CorrectMapEntry] = required(
        "Grading outcome for each answer id after rescoring (same shape as in ``problem_check``)."
    )
    new_score: int = required("Score after rescoring.")
    new_total: int = required("Maximum possible score after rescoring.")
    orig_score: int = required("Score before rescoring.")
    orig_total: int = required("Maximum possible score before rescoring.")
    problem_id: str = required("Id of the rescored problem.")
    state: dict[str, Any] = required("The problem's state.")
    success: Literal["correct", "incorrect"] = required("Overall result: 'correct' or 'incorrect'.")


@event_type("problem_rescore_fail", sources=SERVER, domain="problem")
@frozen
class ProblemRescoreFailed:
    """The server could not rescore a learner's answer to a problem."""

    failure: Literal["unsupported", "unanswered", "input_error", "unexpected"] = required(
        "Why rescoring failed: 'unsupported', 'unanswered', 'input_error' or 'unexpected'."
    )
    problem_id: str = required("Id of the problem that could not be rescored.")
    state: dict[str, Any] = required("The problem's state.")


# --- reset, save, show ------------------------------------------------------------------------


@event_type("problem_reset", sources=BROWSER, domain="problem")
@frozen
class ProblemResetClicked:
    """A learner clicked Reset on a problem; the browser emits this event."""

    answers: str = required("The answer value the learner reset.")


event_type(
    "problem_save",
    sources=BROWSER,
    domain="problem",
    description="A learner saved their answer to a problem; the browser emits this event. The reference "
    "lists no members, but the capa problem script logs the problem's inputs serialized as a query "
    "string (like the browser ``problem_check``), empty when there is nothing to send.",
)(RawString)


@event_type("problem_show", sources=BROWSER, domain="problem")
@frozen
class ProblemShown:
    """The browser showed a problem to a learner."""

    problem: str = required(
        "Identifier of the problem shown: a name the course team chose or a generated hash such as "
        "'input_303034da25524878a2e66fb57c91cf85_2_1'; older courses use an HTML-escaped module id."
    )


@event_type("reset_problem", sources=SERVER, domain="problem")
@frozen
class ProblemReset:
    """The server successfully reset a learner's problem."""

    new_state: dict[str, Any] = required("The problem's state after the reset.")
    old_state: dict[str, Any] = required("The problem's state before the reset.")
    problem_id: str = required("Id of the reset problem.")


@event_type("reset_problem_fail", sources=SERVER, domain="problem")
@frozen
class ProblemResetFailed:
    """The server could not reset a learner's problem."""

    failure: Literal["closed", "not_done"] = required(
        "Why the reset failed: 'closed' (no longer open) or 'not_done' (nothing to reset yet)."
    )
    old_state: dict[str, Any] = required("The problem's state when the reset was requested.")
    problem_id: str = required("Id of the problem that could not be reset.")


@event_type("save_problem_fail", sources=SERVER, domain="problem")
@frozen
class ProblemSaveFailed:
    """The server could not save a learner's answer to a problem."""

    answers: dict[str, Any] = required("Learner's answers keyed by answer id.")
    failure: Literal["closed", "done"] = required(
        "Why saving failed: 'closed' (no longer open) or 'done' (already answered)."
    )
    problem_id: str = required("Id of the problem that could not be saved.")
    state: dict[str, Any] = required("The problem's state.")


@event_type("save_problem_success", sources=SERVER, domain="problem")
@frozen
class ProblemSaved:
    """The server saved a learner's answer to a problem."""

    answers: dict[str, Any] = required("Learner's answers keyed by answer id.")
    problem_id: str = required("Id of the saved problem.")
    state: dict[str, Any] = required("The problem's state.")


@event_type("show_answer", "showanswer", sources=SERVER, domain="problem")
@frozen
class AnswerShown:
    """The server showed a learner the answer to a problem.

    The event was originally named ``showanswer``, the name capa still emits;
    both names are registered with this payload.
    """

    problem_id: str = required("Id of the problem whose answer was shown.")
