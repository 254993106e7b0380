"""JSON Schema export: one valid draft 2020-12 schema per entry, agreeing with the validator."""

from __future__ import annotations

import copy
import json
from io import StringIO

import attrs
import jsonschema
import pytest
from django.core.management import call_command
from referencing import Registry, Resource

from event_hub.catalog import registry
from event_hub.catalog.base import NOT_BLANK, fields_of
from event_hub.catalog.schema import (
    CATALOG_FILE,
    DRAFT,
    INDEX_FILE,
    catalog_document,
    context_file_name,
    context_schema,
    event_schema,
    nested_classes,
    schema_file_name,
    schema_files,
    type_label,
)
from event_hub.exceptions import InvalidEventError
from tests.catalog import reference
from tests.catalog.test_problem import SAMPLE_EVENT

Validator = jsonschema.Draft202012Validator


def schema_errors(schema: dict, instance: object) -> list[str]:
    return sorted(error.message for error in Validator(schema).iter_errors(instance))


@pytest.fixture(name="problem_check_schema", scope="module")
def fixture_problem_check_schema() -> dict:
    return event_schema(registry.lookup("problem_check", "server"))


class TestEventSchemas:
    @pytest.mark.parametrize("spec", list(registry), ids=lambda spec: spec.key)
    def test_every_entry_has_a_valid_schema(self, spec):
        """Each entry's event schema (and context schema) is valid draft 2020-12 with $id and title."""
        schema = event_schema(spec)
        Validator.check_schema(schema)
        assert schema["$schema"] == DRAFT
        assert schema["title"] == spec.name
        assert schema["$id"].endswith(spec.key)
        assert schema["x-event-hub"]["sources"] == sorted(spec.sources)
        context = context_schema(spec)
        if spec.context is None:
            assert context is None
        else:
            Validator.check_schema(context)

    def test_object_payload_lists_properties_required_and_closes_extras(self, problem_check_schema):
        """An attrs payload becomes properties with descriptions, a required list and no extra members."""
        schema = problem_check_schema
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(SAMPLE_EVENT)
        assert schema["properties"]["attempts"] == {
            "type": "integer",
            "description": "How many times the learner has tried the problem.",
        }
        assert schema["properties"]["success"]["enum"] == ["correct", "incorrect"]
        submission = schema["$defs"]["SubmissionEntry"]["properties"]
        list_of_strings = {"type": "array", "items": {"type": "string"}}
        assert submission["answer"]["anyOf"] == [{"type": "string"}, list_of_strings]
        assert submission["variant"]["type"] == ["string", "integer"]

    def test_lenient_schema_allows_extra_members(self):
        """With strict=False the schema, like the validator, lets unlisted members through."""
        spec = registry.lookup("problem_check", "server")
        data = {**copy.deepcopy(SAMPLE_EVENT), "extra": 1}
        assert schema_errors(event_schema(spec, strict=False), data) == []
        assert schema_errors(event_schema(spec), data) != []
        assert registry.validate("problem_check", "server", data, strict=False).data is data

    def test_array_payload_is_a_two_item_tuple(self):
        """``problem_graded`` is an array of exactly two strings."""
        schema = event_schema(registry.lookup("problem_graded", "browser"))
        assert schema_errors(schema, ["a=1", "<p/>"]) == []
        assert schema_errors(schema, ["a=1"]) != []
        assert schema_errors(schema, ["a=1", "<p/>", "x"]) != []

    def test_attrs_validators_are_in_the_schema(self):
        """Every field validator of the catalog adds its keywords to the field's exported property."""
        checked = 0
        for spec in registry:
            schema = event_schema(spec)
            for cls in nested_classes(spec.payload):
                if not attrs.has(cls):
                    continue
                body = schema if cls is spec.payload else schema["$defs"][cls.__name__]
                for field in fields_of(cls):
                    if field.validator is not None:
                        checked += 1
                        prop = body["properties"][field.metadata.get("json_name", field.name)]
                        assert field.validator.json_schema.items() <= prop.items()
        assert checked >= 1

    def test_blank_video_event_type_fails_the_exported_schema(self):
        """The client ``video`` event's non-empty ``video_event_type`` is a ``pattern`` in its schema."""
        schema = event_schema(registry.lookup("video", "browser"))
        assert schema["properties"]["video_event_type"]["pattern"] == NOT_BLANK.pattern
        assert schema_errors(schema, {"video_id": "v", "video_event_type": "play"}) == []
        assert schema_errors(schema, {"video_id": "v", "video_event_type": "  "}) != []

    def test_pii_members_are_flagged(self):
        """Members the catalog marks as personal data carry ``x-pii``."""
        schema = event_schema(registry.lookup("get-student-progress-page", "server"))
        flagged = {name for name, prop in schema["properties"].items() if prop.get("x-pii")}
        assert flagged == {"instructor", "student"}

    @pytest.mark.parametrize(
        ("mutate", "path"),
        [
            (lambda e: e.update(attempts="1"), "attempts"),
            (lambda e: e["correct_map"][next(iter(e["correct_map"]))].update(npoints="1"), "npoints"),
            (lambda e: e.pop("grade"), "grade"),
            (lambda e: e.update(extra=True), "extra"),
        ],
    )
    def test_schema_and_validator_reject_the_same_payloads(self, problem_check_schema, mutate, path):
        """A wrong type, a missing member and an unlisted member fail both the schema and the validator."""
        data = copy.deepcopy(SAMPLE_EVENT)
        mutate(data)
        assert schema_errors(problem_check_schema, data)
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", data)
        assert any(path in key for key in excinfo.value.errors)


