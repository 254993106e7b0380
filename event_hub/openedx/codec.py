"""Signal data to bytes and back: Avro as the event bus carries it, and JSON for the rest.

The Avro schema of a signal is the one openedx-events derives from its data
classes (so the bytes are the same as its own serializer's), parsed once per
signal. Encoding and decoding walk the attrs classes here rather than through
openedx-events' helpers because those drop falsy values of fields that have a
default (``False``, ``0``, ``""`` or ``[]`` come back as the default).

Three signals are kept off the bus by openedx-events (``KNOWN_UNSERIALIZABLE_SIGNALS``);
they travel as JSON (:func:`to_json_bytes`), a ``BinaryIO`` field as base64.
:func:`jsonable` is also what the bridge puts in a tracking event.
"""

from __future__ import annotations

import base64
import datetime
import functools
import io
import operator
import struct
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, get_args, get_origin

import attrs
import fastavro
import orjson
from openedx_events.event_bus.avro.custom_serializers import DEFAULT_CUSTOM_SERIALIZERS
from openedx_events.event_bus.avro.schema import schema_from_signal
from openedx_events.tooling import KNOWN_UNSERIALIZABLE_SIGNALS, OpenEdxPublicSignal

#: Content type of a stream entry whose ``event_data`` is JSON (absent: Avro, as openedx-events writes it).
JSON_CONTENT_TYPE = "application/json"
#: Event types openedx-events cannot (or will not) put on the bus; the hub carries them as JSON.
JSON_SIGNALS = frozenset(KNOWN_UNSERIALIZABLE_SIGNALS)

_TO_STRING: dict[type, Callable[[Any], str]] = {ext.cls: ext.serialize for ext in DEFAULT_CUSTOM_SERIALIZERS}
_FROM_STRING: dict[type, Callable[[str], Any]] = {
    ext.cls: ext.deserialize for ext in DEFAULT_CUSTOM_SERIALIZERS
}
_PLAIN = (str, int, float, bool, type(None))


class CodecError(ValueError):
    """Signal data that cannot be encoded or decoded."""


@functools.cache
def _parsed_schema(signal: OpenEdxPublicSignal) -> Any:
    return fastavro.parse_schema(schema_from_signal(signal))


def _custom(value: Any) -> Callable[[Any], str] | None:
    for cls in type(value).__mro__:
        serializer = _TO_STRING.get(cls)
        if serializer is not None:
            return serializer
    return None


