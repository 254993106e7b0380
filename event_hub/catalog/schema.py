"""JSON Schema (draft 2020-12) for every catalog entry, generated from its payload type.

The attrs classes of the catalog are the one definition of each event; this
module derives their JSON Schema, and that schema is the contract: the
validator (:mod:`event_hub.catalog.validation`) compiles it, ``manage.py
event_hub_schema`` exports it and the documentation publishes it. Each type
the catalog uses maps to one schema fragment:

=====================================  ============================================================
Python type                            JSON Schema
=====================================  ============================================================
``str`` / ``int`` / ``float``          ``{"type": "string"}`` / ``"integer"`` / ``"number"``
``bool`` / ``None``                    ``{"type": "boolean"}`` / ``{"type": "null"}``
``Any``                                ``{}`` (anything)
``Literal["a", "b"]``                  ``{"type": "string", "enum": ["a", "b"]}``
``list[X]``, ``tuple[X, ...]``         ``{"type": "array", "items": X}``
``tuple[X, Y]``                        ``{"type": "array", "prefixItems": [X, Y]}``, 2 items exactly
``dict[str, X]``                       ``{"type": "object", "additionalProperties": X}``
attrs class                            ``{"$ref": "#/$defs/<Class>"}``: properties with descriptions,
                                       ``required``, ``additionalProperties: false`` when strict
``X | Y``                              ``{"type": [...]}`` for plain types, else ``{"anyOf": [...]}``
a field's attrs validator              its keywords (:class:`~event_hub.catalog.base.Matches`:
                                       ``pattern``); any other validator is refused
=====================================  ============================================================

One schema describes one entry's ``event`` member; a second one, when the
entry declares extra ``context`` members, describes those (other ``context``
members are allowed). :func:`catalog_document` gathers them all, with an index
of every entry, into one document; :func:`schema_files` lays the same out as
one file per schema plus ``index.json``. The ``event_hub_schema`` management
command writes either.

Every schema carries an ``x-event-hub`` annotation (names, sources, domain,
audience, deprecated flag), each property an ``x-pii`` flag where the catalog
marks it personal data, and a ``pattern`` an ``x-expected`` description in
words (the validator's error message); validators ignore these keywords.
"""

from __future__ import annotations

import copy
import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, get_args, get_origin

import attrs

from event_hub.catalog.base import EventType, NoFields, RawString, field_json_name, fields_of

DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: Default base of every ``$id``; pass ``base_uri`` (``--base-uri``) to publish the schemas at a URL.
DEFAULT_BASE_URI = "urn:event-hub:schema:"
INDEX_FILE = "index.json"
CATALOG_FILE = "catalog.json"

Schema = dict[str, Any]
_NONE_TYPE = type(None)
_PLAIN: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", _NONE_TYPE: "null"}
#: Every JSON type, in the order messages list them.
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")


def schema_file_name(spec: EventType) -> str:
    """File name of the ``event`` schema of ``spec`` (its :attr:`~EventType.key` plus ``.json``)."""
    return f"{spec.key}.json"


def context_file_name(spec: EventType) -> str:
    """File name of the extra-``context`` schema of ``spec``."""
    return f"{spec.key}.context.json"


def schema_id(base_uri: str, file_name: str) -> str:
    """``$id`` of a schema: ``base_uri`` + file name (without ``.json`` for a ``urn:`` base)."""
    if base_uri.startswith("urn:"):
        return base_uri + file_name.removesuffix(".json")
    return base_uri + file_name


# --- what kind of JSON value a type describes -------------------------------------------------


def is_union(tp: Any) -> bool:
    """``X | Y`` or ``Optional[X]``."""
    return get_origin(tp) in (typing.Union, types.UnionType)


def fixed_tuple_args(tp: Any) -> tuple[Any, ...] | None:
    """Item types of ``tuple[X, Y]`` (``None`` for anything else, including ``tuple[X, ...]``)."""
    if get_origin(tp) is not tuple:
        return None
    args = get_args(tp)
    if not args or (len(args) == 2 and args[1] is Ellipsis):
        return None
    return args


