"""Where an event happened: the context stack, course context, content-node context.

The stack lives in a :class:`contextvars.ContextVar`, so each thread and each
asyncio task sees its own frames and a frame pushed in one request never leaks
into another::

    with tracker.context("grading", course_id="course-v1:edX+DemoX+2024", attempt=2):
        tracker.emit(...)   # context carries course_id, org_id, course run, attempt

Frames are immutable; pushing one builds the merged view once, so emitting
reads a ready dict instead of walking the stack. What the tracker derives from a
frame for one user and course (the event's ``context``, the request fields) is
kept in the frame's ``memo``, so the events of one request resolve it once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import attrs
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey

from event_hub.exceptions import EventHubError
from event_hub.identity import session_id


@attrs.frozen
class RequestInfo:
    """What the middleware collected from the current HTTP request.

    ``request`` is kept so the user and the session are read when an event is
    emitted, after authentication (DRF authenticates inside the view, after
    middleware ran; a login during the request gives the session a new key).

    There is no ``page``: as on the Open edX platform, a server event's
    ``page`` is ``None`` (the URL a request was sent to is often an AJAX
    handler, not the page the learner sees; the ``referer`` field has that).
    Browser and mobile events take ``page`` from the client.
    """

    ip: str = ""
    agent: str = ""
    host: str = ""
    referer: str = ""
    accept_language: str = ""
    path: str = ""
    request: Any = None

    @property
    def session(self) -> str:
        """The ``session`` field: the digest of the request's current session key, ``""`` without one."""
        key = getattr(getattr(self.request, "session", None), "session_key", None)
        return session_id(key) if key else ""


