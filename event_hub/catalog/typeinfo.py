"""What kind of JSON value a catalog field type describes.

Validation, the compiled fast check and the JSON Schema export all walk field
types; these predicates are the one place that says which types are unions,
arrays (of any length or of fixed items) and objects.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, get_args, get_origin


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


def is_variable_array(tp: Any) -> bool:
    """An array of any length (not a fixed ``tuple[X, Y]``)."""
    return is_array(tp) and fixed_tuple_args(tp) is None


def is_mapping(tp: Any) -> bool:
    """A JSON object with free keys: ``dict[str, X]`` or ``Mapping[str, X]``."""
    return get_origin(tp) in (dict, Mapping, typing.Mapping) or tp is dict
