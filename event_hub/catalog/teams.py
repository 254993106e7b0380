"""Teams events (tracking-log "Teams-Related Events").

Learners and course team members (Staff, Admin, Discussion Admin or Moderator,
Community TA) can both cause these events.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import SERVER, required
from event_hub.catalog.registry import event_type

DOMAIN = "teams"

TEAM_ID = "Id of the team concerned."


@event_type("edx.team.activity_updated", sources=SERVER, domain=DOMAIN)
@frozen
class TeamActivityUpdated:
    """The server noted new discussion activity in a team (a post, edit, comment, response,
    endorsement and the like); membership changes do not count.
    """

    team_id: str = required(TEAM_ID)


@event_type("edx.team.changed", sources=SERVER, domain=DOMAIN)
@frozen
class TeamChanged:
    """The server saved an edit to a team's details; one event is emitted per field edited."""

    field: str = required(
        "Which detail of the team was edited, such as its name, description, country or language."
    )
    new: str = required(
        "Value after the edit; values over 1250 characters are cut, end in '...' and are named in "
        "``truncated``."
    )
    old: str = required(
        "Value before the edit; values over 1250 characters are cut, end in '...' and are named in "
        "``truncated``."
    )
    truncated: list[Literal["old", "new"]] = required("Which of ``old`` and ``new`` were shortened.")
    team_id: str = required(TEAM_ID)


@event_type("edx.team.created", "edx.team.deleted", sources=SERVER, domain=DOMAIN)
@frozen
class TeamCreatedOrDeleted:
    """The server created a team (for a learner or a course team member) or deleted one (only course
    team members and Community TAs can delete teams).
    """

    team_id: str = required(TEAM_ID)


@event_type("edx.team.learner_added", sources=SERVER, domain=DOMAIN)
@frozen
class TeamLearnerAdded:
    """The server added a user to a team, because the user joined it or someone else added them."""

    add_method: Literal["added_on_create", "joined_from_team_view", "added_by_another_user"] = required(
        "How the user came to be in the team."
    )
    user_id: str = required("Id of the user who joined or was added.")
    team_id: str = required(TEAM_ID)


@event_type("edx.team.learner_removed", sources=SERVER, domain=DOMAIN)
@frozen
class TeamLearnerRemoved:
    """The server took a user out of a team: the user left, a course team member or Community TA removed
    them, or the team was deleted (which removes every member).
    """

    remove_method: Literal["self_removal", "team_deleted", "removed_by_admin"] = required(
        "How the user came to leave the team."
    )
    user_id: str = required("Id of the user who left or was removed.")
    team_id: str = required(TEAM_ID)


@event_type("edx.team.page_viewed", sources=SERVER, domain=DOMAIN)
@frozen
class TeamPageViewed:
    """A user opened one of the pages, each with its own URL, under the courseware's Teams page."""

    page_name: str = required(
        "Which page was viewed: browse, edit-team, my-teams, new-team, search teams, single-team or "
        "single-topic."
    )
    topic_id: str | None = required(
        "Topic the page is about; null when the page has no topic or the topic does not exist."
    )
    team_id: str | None = required(
        "Team the page is about; null when the page has no team or the team does not exist."
    )


@event_type("edx.team.searched", sources=SERVER, domain=DOMAIN)
@frozen
class TeamSearched:
    """A user searched for teams from a topic's view under the courseware's Teams page."""

    number_of_results: int = required("How many teams matched.")
    search_text: str = required("Words searched for.")
    topic_id: str = required("Topic within which the teams were searched.")
