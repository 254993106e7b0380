"""Content experiment (A/B split test) events (tracking-log "Testing Events for Content Experiments").

Current edx-platform emits them under namespaced names, which the current
Open edX reference lists: ``xmodule.partitions.assigned_user_to_partition``
(``xmodule/partitions/partitions_service.py``) and
``xblock.split_test.child_render`` (``xmodule/split_test_block.py``); both
share the payload of their old names.
"""

from __future__ import annotations

from attrs import frozen

from event_hub.catalog.base import BROWSER_OR_SERVER, SERVER, required
from event_hub.catalog.registry import event_type

DOMAIN = "content_experiments"


@event_type("xmodule.partitions.assigned_user_to_partition", sources=SERVER, domain=DOMAIN)
@event_type("assigned_user_to_partition", sources=BROWSER_OR_SERVER, domain=DOMAIN)
@frozen
class UserAssignedToPartition:
    """A learner without a group for an experiment's partition reached content that needs one, and was
    put in a group at random (a row is added to ``user_api_usercoursetag``).

    From then on the ``context.course_user_tags`` of the learner's events carries the assignment. The
    document names both the browser (as event source) and the server (in its prose) as the emitter,
    so either is accepted.
    """

    group_id: int = required("Id of the group the learner was put in.")
    group_name: str = required("Name of the group the learner was put in.")
    partition_id: int = required(
        "Id of the partition (the experiment); the tag key it is stored under reads "
        "``xblock.partition_service.partition_<id>``."
    )
    partition_name: str = required("Name of the partition (the experiment).")


@event_type("child_render", "xblock.split_test.child_render", sources=SERVER, domain=DOMAIN)
@frozen
class ChildRendered:
    """The server showed a learner one child module of a content experiment, the one for the learner's
    group.
    """

    child_id: str = required(
        "Id of the child module displayed. Events before 16 Oct 2014 called this member ``child-id``."
    )
