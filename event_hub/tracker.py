"""The Tracker: validate → envelope → processors → hand-off.

Server code calls :func:`track` (the signature of the event-tracking design
note) or :func:`emit`; the ``/api/tracking`` serializer calls
:meth:`Tracker.send` with the client's source and page. Each call:

1. validates the payload against the catalog (policy for invalid and unknown
   events in ``EVENT_HUB``);
2. builds the envelope from the context stack, the request the middleware
   saw, the user, the course and the content node;
3. runs the shared processors, then each backend's chain, renders the result
   and adds one JSON line per backend to the current unit of work.

Nothing here raises because of delivery: hand-off happens when the unit of
work ends, and never raises either.
"""

from __future__ import annotations

import datetime
import functools
import socket
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs
import orjson

from event_hub import context as ctx
from event_hub.catalog import Validated, registry
from event_hub.conf import hub_settings
from event_hub.delivery import unit_of_work
from event_hub.envelope import Envelope, EventContext, new_event_id
from event_hub.exceptions import DropEvent, InvalidEventError, UnknownEventError
from event_hub.identity import anonymous_user_id
from event_hub.processors.chain import Routes, routes

_CLIENT_SOURCES = frozenset({"browser", "mobile"})
_UNSET: Any = object()


@functools.cache
def _hostname() -> str:
    return socket.gethostname()


@functools.lru_cache(maxsize=1024)
def _pii_fields(payload: type) -> tuple[str, ...]:
    if not attrs.has(payload):
        return ()
    return tuple(f.metadata.get("json_name", f.name) for f in attrs.fields(payload) if f.metadata.get("pii"))


