"""The strict checker behind every catalog entry: types, unions, arrays, paths and messages."""

from __future__ import annotations

import datetime
import types
from collections.abc import Iterator
from typing import Any, Literal

import attrs
import pytest
from attrs import frozen

from event_hub.catalog import NoFields, RawString, registry
from event_hub.catalog.base import BROWSER, Matches, optional, required
from event_hub.catalog.registry import event_type
from event_hub.catalog.schema import payload_schema
from event_hub.catalog.validation import PayloadErrors, check_payload, describe
from event_hub.exceptions import InvalidEventError


@frozen
class Point:
    """A nested object."""

    x: int = required("x")
    label: str | None = optional("label")


@frozen
class Sample:
    """Every kind of member the catalog uses."""

    text: str = required("a string")
    count: int = required("an integer")
    ratio: float = required("a number")
    flag: bool = required("a boolean")
    kind: Literal["a", "b"] = required("a closed set")
    either: str | float = required("a union of plain types")
    answer: str | list[str] = required("a string or a list of strings")
    points: list[Point] = required("nested objects in an array")
    by_id: dict[str, Point] = required("nested objects in a map")
    pair: tuple[str, int] = required("a fixed-length array")
    anything: Any = required("anything")
    renamed: int = required("a member whose JSON name is not a Python name", json_name="odd-name")
    maybe: Point | None = optional("a nullable nested object")


LOWER_CASE = Matches(r"^[a-z]+$", "lower-case letters")


@frozen
class Guarded:
    """A class with an attrs validator the schema expresses."""

    name: str = required("name", validator=LOWER_CASE)
    tags: list[str] = optional("tags", default=[])


@frozen
class Opaque:
    """A class with an attrs validator the schema cannot express."""

    name: str = required("name")

    @name.validator
    def _check_name(self, attribute: attrs.Attribute[Any], value: str) -> None:
        if not value.islower():
            raise ValueError("expected lower case")


@frozen
class Holder:
    """Guarded objects inside an array."""

    items: list[Guarded] = required("items")


def valid_sample() -> dict[str, Any]:
    return {
        "text": "t",
        "count": 1,
        "ratio": 2,
        "flag": False,
        "kind": "a",
        "either": 1.5,
        "answer": ["x", "y"],
        "points": [{"x": 1}, {"x": 2, "label": None}],
        "by_id": {"p": {"x": 3, "label": "three"}},
        "pair": ["a", 1],
        "anything": {"deep": [1, "x"]},
        "odd-name": 5,
    }


def errors_of(payload_type: Any, data: Any, *, strict: bool = True) -> dict[str, list[str]]:
    with pytest.raises(PayloadErrors) as excinfo:
        check_payload(payload_type, data, forbid_extra_keys=strict)
    return excinfo.value.errors


class TestValidPayloads:
    def test_valid_payload_is_returned_as_given(self):
        """Checking never copies or converts: the caller's object comes back."""
        data = valid_sample()
        assert check_payload(Sample, data, forbid_extra_keys=True) is data
        assert data == valid_sample()

    @pytest.mark.parametrize("either", ["s", 1, 1.5])
    def test_union_accepts_each_arm(self, either):
        """``str | float`` takes a string, an integer (a number) or a float."""
        assert check_payload(Sample, {**valid_sample(), "either": either}, forbid_extra_keys=True)

    def test_tuples_count_as_arrays(self):
        """Python callers may pass tuples where JSON has arrays."""
        data = {**valid_sample(), "answer": ("x",), "pair": ("a", 1)}
        assert check_payload(Sample, data, forbid_extra_keys=True) is data

    def test_integral_numbers_count_as_integers(self):
        """As in JSON Schema, ``1.0`` is an integer (JSON does not tell it from ``1``)."""
        data = {**valid_sample(), "count": 1.0}
        assert check_payload(Sample, data, forbid_extra_keys=True) is data

    def test_subclasses_and_mappings_are_json_too(self):
        """A ``str`` subclass and a read-only mapping pass, and the caller's objects come back."""

        class Text(str):
            pass

        points = [types.MappingProxyType({"x": 1, "label": Text("one")})]
        data = {**valid_sample(), "text": Text("t"), "points": points}
        assert check_payload(Sample, data, forbid_extra_keys=True) is data
        assert data["points"] is points

    def test_lenient_mode_allows_unlisted_members_at_every_level(self):
        """Without strict fields, unknown members pass, nested ones too."""
        data = {**valid_sample(), "extra": 1, "points": [{"x": 1, "y": 2}]}
        assert check_payload(Sample, data, forbid_extra_keys=False) is data


