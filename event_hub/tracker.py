"""The Tracker: validate → envelope → processors → hand-off.

Server code calls :func:`track` (the signature of the event-tracking design
note) or :func:`emit`; the ``/api/tracking`` serializer calls
:meth:`Tracker.send` with the client's source and page. Each call:

1. validates the payload against the catalog. The catalog is never the reason
   an event is lost: by default an unknown or invalid event is delivered as it
   came and its problem noted (:mod:`event_hub.invalid`); holding it back or
   raising are settings (``UNREGISTERED_EVENTS``, ``INVALID_SERVER_EVENTS``);
2. builds the envelope from the context stack, the request the middleware
   saw, the user, the course and the content node;
3. runs the shared processors, then each backend's chain (a processor that
   fails stops the event for its backend only, logged with the traceback),
   and adds the processed envelope (:func:`event_hub.wireline.encode`, one JSON line)
   per backend to the current unit of work. Backends render their own format
   in the worker.

Nothing here raises because of delivery: hand-off happens when the unit of
work ends, and never raises either.
"""

from __future__ import annotations

import datetime
import functools
import logging
import socket
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs

from event_hub import context as ctx
from event_hub import invalid, metrics, wireline
from event_hub.catalog import Validated, registry
from event_hub.conf import hub_settings, on_reload
from event_hub.delivery import unit_of_work
from event_hub.envelope import Envelope, EventContext, make_envelope, new_event_id
from event_hub.exceptions import DropEvent, InvalidEventError, UnknownEventError
from event_hub.identity import anonymous_user_id
from event_hub.processors.chain import Routes, routes
from event_hub.processors.privacy import PERSONAL_MEMBERS

logger = logging.getLogger(__name__)

_CLIENT_SOURCES = frozenset({"browser", "mobile"})
_now = datetime.datetime.now
_UTC = datetime.UTC


@functools.cache
def _hostname() -> str:
    return socket.gethostname()


@functools.lru_cache(maxsize=1024)
def _pii_fields(payload: type) -> tuple[str, ...]:
    if not attrs.has(payload):
        return ()
    return tuple(f.metadata.get("json_name", f.name) for f in attrs.fields(payload) if f.metadata.get("pii"))