def is_array(tp: Any) -> bool:
    """A JSON array: ``list[X]``, ``Sequence[X]``, ``tuple[X, ...]`` or a fixed ``tuple[X, Y]``."""
    return get_origin(tp) in (list, tuple, Sequence, typing.Sequence) or tp in (list, tuple)


def is_mapping(tp: Any) -> bool:
    """A JSON object with free keys: ``dict[str, X]`` or ``Mapping[str, X]``."""
    return get_origin(tp) in (dict, Mapping, typing.Mapping) or tp is dict


# --- types to schema fragments ---------------------------------------------------------------


class _Builder:
    """Turns types into schema fragments, collecting attrs classes into ``$defs``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.defs: dict[str, Schema] = {}
        self._names: dict[type, str] = {}

    def type_schema(self, tp: Any) -> Schema:
        if tp in _PLAIN:
            return {"type": _PLAIN[tp]}
        if tp is Any:
            return {}
        origin, args = get_origin(tp), get_args(tp)
        if is_union(tp):
            return self._union(args)
        if origin is Literal:
            kinds = {_PLAIN.get(type(arg)) for arg in args}
            schema: Schema = {"enum": list(args)}
            return {"type": kinds.pop(), **schema} if len(kinds) == 1 and None not in kinds else schema
        if fixed_tuple_args(tp) is not None:
            return {
                "type": "array",
                "prefixItems": [self.type_schema(arg) for arg in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        if is_array(tp):
            items = self.type_schema(args[0]) if args else {}
            return {"type": "array", "items": items} if items else {"type": "array"}
        if is_mapping(tp):
            values = self.type_schema(args[1]) if args else {}
            return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
        if isinstance(tp, type) and attrs.has(tp):
            return {"$ref": f"#/$defs/{self._define(tp)}"}
        raise TypeError(f"no JSON Schema for {tp!r}")

    def _union(self, arms: Sequence[Any]) -> Schema:
        schemas = [self.type_schema(arm) for arm in arms]
        if all(set(schema) == {"type"} and isinstance(schema["type"], str) for schema in schemas):
            return {"type": [schema["type"] for schema in schemas]}
        return {"anyOf": schemas}

    def _define(self, cls: type) -> str:
        if cls in self._names:
            return self._names[cls]
        name = cls.__name__
        if name in self.defs:
            name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
        self._names[cls] = name
        self.defs[name] = {}  # reserve the name first: a class may refer to itself
        self.defs[name] = self.object_schema(cls, closed=self.strict)
        return name

    def object_schema(self, cls: type, *, closed: bool) -> Schema:
        """The schema of an attrs class's JSON object."""
        properties: Schema = {}
        required: list[str] = []
        for a in fields_of(cls):
            key = field_json_name(a)
            prop = self.type_schema(a.type)
            if a.validator is not None:
                prop = {**prop, **_validator_keywords(cls, a)}
            doc = a.metadata.get("doc")
            if doc:
                prop = {**prop, "description": doc}
            if a.metadata.get("pii"):
                prop = {**prop, "x-pii": True}
            properties[key] = prop
            if a.default is attrs.NOTHING:
                required.append(key)
        schema: Schema = {"type": "object", "title": cls.__name__}
        description = _first_paragraph(cls.__doc__)
        if description:
            schema["description"] = description
        schema["properties"] = properties
        if required:
            schema["required"] = required
        if closed:
            schema["additionalProperties"] = False
        return schema

    def finish(self, schema: Schema) -> Schema:
        if self.defs:
            schema["$defs"] = dict(self.defs)
        return schema


def _validator_keywords(cls: type, field: attrs.Attribute[Any]) -> Schema:
    """The schema keywords of a field's attrs validator; one the schema cannot express is refused."""
    keywords = getattr(field.validator, "json_schema", None)
    if not isinstance(keywords, Mapping):
        raise TypeError(
            f"{cls.__qualname__}.{field.name}: attrs validator {field.validator!r} has no JSON Schema form; "
            "use event_hub.catalog.base.Matches (or add the schema keywords it stands for)"
        )
    return dict(keywords)


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n", 1)[0].split())