class TestErrors:
    @pytest.mark.parametrize(
        ("member", "value", "message"),
        [
            ("text", 3, "expected a string, got integer"),
            ("count", "3", "expected an integer, got string"),
            ("count", True, "expected an integer, got boolean"),
            ("count", 1.5, "expected an integer, got number"),
            ("ratio", False, "expected a number, got boolean"),
            ("flag", 0, "expected true or false, got integer"),
            ("kind", "c", "expected one of 'a', 'b'; got 'c'"),
            ("kind", ["a"], "expected one of 'a', 'b'; got array"),
            ("either", None, "expected a string or a number, got null"),
            ("either", [], "expected a string or a number, got array"),
            ("answer", 3, "expected a string or an array of strings, got integer"),
            ("points", {"x": 1}, "expected an array of objects, got object"),
        ],
    )
    def test_wrong_type_names_the_member_and_the_expected_types(self, member, value, message):
        """A wrong value is reported on its member with what was expected and what came."""
        assert errors_of(Sample, {**valid_sample(), member: value}) == {member: [message]}

    def test_nested_paths(self):
        """Array indexes and map keys appear in the path, in JSON member names."""
        data = {
            **valid_sample(),
            "points": [{"x": 1}, {"x": "2"}],
            "by_id": {"p": {"label": 4}},
            "answer": ["x", 2],
            "pair": ["a", "b"],
        }
        assert errors_of(Sample, data) == {
            "points[1].x": ["expected an integer, got string"],
            "by_id['p'].x": ["this field is required"],
            "by_id['p'].label": ["expected a string or null, got integer"],
            "answer[1]": ["expected a string, got integer"],
            "pair[1]": ["expected an integer, got string"],
        }

    def test_json_names_are_used_in_paths(self):
        """A member with a ``json_name`` is read and reported under that name."""
        data = valid_sample()
        data["odd-name"] = "5"
        assert errors_of(Sample, data) == {"odd-name": ["expected an integer, got string"]}
        del data["odd-name"]
        assert errors_of(Sample, data) == {"odd-name": ["this field is required"]}

    def test_unknown_members_each_get_their_path(self):
        """In strict mode every unlisted member is reported where it is."""
        data = {**valid_sample(), "zz": 1, "points": [{"x": 1, "y": 2}]}
        assert errors_of(Sample, data) == {"zz": ["unknown field"], "points[0].y": ["unknown field"]}

    def test_wrong_fixed_array_length(self):
        """A fixed-length array of the wrong size says how many items it needs."""
        assert errors_of(Sample, {**valid_sample(), "pair": ["a"]}) == {"pair": ["expected 2 items, got 1"]}

    def test_too_many_items_in_a_fixed_array(self):
        """An extra item in a fixed-length array is reported on the array."""
        data = {**valid_sample(), "pair": ["a", 1, 2]}
        assert errors_of(Sample, data) == {"pair": ["expected 2 items, got 3"]}

    def test_values_json_cannot_hold_are_reported_on_their_path(self):
        """A datetime (even under ``Any``) or a non-string member name is an error where it is."""
        when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
        data = {**valid_sample(), "anything": {"when": when}, "by_id": {1: {"x": 1}}}
        assert errors_of(Sample, data) == {
            "anything['when']": ["expected a JSON value, got datetime"],
            "by_id['1']": ["member names must be strings, got integer"],
        }

    def test_several_errors_are_reported_together(self):
        """All failing members are reported at once, not only the first."""
        data = {**valid_sample(), "text": 1, "count": "x"}
        del data["flag"]
        assert set(errors_of(Sample, data)) == {"text", "count", "flag"}

    def test_not_an_object(self):
        """A payload that is not an object is reported on the payload itself."""
        assert errors_of(Sample, ["a"]) == {"": ["expected an object, got array"]}


