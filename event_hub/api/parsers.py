"""JSON in and out of ``/api/tracking`` with orjson, and a content negotiation that costs nothing.

* :class:`JSONParser` refuses a body larger than ``API_MAX_BODY_BYTES`` with 413
  before reading it (and stops reading past the limit when the length was not
  announced), and turns malformed JSON into a 400.
* :class:`JSONRenderer` renders with orjson.
* :class:`JSONOnlyNegotiation` always answers JSON and accepts only
  ``application/json`` bodies (anything else is 415), without parsing ``Accept``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

import orjson
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from event_hub.conf import hub_settings

JSON = "application/json"


class RequestTooLarge(APIException):
    """The request body is larger than ``API_MAX_BODY_BYTES``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


class JSONParser(BaseParser):
    """Parse a JSON body with orjson, within ``API_MAX_BODY_BYTES``."""

    media_type = JSON

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int = hub_settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                announced = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                announced = 0
            if announced > limit:
                raise RequestTooLarge(f"Request body too large: {announced} bytes, at most {limit} accepted.")
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge(f"Request body too large: at most {limit} bytes accepted.")
        try:
            return orjson.loads(body)
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
