"""Checking payloads against the catalog: the JSON Schema of each type, compiled by jsonschema-rs.

The schema :mod:`event_hub.catalog.schema` derives from a catalog type is the
contract; a :class:`Contract` compiles it once with ``jsonschema-rs`` (a Rust
validator) and answers, for each payload, yes, or where and why not. It only
checks: a valid payload comes back as the very object given, so an event is
delivered exactly as it was emitted (except "no payload", ``None``, which is
``{}`` for an object payload, and ``""`` for a :class:`NoFields` event).

Errors come back as ``{field path: [messages]}`` where the path is relative to
the payload and uses JSON member names: ``.`` into objects, ``['key']`` into
maps, ``[1]`` into arrays (``"attempts"``,
``"correct_map['i4x-1'].npoints"``, ``"[1]"`` for an item of an array payload);
``""`` is the payload as a whole. Messages say what was expected and what came
(``"expected an integer, got string"``), ``"this field is required"`` and
``"unknown field"`` (strict mode).

Payloads are JSON data: ``dict`` (any ``Mapping``), ``list`` or ``tuple``,
``str``, ``int``, ``float``, ``bool`` and ``None``, subclasses included. Any
other value (a ``datetime``, a ``set``) is an error on its path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import jsonschema_rs

from event_hub.catalog.base import NoFields
from event_hub.catalog.schema import Schema, json_type, schema_kinds, shared_payload_schema

ErrorMap = dict[str, list[str]]
Location = Sequence[str | int]

REQUIRED = "this field is required"
UNKNOWN = "unknown field"

__all__ = ["Contract", "ErrorMap", "PayloadErrors", "check_payload", "contract_for", "json_type"]


class PayloadErrors(Exception):
    """The field errors of a payload; turned into InvalidEventError by the registry."""

    def __init__(self, errors: ErrorMap) -> None:
        super().__init__(errors)
        self.errors = errors


class Contract:
    """The compiled schema of one payload type, and the error map of a payload that fails it."""

    def __init__(self, schema: Schema, payload: Any) -> None:
        self.schema = schema
        self._validator = jsonschema_rs.Draft202012Validator(schema)
        self._is_valid: Callable[[Any], bool] = self._validator.is_valid
        #: "No payload" (``None``; ``""`` too for NoFields) means ``{}`` for object payloads.
        self._none_is_empty = payload is NoFields or (isinstance(payload, type) and attrs.has(payload))
        self._blank_is_empty = payload is NoFields

    def check(self, data: Any) -> Any:
        """``data`` as it should be emitted (itself, when valid); raise :class:`PayloadErrors` if invalid."""
        if (data is None and self._none_is_empty) or (self._blank_is_empty and data == ""):
            data = {}
        try:
            if self._is_valid(data):
                return data
        except ValueError:  # a value jsonschema-rs does not read (a str subclass, a datetime)
            pass
        errors = self.errors(data)
        if errors:
            raise PayloadErrors(errors)
        return data

    def errors(self, data: Any) -> ErrorMap:
        """Every error of ``data``, by path (empty when it is valid)."""
        foreign: list[tuple[list[str | int], str]] = []  # (location, message) of non-JSON values
        try:
            found = list(self._validator.iter_errors(data))
        except ValueError:
            found = list(self._validator.iter_errors(_plain(data, [], foreign)))
        raw: list[tuple[str, str, str]] = []  # (path, keyword, message)
        for error in found:
            self._explain(error, raw)
        foreign_paths = {self.path(location): message for location, message in foreign}
        mistyped = {path for path, keyword, _ in raw if keyword == "type"} | set(foreign_paths)
        errors: ErrorMap = {path: [message] for path, message in foreign_paths.items()}
        for path, keyword, message in raw:
            if path in foreign_paths or (keyword != "type" and path in mistyped):
                continue  # "expected an integer" says it all; no "not one of" on top of it
            messages = errors.setdefault(path, [])
            if message not in messages:
                messages.append(message)
        return errors

    # --- one jsonschema-rs error -> (path, keyword, message) -------------------------------------

    def _explain(self, error: Any, out: list[tuple[str, str, str]]) -> None:
        keyword = error.kind.name
        location = list(error.instance_path)
        at = self._fragment(error.schema_path[:-1])
        value = error.instance
        if keyword == "required":
            member = error.kind.as_dict()["property"]
            out.append((self.path([*location, member]), keyword, REQUIRED))
        elif keyword == "additionalProperties":
            for member in error.kind.as_dict()["unexpected"]:
                out.append((self.path([*location, member]), keyword, UNKNOWN))
        elif keyword == "anyOf":
            self._explain_union(error, at, out)
        elif keyword == "type":
            out.append((self.path(location), keyword, _expected(describe(at), value)))
        elif keyword in ("enum", "const"):
            out.append((self.path(location), keyword, _expected(describe(at), value, show=True)))
        elif keyword == "pattern":
            out.append((self.path(location), keyword, f"expected {describe(at)}"))
        elif keyword in ("minItems", "maxItems"):
            out.append((self.path(location), keyword, _count_message(at, value)))
        else:  # a keyword the catalog does not generate: jsonschema-rs's own words
            out.append((self.path(location), keyword, error.message))

    def _explain_union(self, error: Any, union: Schema, out: list[tuple[str, str, str]]) -> None:
        """The errors of the arm the value's JSON type fits best, or the union in words if none fits.

        When several arms take the value's JSON type (two shapes of one object), the arm with
        the fewest errors is the one the sender meant: its errors are reported on their paths.
        """
        kind = json_type(error.instance)
        arms = union["anyOf"]
        fitting = [i for i, arm in enumerate(arms) if kind in schema_kinds(self._resolve(arm))]
        if fitting:
            context = error.kind.as_dict()["context"]
            closest = min(fitting, key=lambda i: len(context[i]))
            for inner in context[closest]:
                self._explain(inner, out)
            return
        out.append((self.path(list(error.instance_path)), "type", _expected(describe(union), error.instance)))

    # --- paths --------------------------------------------------------------------------------

    def path(self, location: Location) -> str:
        """``location`` (keys and indexes from the payload down) as a field path, read along the schema.

        A key the schema lists under ``properties`` (or an unlisted one where the object is closed)
        is a member (``.name``); a key of a map (``additionalProperties`` is a schema) is ``['key']``.
        """
        path = ""
        schema: Any = self.schema
        for key in location:
            schema = self._narrow(schema, "array" if isinstance(key, int) else "object")
            if isinstance(key, int):
                path += f"[{key}]"
                items = schema.get("prefixItems", [])
                schema = items[key] if key < len(items) else schema.get("items", {})
                continue
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties", {} if not properties else False)
            if key in properties or not isinstance(extra, dict):
                path = f"{path}.{key}" if path else str(key)
                schema = properties.get(key, {})
            else:
                path += f"[{key!r}]"
                schema = extra
        return path

    def _narrow(self, schema: Any, kind: str) -> Schema:
        """``schema`` with its ``$ref`` followed and, in a union, the first arm of JSON type ``kind``."""
        schema = self._resolve(schema) if isinstance(schema, dict) else {}
        for arm in schema.get("anyOf", ()):
            if kind in schema_kinds(self._resolve(arm)):
                return self._narrow(arm, kind)
        return schema

    def _resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self._fragment(schema["$ref"].removeprefix("#/").split("/"))
        return schema

    def _fragment(self, pointer: Sequence[str | int]) -> Schema:
        node: Any = self.schema
        for step in pointer:
            node = node[int(step)] if isinstance(node, list) else node[step]
        return node if isinstance(node, dict) else {}


def _plain(value: Any, location: list[str | int], foreign: list[tuple[list[str | int], str]]) -> Any:
    """``value`` as plain JSON data for jsonschema-rs; what JSON cannot hold goes to ``foreign``."""
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                foreign.append(([*location, str(key)], f"member names must be strings, got {json_type(key)}"))
            plain[str(key)] = _plain(item, [*location, str(key)], foreign)
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(item, [*location, index], foreign) for index, item in enumerate(value)]
    for cls in (bool, str, int, float):
        if isinstance(value, cls):
            return cls(value)
    if value is not None:
        foreign.append((location, f"expected a JSON value, got {json_type(value)}"))
    return None


# --- messages ------------------------------------------------------------------------------------

_NOUNS: dict[str, tuple[str, str]] = {
    "string": ("a string", "strings"),
    "integer": ("an integer", "integers"),
    "number": ("a number", "numbers"),
    "boolean": ("true or false", "booleans"),
    "null": ("null", "nulls"),
    "array": ("an array", "arrays"),
    "object": ("an object", "objects"),
}


def describe(schema: Schema | bool, *, plural: bool = False) -> str:
    """A schema fragment in words, for messages: ``str | list[str]`` -> "a string or an array of strings"."""
    if schema is True or schema == {}:
        return "values" if plural else "any value"
    if schema is False:
        return "nothing"
    if "$ref" in schema:
        return _NOUNS["object"][plural]
    if "anyOf" in schema:
        return _either([describe(arm, plural=plural) for arm in schema["anyOf"]])
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        values = schema["enum"]
        return ("one of " if len(values) > 1 else "") + ", ".join(repr(value) for value in values)
    if "x-expected" in schema:
        return str(schema["x-expected"])
    declared = schema.get("type")
    if declared is None:
        return "values" if plural else "any value"
    if not isinstance(declared, str):
        return _either([describe({"type": kind}, plural=plural) for kind in declared])
    if declared == "array" and not plural:
        if "prefixItems" in schema:
            return f"an array of {len(schema['prefixItems'])} items"
        if schema.get("items"):
            return f"an array of {describe(schema['items'], plural=True)}"
    if declared == "object" and schema.get("additionalProperties") is False and not schema.get("properties"):
        return "empty objects" if plural else "an empty object"
    return _NOUNS[declared][plural]


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _expected(words: str, value: Any, *, show: bool = False) -> str:
    """``expected <words>, got <JSON type>`` (``; got <value>`` for closed sets and patterns)."""
    if show and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        shown = repr(value)
        if len(shown) <= 60:
            return f"expected {words}; got {shown}"
    separator = "; " if words.startswith("one of ") else ", "
    return f"expected {words}{separator}got {json_type(value)}"


def _count_message(schema: Schema, value: Any) -> str:
    least, most = schema.get("minItems"), schema.get("maxItems")
    count = len(value)
    if least == most:
        return f"expected {least} items, got {count}"
    if least is not None and count < least:
        return f"expected at least {least} items, got {count}"
    return f"expected at most {most} items, got {count}"


# --- any catalog type ----------------------------------------------------------------------------


@functools.cache
def contract_for(payload_type: Any, strict: bool) -> Contract:
    """The contract of a catalog type (a payload class, a context class, ``list[str]``...), built once."""
    return Contract(shared_payload_schema(payload_type, strict), payload_type)


def check_payload(payload_type: Any, data: Any, *, forbid_extra_keys: bool) -> Any:
    """Check ``data`` against ``payload_type``; return the payload as it should be emitted.

    Raises :class:`PayloadErrors` carrying the field errors.
    """
    return contract_for(payload_type, forbid_extra_keys).check(data)
