"""Open response assessment (ORA 2) events (tracking-log "Open Response Assessment Events").

The ORA 1 prototype events live in :mod:`event_hub.catalog.ora_deprecated`.
Timestamps the document types as ``datetime`` travel as ISO 8601 strings.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import BROWSER, SERVER, event_type, optional, required

DOMAIN = "ora"


@event_type("openassessmentblock.get_peer_submission", sources=SERVER, domain=DOMAIN)
@frozen
class PeerSubmissionFetched:
    """The server handed a learner another participant's response to assess."""

    course_id: str = required(
        "Course holding the assessment, always written in the old {org}/{course}/{run} form, "
        "even for courses whose id has a newer format."
    )
    item_id: str = required("i4x:// locator of the assessment problem.")
    requesting_student_id: str = required(
        "Anonymized, course-specific id of the learner who asked for a response to assess."
    )
    submission_returned_uuid: str | None = required(
        'Id of the response delivered for assessment; "None" (or null) when nothing was available.'
    )


@frozen
class RubricCriterion:
    """A rubric criterion as recorded in an assessment part."""

    name: str = required("Name of the criterion.")
    points_possible: int = required(
        "Most points the criterion can award; 0 when the criterion only collects written feedback. "
        "(The reference spells it 'points possible'; events carry ``points_possible``.)"
    )


@frozen
class AssessmentPart:
    """What the assessor chose and wrote for one rubric criterion."""

    criterion: RubricCriterion = required("The criterion this part scores.")
    feedback: str = required("Comments the assessor wrote for this criterion (may be empty).")
    option: str | None = optional(
        "Option picked for the criterion; left out when the criterion only collects feedback."
    )


@frozen
class RubricRef:
    """Identifies the rubric an assessment used."""

    contenthash: str = required("Hash of the rubric's content, which identifies the rubric.")


@event_type(
    "openassessmentblock.peer_assess",
    "openassessmentblock.self_assess",
    sources=SERVER,
    domain=DOMAIN,
)
@frozen
class AssessmentSubmitted:
    """The server recorded a learner's assessment of a peer's response, or of their own."""

    feedback: str = required("Overall comments the assessor wrote about the response.")
    parts: list[AssessmentPart] = required(
        "One entry per rubric criterion: the criterion, the option chosen and any feedback."
    )
    rubric: RubricRef = required("The rubric used for the assessment.")
    scored_at: str = required("When the assessment was submitted (ISO 8601 timestamp).")
    scorer_id: str = required("Anonymized, course-specific id of the learner who assessed.")
    score_type: Literal["PE", "SE"] = required("'PE' for a peer assessment, 'SE' for a self assessment.")
    submission_uuid: str = required("Id of the response that was assessed.")


@event_type("openassessmentblock.submit_feedback_on_assessments", sources=SERVER, domain=DOMAIN)
@frozen
class AssessmentFeedbackSubmitted:
    """The server recorded a learner's comments or opinions about the assessment process itself."""

    feedback_text: str = required("What the learner wrote about the assessment process.")
    options: list[str] = required("Labels of the check boxes the learner ticked to rate the process.")
    submission_uuid: str = required("Id of this feedback.")


@frozen
class ResponseContent:
    """The body of a learner's response."""

    text: str = required("Text of the response.")
    file_upload_key: str | None = optional(
        "Amazon S3 key of the image uploaded with the response, for reference; only when an image "
        "was attached."
    )


@event_type("openassessmentblock.create_submission", sources=SERVER, domain=DOMAIN)
@frozen
class SubmissionCreated:
    """The server recorded a learner's submitted response (for peer or self assessment alike)."""

    answer: ResponseContent = required("The submitted response.")
    attempt_number: int = required("Attempt number of the submission; at present always 1.")
    created_at: str = required("When the response was submitted (ISO 8601 timestamp).")
    submitted_at: str = required(
        "When the response was submitted (ISO 8601 timestamp); currently equal to ``created_at``."
    )
    submission_uuid: str = required("Id of the response.")


@event_type("openassessmentblock.save_submission", sources=SERVER, domain=DOMAIN)
@frozen
class SubmissionSaved:
    """The server saved a learner's draft response, before it is submitted for assessment."""

    saved_response: ResponseContent = required("The draft response as saved.")


@event_type("openassessment.student_training_assess_example", sources=SERVER, domain=DOMAIN)
@frozen
class TrainingExampleAssessed:
    """The server recorded a learner's practice assessment of an example response, using the course
    team's rubric, and where the learner's choices differed from the course team's.
    """

    corrections: dict[str, str] = required(
        "For each criterion the learner scored differently from the course team, the criterion name "
        "mapped to the option the course team chose."
    )
    options_selected: dict[str, str] = required(
        "Each rubric criterion name mapped to the option the learner chose for it."
    )
    submission_uuid: str = required("Id of the response; identifies the learner doing the training.")


@event_type("openassessment.upload_file", sources=BROWSER, domain=DOMAIN)
@frozen
class FileUploaded:
    """The browser reported that a learner finished uploading an image for a response not yet submitted."""

    fileName: str = required("Name of the uploaded file on the learner's computer.")
    fileSize: int = required("Size of the uploaded file in bytes, as the browser reported it.")
    fileType: str = required("MIME type of the uploaded file, as the browser reported it.")
