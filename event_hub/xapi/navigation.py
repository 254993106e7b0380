"""Course navigation events of the learning MFE (6 names), all with the verb navigated.

* ``edx.ui.lms.link_clicked``: object the link (``target_url``);
* ``edx.ui.lms.outline.selected`` and ``edx.ui.lms.sequence.outline.selected``:
  object the module picked in the outline (``target_url``, named ``target_name``);
* ``edx.ui.lms.sequence.next_selected``, ``…previous_selected``,
  ``…tab_selected``: object the sequence (``{root}/xblock/{id}``) with its
  number of units (``total-items``); context the unit moved from and to.
"""

from __future__ import annotations

from typing import Any

from event_hub.envelope import Envelope
from event_hub.xapi import vocabulary as xv
from event_hub.xapi.registry import register
from event_hub.xapi.statement import Site, activity, payload, required, statement

FAMILY = "navigation"

#: Sequence event -> where it goes (the target tab for a tab, else a fixed description).
SEQUENCE_TARGETS = {
    "edx.ui.lms.sequence.next_selected": "next unit",
    "edx.ui.lms.sequence.previous_selected": "previous unit",
    "edx.ui.lms.sequence.tab_selected": None,
}


@register(FAMILY, "edx.ui.lms.link_clicked")
def link_clicked(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    obj = activity(str(required(data, "target_url", envelope)), xv.LINK)
    return statement(envelope, site, xv.NAVIGATED, obj)


@register(FAMILY, "edx.ui.lms.outline.selected", "edx.ui.lms.sequence.outline.selected")
def outline_selected(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    name = data.get("target_name")
    obj = activity(
        str(required(data, "target_url", envelope)), xv.MODULE, name if isinstance(name, str) else None
    )
    return statement(envelope, site, xv.NAVIGATED, obj)


@register(FAMILY, *SEQUENCE_TARGETS)
def sequence_moved(envelope: Envelope, site: Site) -> dict[str, Any]:
    data = payload(envelope)
    tab_count = data.get("tab_count")
    obj = activity(
        site.iri("xblock", str(required(data, "id", envelope))),
        xv.RESOURCE,
        extensions={xv.TOTAL_ITEMS: tab_count} if tab_count is not None else None,
    )
    target = SEQUENCE_TARGETS[envelope.name]
    context = {
        xv.STARTING_POSITION: data.get("current_tab"),
        xv.ENDING_POINT: data.get("target_tab") if target is None else target,
    }
    return statement(envelope, site, xv.NAVIGATED, obj, context_extensions=context)
