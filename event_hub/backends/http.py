"""The base of backends that deliver over HTTP: one session, timeouts, status → retry or not.

A concrete HTTP backend builds its payload in ``transform``/``send`` and posts
it with :meth:`HttpBackend.post`; everything about the connection and the
answer is here:

* one ``requests`` session per backend and process (connections are reused;
  a forked worker child opens its own, never the parent's sockets);
* a timeout on every request (``timeout`` option, seconds);
* the status: 2xx is delivered; 408, 410, 429, 460 and 5xx except 501 and 505
  are retryable (the classes segment-analytics-python retries), with the
  answer's ``Retry-After`` (seconds or an HTTP date) as the least delay of the
  next attempt; any other status is permanent and dead-letters the batch with
  the start of the answer's body as the reason;
* connection errors and timeouts are retryable.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from event_hub.backends.base import Backend
from event_hub.exceptions import DeliveryError, PermanentDeliveryError, RetryableDeliveryError

#: Statuses worth retrying besides 5xx (request timeout, gone, rate limited, Segment's 460).
RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 410, 429, 460})
#: 5xx statuses that retrying will not fix (not implemented, HTTP version not supported).
PERMANENT_SERVER_STATUSES: frozenset[int] = frozenset({501, 505})
#: Characters of an error answer's body kept in the dead letter's reason.
REASON_CHARACTERS = 500


def is_retryable_status(status: int) -> bool:
    """Whether an answer with ``status`` is worth another attempt later."""
    if status in RETRYABLE_STATUSES:
        return True
    return 500 <= status < 600 and status not in PERMANENT_SERVER_STATUSES


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header value in seconds from now (``None`` when absent or unreadable)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def status_error(
    backend: str, status: int, body: str = "", retry_after: float | None = None
) -> DeliveryError:
    """The delivery error an HTTP answer with ``status`` means."""
    message = f"{backend}: HTTP {status}: {body[:REASON_CHARACTERS]}".rstrip(": ")
    if is_retryable_status(status):
        return RetryableDeliveryError(message, retry_after=retry_after)
    return PermanentDeliveryError(message)


class HttpBackend(Backend):
    """Base class of backends whose destination is an HTTP endpoint."""

    retryable: ClassVar[tuple[type[BaseException], ...]] = (
        *Backend.retryable,
        requests.ConnectionError,
        requests.Timeout,
    )

    def __init__(self, name: str, *, timeout: float = 10.0) -> None:
        super().__init__(name)
        self.timeout = timeout
        self._session: requests.Session | None = None
        self._pid = 0

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        timeout = options.get("timeout", 10.0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            return ["OPTIONS['timeout'] must be a positive number of seconds"]
        return []

    @property
    def session(self) -> requests.Session:
        """This process's session (a forked child makes its own)."""
        if self._session is None or self._pid != os.getpid():
            self._session = requests.Session()
            self._pid = os.getpid()
        return self._session

    def post(self, url: str, body: bytes, headers: Mapping[str, str], auth: Any = None) -> requests.Response:
        """POST ``body``; return the 2xx answer, raise the :class:`DeliveryError` any other means."""
        response = self.session.post(url, data=body, headers=dict(headers), auth=auth, timeout=self.timeout)
        if response.status_code >= 300:
            raise status_error(
                self.name,
                response.status_code,
                self.error_text(response),
                retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response

    def error_text(self, response: requests.Response) -> str:
        """What an error answer says, for the dead letter's reason (here: the start of its body)."""
        return response.text

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
