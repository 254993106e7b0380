"""Structuring untrusted payloads against catalog classes with cattrs.

The converter is strict on purpose: ``"3"`` is not an int, ``True`` is not a
number, and (with ``STRICT_FIELDS``) members the catalog does not list are
errors. Validation only checks: the caller keeps the dict it passed in, so a
valid event is delivered exactly as it was emitted.

Errors come back as ``{field path: [messages]}`` where the path is relative to
the payload (``"attempts"``, ``"correct_map['i4x-1'].npoints"``).
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, override

from event_hub.catalog.base import NoFields, RawString, field_json_name

ErrorMap = dict[str, list[str]]


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strict_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _strict_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _strict_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _build_converter(forbid_extra_keys: bool) -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=forbid_extra_keys)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(float, _strict_float)
    converter.register_structure_hook(bool, _strict_bool)

    def attrs_hook_factory(cls: type) -> Any:
        renames = {
            a.name: override(rename=field_json_name(a)) for a in attrs.fields(cls) if "json_name" in a.metadata
        }
        structure = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=forbid_extra_keys, **renames
        )

        def hook(value: Any, target: type) -> Any:
            if not isinstance(value, dict):
                raise TypeError(f"expected an object, got {type(value).__name__}")
            return structure(value, target)

        return hook

    converter.register_structure_hook_factory(attrs.has, attrs_hook_factory)
    return converter


@functools.cache
def get_converter(forbid_extra_keys: bool) -> cattrs.Converter:
    """The shared strict converter (one per extra-keys policy)."""
    return _build_converter(forbid_extra_keys)


def check_payload(payload_cls: type, data: Any, *, forbid_extra_keys: bool) -> Any:
    """Validate ``data`` against ``payload_cls``; return the payload as it should be emitted.

    Raises :class:`PayloadErrors` carrying the field errors.
    """
    if payload_cls is RawString:
        if isinstance(data, str):
            return data
        raise PayloadErrors({"": [f"expected a string, got {type(data).__name__}"]})
    if payload_cls is NoFields:
        if data in (None, "", {}):
            return {}
        if forbid_extra_keys and isinstance(data, dict):
            raise PayloadErrors({"": [f"this event carries no fields; got {', '.join(sorted(data))}"]})
        if not isinstance(data, dict):
            raise PayloadErrors({"": [f"expected an object, got {type(data).__name__}"]})
        return data
    if data is None:
        data = {}
    try:
        get_converter(forbid_extra_keys).structure(data, payload_cls)
    except (ClassValidationError, IterableValidationError, TypeError, ValueError) as exc:
        raise PayloadErrors(error_map(exc)) from exc
    return data


class PayloadErrors(Exception):
    """Internal carrier of field errors; turned into InvalidEventError by the registry."""

    def __init__(self, errors: ErrorMap) -> None:
        super().__init__(errors)
        self.errors = errors


def error_map(exc: BaseException, path: str = "") -> ErrorMap:
    """Flatten a cattrs exception tree into ``{path: [messages]}``."""
    errors: ErrorMap = {}
    _walk(exc, path, errors)
    return errors


def _join(path: str, note: Any) -> str:
    name = getattr(note, "name", None)
    index = getattr(note, "index", None)
    if name is not None:
        return f"{path}.{name}" if path else str(name)
    if index is not None:
        return f"{path}[{index!r}]"
    return path


def _walk(exc: BaseException, path: str, errors: ErrorMap) -> None:
    if isinstance(exc, ForbiddenExtraKeysError):
        unknown = ", ".join(sorted(exc.extra_fields))
        errors.setdefault(path, []).append(f"unknown field(s): {unknown}")
        return
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        grouped = exc.group_exceptions() if hasattr(exc, "group_exceptions") else ([], [])
        with_notes, without_notes = grouped
        for inner, note in with_notes:
            _walk(inner, _join(path, note), errors)
        for inner in without_notes:
            _walk(inner, path, errors)
        return
    if isinstance(exc, KeyError):
        errors.setdefault(path, []).append("this field is required")
        return
    message = str(exc) or type(exc).__name__
    if message.startswith("expected") or isinstance(exc, (TypeError, ValueError)):
        errors.setdefault(path, []).append(_clean(message))
        return
    errors.setdefault(path, []).append(_clean(message))


def _clean(message: str) -> str:
    # cattrs phrases Literal mismatches as "x not in literal (...)": keep it readable.
    if " not in literal " in message:
        value, allowed = message.split(" not in literal ", 1)
        return f"{value} is not one of {allowed}"
    return message
