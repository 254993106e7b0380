"""JSON in and out of ``/api/tracking`` with orjson, and a content negotiation that costs nothing.

* :class:`JSONParser` refuses a body larger than ``API_MAX_BODY_BYTES`` with 413
  before reading it (and stops reading past the limit when the length was not
  announced), and turns malformed JSON into a 400.
* :func:`read_unannounced_body` reads a chunked body (no ``Content-Length``), which
  Django would otherwise see as empty, up to the same limit.
* :class:`JSONRenderer` renders with orjson.
* :class:`JSONOnlyNegotiation` always answers JSON and accepts only
  ``application/json`` bodies (anything else is 415), without parsing ``Accept``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import IO, Any

import orjson
from django.http import HttpRequest
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from event_hub import jsonio
from event_hub.conf import hub_settings

JSON = "application/json"


class RequestTooLarge(APIException):
    """The request body is larger than ``API_MAX_BODY_BYTES``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


class LengthRequired(APIException):
    """A chunked body the WSGI server does not end for us: it cannot be read safely."""

    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "A body without Content-Length cannot be read on this server; send Content-Length."
    default_code = "length_required"


def read_unannounced_body(request: HttpRequest) -> None:
    """Read a ``Transfer-Encoding: chunked`` body now, within ``API_MAX_BODY_BYTES`` (else 413).

    Django reads ``Content-Length`` bytes of a request, so a body sent without it looks
    empty. Servers that decode chunked bodies and end the stream at their end (gunicorn,
    Werkzeug, uWSGI with chunked input) say so with ``wsgi.input_terminated``; the body is
    then read here, and the request looks to Django and DRF as if it had announced its
    length. Without that flag reading could wait for ever: 411.
    """
    meta = request.META
    if meta.get("CONTENT_LENGTH") or "chunked" not in str(meta.get("HTTP_TRANSFER_ENCODING", "")).lower():
        return
    if not meta.get("wsgi.input_terminated"):
        raise LengthRequired()
    limit: int = hub_settings.API_MAX_BODY_BYTES
    stream = meta["wsgi.input"]
    pieces: list[bytes] = []
    size = 0
    while size <= limit:
        piece = stream.read(limit + 1 - size)
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    if size > limit:
        raise RequestTooLarge(f"Request body too large: at most {limit} bytes accepted.")
    # HttpRequest.read() reads _stream: the body read here, now of a known length.
    request._stream = io.BytesIO(b"".join(pieces))
    meta["CONTENT_LENGTH"] = str(size)


def read_limited(stream: IO[bytes] | None, parser_context: Mapping[str, Any] | None) -> bytes:
    """The request body, or :class:`RequestTooLarge` past ``API_MAX_BODY_BYTES`` (announced or read)."""
    limit: int = hub_settings.API_MAX_BODY_BYTES
    request = (parser_context or {}).get("request")
    if request is not None:
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        if announced > limit:
            raise RequestTooLarge(f"Request body too large: {announced} bytes, at most {limit} accepted.")
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestTooLarge(f"Request body too large: at most {limit} bytes accepted.")
    return body


class JSONParser(BaseParser):
    """Parse a JSON body with orjson, within ``API_MAX_BODY_BYTES``."""

    media_type = JSON

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = read_limited(stream, parser_context)
        try:
            return jsonio.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


class JSONRenderer(BaseRenderer):
    """Render the response data with orjson."""

    media_type = JSON
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data)


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Select the view's first renderer whatever ``Accept`` says; accept only a JSON body."""

    def select_parser(self, request: Request, parsers: Sequence[BaseParser]) -> BaseParser | None:
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        for parser in parsers:
            if parser.media_type == media_type:
                return parser
        return None

    def select_renderer(
        self, request: Request, renderers: Sequence[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = renderers[0]
        return renderer, renderer.media_type
