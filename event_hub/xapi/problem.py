"""Problem events (5 names).

* ``problem_check`` from the server: verb evaluated; object the problem as a
  ``cmi.interaction`` with the interaction type of its (first) response type
  and the attempt number; result success, score and the learner's answer.
* ``problem_check`` from the browser: verb attempted; the payload is the
  submitted form (a query string), kept as the response; the problem is the
  component of the event's context.
* ``edx.grades.problem.submitted``: verb attempted; object a question; result
  the weighted score.
* ``showanswer``: verb asked, object a solution.
* ``edx.problem.hint.demandhint_displayed``: verb asked, object supplemental info.
* ``edx.problem.completed``: verb completed.

Every object is the problem component, ``{root}/xblock/{usage key}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from event_hub.envelope import Envelope
from event_hub.exceptions import EventRejected
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.grading import number, score
from event_hub.xapi.registry import register
from event_hub.xapi.statement import Site, activity, extensions, payload, statement

FAMILY = "problems"

#: Event name -> (verb, activity type).
SIMPLE: dict[str, tuple[dict[str, Any], str]] = {
    "showanswer": (xv.ASKED, xv.SOLUTION),
    "edx.problem.hint.demandhint_displayed": (xv.ASKED, xv.SUPPLEMENTAL_INFO),
    "edx.problem.completed": (xv.COMPLETED, xv.INTERACTION),
}


def problem_iri(envelope: Envelope, site: Site, data: Mapping[str, Any]) -> str:
    """The problem's IRI, from the payload (``problem_id``, ``module_id``) or the context's component."""
    key = data.get("problem_id") or data.get("module_id")
    if not key and envelope.context.module:
        key = envelope.context.module.get("usage_key")
    if not key:
        raise EventRejected(f"{envelope.name}: no problem id")
    return site.iri("xblock", str(key))


@register(FAMILY, *SIMPLE)
def simple(envelope: Envelope, site: Site) -> dict[str, Any]:
    verb, kind = SIMPLE[envelope.name]
    data = payload(envelope)
    return statement(envelope, site, verb, activity(problem_iri(envelope, site, data), kind))


@register(FAMILY, "edx.grades.problem.submitted")
def submitted(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    obj = activity(problem_iri(envelope, site, data), xv.QUESTION)
    earned = number(data.get("weighted_earned"))
    possible = number(data.get("weighted_possible"))
    result = {"success": possible > 0 and earned >= possible, "score": score(earned, possible)}
    return statement(envelope, site, xv.ATTEMPTED, obj, result=result)


def _first_submission(data: Mapping[str, Any]) -> Mapping[str, Any]:
    submission = data.get("submission")
    if isinstance(submission, Mapping):
        for entry in submission.values():
            if isinstance(entry, Mapping):
                return entry
    return {}


def _response(answer: Any) -> str | None:
    if answer is None:
        return None
    if isinstance(answer, list):
        return "[,]".join(str(item) for item in answer)
    return str(answer)


@register(FAMILY, "problem_check")
def problem_check(envelope: Envelope, site: Site) -> dict[str, Any]:
    if envelope.event_source == "browser":
        answers = envelope.event if isinstance(envelope.event, str) else None
        obj = activity(problem_iri(envelope, site, {}), xv.INTERACTION, interactionType="other")
        return statement(envelope, site, xv.ATTEMPTED, obj, result={"response": answers} if answers else None)
    data = payload(envelope)
    entry = _first_submission(data)
    response_type = entry.get("response_type")
    question = entry.get("question")
    obj = activity(
        problem_iri(envelope, site, data),
        xv.INTERACTION,
        description={"en": question} if isinstance(question, str) and question else None,
        interactionType=xv.INTERACTION_TYPES.get(str(response_type), "other"),
        extensions=extensions({xv.ATTEMPT_ID: data.get("attempts")}) or None,
    )
    maximum = number(data.get("max_grade"))
    result: dict[str, Any] = {
        "success": data.get("success") == "correct",
        "score": score(number(data.get("grade")), maximum),
    }
    response = _response(entry.get("answer"))
    if response is not None:
        result["response"] = response
    return statement(envelope, site, xv.EVALUATED, obj, result=result)
