"""Valid sample data for any signal, built from its data classes (for tests, benchmarks and docs).

Every value is truthy (openedx-events refuses falsy arguments) and every
optional field is filled, so an encoding that loses a field shows.
"""

from __future__ import annotations

import datetime
import io
import typing
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO, get_args, get_origin

import attrs
from ccx_keys.locator import CCXLocator
from opaque_keys.edx.keys import CourseKey, UsageKey
from opaque_keys.edx.locator import (
    LibraryCollectionLocator,
    LibraryContainerLocator,
    LibraryLocatorV2,
    LibraryUsageLocatorV2,
)
from openedx_events.tooling import OpenEdxPublicSignal

COURSE = "course-v1:edX+DemoX+2024"
MOMENT = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC)

_KEYS: dict[Any, Callable[[int], Any]] = {
    CourseKey: lambda n: CourseKey.from_string(f"course-v1:edX+Demo{n}+2024"),
    UsageKey: lambda n: UsageKey.from_string(f"block-v1:edX+DemoX+2024+type@problem+block@p{n}"),
    CCXLocator: lambda n: CCXLocator.from_string(f"ccx-v1:edX+DemoX+2024+ccx@{n}"),
    LibraryLocatorV2: lambda n: LibraryLocatorV2.from_string(f"lib:edX:lib{n}"),
    LibraryUsageLocatorV2: lambda n: LibraryUsageLocatorV2.from_string(f"lb:edX:lib{n}:problem:p{n}"),
    LibraryCollectionLocator: lambda n: LibraryCollectionLocator.from_string(
        f"lib-collection:edX:lib{n}:c{n}"
    ),
    LibraryContainerLocator: lambda n: LibraryContainerLocator.from_string(f"lct:edX:lib{n}:unit:u{n}"),
    datetime.datetime: lambda n: MOMENT + datetime.timedelta(seconds=n),
    uuid.UUID: lambda n: uuid.UUID(int=0x1234_5678_9ABC_4DEF_8000_0000_0000_0000 + n),
    BinaryIO: lambda n: io.BytesIO(bytes(range(n % 200, n % 200 + 40))),
    str: lambda n: f"text-{n}",
    int: lambda n: n + 1,
    float: lambda n: n + 0.5,
    bool: lambda n: True,
}


def sample_value(kind: Any, seed: int = 1, name: str = "value") -> Any:
    """A truthy value of type ``kind`` (a data class, a key type, a list or dict of them…)."""
    factory = _KEYS.get(kind)
    if factory is not None:
        return factory(seed)
    origin = get_origin(kind)
    if origin is list:
        (item,) = get_args(kind)
        return [sample_value(item, seed + i, name) for i in range(2)]
    if origin is dict:
        _key, item = get_args(kind)
        return {f"{name}-{seed + i}": sample_value(item, seed + i, name) for i in range(2)}
    if origin is typing.Union:
        return sample_value(next(arg for arg in get_args(kind) if arg is not type(None)), seed, name)
    if isinstance(kind, type) and attrs.has(kind):
        return kind(
            **{
                field.name: sample_value(field.type, seed + i, field.name)
                for i, field in enumerate(attrs.fields(kind))
                if field.init
            }
        )
    raise TypeError(f"no sample value for type {kind!r}")


def sample_data(signal: OpenEdxPublicSignal, seed: int = 1) -> dict[str, Any]:
    """Keyword arguments ``signal.send_event`` accepts."""
    return {key: sample_value(kind, seed, key) for key, kind in signal.init_data.items()}
