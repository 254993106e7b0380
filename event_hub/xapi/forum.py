"""Discussion forum events (18 names): created, edited, viewed, deleted, voted, reported, unreported.

Object: the contribution as a discussion activity at the discussion API's
address (``{root}/api/discussion/v1/threads/{id}`` for a thread,
``…/comments/{id}`` for a response or comment), named by the thread's title
when the payload has it. A response or comment is grouped under its thread.
Context extension ``type``: the thread type of a new thread, the vote value of
a vote.
"""

from __future__ import annotations

from typing import Any

from event_hub.envelope import Envelope
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.registry import register
from event_hub.xapi.statement import Site, activity, payload, required, statement

FAMILY = "forum"

VERBS: dict[str, dict[str, Any]] = {
    "created": xv.POSTED,
    "edited": xv.EDITED,
    "viewed": xv.VIEWED,
    "deleted": xv.DELETED,
    "voted": xv.VOTED,
    "reported": xv.REPORTED,
    "unreported": xv.UNREPORTED,
}

NAMES = (
    *(f"edx.forum.thread.{action}" for action in VERBS),
    *(
        f"edx.forum.response.{action}"
        for action in ("created", "edited", "deleted", "voted", "reported", "unreported")
    ),
    *(f"edx.forum.comment.{action}" for action in ("created", "edited", "deleted", "reported", "unreported")),
)


def thread_iri(site: Site, thread_id: str) -> str:
    return f"{site.lms_root_url}/api/discussion/v1/threads/{thread_id}"


def comment_iri(site: Site, comment_id: str) -> str:
    return f"{site.lms_root_url}/api/discussion/v1/comments/{comment_id}"


def _ref(data: Any, key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value not in (None, "") else None


@register(FAMILY, *NAMES)
def forum(envelope: Envelope, site: Site) -> dict[str, Any]:
    name = envelope.name if envelope.name.startswith("edx.forum.") else envelope.event_type
    _, _, kind, action = name.split(".", 3)
    data = payload(envelope)
    own_id = str(required(data, "id", envelope))
    iri = thread_iri(site, own_id) if kind == "thread" else comment_iri(site, own_id)
    title = data.get("title")
    obj = activity(iri, xv.DISCUSSION, title if isinstance(title, str) else None)
    grouping = None
    thread = _ref(data, "discussion")
    if kind != "thread" and thread:
        grouping = [activity(thread_iri(site, thread), xv.DISCUSSION)]
    mode = (
        data.get("thread_type")
        if action == "created"
        else data.get("vote_value")
        if action == "voted"
        else None
    )
    context = {xv.MODE: mode} if mode is not None else None
    return statement(envelope, site, VERBS[action], obj, grouping=grouping, context_extensions=context)
