"""Open response assessment (ORA 2) events (tracking-log "Open Response Assessment Events").

The ORA 1 prototype events live in :mod:`event_hub.catalog.ora_deprecated`.
Timestamps the document types as ``datetime`` travel as ISO 8601 strings.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import BROWSER, SERVER, optional, required
from event_hub.catalog.registry import event_type

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
class ChosenOption:
    """The rubric option an assessor picked, as ORA 2 writes it into assessment events."""

    name: str = required("Name of the option.")
    points: int = required("Points the option awards.")


@frozen
class AssessmentPart:
    """What the assessor chose and wrote for one rubric criterion."""

    criterion: RubricCriterion = required("The criterion this part scores.")
    feedback: str = required("Comments the assessor wrote for this criterion (may be empty).")
    option: ChosenOption | str | None = optional(
        "Option picked for the criterion: an object with its ``name`` and ``points`` as ORA 2 emits it "
        "(the reference shows the bare name); null or left out when the criterion only collects feedback."
    )


@frozen
class RubricRef:
    """Identifies the rubric an assessment used, as ORA 2 writes it."""

    content_hash: str = required("Hash of the rubric's content, which identifies the rubric.")


@frozen
class DocumentedRubricRef:
    """Identifies the rubric an assessment used, as the reference spells it (``contenthash``)."""

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
    rubric: RubricRef | DocumentedRubricRef = required(
        "The rubric used for the assessment: ``{'content_hash': ...}`` as ORA 2 emits it, or "
        "``{'contenthash': ...}`` as the reference shows it."
    )
    scored_at: str = required("When the assessment was submitted (ISO 8601 timestamp).")
    scorer_id: str = required("Anonymized, course-specific id of the learner who assessed.")
    score_type: Literal["PE", "SE", "ST"] = required(
        "'PE' for a peer assessment, 'SE' for a self assessment, 'ST' for a staff assessment."
    )
    submission_uuid: str = required("Id of the response that was assessed.")


@event_type("openassessmentblock.staff_assess", sources=SERVER, domain=DOMAIN)
@frozen
class StaffAssessmentSubmitted(AssessmentSubmitted):
    """The server recorded a course team member's assessment of a learner's response.

    Same members as a peer assessment (``score_type`` 'ST'), plus the kind of
    staff grading.
    """

    type: Literal["full-grade", "regrade"] = required(
        "'full-grade' for an assessment in the staff assessment step, 'regrade' for a grade override."
    )


@event_type("openassessmentblock.get_submission_for_staff_grading", sources=SERVER, domain=DOMAIN)
@frozen(kw_only=True)
class StaffSubmissionFetched:
    """The server handed a course team member a learner's response to grade in the staff assessment step."""

    course_id: str = optional(
        "Course holding the assessment. The reference lists it (as for get_peer_submission); ORA 2 "
        "leaves it out of this event."
    )
    item_id: str = required("Locator of the assessment problem.")
    requesting_staff_id: str = required("Anonymized, course-specific id of the course team member.")
    submission_returned_uuid: str | None = required("Id of the response handed out for grading.")
    type: Literal["full-grade"] = required("Kind of staff grading; only 'full-grade' is used.")


@event_type("openassessmentblock.submit_feedback_on_assessments", sources=SERVER, domain=DOMAIN)
@frozen
class AssessmentFeedbackSubmitted:
    """The server recorded a learner's comments or opinions about the assessment process itself."""

    feedback_text: str = required("What the learner wrote about the assessment process.")
    options: list[str] = required("Labels of the check boxes the learner ticked to rate the process.")
    submission_uuid: str = required("Id of this feedback.")


@frozen
class ResponsePart:
    """The answer to one prompt of a response."""

    text: str = required("Text the learner wrote for the prompt.")


@frozen(kw_only=True)
class ResponseContent:
    """The body of a learner's response as ORA 2 writes it: one entry per prompt, and any uploaded files
    listed in parallel arrays."""

    parts: list[ResponsePart] = required("One entry per prompt, in prompt order.")
    file_keys: list[str] = optional("Storage keys of the files uploaded with the response.")
    files_descriptions: list[str] = optional("Descriptions the learner gave the uploaded files.")
    files_names: list[str] = optional("Names of the uploaded files.")
    files_sizes: list[int] = optional("Sizes of the uploaded files, in bytes.")


@frozen
class SingleTextResponse:
    """The body of a learner's response in the single-prompt form the reference shows."""

    text: str = required("Text of the response.")
    file_upload_key: str | None = optional(
        "Amazon S3 key of the image uploaded with the response, for reference; only when an image "
        "was attached."
    )


@event_type("openassessmentblock.create_submission", sources=SERVER, domain=DOMAIN)
@frozen
class SubmissionCreated:
    """The server recorded a learner's submitted response (for peer or self assessment alike)."""

    answer: ResponseContent | SingleTextResponse = required(
        "The submitted response: ``parts`` (one per prompt) and file lists as ORA 2 emits it, or a single "
        "``text`` as the reference shows it."
    )
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

    saved_response: ResponseContent | SingleTextResponse | str = required(
        "The draft response as saved. ORA 2 writes it as a JSON-encoded string of the response object "
        "(``{\"parts\": [{\"text\": ...}]}``); the reference shows the object itself. Both are accepted."
    )


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


@event_type("openassessment.upload_file_error", sources=BROWSER, domain=DOMAIN)
@frozen
class FileUploadFailed:
    """The browser reported that uploading a file for a response failed.

    ORA 2's ``FileUploader`` (``openassessment/xblock/static/js/src/lms/fileUploader.js``)
    sends the HTTP status text; older versions sent the error thrown instead.
    """

    statusText: str = optional("Status text of the failed upload request.")
    errorThrown: str = optional("Error the failed request reported (older ORA 2 versions).")