def _to_record(value: Any) -> Any:
    """``value`` as the dict/list/str tree the Avro schema describes."""
    if isinstance(value, _PLAIN):
        return value
    if attrs.has(type(value)):
        return {field.name: _to_record(getattr(value, field.name)) for field in attrs.fields(type(value))}
    if isinstance(value, dict):
        return {key: _to_record(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_record(item) for item in value]
    serializer = _custom(value)
    if serializer is None:
        raise CodecError(f"no Avro encoding for a value of type {type(value).__name__}")
    return serializer(value)


def _from_record(data: Any, kind: Any) -> Any:
    """An instance of ``kind`` (a type as the data classes annotate it) from its record tree."""
    return _decoder(kind)(data)


def _identity(data: Any) -> Any:
    return data


@functools.cache
def _decoder(kind: Any) -> Callable[[Any], Any]:
    """The function turning a record tree into an instance of ``kind`` (built once per type)."""
    converter = _FROM_STRING.get(kind)
    origin = get_origin(kind)
    if converter is not None:
        build: Callable[[Any], Any] = converter
    elif origin is list:
        item = _decoder(get_args(kind)[0])
        build = lambda data: [item(value) for value in data]  # noqa: E731
    elif origin is dict:
        value_decoder = _decoder(get_args(kind)[1])
        build = lambda data: {key: value_decoder(value) for key, value in data.items()}  # noqa: E731
    elif origin is typing.Union:
        options = [arg for arg in get_args(kind) if arg is not type(None)]
        build = _decoder(options[0]) if len(options) == 1 else _identity
    elif isinstance(kind, type) and attrs.has(kind):
        # A field with a default keeps its default only when nothing (None) was sent:
        # False, 0, "" and [] arrive as they were sent.
        fields = [(f.name, f.default is not attrs.NOTHING, _decoder(f.type)) for f in attrs.fields(kind)]

        def build(data: Any) -> Any:
            values: dict[str, Any] = {}
            for name, has_default, decode_field in fields:
                if name in data:
                    item = data[name]
                    if item is None:
                        if not has_default:
                            values[name] = None
                    else:
                        values[name] = decode_field(item)
            return kind(**values)

    else:
        build = _identity

    def decode_or_none(data: Any) -> Any:
        return None if data is None else build(data)

    return decode_or_none


# --- Avro writing, compiled per signal ---------------------------------------------------------------
#
# fastavro writes a signal's record tree in about the time ``_to_record`` takes to build it, choosing
# each union's branch by validating the value against every branch. Per signal, the schema is
# compiled once into nested writers that read the data classes directly and append Avro bytes:
# Avro's binary encoding of the types openedx-events uses (records, strings, longs, booleans,
# doubles, arrays, maps, and unions of null and one type) is short to spell out. A writer accepts
# only values of exactly the type its schema node states (after the custom serializers, as
# ``_to_record`` applies them); anything else, or a schema using another type, goes the general
# way (``_to_record`` then fastavro), so the bytes and the errors stay fastavro's.

_Writer = Callable[[Any, bytearray], None]
_PACK_DOUBLE = struct.Struct("<d").pack
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


class _General(Exception):
    """A value (or a schema) the compiled writer leaves to the general path."""


def _write_long(value: Any, out: bytearray) -> None:
    if type(value) is not int or not _LONG_MIN <= value <= _LONG_MAX:
        raise _General
    n = (value << 1) ^ (value >> 63)  # zigzag
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


@functools.cache
def _string_serializer(cls: type) -> Callable[[Any], str] | None:
    """The custom serializer ``_to_record`` applies to a ``cls`` value (``None``: it applies none)."""
    if issubclass(cls, _PLAIN) or attrs.has(cls) or issubclass(cls, (dict, list, tuple)):
        return None
    for klass in cls.__mro__:
        serializer = _TO_STRING.get(klass)
        if serializer is not None:
            return serializer
    return None


def _write_string(value: Any, out: bytearray) -> None:
    if type(value) is not str:
        # An opaque key, a date: its custom serializer's text.
        serializer = _string_serializer(type(value))  # type: ignore[arg-type]
        if serializer is None:
            raise _General
        value = serializer(value)
        if type(value) is not str:
            raise _General
    try:
        data = value.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate
        raise _General from exc
    size = len(data)
    if size < 64:
        out.append(size << 1)  # the zigzag varint of a small length is one byte
    else:
        _write_long(size, out)
    out += data


def _write_boolean(value: Any, out: bytearray) -> None:
    if type(value) is not bool:
        raise _General
    out.append(1 if value else 0)


def _write_double(value: Any, out: bytearray) -> None:
    if type(value) is not float:
        raise _General
    out += _PACK_DOUBLE(value)


def _write_null(value: Any, out: bytearray) -> None:
    if value is not None:
        raise _General


_PRIMITIVES: dict[str, _Writer] = {
    "long": _write_long,
    "string": _write_string,
    "boolean": _write_boolean,
    "double": _write_double,
    "null": _write_null,
}


def _compile(schema: Any, named: dict[str, _Writer]) -> _Writer:
    """The writer of one schema node (``named``: the records defined so far, by name)."""
    if isinstance(schema, str):
        if schema in _PRIMITIVES:
            return _PRIMITIVES[schema]
        if schema in named:
            return lambda value, out: named[schema](value, out)
        raise _General(f"unsupported type {schema!r}")
    if isinstance(schema, list):
        return _compile_union(schema, named)
    kind = schema.get("type")
    if isinstance(kind, (dict, list)):
        return _compile(kind, named)
    if kind == "record":
        return _compile_record(schema, named)
    if kind == "array":
        return _compile_array(_compile(schema["items"], named))
    if kind == "map":
        return _compile_map(_compile(schema["values"], named))
    if kind in _PRIMITIVES and set(schema) <= {"type", "doc"}:
        return _PRIMITIVES[kind]
    raise _General(f"unsupported schema {schema!r}")


def _compile_union(branches: list[Any], named: dict[str, _Writer]) -> _Writer:
    if len(branches) != 2 or "null" not in branches:
        raise _General(f"unsupported union {branches!r}")
    null_index = branches.index("null")
    other = _compile(branches[1 - null_index], named)
    null_mark, other_mark = bytes([null_index * 2]), bytes([(1 - null_index) * 2])  # zigzag 0 and 1

    def write(value: Any, out: bytearray) -> None:
        if value is None:
            out += null_mark
        else:
            out += other_mark
            other(value, out)

    return write


def _compile_record(schema: Mapping[str, Any], named: dict[str, _Writer]) -> _Writer:
    names: list[str] = []
    writers: list[_Writer] = []
    #: Per data class: one call reading the fields the schema lists, in its order.
    getters: dict[type, Callable[[Any], tuple[Any, ...]]] = {}

    def getter_of(cls: type) -> Callable[[Any], tuple[Any, ...]]:
        if not attrs.has(cls) or not set(names) <= {field.name for field in attrs.fields(cls)}:
            raise _General  # the general path fills a missing field with its default, or refuses it
        get = operator.attrgetter(*names)
        getters[cls] = (lambda value: (get(value),)) if len(names) == 1 else get
        return getters[cls]

    def write(value: Any, out: bytearray) -> None:
        get = getters.get(type(value)) or getter_of(type(value))
        for write_field, item in zip(writers, get(value), strict=True):
            write_field(item, out)

    # Registered before its fields are compiled, so a record may refer to itself.
    named[schema["name"]] = write
    if schema.get("namespace"):
        named[f"{schema['namespace']}.{schema['name']}"] = write
    for field in schema["fields"]:
        names.append(field["name"])
        writers.append(_compile(field["type"], named))
    if not names:
        raise _General("a record without fields")
    return write


def _compile_array(item: _Writer) -> _Writer:
    def write(value: Any, out: bytearray) -> None:
        if type(value) is not list and type(value) is not tuple:
            raise _General
        if value:
            _write_long(len(value), out)
            for element in value:
                item(element, out)
        out.append(0)

    return write


def _compile_map(item: _Writer) -> _Writer:
    def write(value: Any, out: bytearray) -> None:
        if type(value) is not dict:
            raise _General
        if value:
            _write_long(len(value), out)
            for key, element in value.items():
                if type(key) is not str:
                    raise _General
                _write_string(key, out)
                item(element, out)
        out.append(0)

    return write


@functools.cache
def _compiled(signal: OpenEdxPublicSignal) -> tuple[tuple[str, _Writer], ...] | None:
    """The top-level fields of ``signal``'s record and their writers (``None``: not compilable)."""
    schema = schema_from_signal(signal)
    try:
        fields = tuple((field["name"], _compile(field["type"], {})) for field in schema["fields"])
    except _General:
        return None
    if [name for name, _ in fields] != list(signal.init_data):
        return None
    return fields


def to_avro(signal: OpenEdxPublicSignal, data: Mapping[str, Any]) -> bytes:
    """The Avro bytes of ``data`` (the keyword arguments of ``signal``), as openedx-events writes them."""
    fields = _compiled(signal)
    if fields is not None:
        values = [data[name] for name, _ in fields]
        out = bytearray()
        try:
            for (_, write), value in zip(fields, values, strict=True):
                write(value, out)
            return bytes(out)
        except _General:
            return _to_avro_generally(signal, data)  # which writes it, or raises the error it should
    return _to_avro_generally(signal, data)


def _to_avro_generally(signal: OpenEdxPublicSignal, data: Mapping[str, Any]) -> bytes:
    """:func:`to_avro` through the record tree and fastavro (any schema, any value)."""
    record = {key: _to_record(data[key]) for key in signal.init_data}
    out = io.BytesIO()
    try:
        fastavro.schemaless_writer(out, _parsed_schema(signal), record)
    except (ValueError, TypeError) as exc:
        raise CodecError(f"{signal.event_type}: cannot encode as Avro: {exc}") from exc
    return out.getvalue()


def from_avro(signal: OpenEdxPublicSignal, payload: bytes) -> dict[str, Any]:
    """The keyword arguments of ``signal`` that :func:`to_avro` (or openedx-events) encoded."""
    try:
        record = fastavro.schemaless_reader(io.BytesIO(payload), _parsed_schema(signal))
    except (ValueError, TypeError, EOFError, IndexError) as exc:
        raise CodecError(f"{signal.event_type}: cannot decode Avro: {exc}") from exc
    if not isinstance(record, dict):
        raise CodecError(f"{signal.event_type}: the Avro record is not a record")
    return {key: _from_record(record[key], kind) for key, kind in signal.init_data.items()}


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON values: keys as strings, keys and dates as text, bytes as base64."""
    if isinstance(value, _PLAIN):
        return value
    if attrs.has(type(value)):
        return {field.name: jsonable(getattr(value, field.name)) for field in attrs.fields(type(value))}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, io.IOBase):
        return base64.b64encode(_read_all(value)).decode("ascii")
    serializer = _custom(value)
    if serializer is not None:
        return serializer(value)
    return str(value)


def _read_all(stream: Any) -> bytes:
    """The whole content of a binary stream, leaving its position where it was."""
    position = stream.tell() if stream.seekable() else None
    if position is not None:
        stream.seek(0)
    content = stream.read()
    if position is not None:
        stream.seek(position)
    return bytes(content)


def _from_json(data: Any, kind: Any) -> Any:
    """An instance of ``kind`` from its :func:`jsonable` form."""
    if data is None:
        return None
    if kind is BinaryIO:
        return io.BytesIO(base64.b64decode(data))
    if kind is datetime.datetime:
        return datetime.datetime.fromisoformat(data)
    origin = get_origin(kind)
    if origin is list:
        (item_kind,) = get_args(kind)
        return [_from_json(item, item_kind) for item in data]
    if origin is dict:
        _, value_kind = get_args(kind)
        return {key: _from_json(item, value_kind) for key, item in data.items()}
    if isinstance(kind, type) and attrs.has(kind):
        values = {}
        for field in attrs.fields(kind):
            if field.name in data and not (data[field.name] is None and field.default is not attrs.NOTHING):
                values[field.name] = _from_json(data[field.name], field.type)
        return kind(**values)
    return _from_record(data, kind)


def to_json_bytes(signal: OpenEdxPublicSignal, data: Mapping[str, Any]) -> bytes:
    """``data`` as JSON (the encoding of the signals openedx-events keeps off the bus)."""
    return orjson.dumps({key: jsonable(data[key]) for key in signal.init_data})


def from_json_bytes(signal: OpenEdxPublicSignal, payload: bytes) -> dict[str, Any]:
    """The keyword arguments of ``signal`` that :func:`to_json_bytes` encoded."""
    try:
        decoded = orjson.loads(payload)
        return {key: _from_json(decoded[key], kind) for key, kind in signal.init_data.items()}
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"{signal.event_type}: cannot decode JSON event data: {exc}") from exc


def encode(signal: OpenEdxPublicSignal, data: Mapping[str, Any]) -> tuple[bytes, str | None]:
    """``(event_data bytes, content type)``: Avro (content type ``None``) unless the signal goes as JSON."""
    if signal.event_type in JSON_SIGNALS:
        return to_json_bytes(signal, data), JSON_CONTENT_TYPE
    return to_avro(signal, data), None


def decode(signal: OpenEdxPublicSignal, payload: bytes, content_type: str | None) -> dict[str, Any]:
    """The keyword arguments of ``signal`` from ``event_data`` bytes of the given content type."""
    if content_type == JSON_CONTENT_TYPE:
        return from_json_bytes(signal, payload)
    return from_avro(signal, payload)
