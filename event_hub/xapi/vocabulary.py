"""The IRIs of the Open edX xAPI profile (OEP-26) that the transforms use.

Verbs, activity types and extension keys as event-routing-backends writes them
in its statements, so an LRS fed by both sees one vocabulary. Only the IRIs are
carried over; each is a public identifier of the profile or of the vocabulary
it borrows from (ADL, TinCan, xAPI video, acrossx, cmi5).
"""

from __future__ import annotations

from typing import Any, Final

#: xAPI version of the statements and of the ``X-Experience-API-Version`` header.
XAPI_VERSION: Final = "1.0.3"


def verb(iri: str, display: str) -> dict[str, Any]:
    """A verb object: its IRI and its English display name."""
    return {"id": iri, "display": {"en": display}}


# Verbs.
ANSWERED = verb("http://adlnet.gov/expapi/verbs/answered", "answered")
ASKED = verb("http://adlnet.gov/expapi/verbs/asked", "asked")
ATTEMPTED = verb("http://adlnet.gov/expapi/verbs/attempted", "attempted")
COMPLETED = verb("http://adlnet.gov/expapi/verbs/completed", "completed")
DELETED = verb("https://w3id.org/xapi/dod-isd/verbs/deleted", "deleted")
EARNED = verb("http://id.tincanapi.com/verb/earned", "earned")
EDITED = verb("https://w3id.org/xapi/acrossx/verbs/edited", "edited")
EVALUATED = verb("https://w3id.org/xapi/acrossx/verbs/evaluated", "evaluated")
FAILED = verb("http://adlnet.gov/expapi/verbs/failed", "failed")
INITIALIZED = verb("http://adlnet.gov/expapi/verbs/initialized", "initialized")
INTERACTED = verb("http://adlnet.gov/expapi/verbs/interacted", "interacted")
NAVIGATED = verb("https://w3id.org/xapi/dod-isd/verbs/navigated", "navigated")
PASSED = verb("http://adlnet.gov/expapi/verbs/passed", "passed")
PAUSED = verb("https://w3id.org/xapi/video/verbs/paused", "paused")
PLAYED = verb("https://w3id.org/xapi/video/verbs/played", "played")
POSTED = verb("https://w3id.org/xapi/acrossx/verbs/posted", "posted")
PROGRESSED = verb("http://adlnet.gov/expapi/verbs/progressed", "progressed")
REGISTERED = verb("http://adlnet.gov/expapi/verbs/registered", "registered")
REPORTED = verb("https://w3id.org/xapi/acrossx/verbs/reported", "reported")
SEEKED = verb("https://w3id.org/xapi/video/verbs/seeked", "seeked")
TERMINATED = verb("http://adlnet.gov/expapi/verbs/terminated", "terminated")
UNREGISTERED = verb("http://id.tincanapi.com/verb/unregistered", "unregistered")
UNREPORTED = verb("https://w3id.org/xapi/openedx/verb/unreported", "unreported")
VIEWED = verb("http://id.tincanapi.com/verb/viewed", "viewed")
VOTED = verb("https://w3id.org/xapi/openedx/verb/voted", "voted")

# Activity types.
COURSE = "http://adlnet.gov/expapi/activities/course"
DISCUSSION = "http://id.tincanapi.com/activitytype/discussion"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
LINK = "http://adlnet.gov/expapi/activities/link"
MODULE = "http://adlnet.gov/expapi/activities/module"
QUESTION = "http://adlnet.gov/expapi/activities/question"
RESOURCE = "http://id.tincanapi.com/activitytype/resource"
SOLUTION = "http://id.tincanapi.com/activitytype/solution"
SUPPLEMENTAL_INFO = "https://w3id.org/xapi/acrossx/extensions/supplemental-info"
VIDEO = "https://w3id.org/xapi/video/activity-type/video"

# Extensions (activity definition, context and result).
ATTEMPT_ID = "http://id.tincanapi.com/extension/attempt-id"
ENDING_POINT = "http://id.tincanapi.com/extension/ending-point"
GRADE_CLASSIFICATION = "http://www.tincanapi.co.uk/activitytypes/grade_classification"
MODE = "https://w3id.org/xapi/acrossx/extensions/type"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
SESSION_ID = "https://w3id.org/xapi/openedx/extensions/session-id"
SPEED_FROM = "https://w3id.org/xapi/openedx/extension/speed-from"
SPEED_TO = "https://w3id.org/xapi/openedx/extension/speed-to"
STARTING_POSITION = "http://id.tincanapi.com/extension/starting-position"
TOTAL_ITEMS = "https://w3id.org/xapi/acrossx/extensions/total-items"
TRANSFORMER_VERSION = "https://w3id.org/xapi/openedx/extension/transformer-version"
VIDEO_CC_ENABLED = "https://w3id.org/xapi/video/extensions/cc-enabled"
VIDEO_CC_LANGUAGE = "https://w3id.org/xapi/video/extensions/cc-subtitle-lang"
VIDEO_LENGTH = "https://w3id.org/xapi/video/extensions/length"
VIDEO_TIME = "https://w3id.org/xapi/video/extensions/time"
VIDEO_TIME_FROM = "https://w3id.org/xapi/video/extensions/time-from"
VIDEO_TIME_TO = "https://w3id.org/xapi/video/extensions/time-to"

#: ``response_type`` of a capa problem -> xAPI ``interactionType`` of its activity.
INTERACTION_TYPES: Final = {
    "annotationresponse": "fill-in",
    "choiceresponse": "choice",
    "choicetextresponse": "choice",
    "coderesponse": "other",
    "customresponse": "other",
    "externalresponse": "other",
    "formularesponse": "fill-in",
    "imageresponse": "matching",
    "multiplechoiceresponse": "choice",
    "numericalresponse": "numeric",
    "optionresponse": "choice",
    "schematicresponse": "other",
    "stringresponse": "fill-in",
    "symbolicresponse": "fill-in",
    "truefalseresponse": "true-false",
}
