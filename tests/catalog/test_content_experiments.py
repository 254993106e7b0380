"""Content experiment (split test) events."""

from __future__ import annotations

import pytest

import event_hub.catalog.content_experiments  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

ASSIGNMENT = {"group_id": 1, "group_name": "Video", "partition_id": 50, "partition_name": "Video vs text"}


class TestContentExperiments:
    @pytest.mark.parametrize("source", ["browser", "server"])
    def test_assignment_is_valid(self, source):
        """A partition assignment validates from either source the document names."""
        assert registry.validate("assigned_user_to_partition", source, ASSIGNMENT).data is ASSIGNMENT

    def test_group_id_must_be_an_integer(self):
        """A string ``group_id`` is reported under ``group_id``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("assigned_user_to_partition", "server", dict(ASSIGNMENT, group_id="1"))
        assert list(excinfo.value.errors) == ["group_id"]

    def test_child_render_is_valid(self):
        """``child_render`` validates with ``child_id``."""
        data = {"child_id": "i4x://edX/DemoX/vertical/abc"}
        assert registry.validate("child_render", "server", data).data is data

    def test_child_render_old_member_name_is_unknown(self):
        """The pre-2014 ``child-id`` spelling is not accepted in strict mode."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("child_render", "server", {"child-id": "x"})
        assert "child_id" in excinfo.value.errors
