"""Hand-off: a finished batch goes to the broker, or to the outbox when it can't.

``celery`` mode publishes one message per batch. If the broker refuses, the
batch is parked in the outbox and, for ``BROKER_COOLDOWN_SECONDS``, further
batches go straight to the outbox instead of each waiting on a dead broker.
With ``HANDOFF = "spool"`` the batch is appended to the process's spool file
instead, and a thread publishes it (:mod:`event_hub.delivery.spool`); when the
spool cannot be written it takes the path above.

``sync`` mode delivers in this process; a retryable failure parks the batch
with a backoff delay, a permanent one dead-letters it.

:func:`hand_off` never raises: the caller's request must not fail because of
delivery. When even the outbox refuses a batch, the whole payload is logged at
CRITICAL level so it can be recovered from the logs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import attrs

from event_hub.conf import hub_settings, on_reload
from event_hub.delivery import outbox, spool
from event_hub.delivery.attempt import backoff_seconds, settle, try_deliver
from event_hub.delivery.batch import Batch
from event_hub.exceptions import BrokerUnavailableError, HandOffError

logger = logging.getLogger(__name__)


@attrs.frozen
class Forwarded:
    """What became of a batch sent on once.

    ``kind`` is ``sent`` (published), ``delivered``, ``dead`` (dead-lettered),
    ``retried`` (failed retryably: retry after ``delay``) or ``failed`` (broker
    unavailable).
    """

    kind: str
    attempts: int
    error: str = ""
    delay: float = 0.0


_REDIS_SCHEMES = frozenset({"redis", "rediss", "sentinel", "socket", "unix"})
_AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})


def publish_connection(app: Any) -> Any:
    """A broker connection of ``app`` for hand-off publishes: one connect attempt, short socket timeouts.

    Celery's own pooled connection retries a refused connect for
    ``broker_connection_timeout`` (4 s by default) and waits forever on a broker
    that accepts connections but does not answer. Timeouts the user set in
    ``broker_transport_options`` are kept.
    """
    url = app.conf.broker_write_url or ""
    scheme = url.split("://", 1)[0].split("+", 1)[-1].lower()
    configured = app.conf.broker_transport_options or {}
    options: dict[str, Any] = {"max_retries": 0, "interval_start": 0}
    names: tuple[str, ...]
    if scheme in _REDIS_SCHEMES:
        names = ("socket_connect_timeout", "socket_timeout")
    elif scheme in _AMQP_SCHEMES:
        names = ("read_timeout", "write_timeout")
    else:
        names = ()
    timeout = hub_settings.BROKER_PUBLISH_TIMEOUT_SECONDS
    for name in names:
        options[name] = configured.get(name, timeout)
    return app.connection_for_write(connect_timeout=timeout, transport_options=options)


class _Broker:
    """Publishes batches on a connection of its own; remembers a refused publish for a while.

    Publishes of one process go through one connection, one at a time: while
    one thread finds out that the broker is down, the others wait (at most
    three times ``BROKER_PUBLISH_TIMEOUT_SECONDS``) and then go straight to the outbox.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._connection_key: tuple[Any, str] | None = None
        self.down_until = 0.0

    def publish(self, batch: Batch, retries: int) -> None:
        self._check_cooldown()
        from event_hub.delivery.tasks import deliver_batch

        options = {"queue": hub_settings.CELERY_QUEUE} if hub_settings.CELERY_QUEUE else {}
        if not self._lock.acquire(timeout=3 * hub_settings.BROKER_PUBLISH_TIMEOUT_SECONDS):
            raise BrokerUnavailableError("another thread is still waiting on the broker")
        try:
            self._check_cooldown()
            try:
                deliver_batch.apply_async(
                    args=(batch.backend, batch.wire(hub_settings.BROKER_COMPRESSION), batch.id),
                    retries=retries,
                    retry=False,
                    connection=self._connection_for(deliver_batch.app),
                    **options,
                )
            except Exception as exc:  # any publish failure means: park the batch
                self._drop_connection()
                self.down_until = time.monotonic() + hub_settings.BROKER_COOLDOWN_SECONDS
                raise BrokerUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._lock.release()

    def _check_cooldown(self) -> None:
        if time.monotonic() < self.down_until:
            raise BrokerUnavailableError("the broker refused a publish moments ago")

    def _connection_for(self, app: Any) -> Any:
        key = (app, str(app.conf.broker_write_url))
        if self._connection is None or self._connection_key != key:
            self._drop_connection()
            self._connection, self._connection_key = publish_connection(app), key
        return self._connection

    def _drop_connection(self) -> None:
        connection, self._connection, self._connection_key = self._connection, None, None
        if connection is not None:
            connection.collect()  # release without network I/O: the broker may be hanging

    def reset(self) -> None:
        """Forget a refusal: the next batch tries the broker again."""
        self.down_until = 0.0

    def close(self) -> None:
        """Close the publishing connection (a new one is opened on the next publish)."""
        with self._lock:
            self._drop_connection()

    def after_fork(self) -> None:
        """A forked child opens its own connection; the parent's socket is not touched."""
        self._lock = threading.Lock()
        self._connection = self._connection_key = None


broker = _Broker()
on_reload(broker.reset)
os.register_at_fork(after_in_child=broker.after_fork)


def forward(batch: Batch, *, attempts: int) -> Forwarded:
    """Send ``batch`` one step on, by the configured ``DELIVERY`` mode."""
    if hub_settings.DELIVERY == "sync":
        outcome = try_deliver(batch)
        made = attempts + 1
        if settle(batch, outcome, attempts_made=made):
            return Forwarded("retried", made, error=str(outcome.error), delay=backoff_seconds(attempts))
        return Forwarded("dead" if outcome.error else "delivered", made)
    try:
        broker.publish(batch, retries=attempts)
    except BrokerUnavailableError as exc:
        return Forwarded("failed", attempts, error=str(exc))
    return Forwarded("sent", attempts)


def _spooled(batch: Batch) -> bool:
    """Append ``batch`` to the spool; ``False`` when it must go direct (the spool failed and said why)."""
    try:
        return spool.append(batch)
    except Exception:
        logger.exception("unexpected error spooling batch %s; publishing it directly", batch.id)
        return False


def hand_off(batch: Batch) -> None:
    """Send a finished batch on, parking it when it cannot go now. Never raises."""
    try:
        if hub_settings.HANDOFF == "spool" and hub_settings.DELIVERY == "celery" and _spooled(batch):
            return
        outcome = forward(batch, attempts=0)
        if outcome.kind in ("retried", "failed"):
            outbox.park(batch, error=outcome.error, attempts=outcome.attempts, delay=outcome.delay)
    except HandOffError as exc:
        logger.critical("%s; payload follows:\n%s", exc, batch.payload)
    except Exception:
        logger.critical(
            "unexpected error handing off batch %s to %s; payload follows:\n%s",
            batch.id, batch.backend, batch.payload, exc_info=True,
        )