class TestValidators:
    def test_validator_without_a_schema_form_is_refused(self):
        """A hand-written attrs validator has no schema form: the class gets no schema and no contract."""
        with pytest.raises(TypeError, match="has no JSON Schema form"):
            payload_schema(Opaque)
        with pytest.raises(TypeError, match="has no JSON Schema form"):
            check_payload(Opaque, {"name": "a"}, forbid_extra_keys=True)

    @pytest.mark.parametrize("value", ["", " ", "\t\n", "a", " a ", "Ana", "ana"])
    def test_attrs_validator_and_schema_agree(self, value):
        """Building the class (attrs runs the validator) and checking the payload give one verdict."""
        try:
            Guarded(name=value)
        except ValueError:
            built = False
        else:
            built = True
        try:
            check_payload(Guarded, {"name": value}, forbid_extra_keys=True)
        except PayloadErrors:
            checked = False
        else:
            checked = True
        assert built == checked

    def test_validator_error_lands_on_its_field(self):
        """An attrs validator's error is reported on the field it validates."""
        assert errors_of(Guarded, {"name": "Ana"}) == {"name": ["expected lower-case letters"]}

    def test_validator_error_inside_an_array_has_the_full_path(self):
        """The same error deep in an array carries the index and the field."""
        data = {"items": [{"name": "ok"}, {"name": "NO"}]}
        assert errors_of(Holder, data) == {"items[1].name": ["expected lower-case letters"]}

    def test_valid_object_with_validators(self):
        """An object that passes its validators is returned unchanged."""
        data = {"items": [{"name": "ok", "tags": ["t"]}]}
        assert check_payload(Holder, data, forbid_extra_keys=True) is data


class TestMarkersAndArrays:
    @pytest.mark.parametrize("data", [None, "", {}])
    def test_no_fields_accepts_nothing(self, data):
        """A NoFields event takes an empty object, an empty string or nothing: an empty payload."""
        assert check_payload(NoFields, data, forbid_extra_keys=True) == {}

    def test_no_fields_names_each_member(self):
        """Members sent to a NoFields event are each reported (strict mode)."""
        assert errors_of(NoFields, {"a": 1, "b": 2}) == {"a": ["unknown field"], "b": ["unknown field"]}

    def test_raw_string(self):
        """A RawString event takes a string and nothing else."""
        assert check_payload(RawString, "a=1&b=2", forbid_extra_keys=True) == "a=1&b=2"
        assert errors_of(RawString, {"a": 1}) == {"": ["expected a string, got object"]}

    def test_array_payload(self):
        """A payload may be an array type: items are checked and reported by index."""
        assert check_payload(list[str], ["a"], forbid_extra_keys=True) == ["a"]
        assert errors_of(list[str], ["a", 1]) == {"[1]": ["expected a string, got integer"]}
        assert errors_of(list[str], "ab") == {"": ["expected an array of strings, got string"]}


@pytest.fixture(name="throwaway")
def fixture_throwaway() -> Iterator[str]:
    """Register a test-only event type for the duration of one test."""
    name = "tests.validation.throwaway"
    event_type(name, sources=BROWSER, domain="client", audience="client")(Guarded)
    yield name
    for spec in registry.entries_for(name):
        registry.unregister(spec)


class TestRegistry:
    def test_registered_type_validates_through_the_registry(self, throwaway):
        """A newly decorated class is validated by name at once, errors wrapped in InvalidEventError."""
        assert registry.validate(throwaway, "browser", {"name": "ok"}).spec.payload is Guarded
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(throwaway, "browser", {"name": "NO"})
        assert excinfo.value.errors == {"name": ["expected lower-case letters"]}

    def test_non_attrs_payload_needs_a_description(self):
        """Registering ``list[str]`` without a description is refused (nothing to document it from)."""
        with pytest.raises(ValueError, match="need a description"):
            event_type("tests.validation.nodescription", sources=BROWSER, domain="client")(list[str])
        assert "tests.validation.nodescription" not in registry


class TestDescribe:
    @pytest.mark.parametrize(
        ("tp", "words"),
        [
            (str | list[str], "a string or an array of strings"),
            (int | str | None, "an integer, a string or null"),
            (Literal["x"], "'x'"),
            (tuple[str, str], "an array of 2 items"),
            (dict[str, int], "an object"),
        ],
    )
    def test_words(self, tp, words):
        """Schemas of types are described in words for messages."""
        assert describe(payload_schema(tp)) == words
