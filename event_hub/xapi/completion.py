"""Block completion (1 name): ``edx.completion.block_completion.changed``, verb progressed.

Object: the block (``{root}/xblock/{block_id}``) as a resource. Result: the
completion as a cmi5 progress percentage, and ``completion`` true at 1.0.
"""

from __future__ import annotations

from typing import Any

from event_hub.envelope import Envelope
from event_hub.exceptions import EventRejected
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.registry import register
from event_hub.xapi.statement import Site, activity, payload, required, statement

FAMILY = "completion"


@register(FAMILY, "edx.completion.block_completion.changed")
def block_completion(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    obj = activity(site.iri("xblock", str(required(data, "block_id", envelope))), xv.RESOURCE)
    completion = required(data, "completion", envelope)
    if isinstance(completion, bool) or not isinstance(completion, (int, float)):
        raise EventRejected(f"{envelope.name}: completion {completion!r} is not a number")
    result = {"completion": completion == 1.0, "extensions": {xv.PROGRESS: round(completion * 100, 6)}}
    return statement(envelope, site, xv.PROGRESSED, obj, result=result)
