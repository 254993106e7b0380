"""Publishing a batch to the broker: one message for the ``event_hub.deliver_batch`` task.

Publishes of one process go through one connection of their own, with one
connect attempt and short socket timeouts; a refused publish opens a cooldown
(``BROKER_COOLDOWN_SECONDS``) during which publishes fail at once instead of
each waiting on a dead broker. Nothing here parks or retries: the callers
(hand-off, the spool, the outbox) decide what a refusal means.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from celery import current_app

from event_hub.conf import hub_settings, on_reload
from event_hub.delivery.batch import Batch
from event_hub.exceptions import BrokerUnavailableError

#: The name of the delivery task (event_hub.delivery.tasks.deliver_batch).
DELIVER_TASK = "event_hub.deliver_batch"

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
        self._connection_app: Any = None
        self.down_until = 0.0

    def publish(self, batch: Batch, retries: int) -> None:
        self._check_cooldown()
        app = current_app._get_current_object()
        options = {"queue": hub_settings.CELERY_QUEUE} if hub_settings.CELERY_QUEUE else {}
        if not self._lock.acquire(timeout=3 * hub_settings.BROKER_PUBLISH_TIMEOUT_SECONDS):
            raise BrokerUnavailableError("another thread is still waiting on the broker")
        try:
            self._check_cooldown()
            try:
                # By name: the task module sits above this one (it imports the outbox and the spool).
                payload = batch.wire(hub_settings.BROKER_COMPRESSION)
                app.send_task(
                    DELIVER_TASK,
                    args=(batch.backend, payload, batch.id),
                    # What monitoring shows (Flower, the worker's log) instead of a cut-off repr of
                    # the payload, which Celery would otherwise compute on every publish.
                    argsrepr=f"({batch.backend!r}, <{len(batch)} events, {len(payload)} B>, {batch.id!r})",
                    kwargsrepr="{}",
                    retries=retries,
                    retry=False,
                    connection=self._connection_for(app),
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
        # Per app (its broker settings are read once, when the connection opens: reading the write URL
        # from Celery's configuration cost ~20 µs per publish).
        if self._connection is None or self._connection_app is not app:
            self._drop_connection()
            self._connection, self._connection_app = publish_connection(app), app
        return self._connection

    def _drop_connection(self) -> None:
        connection, self._connection, self._connection_app = self._connection, None, None
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
        self._connection = self._connection_app = None


broker = _Broker()
on_reload(broker.reset)
os.register_at_fork(after_in_child=broker.after_fork)


