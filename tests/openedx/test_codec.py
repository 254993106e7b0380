"""The wire encodings: Avro as openedx-events writes it, falsy values kept, JSON for off-bus signals."""

from __future__ import annotations

import io

import attrs
import pytest
from openedx_events.content_authoring.signals import COURSE_CERTIFICATE_CONFIG_CHANGED
from openedx_events.event_bus.avro.deserializer import deserialize_bytes_to_event_data
from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED, FORUM_THREAD_CREATED

from event_hub.openedx import codec, samples, signals
from tests.openedx.test_signals import comparable

AVRO_SIGNALS = [s for s in signals.all_signals() if s.event_type not in codec.JSON_SIGNALS]


def falsy_enrollment() -> dict[str, object]:
    data = samples.sample_data(COURSE_ENROLLMENT_CREATED)
    enrollment = attrs.evolve(data["enrollment"], is_active=False, mode="")
    user = attrs.evolve(enrollment.user, id=0, is_active=False)
    return {"enrollment": attrs.evolve(enrollment, user=user)}


def falsy_thread() -> dict[str, object]:
    thread = samples.sample_data(FORUM_THREAD_CREATED)["thread"]
    thread = attrs.evolve(
        thread, anonymous=False, group_id=0, title="", user_course_roles=[], options={}, team_id=None
    )
    return {"thread": thread}


class TestAvro:
    @pytest.mark.parametrize("signal", AVRO_SIGNALS, ids=lambda s: s.event_type)
    def test_same_bytes_as_openedx_events(self, signal: object) -> None:
        """Every bus signal encodes to exactly the bytes openedx-events' own serializer writes, and back."""
        data = samples.sample_data(signal)
        payload = codec.to_avro(signal, data)
        assert payload == serialize_event_data_to_bytes(data, signal)
        assert codec.from_avro(signal, payload) == data

    @pytest.mark.parametrize("build", [falsy_enrollment, falsy_thread])
    def test_falsy_values_arrive_as_sent(self, build: object) -> None:
        """False, 0, "", [] and {} (and None where optional) come back as sent."""
        data = build()
        signal = COURSE_ENROLLMENT_CREATED if "enrollment" in data else FORUM_THREAD_CREATED
        assert codec.from_avro(signal, codec.to_avro(signal, data)) == data

    def test_openedx_events_loses_falsy_values(self) -> None:
        """The upstream gap: its deserializer turns a falsy value of a defaulted field into the default."""
        data = falsy_thread()
        upstream = deserialize_bytes_to_event_data(
            serialize_event_data_to_bytes(data, FORUM_THREAD_CREATED), FORUM_THREAD_CREATED
        )
        assert upstream != data
        assert upstream["thread"].anonymous is None


class TestJsonSignals:
    @pytest.mark.parametrize("event_type", sorted(codec.JSON_SIGNALS))
    def test_off_bus_signals_round_trip(self, event_type: str) -> None:
        """The three signals openedx-events keeps off the bus travel as JSON and arrive equal."""
        signal = signals.get_signal(event_type)
        data = samples.sample_data(signal)
        payload, content_type = codec.encode(signal, data)
        assert content_type == codec.JSON_CONTENT_TYPE
        assert comparable(codec.decode(signal, payload, content_type)) == comparable(data)

    def test_binary_field_is_base64(self) -> None:
        """The signatory image (BinaryIO) is carried as base64 and read back as the same bytes."""
        data = samples.sample_data(COURSE_CERTIFICATE_CONFIG_CHANGED)
        image = data["certificate_config"].signatories[0].image
        payload, content_type = codec.encode(COURSE_CERTIFICATE_CONFIG_CHANGED, data)
        back = codec.decode(COURSE_CERTIFICATE_CONFIG_CHANGED, payload, content_type)
        assert isinstance(back["certificate_config"].signatories[0].image, io.BytesIO)
        assert back["certificate_config"].signatories[0].image.getvalue() == image.getvalue()

    def test_jsonable_keys_are_strings(self) -> None:
        """jsonable() writes keys as strings and opaque keys as text."""
        data = samples.sample_data(COURSE_ENROLLMENT_CREATED)
        value = codec.jsonable({1: data["enrollment"]})
        assert list(value) == ["1"]
        assert value["1"]["course"]["course_key"] == str(data["enrollment"].course.course_key)
