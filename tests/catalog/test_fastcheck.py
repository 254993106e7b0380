"""Tests of the compiled yes/no payload check: it must never say yes where the detailed path says no."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_hub.catalog import NoFields, RawString, registry
from event_hub.catalog.base import field_json_name
from event_hub.catalog.fastcheck import predicate
from event_hub.catalog.validation import PayloadErrors, check_payload

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
CHECKED = sorted(
    {spec.payload for spec in registry if spec.payload not in (NoFields, RawString)}, key=lambda t: repr(t)
)


def valid_values(tp: Any) -> st.SearchStrategy[Any]:
    """Values of ``tp`` as JSON decoding would produce them."""
    if tp is Any:
        return JSON
    if tp is str:
        return st.text(max_size=8)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers()
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers()
    if tp is type(None):
        return st.none()
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([valid_values(arm) for arm in args])
    if origin in (list, typing.Sequence) or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return st.lists(valid_values(args[0] if args else Any), max_size=3)
    if origin is tuple:
        return st.tuples(*(valid_values(arm) for arm in args)).map(list)
    if origin is dict:
        return st.dictionaries(st.text(max_size=5), valid_values(args[1]), max_size=3)
    if attrs.has(tp):
        hints = typing.get_type_hints(tp)
        required = {
            field_json_name(f): valid_values(hints[f.name])
            for f in attrs.fields(tp)
            if f.default is attrs.NOTHING
        }
        optional = {
            field_json_name(f): valid_values(hints[f.name])
            for f in attrs.fields(tp)
            if f.default is not attrs.NOTHING
        }
        return st.fixed_dictionaries(required, optional=optional)
    raise AssertionError(f"no strategy for {tp!r}")


def detailed_accepts(tp: Any, data: Any) -> bool:
    try:
        check_payload(tp, data, forbid_extra_keys=True)
    except PayloadErrors:
        return False
    return True


def mutations(tp: Any) -> st.SearchStrategy[Any]:
    """Valid values with one member replaced, removed or added, or arbitrary JSON."""

    def mutate(value: Any, data: st.DataObject) -> Any:
        if isinstance(value, dict) and value:
            key = data.draw(st.sampled_from(sorted(value)))
            action = data.draw(st.sampled_from(["replace", "remove", "add"]))
            changed = dict(value)
            if action == "replace":
                changed[key] = data.draw(JSON)
            elif action == "remove":
                del changed[key]
            else:
                changed[data.draw(st.text(min_size=1, max_size=5))] = data.draw(JSON)
            return changed
        return data.draw(JSON)

    return st.builds(lambda v, d: mutate(v, d), valid_values(tp), st.data())


#: Types with a compiled check (types with attrs validators always take the detailed path).
COMPILED = [t for t in CHECKED if predicate(t, True) is not None]


@pytest.mark.parametrize("payload", COMPILED, ids=lambda t: getattr(t, "__name__", repr(t)))
class TestSoundness:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_valid_values_pass_both_paths(self, payload: Any, data: st.DataObject) -> None:
        """A value built from the type passes the detailed check, and the fast check agrees."""
        fast = predicate(payload, True)
        assert fast is not None
        value = data.draw(valid_values(payload))
        assert detailed_accepts(payload, value)
        assert fast(value)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_fast_yes_implies_detailed_yes(self, payload: Any, data: st.DataObject) -> None:
        """Whenever the fast check accepts a (mutated) value, the detailed path accepts it too."""
        fast = predicate(payload, True)
        assert fast is not None
        value = data.draw(mutations(payload))
        if fast(value):
            assert detailed_accepts(payload, value)


class TestCoverage:
    def test_almost_every_type_has_a_fast_path(self) -> None:
        """Only types with attrs validators lack a compiled check."""
        missing = [t for t in CHECKED if predicate(t, True) is None]
        assert all(any(f.validator for f in attrs.fields(t)) for t in missing if attrs.has(t))
        assert len(missing) <= 2