EXAMPLES = reference.read_json_examples() if reference.available() else []


class TestDocumentExamplesAgainstSchemas:
    @pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"line{e.line}")
    def test_examples_validate_against_the_exported_document(self, example, tmp_path):
        """Each example's ``event`` and extra ``context`` validate against the schemas ``--out`` writes."""
        out = tmp_path / CATALOG_FILE
        call_command("event_hub_schema", out=out, stdout=StringIO())
        document = json.loads(out.read_text())
        name = example.data.get("name") or example.data["event_type"]
        spec = registry.lookup(name, example.data["event_source"])
        event = example.data["event"]
        event = json.loads(event) if isinstance(event, str) else event
        event_key = schema_file_name(spec).removesuffix(".json")
        assert schema_errors(document["$defs"][event_key], event) == []
        if spec.context is not None:
            context_key = context_file_name(spec).removesuffix(".json")
            assert schema_errors(document["$defs"][context_key], example.data["context"]) == []

    def test_a_reference_resolves_across_the_index(self, tmp_path):
        """The index's pointers resolve: ``$ref`` to an entry validates through the combined document."""
        document = catalog_document(registry)
        resource = Resource.from_contents(document)
        schemas = Registry().with_resource(document["$id"], resource)
        entry = next(e for e in document["x-event-hub-events"] if e["name"] == "edx.video.bumper.played")
        validator = Validator({"$ref": document["$id"] + entry["schema"]}, registry=schemas)
        good = {"bumper_id": "u", "code": "html5", "currentTime": 0, "duration": 10, "host_component_id": "v"}
        assert list(validator.iter_errors(good)) == []
        assert list(validator.iter_errors({**good, "code": "youtube"}))


class TestSchemaCommand:
    def test_dir_writes_one_file_per_schema_and_an_index(self, tmp_path):
        """``--dir`` writes index.json plus one file per entry and per declared context."""
        call_command("event_hub_schema", dir=tmp_path, stdout=StringIO())
        written = {path.name for path in tmp_path.iterdir()}
        expected = set(schema_files(registry))
        assert written == expected
        contexts = sum(1 for spec in registry if spec.context is not None)
        assert len(written) == 1 + len(registry) + contexts
        index = json.loads((tmp_path / INDEX_FILE).read_text())
        assert len(index["x-event-hub-events"]) == len(registry)
        for entry in index["x-event-hub-events"]:
            Validator.check_schema(json.loads((tmp_path / entry["schema"]).read_text()))

    def test_out_writes_one_document(self, tmp_path):
        """``--out`` writes the index and every schema under ``$defs`` in one valid schema document."""
        out = tmp_path / "nested" / "catalog.json"
        call_command("event_hub_schema", out=out, stdout=StringIO())
        document = json.loads(out.read_text())
        Validator.check_schema(document)
        assert len(document["x-event-hub-events"]) == len(registry)

    def test_without_a_target_the_document_goes_to_stdout(self):
        """With neither option the combined document is printed."""
        stdout = StringIO()
        call_command("event_hub_schema", stdout=stdout)
        assert json.loads(stdout.getvalue())["title"] == "event_hub event catalog"

    def test_base_uri_prefixes_every_id(self, tmp_path):
        """``--base-uri`` makes each ``$id`` an address under that URL."""
        call_command("event_hub_schema", dir=tmp_path, base_uri="https://example.org/s/", stdout=StringIO())
        schema = json.loads((tmp_path / "page_close@browser.json").read_text())
        assert schema["$id"] == "https://example.org/s/page_close@browser.json"


class TestTypeLabels:
    @pytest.mark.parametrize(
        ("tp", "label"),
        [
            (str | list[str], "string | array of string"),
            (int | None, "integer | null"),
            (tuple[str, str], "array [string, string]"),
            (dict[str, int], "object of integer"),
        ],
    )
    def test_labels(self, tp, label):
        """Docs tables show short JSON-flavoured type labels."""
        assert type_label(tp) == label