@attrs.frozen
class Frames:
    """The context stack: frame names and the merged values of all frames."""

    names: tuple[str, ...] = ()
    values: Mapping[str, Any] = attrs.field(factory=dict)
    request: RequestInfo | None = None
    #: Default ``event_source`` inside this context ("task" inside a Celery task).
    source: str = "server"
    #: The values the envelope has no field of its own for (they become extra ``context`` members).
    extra: Mapping[str, Any] = attrs.field(init=False)

    #: What the tracker resolved from these frames, by (settings generation, user, course, PII):
    #: filled on first use, read by every later event of the frame (see ``Tracker``).
    memo: dict[Any, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    @extra.default
    def _extra(self) -> Mapping[str, Any]:
        return {key: value for key, value in self.values.items() if key not in CONTEXT_FIELDS}


#: ``context`` keys the envelope models itself; other keys go to ``EventContext.extra``.
CONTEXT_FIELDS = frozenset(
    {
        "course_id",
        "org_id",
        "path",
        "user_id",
        "module",
        "course_user_tags",
        "module_id",
        "section_id",
        "unit_id",
    }
)


_EMPTY = Frames()
_frames: ContextVar[Frames] = ContextVar("event_hub_context", default=_EMPTY)


def current() -> Frames:
    """The frames of the running thread / asyncio task."""
    return _frames.get()


@contextmanager
def push(
    name: str,
    values: Mapping[str, Any] | None = None,
    *,
    request: RequestInfo | None = None,
    source: str | None = None,
) -> Iterator[Frames]:
    """Push a frame for the duration of the ``with`` block."""
    outer = _frames.get()
    frames = Frames(
        names=(*outer.names, name),
        values={**outer.values, **values} if values else outer.values,
        request=request if request is not None else outer.request,
        source=source or outer.source,
    )
    token = _frames.set(frames)
    try:
        yield frames
    finally:
        _frames.reset(token)


@attrs.frozen
class CourseInfo:
    """The parts of a course key the envelope carries."""

    course_id: str
    org_id: str = ""
    course_run: str = ""
    course_slug: str = ""


@functools.lru_cache(maxsize=4096)
def course_info(course_id: str) -> CourseInfo:
    """Split ``course_id`` with edx-opaque-keys; an unparsable id is kept as given, with blank parts."""
    if not course_id:
        return CourseInfo(course_id="")
    try:
        key = CourseKey.from_string(course_id)
    except InvalidKeyError:
        return CourseInfo(course_id=course_id)
    return CourseInfo(
        course_id=str(key),
        org_id=key.org or "",
        course_run=key.run or "",
        course_slug=f"{key.org}+{key.course}" if key.org and key.course else "",
    )


_COURSE_IN_PATH = re.compile(r"/(course-v1:[^/+?#]+\+[^/+?#]+\+[^/?#]+)")


@functools.lru_cache(maxsize=4096)
def course_id_from_path(path: str) -> str:
    """The ``course-v1:`` key a URL path contains, or ``""``."""
    match = _COURSE_IN_PATH.search(path)
    if match is None:
        return ""
    info = course_info(match.group(1))
    return info.course_id if info.org_id else ""


class InvalidContentNodeError(EventHubError, ValueError):
    """``course_content_node`` is of a kind the resolver cannot read."""


@attrs.frozen
class ContentNode:
    """Ids of a place in the course tree.

    Open edX hierarchy: ``module_id`` is the chapter (a Studio "section"),
    ``section_id`` the sequential (a "subsection"), ``unit_id`` the vertical.
    ``module`` describes the component itself (``usage_key``, ``display_name``).
    """

    course_id: str = ""
    module_id: str = ""
    section_id: str = ""
    unit_id: str = ""
    module: Mapping[str, Any] | None = None


_LEVELS = {"chapter": "module_id", "sequential": "section_id", "vertical": "unit_id"}
_NODE_KEYS = ("course_id", "module_id", "section_id", "unit_id")


def resolve_content_node(node: Any) -> ContentNode | None:
    """Default ``CONTENT_NODE_RESOLVER``: turn ``course_content_node`` into :class:`ContentNode`.

    Accepts ``None``; a :class:`ContentNode`; a usage key (object or string);
    a mapping with any of ``course_id``, ``module_id``, ``section_id``,
    ``unit_id``, ``usage_key``, ``display_name``; or a block-like object with
    ``location`` / ``usage_key``, ``display_name`` and optionally
    ``get_parent()``, whose ancestors fill the chapter/sequential/vertical ids.
    """
    if node is None or isinstance(node, ContentNode):
        return node
    if isinstance(node, (str, UsageKey)):
        return _from_usage_key(_usage_key(node), display_name=None)
    if isinstance(node, Mapping):
        return _from_mapping(node)
    key = getattr(node, "usage_key", None) or getattr(node, "location", None)
    if key is None:
        raise InvalidContentNodeError(
            f"cannot read a course content node from {type(node).__name__}: "
            "give a usage key, a mapping of ids, or an object with a location"
        )
    resolved = _from_usage_key(_usage_key(key), display_name=getattr(node, "display_name", None))
    ids: dict[str, Any] = {}
    parent = _parent(node)
    while parent is not None:
        parent_key = _usage_key(getattr(parent, "usage_key", None) or parent.location)
        field = _LEVELS.get(parent_key.block_type)
        if field and not getattr(resolved, field):
            ids[field] = str(parent_key)
        parent = _parent(parent)
    return attrs.evolve(resolved, **ids) if ids else resolved


def _parent(node: Any) -> Any:
    get_parent = getattr(node, "get_parent", None)
    return get_parent() if callable(get_parent) else getattr(node, "parent", None)


def _usage_key(value: Any) -> UsageKey:
    if isinstance(value, UsageKey):
        return value
    try:
        return UsageKey.from_string(str(value))
    except InvalidKeyError as exc:
        raise InvalidContentNodeError(f"{value!r} is not a usage key") from exc


def _from_usage_key(key: UsageKey, display_name: str | None) -> ContentNode:
    field = _LEVELS.get(key.block_type)
    ids: dict[str, Any] = {"course_id": str(key.course_key)}
    if field:
        ids[field] = str(key)
    else:
        module: dict[str, Any] = {"usage_key": str(key)}
        if display_name is not None:
            module["display_name"] = display_name
        ids["module"] = module
    return ContentNode(**ids)


def _from_mapping(node: Mapping[str, Any]) -> ContentNode:
    ids = {name: str(node[name]) for name in _NODE_KEYS if node.get(name)}
    module = None
    if node.get("usage_key"):
        module = {"usage_key": str(node["usage_key"])}
        for extra in ("display_name", "original_usage_key", "original_usage_version"):
            if node.get(extra) is not None:
                module[extra] = node[extra]
        if "course_id" not in ids:
            ids["course_id"] = str(_usage_key(node["usage_key"]).course_key)
    return ContentNode(module=module, **ids)
