"""The tracking-log shapes a file (or console, or memory) backend writes an envelope in.

* ``openedx`` (default): exactly the common fields of the Open edX tracking log
  and nothing else — ``name``, ``session`` and ``event`` always present, no
  top-level ``id`` and no ``context.anonymous_user_id`` unless the backend's
  ``extra_fields`` asks for them. Browser events carry ``event`` as a JSON
  string, as the platform's ``/event`` view writes it; server and mobile events
  carry it as an object.
* ``compact``: the shape of the event-tracking design note (``event_type``,
  ``anon_username``, ``course_slug`` … ``event_data``), with the event ``id``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Final

from event_hub import jsonio
from event_hub.envelope import Envelope, json_time

FORMATS: Final = ("openedx", "compact")
#: Members the ``openedx`` format leaves out unless a backend asks for them.
EXTRA_FIELDS: Final = ("id", "anonymous_user_id")

Renderer = Callable[[Envelope], dict[str, Any]]


def openedx(env: Envelope, extra_fields: Collection[str] = ()) -> dict[str, Any]:
    """The Open edX tracking-log line of ``env`` (see the module docstring)."""
    ctx = env.context
    context: dict[str, Any] = {
        "course_id": ctx.course_id,
        "org_id": ctx.org_id,
        "path": ctx.path,
        "user_id": ctx.user_id,
    }
    if ctx.anonymous_user_id and "anonymous_user_id" in extra_fields:
        context["anonymous_user_id"] = ctx.anonymous_user_id
    if ctx.module is not None:
        context["module"] = ctx.module
    if ctx.course_user_tags is not None:
        context["course_user_tags"] = ctx.course_user_tags
    if ctx.extra:
        context.update(ctx.extra)
    event = env.event
    if env.event_source == "browser" and not isinstance(event, str):
        event = jsonio.dumps(event).decode()
    line: dict[str, Any] = {"id": env.id} if "id" in extra_fields else {}
    line.update(
        name=env.name,
        event_type=env.event_type,
        event_source=env.event_source,
        time=json_time(env.time),
        username=env.username,
        ip=env.ip,
        agent=env.agent,
        host=env.host,
        referer=env.referer,
        accept_language=env.accept_language,
        page=env.page,
        session=env.session,
        context=context,
        event=event,
    )
    return line


def compact(env: Envelope) -> dict[str, Any]:
    """The shape of the event-tracking design note (anonymous id only, never PII)."""
    ctx = env.context
    return {
        "id": env.id,
        "event_type": env.name,
        "event_source": env.event_source,
        "anon_username": ctx.anonymous_user_id,
        "time": json_time(env.time),
        "course_slug": ctx.course_slug,
        "course_run": ctx.course_run,
        "module_id": ctx.module_id,
        "section_id": ctx.section_id,
        "unit_id": ctx.unit_id,
        "page_url": env.page,
        "event_data": env.event,
    }


def renderer(format: str, extra_fields: Collection[str] = ()) -> Renderer:
    """The function rendering envelopes in ``format`` (``extra_fields`` applies to ``openedx``)."""
    if format == "compact":
        return compact
    if format != "openedx":
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    unknown = set(extra_fields) - set(EXTRA_FIELDS)
    if unknown:
        raise ValueError(f"extra_fields may name {EXTRA_FIELDS}, not {sorted(unknown)}")
    chosen = frozenset(extra_fields)
    return lambda env: openedx(env, chosen)


def check_format_options(options: dict[str, Any]) -> list[str]:
    """Problems with a backend's ``format`` and ``extra_fields`` options, for the system checks."""
    try:
        renderer(options.get("format", "openedx"), options.get("extra_fields", ()))
    except (ValueError, TypeError) as exc:
        return [f"OPTIONS: {exc}"]
    return []
