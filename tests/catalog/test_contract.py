"""Every catalog entry's schema and the validator agree: what one accepts the other accepts, with paths.

For each registered entry an instance is built from its exported schema (every
member present), then mutated one member at a time: left out, given a value of
the wrong JSON type, an unlisted member added, a closed-set or pattern value
broken, a fixed array lengthened. ``registry.validate`` must accept the
instance, refuse each mutation with an error at the mutated path, and agree
with the reference Python ``jsonschema`` validator on the exported schema.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_hub.catalog import registry
from event_hub.catalog.base import EventType
from event_hub.catalog.schema import event_schema, schema_kinds
from event_hub.exceptions import InvalidEventError

ENTRIES = list(registry)
#: One value of each JSON type, to put where the schema wants another.
WRONG_VALUES: list[Any] = [["a list"], {"an": "object"}, "a string", 7, 7.5, True, None]
UNLISTED = "zz_not_in_the_catalog"


class Walker:
    """Builds an instance of a schema and lists its mutations, following ``$ref`` into ``$defs``."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = self.root["$defs"][schema["$ref"].removeprefix("#/$defs/")]
        return schema

    def instance(self, schema: Any) -> Any:
        """A valid value with every listed member present."""
        schema = self.resolve(schema)
        if "anyOf" in schema:
            return self.instance(schema["anyOf"][0])
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type", "string")
        kind = kind if isinstance(kind, str) else kind[0]
        if kind == "array":
            if "prefixItems" in schema:
                return [self.instance(item) for item in schema["prefixItems"]]
            return [self.instance(schema["items"])] if schema.get("items") else []
        if kind == "object":
            value = {key: self.instance(prop) for key, prop in schema.get("properties", {}).items()}
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra and not schema.get("properties"):
                value["some-key"] = self.instance(extra)
            return value
        return {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "null": None}[kind]

    def mutations(
        self, schema: Any, value: Any, path: str, strict: bool, *, retype: bool = True
    ) -> Iterator[tuple[str, str, Any]]:
        """``(what, expected error path, replace)`` where ``replace(value)`` returns the broken value."""
        schema = self.resolve(schema)
        if retype:
            kinds = schema_kinds(schema)
            for wrong in WRONG_VALUES:
                if _kind(wrong) not in kinds:
                    yield (f"wrong type {_kind(wrong)}", path, _const(wrong))
                    break
        if "anyOf" in schema:  # the instance took the first arm: break that arm's members
            yield from self.mutations(schema["anyOf"][0], value, path, strict, retype=False)
            return
        if isinstance(schema.get("enum"), list) and all(isinstance(v, str) for v in schema["enum"]):
            yield ("not one of the closed set", path, _const("zz-not-a-choice"))
        if "pattern" in schema:
            yield ("breaks the pattern", path, _const(" "))
        if "prefixItems" in schema:
            yield ("one item too many", path, lambda v: [*v, v[0]])
        if isinstance(value, list):
            items = schema.get("prefixItems") or [schema.get("items")] * len(value)
            for index, (item_schema, item) in enumerate(zip(items, value, strict=True)):
                for what, where, change in self.mutations(item_schema, item, f"{path}[{index}]", strict):
                    yield (what, where, _at(index, change))
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            required = set(schema.get("required", ()))
            for key, item in value.items():
                if key in properties:
                    where = f"{path}.{key}" if path else key
                    item_schema = properties[key]
                else:
                    where, item_schema = f"{path}[{key!r}]", schema.get("additionalProperties", {})
                if key in required:
                    yield (f"{key} left out", where, _without(key))
                for what, inner, change in self.mutations(item_schema, item, where, strict):
                    yield (what, inner, _at(key, change))
            if strict and schema.get("additionalProperties") is False:
                where = f"{path}.{UNLISTED}" if path else UNLISTED
                yield ("unlisted member", where, lambda v: {**v, UNLISTED: 1})


def _kind(value: Any) -> str:
    return {list: "array", dict: "object", str: "string", int: "integer", float: "number"}.get(
        type(value), "boolean" if isinstance(value, bool) else "null"
    )


def _const(new: Any) -> Any:
    return lambda _: copy.deepcopy(new)


def _without(key: str) -> Any:
    return lambda v: {k: item for k, item in v.items() if k != key}


def _at(key: Any, change: Any) -> Any:
    def apply(v: Any) -> Any:
        copied = copy.copy(v)
        copied[key] = change(v[key])
        return copied

    return apply


def accepts(spec: EventType, data: Any, strict: bool) -> bool:
    try:
        registry.validate(spec.name, sorted(spec.sources)[0], data, strict=strict)
    except InvalidEventError:
        return False
    return True


def reference_accepts(schema: dict[str, Any], data: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(data)


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize("spec", ENTRIES, ids=lambda spec: spec.key)
class TestEveryEntry:
    def test_instance_from_the_schema_validates(self, spec, strict):
        """A value built from the entry's schema passes the reference validator and registry.validate."""
        schema = event_schema(spec, strict=strict)
        data = Walker(schema).instance(schema)
        assert reference_accepts(schema, data)
        source = sorted(spec.sources)[0]
        assert registry.validate(spec.name, source, data, strict=strict).data is data

    def test_each_mutation_fails_at_its_path(self, spec, strict):
        """Each one-member mutation fails both validators, and registry.validate reports its path."""
        schema = event_schema(spec, strict=strict)
        walker = Walker(schema)
        data = walker.instance(schema)
        source = sorted(spec.sources)[0]
        missed = []
        for what, path, change in walker.mutations(schema, data, "", strict):
            broken = change(data)
            if not reference_accepts(schema, broken):
                with pytest.raises(InvalidEventError) as excinfo:
                    registry.validate(spec.name, source, broken, strict=strict)
                if path not in excinfo.value.errors:
                    missed.append((what, path, excinfo.value.errors))
            else:
                missed.append((what, path, "the reference validator accepts it"))
        assert not missed


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
)
JSON = st.recursive(
    JSON_LEAVES | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@pytest.mark.parametrize("spec", ENTRIES, ids=lambda spec: spec.key)
class TestRandomMutations:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_registry_agrees_with_the_reference_validator(self, spec, data):
        """A valid instance with one member replaced by arbitrary JSON gets one verdict from both."""
        schema = event_schema(spec)
        walker = Walker(schema)
        value = walker.instance(schema)
        if isinstance(value, dict) and value:
            key = data.draw(st.sampled_from(sorted(value)))
            value = {**value, key: data.draw(JSON)}
        else:
            value = data.draw(JSON)
        assert accepts(spec, value, strict=True) == reference_accepts(schema, value)
