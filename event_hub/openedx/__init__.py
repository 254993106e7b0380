"""Open edX signals (openedx-events) in the hub: sending, bridging to tracking events, the event bus.

* :mod:`event_hub.openedx.signals`: send any signal by its event type (the façade).
* :mod:`event_hub.openedx.codec`: signal data to and from Avro (the bus's wire format) and JSON.
* :mod:`event_hub.openedx.bridge`: received signals become tracking events.
* :mod:`event_hub.openedx.wire`: a stream entry of the Redis event bus and its metadata.
* :mod:`event_hub.openedx.producer` and :mod:`event_hub.openedx.consumer`: the event bus on Redis Streams.
"""