class Tracker:
    """Entry point for server-side events."""

    def track(
        self,
        event_type: str,
        user: Any = None,
        data: Any = None,
        course_content_node: Any = None,
        **options: Any,
    ) -> Envelope | None:
        """Track ``event_type`` for ``user`` (the request's user when ``None``) at ``course_content_node``."""
        return self.send(event_type, data, user=user, course_content_node=course_content_node, **options)

    def emit(self, name: str, data: Any = None, **options: Any) -> Envelope | None:
        """Emit event ``name`` with payload ``data``; user and course come from the context."""
        return self.send(name, data, **options)

    @contextmanager
    def context(self, name: str, **values: Any) -> Iterator[None]:
        """Add ``values`` to the ``context`` of every event emitted inside the block."""
        with ctx.push(name, values):
            yield

    def send(
        self,
        name: str,
        data: Any = None,
        *,
        user: Any = None,
        course_content_node: Any = None,
        course_id: str | None = None,
        source: str | None = None,
        page: str | None = None,
        context: Mapping[str, Any] | None = None,
        on_invalid: str | None = None,
    ) -> Envelope | None:
        """Validate, build, process and queue one event.

        Returns the envelope as built (before per-backend processors), or
        ``None`` when the event was recorded as invalid instead of delivered.
        ``on_invalid`` overrides the policy for an invalid event: ``"raise"``,
        ``"record"`` or ``"record_and_raise"``.
        """
        frames = ctx.current()
        source = source or frames.source
        validated = self._validate(name, source, data, frames, user, on_invalid)
        if validated is None:
            return None
        table = routes()
        envelope = self._envelope(
            validated, source, frames, user, course_content_node, course_id, page, context, table.any_pii
        )
        return self._dispatch(envelope, frames, on_invalid, table)

    def _validate(
        self, name: str, source: str, data: Any, frames: ctx.Frames, user: Any, on_invalid: str | None
    ) -> Validated | None:
        if not hub_settings.VALIDATE:
            spec = registry.lookup(name, source)
            return Validated(
                spec=spec,
                event_type=spec.name if spec else name,
                name=spec.name_for(source) if spec else name,
                data={} if data is None else data,
            )
        try:
            return registry.validate(name, source, data, strict=hub_settings.STRICT_FIELDS)
        except UnknownEventError as exc:
            policy = hub_settings.UNREGISTERED_EVENTS
            if policy == "accept":
                return Validated(spec=None, event_type=name, name=name, data={} if data is None else data)
            if policy == "reject" and on_invalid is None:
                raise
            self._invalid(exc, source, data, frames, user, on_invalid)
        except InvalidEventError as exc:
            self._invalid(exc, source, data, frames, user, on_invalid)
        return None

    def _invalid(
        self,
        exc: InvalidEventError,
        source: str,
        data: Any,
        frames: ctx.Frames,
        user: Any,
        on_invalid: str | None,
    ) -> None:
        """Apply the invalid-event policy: raise, record, or both."""
        mode = on_invalid or (
            "record_and_raise" if source in _CLIENT_SOURCES else hub_settings.invalid_server_policy
        )
        if mode in ("record", "record_and_raise"):
            from event_hub import invalid

            user = self._user(user, frames)
            request = frames.request
            invalid.record(
                name=exc.name,
                source=source,
                payload=data,
                errors=exc.errors,
                user_id=user.pk if user is not None else None,
                path=request.path if request is not None else "",
            )
        if mode in ("raise", "record_and_raise"):
            raise exc

    @staticmethod
    def _user(user: Any, frames: ctx.Frames) -> Any:
        """The acting user: the one given, else the request's authenticated user, else ``None``."""
        if user is None and frames.request is not None and frames.request.request is not None:
            user = getattr(frames.request.request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return user

    def _envelope(
        self,
        validated: Validated,
        source: str,
        frames: ctx.Frames,
        user: Any,
        course_content_node: Any,
        course_id: str | None,
        page: str | None,
        context: Mapping[str, Any] | None,
        with_pii: bool,
    ) -> Envelope:
        values = {**frames.values, **context} if context else frames.values
        request = frames.request
        user = self._user(user, frames)

        node = (
            hub_settings.CONTENT_NODE_RESOLVER(course_content_node)
            if course_content_node is not None
            else None
        )
        course = ctx.course_info(
            course_id
            or (node.course_id if node is not None else "")
            or values.get("course_id", "")
            or (ctx.course_id_from_path(request.path) if request is not None else "")
        )
        extra: Mapping[str, Any] = frames.extra
        if context:
            extra = {key: value for key, value in values.items() if key not in ctx.CONTEXT_FIELDS}
        event_context = EventContext(
            course_id=course.course_id,
            org_id=course.org_id or values.get("org_id", ""),
            path=request.path if request is not None else values.get("path", ""),
            user_id=user.pk if user is not None else None,
            anonymous_user_id=anonymous_user_id(user),
            course_run=course.course_run,
            course_slug=course.course_slug,
            module_id=(node.module_id if node is not None else "") or values.get("module_id", ""),
            section_id=(node.section_id if node is not None else "") or values.get("section_id", ""),
            unit_id=(node.unit_id if node is not None else "") or values.get("unit_id", ""),
            module=(node.module if node is not None else None) or values.get("module"),
            course_user_tags=values.get("course_user_tags"),
            extra=extra,
        )
        return Envelope(
            id=new_event_id(),
            name=validated.name,
            event_type=validated.event_type,
            event_source=source,
            time=datetime.datetime.now(datetime.UTC),
            event=validated.data,
            context=event_context,
            username=user.get_username() if with_pii and user is not None else "",
            ip=request.ip if with_pii and request is not None else "",
            agent=request.agent if request is not None else "",
            host=request.host if request is not None else (hub_settings.HOST or _hostname()),
            referer=request.referer if request is not None else "",
            accept_language=request.accept_language if request is not None else "",
            page=page,
            session=request.session if request is not None else "",
            pii_fields=_pii_fields(validated.spec.payload) if validated.spec is not None else (),
        )

    def _dispatch(
        self, envelope: Envelope, frames: ctx.Frames, on_invalid: str | None, table: Routes
    ) -> Envelope | None:
        try:
            for processor in table.shared:
                envelope = processor(envelope)
        except DropEvent:
            return envelope
        lines: list[tuple[str, bytes]] = []
        try:
            for route in table.routes:
                processed = route.apply(envelope)
                if processed is not None:
                    lines.append((route.backend, orjson.dumps(processed.render())))
        except TypeError as exc:
            error = InvalidEventError(envelope.name, {"": [f"not JSON-serializable: {exc}"]})
            self._invalid(error, envelope.event_source, envelope.event, frames, None, on_invalid)
            return None
        work = unit_of_work.current()
        for backend, line in lines:
            work.add(backend, line)
        return envelope


#: The process-wide tracker. The module itself offers the same four calls, so
#: ``from event_hub import tracker`` then ``tracker.context(...)`` / ``tracker.emit(...)`` works.
tracker = Tracker()


def track(
    event_type: str, user: Any = None, data: Any = None, course_content_node: Any = None, **options: Any
) -> Envelope | None:
    """:meth:`Tracker.track` on the process-wide tracker."""
    return tracker.track(event_type, user, data, course_content_node, **options)


def emit(name: str, data: Any = None, **options: Any) -> Envelope | None:
    """:meth:`Tracker.emit` on the process-wide tracker."""
    return tracker.emit(name, data, **options)


def send(name: str, data: Any = None, **options: Any) -> Envelope | None:
    """:meth:`Tracker.send` on the process-wide tracker (used by the API for client events)."""
    return tracker.send(name, data, **options)


def context(name: str, **values: Any) -> AbstractContextManager[None]:
    """:meth:`Tracker.context` on the process-wide tracker."""
    return tracker.context(name, **values)