def _annotation(spec: EventType) -> Schema:
    return {
        "name": spec.name,
        "mobile_name": spec.mobile_name,
        "sources": sorted(spec.sources),
        "domain": spec.domain,
        "audience": spec.audience,
        "deprecated": spec.deprecated,
    }


def payload_schema(payload: Any, *, strict: bool = True) -> Schema:
    """The schema fragment (with its ``$defs``) of a payload type, without ``$schema``/``$id``."""
    return copy.deepcopy(shared_payload_schema(payload, strict))


@functools.cache
def shared_payload_schema(payload: Any, strict: bool) -> Schema:
    """:func:`payload_schema`, built once per type and shared: callers must not modify it."""
    builder = _Builder(strict)
    if payload is RawString:
        schema: Schema = {"type": "string"}
    elif payload is NoFields:
        # "properties": {} makes jsonschema-rs name every unexpected member, not only the first.
        empty: Schema = {"type": "object"}
        if strict:
            empty = {"type": "object", "properties": {}, "additionalProperties": False}
        schema = {"anyOf": [empty, {"type": "null"}, {"const": ""}]}
    elif isinstance(payload, type) and attrs.has(payload):
        schema = builder.object_schema(payload, closed=strict)
        schema.pop("title")
        schema.pop("description", None)
    else:
        schema = builder.type_schema(payload)
    return builder.finish(schema)


def event_schema(spec: EventType, *, strict: bool = True, base_uri: str = DEFAULT_BASE_URI) -> Schema:
    """The schema of the ``event`` member of ``spec``'s events."""
    return copy.deepcopy(shared_event_schema(spec, strict, base_uri))


@functools.cache
def shared_event_schema(spec: EventType, strict: bool, base_uri: str = DEFAULT_BASE_URI) -> Schema:
    """:func:`event_schema`, built once per entry and shared (the validator's): callers must not modify it."""
    schema: Schema = {
        "$schema": DRAFT,
        "$id": schema_id(base_uri, schema_file_name(spec)),
        "title": spec.name,
        "description": spec.description,
        "x-event-hub": _annotation(spec),
    }
    schema.update(shared_payload_schema(spec.payload, strict))
    return copy.deepcopy(schema)


def context_schema(
    spec: EventType, *, strict: bool = True, base_uri: str = DEFAULT_BASE_URI
) -> Schema | None:
    """The schema of the extra ``context`` members ``spec`` declares (``None`` when it declares none)."""
    if spec.context is None:
        return None
    builder = _Builder(strict)
    body = builder.object_schema(spec.context, closed=False)  # the common members are there too
    schema: Schema = {
        "$schema": DRAFT,
        "$id": schema_id(base_uri, context_file_name(spec)),
        "title": f"{spec.name} context",
        "description": body.pop("description", None) or f"Extra context members of {spec.name} events.",
        "x-event-hub": _annotation(spec),
    }
    body.pop("title")
    schema.update(body)
    return builder.finish(schema)


def _index_entry(spec: EventType, locate: Callable[[str], str]) -> Schema:
    entry = {**_annotation(spec), "names": list(spec.names), "description": spec.description}
    entry["schema"] = locate(schema_file_name(spec))
    entry["context_schema"] = locate(context_file_name(spec)) if spec.context is not None else None
    return entry


def _index(
    specs: list[EventType], file_name: str, base_uri: str, strict: bool, locate: Callable[[str], str]
) -> Schema:
    return {
        "$schema": DRAFT,
        "$id": schema_id(base_uri, file_name),
        "title": "event_hub event catalog",
        "description": (
            "Every event type event_hub knows: one JSON Schema for the event member of each entry and one "
            "for the extra context members an entry declares. Generated from the catalog; do not edit."
        ),
        "x-event-hub-strict": strict,
        "x-event-hub-events": [_index_entry(spec, locate) for spec in specs],
    }


