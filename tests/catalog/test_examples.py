"""Every JSON example of the tracking-log reference validates against the catalog.

The examples are read from the document (see :func:`tests.catalog.reference.tolerant_json`
for the hand-editing slips it repairs). For each, the ``event`` member (an
object, or a JSON string as browser and mobile events carry it) must validate
under the example's name and source, the example's ``event_type`` must be the
entry's legacy name, and its extra ``context`` members must fit the entry's
context class.
"""

from __future__ import annotations

import json

import pytest

from event_hub.catalog import registry
from event_hub.catalog.validation import check_payload
from tests.catalog import reference

EXAMPLES = reference.read_json_examples() if reference.available() else []


def _payload(example: reference.JsonExample) -> object:
    event = example.data["event"]
    return json.loads(event) if isinstance(event, str) else event


class TestDocumentExamples:
    def test_the_document_has_its_six_examples(self):
        """Six ``code-block:: json`` examples are found (two of them the same sample event)."""
        assert len(EXAMPLES) == 6

    def test_the_wrapped_sample_repairs_to_the_pretty_printed_one(self):
        """The tolerant reader turns the wrapped first sample into exactly the pretty-printed second one."""
        wrapped, pretty = EXAMPLES[0], EXAMPLES[1]
        assert wrapped.fixes
        assert not pretty.fixes
        assert wrapped.data == pretty.data

    @pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"line{e.line}-{e.data.get('event_type')}")
    def test_event_member_validates(self, example):
        """The example's ``event`` validates (strictly) under its ``name`` and ``event_source``."""
        name = example.data.get("name") or example.data["event_type"]
        payload = _payload(example)
        validated = registry.validate(name, example.data["event_source"], payload, strict=True)
        assert validated.data is payload
        assert validated.event_type == example.data["event_type"]
        assert validated.name == name

    @pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"line{e.line}-{e.data.get('event_type')}")
    def test_context_members_fit_the_declared_context(self, example):
        """Extra ``context`` members (mobile app data, ``context.module``) fit the entry's context class."""
        name = example.data.get("name") or example.data["event_type"]
        spec = registry.lookup(name, example.data["event_source"])
        context = example.data["context"]
        if spec.context is None:
            assert set(context) <= {"course_id", "org_id", "path", "user_id"}
        else:
            assert check_payload(spec.context, context, forbid_extra_keys=False) is context

    def test_json_string_events_are_validated_once_decoded(self):
        """Browser and mobile examples carry ``event`` as a JSON string (the decoded object validates)."""
        strings = [e for e in EXAMPLES if isinstance(e.data["event"], str)]
        assert {e.data["event_source"] for e in strings} == {"browser", "mobile"}
