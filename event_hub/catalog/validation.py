"""Checking untrusted payloads against catalog types with cattrs.

The converter is strict on purpose: ``"3"`` is not an int, ``True`` is not a
number, a string is not a list, and (with ``STRICT_FIELDS``) members the
catalog does not list are errors. Validation only checks: the caller keeps the
object it passed in, so a valid event is delivered exactly as it was emitted.

What a payload type may be:

* an attrs class (the usual case); its fields may use ``str``, ``int``,
  ``float``, ``bool``, ``Any``, ``Literal[...]``, ``list[X]``,
  ``tuple[X, ...]``, ``tuple[X, Y]``, ``dict[str, X]``, other attrs classes
  and unions of any of these (``str | float``, ``str | list[str]``,
  ``X | None``);
* any of those types on its own, for events whose ``event`` member is not an
  object (``tuple[str, str]`` for the two-item array of ``problem_graded``).

Errors come back as ``{field path: [messages]}`` where the path is relative to
the payload and uses JSON member names (``"attempts"``,
``"correct_map['i4x-1'].npoints"``, ``"[1]"`` for an item of an array
payload); ``""`` is the payload as a whole.

Speed matters (this runs on every emit). A valid payload is usually recognised
by the compiled yes/no check of :mod:`event_hub.catalog.fastcheck` without
calling any hook; the hooks run when that check says no, to confirm or to
explain. The hooks never copy: a
container hook checks the items and returns the container it was given, and an
attrs class is checked by a cattrs-generated function that fills a plain dict
instead of building an instance. Only classes that declare attrs validators are
instantiated, so their validators run (and their errors land on the field).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn_from_attrs, override

from event_hub.catalog.base import NoFields, RawString, field_json_name
from event_hub.catalog.fastcheck import predicate
from event_hub.catalog.typeinfo import fixed_tuple_args, is_array, is_mapping, is_union

ErrorMap = dict[str, list[str]]
Hook = Callable[[Any, Any], Any]

_NONE_TYPE = type(None)
#: Typed loosely: the JSON-name overrides travel as ``**kwargs`` mypy cannot tell from the flags.
_make_structure_fn: Any = make_dict_structure_fn_from_attrs
#: What a failing structure hook may raise; anything else is a bug and propagates.
_STRUCTURE_ERRORS = (BaseValidationError, TypeError, ValueError, KeyError)


class FieldErrors(ValueError):
    """Errors already keyed by path (relative to the value being checked)."""

    def __init__(self, errors: ErrorMap) -> None:
        super().__init__(errors)
        self.errors = errors


class PayloadErrors(Exception):
    """Internal carrier of field errors; turned into InvalidEventError by the registry."""

    def __init__(self, errors: ErrorMap) -> None:
        super().__init__(errors)
        self.errors = errors


# --- describing values and types ---------------------------------------------------------------


#: JSON type of the exact classes JSON decoders produce (a fast path for :func:`json_type`).
_JSON_CLASSES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    list: "array",
    tuple: "array",
    dict: "object",
}


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


_NOUNS: dict[Any, tuple[str, str]] = {
    str: ("a string", "strings"),
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    bool: ("true or false", "booleans"),
    _NONE_TYPE: ("null", "nulls"),
    Any: ("any value", "values"),
}


def describe_type(tp: Any, *, plural: bool = False) -> str:
    """``tp`` in words, for error messages: ``str | list[str]`` -> ``"a string or a list of strings"``."""
    if tp in _NOUNS:
        return _NOUNS[tp][1 if plural else 0]
    origin, args = get_origin(tp), get_args(tp)
    if is_union(tp):
        words = [describe_type(arm, plural=plural) for arm in args]
        return ", ".join(words[:-1]) + " or " + words[-1]
    if origin is Literal:
        return ("one of " if len(args) > 1 else "") + ", ".join(repr(arg) for arg in args)
    if fixed_tuple_args(tp) is not None:
        return "arrays" if plural else f"an array of {len(args)} items"
    if is_array(tp):
        item = args[0] if args else Any
        return "arrays" if plural else f"an array of {describe_type(item, plural=True)}"
    return "objects" if plural else "an object"


def _expected(tp: Any, value: Any) -> TypeError:
    return TypeError(f"expected {describe_type(tp)}, got {json_type(value)}")


# --- type predicates -------------------------------------------------------------------------


# --- hooks -----------------------------------------------------------------------------------


def _strict_str(value: Any, _: Any) -> str:
    if value.__class__ is not str and not isinstance(value, str):
        raise _expected(str, value)
    return value


def _strict_int(value: Any, _: Any) -> int:
    if value.__class__ is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _expected(int, value)
    return value


def _strict_float(value: Any, _: Any) -> float:
    if value.__class__ is not float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise _expected(float, value)
    return value


def _strict_bool(value: Any, _: Any) -> bool:
    if value is not True and value is not False:
        raise _expected(bool, value)
    return value


def _passthrough(value: Any, _: Any) -> Any:
    return value


def _note(exc: Exception, index: Any, tp: Any) -> Exception:
    exc.__notes__ = [*getattr(exc, "__notes__", []), IterableValidationNote(f"@ {index!r}", index, tp)]
    return exc


def _check_items(tp: Any, items: Iterable[tuple[Any, Any, Hook, Any]]) -> None:
    """Check each ``(index, item, hook, item type)`` of an array; raise all failures, each at its index."""
    errors: list[Exception] = []
    for index, item, item_hook, item_type in items:
        try:
            item_hook(item, item_type)
        except _STRUCTURE_ERRORS as exc:
            errors.append(_note(exc, index, item_type))
    if errors:
        raise IterableValidationError("invalid items", errors, tp)


def _literal_factory(tp: Any) -> Hook:
    allowed = get_args(tp)
    # ``True == 1`` and ``1 == 1.0``: compare the type too, so Literal[1] does not accept true.
    allowed_pairs = frozenset((arg.__class__, arg) for arg in allowed)
    choices = ", ".join(repr(arg) for arg in allowed)

    def check_literal(value: Any, _: Any) -> Any:
        try:
            if (value.__class__, value) in allowed_pairs:
                return value
        except TypeError:  # unhashable (a list or an object): certainly not allowed
            pass
        shown = repr(value) if isinstance(value, (str, int, float)) else json_type(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise ValueError(f"expected one of {choices}; got {shown}")

    return check_literal


class _Builder:
    """Hook factories bound to one converter."""

    def __init__(self, converter: cattrs.Converter, forbid_extra_keys: bool) -> None:
        self.converter = converter
        self.forbid_extra_keys = forbid_extra_keys

    def hook(self, tp: Any) -> Hook:
        return self.converter.get_structure_hook(tp)

    # Arrays --------------------------------------------------------------------------------

    def array(self, tp: Any) -> Hook:
        fixed = fixed_tuple_args(tp)
        if fixed is not None:
            return self._fixed_array(tp, fixed)
        args = get_args(tp)
        item_type = args[0] if args else Any
        if item_type is Any:

            def check_any_array(value: Any, _: Any) -> Any:
                if not isinstance(value, (list, tuple)):
                    raise _expected(tp, value)
                return value

            return check_any_array
        item_hook = self.hook(item_type)

        def check_array(value: Any, _: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                raise _expected(tp, value)
            _check_items(tp, ((index, item, item_hook, item_type) for index, item in enumerate(value)))
            return value

        return check_array

    def _fixed_array(self, tp: Any, item_types: tuple[Any, ...]) -> Hook:
        hooks = [(self.hook(item_type), item_type) for item_type in item_types]
        size = len(item_types)

        def check_fixed_array(value: Any, _: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                raise _expected(tp, value)
            if len(value) != size:
                raise ValueError(f"expected {size} items, got {len(value)}")
            _check_items(
                tp,
                (
                    (index, item, item_hook, item_type)
                    for index, ((item_hook, item_type), item) in enumerate(zip(hooks, value, strict=True))
                ),
            )
            return value

        return check_fixed_array

    # Mappings ------------------------------------------------------------------------------

    def mapping(self, tp: Any) -> Hook:
        args = get_args(tp)
        key_type, value_type = args if args else (Any, Any)
        check_keys = key_type is not Any
        key_hook = self.hook(key_type) if check_keys else _passthrough
        value_hook = self.hook(value_type) if value_type is not Any else None

        def check_mapping(value: Any, _: Any) -> Any:
            if value.__class__ is not dict and not isinstance(value, Mapping):
                raise _expected(tp, value)
            if value_hook is None and key_type is str:  # dict[str, Any]: only the keys to look at
                for key in value:
                    if key.__class__ is not str:
                        break
                else:
                    return value
            errors: list[Exception] = []
            for key, item in value.items():
                try:
                    if check_keys:
                        key_hook(key, key_type)
                    if value_hook is not None:
                        value_hook(item, value_type)
                except _STRUCTURE_ERRORS as exc:
                    errors.append(_note(exc, key, value_type))
            if errors:
                raise IterableValidationError("invalid members", errors, tp)
            return value

        return check_mapping

    # Unions --------------------------------------------------------------------------------

    def union(self, tp: Any) -> Hook:
        """Pick the arm by the JSON type of the value; try arms only when several fit."""
        arms = [arm for arm in get_args(tp) if arm is not _NONE_TYPE]
        nullable = len(arms) < len(get_args(tp))
        if len(arms) == 1:
            arm = arms[0]
            arm_hook = self.hook(arm)

            def check_optional(value: Any, _: Any) -> Any:
                if value is None:
                    return None
                return arm_hook(value, arm)

            return check_optional

        by_kind: dict[str, list[tuple[Hook, Any]]] = {}
        for arm in arms:
            for kind in json_kinds(arm):
                by_kind.setdefault(kind, []).append((self.hook(arm), arm))

        by_class = {cls: by_kind.get(kind, []) for cls, kind in _JSON_CLASSES.items()}

        def check_union(value: Any, _: Any) -> Any:
            if value is None and nullable:
                return None
            candidates = by_class.get(value.__class__)
            if candidates is None:  # a subclass (or no JSON type at all): the slow way
                candidates = by_kind.get(json_type(value), [])
            if len(candidates) == 1:
                arm_hook, arm = candidates[0]
                return arm_hook(value, arm)  # its own errors are the most precise
            for arm_hook, arm in candidates:
                try:
                    return arm_hook(value, arm)
                except _STRUCTURE_ERRORS:
                    continue
            raise _expected(tp, value)

        return check_union

    # attrs classes --------------------------------------------------------------------------

    def attrs_class(self, cls: type) -> Hook:
        """Check an object member by member; build ``cls`` only when it has attrs validators to run.

        When it is built, members that are themselves attrs classes are passed as the checked
        dicts, not instances: a validator should look at its own field's value only.
        """
        attrs.resolve_types(cls)
        fields = attrs.fields(cls)
        renames = {a.name: override(rename=field_json_name(a)) for a in fields if "json_name" in a.metadata}
        filled = _filled_dict_type(cls)
        # Unlisted members are looked for here (``keys() <= allowed`` allocates nothing when all
        # are listed), not by the generated code, which builds a set for every object.
        structure = _make_structure_fn(
            list(fields),
            filled,
            self.converter,
            _cattrs_forbid_extra_keys=False,
            _cattrs_detailed_validation=True,
            **renames,
        )
        validated = [a for a in fields if a.validator is not None]
        forbid = self.forbid_extra_keys
        allowed = frozenset(field_json_name(a) for a in fields)
        message = f"While structuring {cls.__name__}"

        def check_object(value: Any, _: Any) -> Any:
            if value.__class__ is not dict and not isinstance(value, Mapping):
                raise _expected(cls, value)
            if forbid and not value.keys() <= allowed:
                extra = ForbiddenExtraKeysError("", filled, set(value.keys() - allowed))
                try:
                    structure(value, filled)
                except ClassValidationError as exc:
                    raise ClassValidationError(message, [*exc.exceptions, extra], filled) from None
                raise ClassValidationError(message, [extra], filled)
            return structure(value, filled)

        if not validated:
            return check_object

        def check_validated_object(value: Any, target: Any) -> Any:
            structured = check_object(value, target)
            try:
                cls(**structured)
            except (TypeError, ValueError) as exc:
                raise FieldErrors(_validator_errors(cls, structured, exc)) from exc
            return structured

        return check_validated_object


def json_kinds(tp: Any) -> tuple[str, ...]:
    """The JSON types a value of ``tp`` can have (how union arms are picked)."""
    if tp is str:
        return ("string",)
    if tp is bool:
        return ("boolean",)
    if tp is int:
        return ("integer",)
    if tp is float:
        return ("integer", "number")
    if tp is Any:
        return ("string", "boolean", "integer", "number", "array", "object", "null")
    if get_origin(tp) is Literal:
        return tuple(dict.fromkeys(json_type(arg) for arg in get_args(tp)))
    if is_union(tp):
        return tuple(dict.fromkeys(kind for arm in get_args(tp) for kind in json_kinds(arm)))
    if is_array(tp):
        return ("array",)
    return ("object",)


@functools.cache
def _filled_dict_type(cls: type) -> type[dict[str, Any]]:
    """A dict subclass standing in for ``cls`` in generated code (cheaper than building ``cls``)."""
    names = {a.name: field_json_name(a) for a in attrs.fields(cls)}
    return type(
        cls.__name__,
        (dict,),
        {
            "__slots__": (),
            "__qualname__": cls.__qualname__,
            "__module__": cls.__module__,
            "payload_class": cls,
            "json_names": names,
        },
    )


def _validator_errors(cls: type, structured: Mapping[str, Any], exc: Exception) -> ErrorMap:
    """Run each field validator of ``cls`` alone to find the field(s) ``exc`` was about."""
    shell: Any = object.__new__(cls)
    fields = attrs.fields(cls)
    for a in fields:
        if a.alias in structured:
            value = structured[a.alias]
        elif isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            value = a.default.factory()
        else:
            value = a.default
        object.__setattr__(shell, a.name, value)
    errors: ErrorMap = {}
    for a in fields:
        if a.validator is None:
            continue
        try:
            a.validator(shell, a, getattr(shell, a.name))
        except (TypeError, ValueError) as field_exc:
            errors.setdefault(field_json_name(a), []).append(str(field_exc) or type(field_exc).__name__)
    return errors or {"": [str(exc) or type(exc).__name__]}


def _build_converter(forbid_extra_keys: bool) -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=forbid_extra_keys)
    build = _Builder(converter, forbid_extra_keys)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(float, _strict_float)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook_func(lambda tp: tp is Any, _passthrough)
    # Registered later wins: the most specific predicates come last.
    converter.register_structure_hook_factory(is_array, build.array)
    converter.register_structure_hook_factory(is_mapping, build.mapping)
    converter.register_structure_hook_factory(lambda tp: get_origin(tp) is Literal, _literal_factory)
    converter.register_structure_hook_factory(is_union, build.union)
    converter.register_structure_hook_factory(attrs.has, build.attrs_class)
    return converter


@functools.cache
def get_converter(forbid_extra_keys: bool) -> cattrs.Converter:
    """The shared strict converter (one per extra-keys policy)."""
    return _build_converter(forbid_extra_keys)


@functools.cache
def _payload_hook(payload_type: Any, forbid_extra_keys: bool) -> Hook:
    return get_converter(forbid_extra_keys).get_structure_hook(payload_type)


def check_payload(payload_type: Any, data: Any, *, forbid_extra_keys: bool) -> Any:
    """Check ``data`` against ``payload_type``; return the payload as it should be emitted.

    Raises :class:`PayloadErrors` carrying the field errors.
    """
    if payload_type is RawString:
        if isinstance(data, str):
            return data
        raise PayloadErrors({"": [f"expected a string, got {json_type(data)}"]})
    if payload_type is NoFields:
        if data is None or data == "":
            return {}
        if data == {}:
            return data
        if not isinstance(data, Mapping):
            raise PayloadErrors({"": [f"expected an empty object, got {json_type(data)}"]})
        if forbid_extra_keys:
            message = "unknown field (this event carries no fields)"
            raise PayloadErrors({key: [message] for key in sorted(data)})
        return data
    if data is None and attrs.has(payload_type):
        data = {}
    fast = predicate(payload_type, forbid_extra_keys)
    if fast is not None and fast(data):
        return data
    try:
        _payload_hook(payload_type, forbid_extra_keys)(data, payload_type)
    except _STRUCTURE_ERRORS as exc:
        raise PayloadErrors(error_map(exc)) from exc
    return data


def check_context(context_type: Any, data: Any) -> Any:
    """Check the extra ``context`` members an event type declares; other members are left alone.

    Raises :class:`PayloadErrors` carrying the field errors (paths relative to ``context``).
    """
    return check_payload(context_type, data, forbid_extra_keys=False)


def error_map(exc: BaseException, path: str = "") -> ErrorMap:
    """Flatten an exception tree from the hooks into ``{path: [messages]}``."""
    errors: ErrorMap = {}
    _walk(exc, path, errors)
    return errors


def _join_name(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _walk(exc: BaseException, path: str, errors: ErrorMap) -> None:
    if isinstance(exc, FieldErrors):
        for sub_path, messages in exc.errors.items():
            if not sub_path:
                key = path
            elif sub_path.startswith("["):
                key = f"{path}{sub_path}"
            else:
                key = _join_name(path, sub_path)
            errors.setdefault(key, []).extend(messages)
        return
    if isinstance(exc, ForbiddenExtraKeysError):
        for name in sorted(exc.extra_fields):
            errors.setdefault(_join_name(path, name), []).append("unknown field")
        return
    if isinstance(exc, ClassValidationError):
        json_names: dict[str, str] = getattr(exc.cl, "json_names", {})
        with_notes, without_notes = exc.group_exceptions()
        for inner, note in with_notes:
            _walk(inner, _join_name(path, json_names.get(note.name, note.name)), errors)
        for inner in without_notes:
            _walk(inner, path, errors)
        return
    if isinstance(exc, IterableValidationError):
        items, others = exc.group_exceptions()
        for inner, item_note in items:
            _walk(inner, f"{path}[{item_note.index!r}]", errors)
        for inner in others:
            _walk(inner, path, errors)
        return
    if isinstance(exc, KeyError):
        errors.setdefault(path, []).append("this field is required")
        return
    errors.setdefault(path, []).append(str(exc) or type(exc).__name__)