def catalog_document(
    entries: Iterable[EventType], *, strict: bool = True, base_uri: str = DEFAULT_BASE_URI
) -> Schema:
    """One document holding the index and every schema under ``$defs`` (keyed by file stem)."""
    specs = list(entries)
    document = _index(
        specs, CATALOG_FILE, base_uri, strict, lambda name: f"#/$defs/{name.removesuffix('.json')}"
    )
    defs: Schema = {}
    for spec in specs:
        key = schema_file_name(spec).removesuffix(".json")
        defs[key] = event_schema(spec, strict=strict, base_uri=base_uri)
        context = context_schema(spec, strict=strict, base_uri=base_uri)
        if context is not None:
            defs[context_file_name(spec).removesuffix(".json")] = context
    document["$defs"] = defs
    return document


def schema_files(
    entries: Iterable[EventType], *, strict: bool = True, base_uri: str = DEFAULT_BASE_URI
) -> dict[str, Schema]:
    """File name -> schema: one per entry (and per declared context), plus ``index.json``."""
    specs = list(entries)
    files: dict[str, Schema] = {INDEX_FILE: _index(specs, INDEX_FILE, base_uri, strict, lambda name: name)}
    for spec in specs:
        files[schema_file_name(spec)] = event_schema(spec, strict=strict, base_uri=base_uri)
        context = context_schema(spec, strict=strict, base_uri=base_uri)
        if context is not None:
            files[context_file_name(spec)] = context
    return files


# --- short type labels for the docs ----------------------------------------------------------


def type_label(tp: Any, class_label: Callable[[type], str] = lambda cls: cls.__name__) -> str:
    """A short, JSON-flavoured label of ``tp`` for tables: ``string | array of string``."""
    if tp in _PLAIN:
        return _PLAIN[tp]
    if tp is Any:
        return "any"
    origin, args = get_origin(tp), get_args(tp)
    if is_union(tp):
        return " | ".join(type_label(arm, class_label) for arm in args)
    if origin is Literal:
        return " | ".join(repr(arg) for arg in args)
    if fixed_tuple_args(tp) is not None:
        return "array [" + ", ".join(type_label(arg, class_label) for arg in args) + "]"
    if is_array(tp):
        return f"array of {type_label(args[0], class_label)}" if args and args[0] is not Any else "array"
    if is_mapping(tp):
        if args and args[1] is not Any:
            return f"object of {type_label(args[1], class_label)}"
        return "object"
    if isinstance(tp, type) and attrs.has(tp):
        return class_label(tp)
    return getattr(tp, "__name__", repr(tp))


def nested_classes(tp: Any) -> list[type]:
    """The attrs classes ``tp`` refers to, directly or through other classes, in first-seen order."""
    found: dict[type, None] = {}

    def visit(current: Any) -> None:
        if isinstance(current, type) and attrs.has(current):
            if current in found:
                return
            found[current] = None
            for a in fields_of(current):
                visit(a.type)
            return
        for arg in get_args(current):
            visit(arg)

    visit(tp)
    return list(found)


# --- reading schema fragments ----------------------------------------------------------------


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type, for messages (``"string"``, ``"array"``, ``"null"``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def schema_kinds(schema: Schema | bool) -> frozenset[str]:
    """The JSON types a value valid under ``schema`` can have (a ``$ref`` is to an object)."""
    if schema is True:
        return frozenset(JSON_TYPES)
    if schema is False:
        return frozenset()
    if "$ref" in schema:
        return frozenset({"object"})
    if "anyOf" in schema:
        return frozenset().union(*(schema_kinds(arm) for arm in schema["anyOf"]))
    if "const" in schema:
        return frozenset({json_type(schema["const"])})
    declared = schema.get("type")
    if declared is None:
        if "enum" in schema:
            return frozenset(json_type(value) for value in schema["enum"])
        return frozenset(JSON_TYPES)
    kinds = {declared} if isinstance(declared, str) else set(declared)
    if "number" in kinds:
        kinds.add("integer")  # JSON Schema counts integers as numbers
    return frozenset(kinds)


def json_kinds(tp: Any) -> frozenset[str]:
    """The JSON types a value of the catalog type ``tp`` can have (read from its schema)."""
    return schema_kinds(_Builder(strict=True).type_schema(tp))
