"""Webhook backend: POST each batch to a URL as a JSON array of envelopes.

Every envelope carries all its fields (``id`` included, so the receiver can
drop a redelivered event), in the shape of :meth:`Envelope.to_wire`, or in
the tracking-log or compact shape with the ``format`` option. Optional
``headers`` (an ``Authorization`` token, say) go with every request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from event_hub import jsonio
from event_hub.backends.formats import check_format_options, renderer
from event_hub.backends.http import HttpBackend
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope


class WebhookBackend(HttpBackend):
    """POST batches to ``url`` as ``application/json`` arrays."""

    def __init__(
        self,
        name: str,
        *,
        url: str,
        headers: Mapping[str, str] | None = None,
        format: str | None = None,
        extra_fields: Sequence[str] = (),
        timeout: float = 10.0,
    ) -> None:
        super().__init__(name, timeout=timeout)
        self.url = url
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.render = renderer(format, extra_fields) if format is not None else Envelope.to_wire

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        problems = super().check_options(options)
        url = options.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            problems.append("OPTIONS['url'] must be an http:// or https:// URL")
        if options.get("format") is not None:
            problems += check_format_options(dict(options))
        return problems

    def transform(self, envelope: Envelope) -> dict[str, Any]:
        return self.render(envelope)

    def send(self, items: Sequence[dict[str, Any]], batch: Batch) -> None:
        body = jsonio.dumps(list(items), option=orjson.OPT_NON_STR_KEYS)
        self.post(self.url, body, {**self.headers, "X-Event-Hub-Batch": batch.id})