def _with_personal_members(declared: tuple[str, ...], data: dict[str, Any]) -> tuple[str, ...]:
    """``declared`` (the members the catalog marks personal) and the members of ``data`` named in
    :data:`PERSONAL_MEMBERS` (an unknown event's, or members its type does not declare)."""
    return declared + tuple(key for key in data if key in PERSONAL_MEMBERS and key not in declared)


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
        ``None`` when the event was held back (recorded as invalid) instead of
        delivered. ``on_invalid`` overrides the policy for an unknown or invalid
        event: ``"deliver"``, ``"record"``, ``"raise"`` or ``"record_and_raise"``.
        """
        frames = ctx.current()
        source = source or frames.source
        validated: Validated | None
        if hub_settings.VALIDATE:
            try:
                validated = registry.validate(name, source, data, strict=hub_settings.STRICT_FIELDS)
            except InvalidEventError as exc:  # UnknownEventError too
                validated = self._refused(exc, name, source, data, frames, user, on_invalid)
        else:
            validated = self._untyped(name, source, {} if data is None else data)
        if validated is None:
            return None
        table = routes()
        envelope = self._envelope(
            validated, source, frames, user, course_content_node, course_id, page, context, table.any_pii
        )
        return self._dispatch(envelope, table)

    def _refused(
        self,
        error: InvalidEventError,
        name: str,
        source: str,
        data: Any,
        frames: ctx.Frames,
        user: Any,
        on_invalid: str | None,
    ) -> Validated | None:
        """What becomes of an event the catalog refused: delivered as it came, or ``None`` when held back.

        ``on_invalid`` (``"raise"``, ``"record"``, ``"record_and_raise"`` or
        ``"deliver"``) overrides the settings for this call.
        """
        if isinstance(error, UnknownEventError):
            mode = on_invalid or {"deliver": "deliver", "accept": "accept", "record": "record"}.get(
                hub_settings.UNREGISTERED_EVENTS, "raise"
            )
        else:
            mode = on_invalid or hub_settings.INVALID_SERVER_EVENTS
        user_id = self._user_id(user, frames)
        path = frames.request.path if frames.request is not None else ""
        if mode in ("deliver", "accept"):
            if mode == "deliver":
                invalid.note_delivered(
                    name=name, source=source, payload=data, errors=error.errors, user_id=user_id, path=path
                )
            return self._untyped(name, source, {} if data is None else data)
        if mode in ("record", "record_and_raise"):
            invalid.record(
                name=error.name, source=source, payload=data, errors=error.errors, user_id=user_id, path=path
            )
        if mode in ("raise", "record_and_raise"):
            raise error
        return None

    @staticmethod
    def _untyped(name: str, source: str, payload: Any) -> Validated:
        """An event delivered as it came (named as the catalog names it, when it knows the name)."""
        spec = registry.lookup(name, source)
        return Validated(
            spec=spec,
            event_type=spec.name if spec else name,
            name=spec.name_for(source) if spec else name,
            data=payload,
        )

    def _user_id(self, user: Any, frames: ctx.Frames) -> int | None:
        acting = self._user(user, frames)
        return acting.pk if acting is not None else None

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
        acting = self._user(user, frames)
        scope = _frame_scope(frames, acting, course_id, with_pii)
        event_context = scope.context
        if course_content_node is not None or (context and not ctx.CONTEXT_FIELDS.isdisjoint(context)):
            # The node or the call's own context members change what the frame resolved: resolve
            # this event's context again (the request fields and the anonymous id stay the scope's).
            if course_content_node is None and context:
                event_context = scope.called_with(context, frames, acting, course_id)
            else:
                node = hub_settings.CONTENT_NODE_RESOLVER(course_content_node)
                values = {**frames.values, **context} if context else frames.values
                event_context = _event_context(
                    values, frames.request, acting, course_id, node, event_context.anonymous_user_id
                )
        elif context:  # further members only: the frame's context plus these
            event_context = event_context.extended(context)
        request = frames.request
        # The payload members the privacy processor blanks.
        personal = _pii_fields(validated.spec.payload) if validated.spec is not None else ()
        data = validated.data
        if type(data) is dict and not PERSONAL_MEMBERS.isdisjoint(data):
            personal = _with_personal_members(personal, data)
        return make_envelope(
            new_event_id(),
            validated.name,
            validated.event_type,
            source,
            _now(_UTC),
            data,
            event_context,
            scope.username,
            scope.ip,
            scope.agent,
            scope.host,
            scope.referer,
            scope.accept_language,
            page,
            request.session if request is not None else "",
            personal,
        )

    def _dispatch(self, envelope: Envelope, table: Routes) -> Envelope | None:
        if table.shared:
            try:
                for processor in table.shared:
                    envelope = processor(envelope)
            except DropEvent:
                metrics.dropped("*", envelope.name, "filtered")
                return envelope
            except Exception:
                # As when every backend's own chain raises: the event was accepted, the server's processing
                # failed (logged with the traceback, counted); it is not "held back as invalid" (None).
                logger.exception("shared processor failed on event %r; no backend gets it", envelope.name)
                metrics.dropped("*", envelope.name, "processor_error")
                return envelope
        lines: list[tuple[str, bytes]] = []
        # Routes that hand back the same envelope object (most leave it alone) share one line.
        # The envelopes are kept here, so an identity match is never a recycled id.
        encoded: list[tuple[Envelope, bytes]] = []
        for route in table.routes:
            try:
                processed = route.apply(envelope)
            except Exception:
                logger.exception(
                    "a processor of backend %r failed on event %r; the event is not delivered to it",
                    route.backend,
                    envelope.name,
                )
                metrics.dropped(route.backend, envelope.name, "processor_error")
                continue
            if processed is None:
                metrics.dropped(route.backend, envelope.name, "filtered")
                continue
            line = b""
            for seen, seen_line in encoded:
                if seen is processed:
                    line = seen_line
                    break
            if not line:
                try:
                    line = wireline.encode(processed)
                except TypeError as exc:  # orjson.JSONEncodeError: a type JSON lacks, or nested too deep
                    if processed is not envelope and self._encodes(envelope):
                        # This backend's processors made it so: the event misses this backend only.
                        logger.error(
                            "the processors of backend %r made event %r unserializable (%s); "
                            "the event is not delivered to it",
                            route.backend,
                            envelope.name,
                            exc,
                        )
                        metrics.dropped(route.backend, envelope.name, "processor_error")
                        continue
                    self._record_unserializable(envelope, exc)
                    return None
                encoded.append((processed, line))
            lines.append((route.backend, line))
        add = unit_of_work.current().add
        for backend, line in lines:
            add(backend, line)
            metrics.emitted(backend, envelope.name)
        return envelope

    @staticmethod
    def _encodes(envelope: Envelope) -> bool:
        """Whether JSON can hold ``envelope`` (the event as emitted, before a backend's processors)."""
        try:
            wireline.encode(envelope)
        except TypeError:
            return False
        return True

    @staticmethod
    def _record_unserializable(envelope: Envelope, exc: Exception) -> None:
        """The event cannot be written as JSON: it goes to no backend, and is recorded as invalid."""
        invalid.record(
            name=envelope.name,
            source=envelope.event_source,
            payload=envelope.event,
            errors={"": [f"not JSON-serializable: {exc}"]},
            user_id=envelope.context.user_id,
            path=envelope.context.path,
        )


def _event_context(
    values: Mapping[str, Any],
    request: ctx.RequestInfo | None,
    user: Any,
    course_id: str | None,
    node: Any,
    anonymous_id: str,
) -> EventContext:
    """The ``context`` member from the context values, the request, the user and the content node.

    ``course_content_node`` (through the ``CONTENT_NODE_RESOLVER``) and ``course_id`` win over
    the context's ``course_id``, which wins over the course the request path names.
    """
    course = ctx.course_info(
        course_id
        or (node.course_id if node is not None else "")
        or values.get("course_id", "")
        or (ctx.course_id_from_path(request.path) if request is not None else "")
    )
    return EventContext(
        course_id=course.course_id,
        org_id=course.org_id or values.get("org_id", ""),
        path=request.path if request is not None else values.get("path", ""),
        user_id=user.pk if user is not None else None,
        anonymous_user_id=anonymous_id,
        course_run=course.course_run,
        course_slug=course.course_slug,
        module_id=(node.module_id if node is not None else "") or values.get("module_id", ""),
        section_id=(node.section_id if node is not None else "") or values.get("section_id", ""),
        unit_id=(node.unit_id if node is not None else "") or values.get("unit_id", ""),
        module=(node.module if node is not None else None) or values.get("module"),
        course_user_tags=values.get("course_user_tags"),
        extra={key: value for key, value in values.items() if key not in ctx.CONTEXT_FIELDS},
    )


class _Scope:
    """What every event of one frame, user and course shares: the ``context`` member and request fields."""

    __slots__ = ("accept_language", "agent", "context", "host", "ip", "last_call", "referer", "username")

    def __init__(self, frames: ctx.Frames, user: Any, course_id: str | None, with_pii: bool) -> None:
        request = frames.request
        self.context = _event_context(frames.values, request, user, course_id, None, anonymous_user_id(user))
        self.username = user.get_username() if with_pii and user is not None else ""
        self.ip = request.ip if with_pii and request is not None else ""
        self.agent = request.agent if request is not None else ""
        self.host = request.host if request is not None else (hub_settings.HOST or _hostname())
        self.referer = request.referer if request is not None else ""
        self.accept_language = request.accept_language if request is not None else ""
        #: The members of the last ``context=`` resolved here, and the context they gave.
        self.last_call: tuple[tuple[tuple[str, Any], ...], EventContext] | None = None

    def called_with(
        self, members: Mapping[str, Any], frames: ctx.Frames, user: Any, course_id: str | None
    ) -> EventContext:
        """The context of an event given ``context=members`` (that the envelope models) in this scope.

        Code that passes the same objects on each call (``context={"module": descriptor}``) gets
        the context resolved for the previous call: the same keys, in the same order, with
        identical values (held here, so an identity is never a recycled one).
        """
        last = self.last_call
        if last is not None and len(last[0]) == len(members):
            for (key, value), (given_key, given) in zip(last[0], members.items(), strict=True):
                if key != given_key or value is not given:
                    break
            else:
                return last[1]
        values = {**frames.values, **members}
        anonymous_id = self.context.anonymous_user_id
        resolved = _event_context(values, frames.request, user, course_id, None, anonymous_id)
        self.last_call = (tuple(members.items()), resolved)
        return resolved


#: Bumped when ``EVENT_HUB`` changes, so scopes resolved under the old settings are not reused.
_generation = 0
#: Scopes kept per frame (frames without a request, such as the empty one, may see many users).
_MEMO_SIZE = 64


@on_reload
def _new_generation() -> None:
    global _generation
    _generation += 1


def _frame_scope(frames: ctx.Frames, user: Any, course_id: str | None, with_pii: bool) -> _Scope:
    """The scope of ``frames`` for ``user`` and ``course_id``: resolved once, then read from the frame's memo.

    The session is not part of it (a login during the request changes the key); the user
    is keyed by ``pk``.
    """
    key = (_generation, user.pk if user is not None else None, course_id, with_pii)
    memo = frames.memo
    scope: _Scope | None = memo.get(key)
    if scope is None:
        scope = _Scope(frames, user, course_id, with_pii)
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = scope
    return scope


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
    return tracker.send(name, data, **options)


def send(name: str, data: Any = None, **options: Any) -> Envelope | None:
    """:meth:`Tracker.send` on the process-wide tracker (used by the API for client events)."""
    return tracker.send(name, data, **options)


def context(name: str, **values: Any) -> AbstractContextManager[None]:
    """:meth:`Tracker.context` on the process-wide tracker."""
    return tracker.context(name, **values)
