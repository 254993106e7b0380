"""xAPI statements from hub events, following the Open edX xAPI profile (OEP-26).

Importing the package registers every family's transforms (video, forum,
enrollment, navigation, problems, grading, completion); see
:mod:`event_hub.xapi.registry`. The backend is
:class:`event_hub.backends.xapi.XapiBackend`.
"""

from __future__ import annotations

from event_hub.xapi import completion, enrollment, forum, grading, navigation, problem, video
from event_hub.xapi.registry import families, lookup, names
from event_hub.xapi.statement import NoActor, Site, statement_id

FAMILIES = (completion, enrollment, forum, grading, navigation, problem, video)

__all__ = ["FAMILIES", "NoActor", "Site", "families", "lookup", "names", "statement_id"]
