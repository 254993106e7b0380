"""Library interaction events (tracking-log "Library Interaction Events").

A randomized content block delivers some components of a content library to
each learner; these events record which components a learner was given and
which were taken away.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import SERVER, optional, required
from event_hub.catalog.registry import event_type


@frozen
class LibraryDescendant:
    """One part of a library component that has children."""

    usage_key: str = required("Where this part lives in the course.")
    original_usage_key: str = required("Usage key of this part in the source library.")
    original_usage_version: str = required("Library version this part was taken from.")


@frozen
class LibraryBlock:
    """One library component delivered by a randomized content block."""

    usage_key: str = required(
        "Where the component lives in the course: a child of the randomized content block."
    )
    original_usage_key: str = required(
        "Usage key of the component in the source library; stable across courses."
    )
    original_usage_version: str = required("Library version the component was taken from.")
    descendants: list[LibraryDescendant] = optional(
        "For a component made of several parts (an XBlock with children), one entry per part."
    )


@event_type("edx.librarycontentblock.content.assigned", sources=SERVER, domain="library_content")
@frozen
class LibraryContentAssigned:
    """The server gave a learner components from a randomized content block.

    Emitted the first time the learner sees the block, and again when a course
    team change makes the block deliver more components than before.
    """

    added: list[LibraryBlock] = required(
        "Components the learner receives for the first time; differs from ``result`` only when a "
        "revisit delivered extra components."
    )
    location: str = required("Usage key of the randomized content block.")
    max_count: int = required(
        "How many components the course team asked the block to deliver (the Studio Count); exceeds "
        "the size of ``result`` only when the library has too few matching components."
    )
    previous_count: int = required("How many components the learner had before this event; 0 the first time.")
    result: list[LibraryBlock] = required("Every component the learner now receives from the block.")


@event_type("edx.librarycontentblock.content.removed", sources=SERVER, domain="library_content")
@frozen
class LibraryContentRemoved:
    """The server took components of a randomized content block away from a learner.

    Emitted when the learner revisits the block (or opens the progress page)
    after components left the library or the block's settings changed.
    """

    location: str = required("Usage key of the randomized content block.")
    max_count: int = required("How many components the course team asked the block to deliver.")
    previous_count: int = required("How many components the learner had before this event.")
    reason: Literal["overlimit", "invalid"] = required(
        "'overlimit' when the course team lowered the Count; 'invalid' when a component left the "
        "library or no longer matches the block's settings."
    )
    removed: list[LibraryBlock] = required("Components the learner no longer receives.")
    result: list[LibraryBlock] = required("Every component the learner still receives from the block.")
