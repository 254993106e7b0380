"""xAPI backend: events as xAPI 1.0.3 statements, POSTed in batches to a learning record store.

Each event goes through the transform its name has in :mod:`event_hub.xapi`
(the Open edX conventions as event-routing-backends applies them). A batch is
one ``POST {endpoint}/statements`` with a JSON array, the
``X-Experience-API-Version: 1.0.3`` header, Basic (``username``/``password``)
or Bearer (``token``) authentication and a timeout (the HTTP base's).

* Events the registry has no transform for are skipped (the
  :class:`~event_hub.xapi.allowlist.XapiEvents` processor drops them earlier,
  at emit time); so are events of visitors who are not signed in, which have
  no actor. An event missing data its statement needs is rejected and
  dead-lettered alone.
* Statement ids are UUIDv5 of the event ids: a redelivered or replayed event
  has the id the LRS already holds.
* ``409 Conflict`` for a batch (the LRS refuses a whole batch when one id
  clashes) splits it: each statement is sent alone, so one clash never costs
  the others. A lone statement answered 409 is already at the LRS under its
  id (the same event, stored before under other content: a transform change
  or a replay with other settings); it is counted in :attr:`XapiBackend.conflicts`
  and logged, not retried.
* 2xx is success, including ``204`` for a batch that was all duplicates;
  other statuses are retryable or permanent as :mod:`event_hub.backends.http`
  classifies them, and exhausted retries end as dead letters like for every
  backend.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from event_hub.backends.http import HttpBackend, retry_after_seconds, status_error
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope
from event_hub.xapi import NoActor, Site, lookup
from event_hub.xapi.statement import ACTOR_CHOICES
from event_hub.xapi.vocabulary import XAPI_VERSION

logger = logging.getLogger(__name__)

CONFLICT = 409


class XapiBackend(HttpBackend):
    """POST batches of xAPI statements to ``{endpoint}/statements``."""

    def __init__(
        self,
        name: str,
        *,
        endpoint: str,
        lms_root_url: str,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        actor: str = "anonymous_id",
        timeout: float = 10.0,
    ) -> None:
        super().__init__(name, timeout=timeout)
        self.url = endpoint.rstrip("/") + "/statements"
        self.site = Site(lms_root_url=lms_root_url.rstrip("/"), actor=actor)
        self.headers = {"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION}
        self.auth: tuple[str, str] | None = None
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif username is not None:
            self.auth = (username, password or "")
        #: Events skipped (no transform, or no actor) and statements the LRS held under another content.
        self.skipped = 0
        self.conflicts = 0

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        problems = super().check_options(options)
        for key in ("endpoint", "lms_root_url"):
            value = options.get(key)
            if not isinstance(value, str) or not value.startswith(("http://", "https://")):
                problems.append(f"OPTIONS[{key!r}] must be an http:// or https:// URL")
        if options.get("token") and options.get("username") is not None:
            problems.append("OPTIONS: give 'token' (Bearer) or 'username'/'password' (Basic), not both")
        if options.get("actor", "anonymous_id") not in ACTOR_CHOICES:
            problems.append(f"OPTIONS['actor'] must be one of {', '.join(ACTOR_CHOICES)}")
        return problems

    def transform(self, envelope: Envelope) -> bytes | None:
        """The statement as JSON, or ``None`` for an event with nothing to send."""
        build = lookup(envelope)
        if build is None:
            self.skipped += 1
            return None
        try:
            made = build(envelope, self.site)
        except NoActor:
            self.skipped += 1
            return None
        return orjson.dumps(made)

    def send(self, items: Sequence[bytes | None], batch: Batch) -> None:
        statements = [item for item in items if item is not None]
        if not statements:
            return
        if self._post(statements) != CONFLICT:
            return
        if len(statements) == 1:
            self._conflict(statements[0], batch)
            return
        logger.warning(
            "%s: the LRS refused batch %s (%d statements) with 409; sending them one by one",
            self.name,
            batch.id,
            len(statements),
        )
        # Should one of these fail otherwise, the whole batch is retried: the statements already
        # stored come back with their ids and are taken as duplicates.
        for one in statements:
            if self._post([one]) == CONFLICT:
                self._conflict(one, batch)

    def _post(self, statements: list[bytes]) -> int:
        """POST statements; the status when 2xx or 409, else raise the error it means."""
        body = b"[" + b",".join(statements) + b"]"
        response = self.session.post(
            self.url, data=body, headers=self.headers, auth=self.auth, timeout=self.timeout
        )
        status = response.status_code
        if status < 300 or status == CONFLICT:
            return status
        raise status_error(
            self.name, status, response.text, retry_after_seconds(response.headers.get("Retry-After"))
        )

    def _conflict(self, item: bytes, batch: Batch) -> None:
        self.conflicts += 1
        logger.warning(
            "%s: the LRS already holds statement %s under other content (409); batch %s",
            self.name,
            orjson.loads(item).get("id"),
            batch.id,
        )
