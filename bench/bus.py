"""Event bus throughput on local Redis: the hub's producer and consumer beside edx-event-bus-redis.

    python bench/bus.py [--events N] [--redis redis://127.0.0.1:6379/13]

The same enrollment signals (distinct learners) are produced to one stream and
consumed back with one no-op receiver, by upstream (``RedisEventProducer.send``
per event; ``RedisEventConsumer`` reading one entry at a time) and by the hub
(``HubEventBusProducer.send`` inside a unit of work, delivered in-process with
``DELIVERY="sync"``: pipelined ``XADD`` per batch of ``BATCH_MAX_EVENTS``; the
consumer with retries, dedupe and acknowledgement on). A rate counts until the
entries are in Redis (produce) or every receiver call has returned and the
entries are acknowledged (consume). Goals: produce at least 4x, consume at least 3x upstream,
and the hub's produce at least 20,000 events/s (issue 14). Beside each rate: events per
CPU-second of this process (``time.process_time``), which a shared host's load moves less.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import _common  # noqa: F401 - puts the repository root on sys.path
from _common import print_header, print_table, setup_django

GOALS = {"produce": 4.0, "consume": 3.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    setup_django()

    import redis
    from django.test import override_settings
    from edx_event_bus_redis.internal.consumer import RedisEventConsumer
    from edx_event_bus_redis.internal.producer import create_producer as upstream_producer
    from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED

    from event_hub.delivery.unit_of_work import unit_of_work
    from event_hub.openedx import connection, samples
    from event_hub.openedx.consumer import RedisBusConsumer
    from event_hub.openedx.producer import create_producer

    signal = COURSE_ENROLLMENT_CREATED
    events = [
        (samples.sample_data(signal, seed=n + 1), signal.generate_signal_metadata())
        for n in range(args.events)
    ]
    client = redis.Redis.from_url(args.redis)
    hub = {
        "DELIVERY": "sync",
        "BACKENDS": {
            "openedx_bus": {"ENGINE": "event_hub.backends.openedx_bus.OpenedxBusBackend", "PII": True}
        },
        "OPENEDX_BUS_REDIS_URL": args.redis,
        "BATCH_MAX_EVENTS": 100,
        "OPENEDX_BUS_CONSUMER_BLOCK_SECONDS": 0.01,
    }
    rates: dict[str, dict[str, float]] = {"produce": {}, "consume": {}}
    #: Events per CPU-second of this process (less sensitive to a shared host's load than the rate).
    cpu: dict[str, dict[str, float]] = {"produce": {}, "consume": {}}
    count = 0

    def receiver(sender: Any, **kwargs: Any) -> None:
        nonlocal count
        count += 1
        if upstream_consumer is not None and count == len(events):
            upstream_consumer._shut_down()

    signal.connect(receiver, weak=False)
    upstream_consumer: Any = None
    with override_settings(
        EVENT_BUS_REDIS_CONNECTION_URL=args.redis, EVENT_BUS_TOPIC_PREFIX="bench", EVENT_HUB=hub
    ):
        connection.client.cache_clear()
        for side in ("upstream", "event_hub"):
            client.flushdb()
            client.xgroup_create("bench-learning", "g", id="0", mkstream=True)
            producer = upstream_producer() if side == "upstream" else create_producer()
            started, cpu_started = time.perf_counter(), time.process_time()
            if side == "upstream":
                for data, metadata in events:
                    producer.send(
                        signal=signal,
                        topic="learning",
                        event_key_field="x",
                        event_data=data,
                        event_metadata=metadata,
                    )
            else:
                with unit_of_work():
                    for data, metadata in events:
                        producer.send(
                            signal=signal,
                            topic="learning",
                            event_key_field="x",
                            event_data=data,
                            event_metadata=metadata,
                        )
            rates["produce"][side] = len(events) / (time.perf_counter() - started)
            cpu["produce"][side] = len(events) / (time.process_time() - cpu_started)
            assert client.xlen("bench-learning") == len(events), (
                f"{side} produced {client.xlen('bench-learning')}"
            )

            count = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            if side == "upstream":
                upstream_consumer = RedisEventConsumer("learning", "g", "c", check_backlog=True)
                upstream_consumer.consume_indefinitely()
                upstream_consumer = None
            else:
                RedisBusConsumer("learning", "g", "c").run(until_idle=True)
            rates["consume"][side] = len(events) / (time.perf_counter() - started)
            cpu["consume"][side] = len(events) / (time.process_time() - cpu_started)
            assert count == len(events), f"{side} consumed {count}"
            assert client.xpending("bench-learning", "g")["pending"] == 0
        client.flushdb()
    signal.disconnect(receiver)

    print_header(f"Event bus on local Redis: {len(events)} enrollment signals", timing=False)
    rows = []
    for what in ("produce", "consume"):
        ratio = rates[what]["event_hub"] / rates[what]["upstream"]
        rows.append(
            [
                what,
                f"{rates[what]['upstream']:,.0f}/s",
                f"{rates[what]['event_hub']:,.0f}/s",
                f"{ratio:.1f}x",
                f">= {GOALS[what]:.0f}x",
                "met" if ratio >= GOALS[what] else "NOT met",
                f"{cpu[what]['upstream']:,.0f}",
                f"{cpu[what]['event_hub']:,.0f}",
            ]
        )
    print_table(
        ["", "edx-event-bus-redis", "event_hub", "ratio", "goal", "", "upstream /CPU-s", "event_hub /CPU-s"],
        rows,
    )
    rate = rates["produce"]["event_hub"]
    verdict = "met" if rate >= 20_000 else "MISSED"
    print(f"event_hub produce {rate:,.0f} events/s: goal >= 20,000 per process {verdict}")


if __name__ == "__main__":
    main()
