"""Request middleware: request context for events, and one unit of work per request.

Add ``"event_hub.middleware.EventHubMiddleware"`` to ``MIDDLEWARE`` after the
session and authentication middleware. For each request it:

* collects ip, agent, host, referer, accept language and path (the user and
  the session are read when an event is emitted, after DRF or any other
  authentication has run; server events have no ``page``, as on the platform);
* opens a unit of work, so every event the request emits is handed off as one
  batch per backend when the response is ready, even if the view raised.

Works under WSGI and ASGI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

from event_hub import context as ctx
from event_hub.conf import hub_settings
from event_hub.delivery import unit_of_work


def client_ip(request: HttpRequest) -> str:
    """The client address: ``REMOTE_ADDR``, or the ``X-Forwarded-For`` hop added by the last trusted proxy."""
    proxies = hub_settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def request_info(request: HttpRequest) -> ctx.RequestInfo:
    """What events emitted during ``request`` take from it."""
    meta = request.META
    return ctx.RequestInfo(
        ip=client_ip(request),
        agent=meta.get("HTTP_USER_AGENT", ""),
        host=meta.get("HTTP_HOST") or meta.get("SERVER_NAME", ""),
        referer=meta.get("HTTP_REFERER", ""),
        accept_language=meta.get("HTTP_ACCEPT_LANGUAGE", ""),
        path=request.path,
        request=request,
    )


class EventHubMiddleware:
    """Push the request context and open a unit of work around each request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self._async:
            return self.__acall__(request)
        with ctx.push("request", request=request_info(request)), unit_of_work.unit_of_work():
            response: HttpResponseBase = self.get_response(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        with ctx.push("request", request=request_info(request)):
            work, token = unit_of_work.begin()
            try:
                response: HttpResponseBase = await self.get_response(request)
            finally:
                unit_of_work.detach(token)
                await sync_to_async(work.flush, thread_sensitive=False)()
        return response
