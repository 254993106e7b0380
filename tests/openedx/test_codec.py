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

    @pytest.mark.parametrize("signal", AVRO_SIGNALS, ids=lambda s: s.event_type)
    def test_compiled_writer_writes_fastavros_bytes(self, signal: object) -> None:
        """Every bus signal's schema compiles, and its writer gives the general path's bytes: for
        samples of several seeds and with every optional field left empty."""
        assert codec._compiled(signal) is not None
        for seed in (1, 7, 300):
            data = samples.sample_data(signal, seed=seed)
            assert codec.to_avro(signal, data) == codec._to_avro_generally(signal, data)
        emptied = {key: _without_optionals(value) for key, value in samples.sample_data(signal).items()}
        assert codec.to_avro(signal, emptied) == codec._to_avro_generally(signal, emptied)

    @pytest.mark.parametrize("build", [falsy_enrollment, falsy_thread])
    def test_compiled_writer_keeps_falsy_values(self, build: object) -> None:
        data = build()
        signal = COURSE_ENROLLMENT_CREATED if "enrollment" in data else FORUM_THREAD_CREATED
        assert codec.to_avro(signal, data) == codec._to_avro_generally(signal, data)

    def test_a_value_of_another_type_goes_the_general_way(self) -> None:
        """A value the schema does not expect gets fastavro's answer, not the compiled writer's guess."""
        data = samples.sample_data(COURSE_ENROLLMENT_CREATED)
        wrong = attrs.evolve(data["enrollment"], mode=5)
        with pytest.raises(codec.CodecError):
            codec.to_avro(COURSE_ENROLLMENT_CREATED, {"enrollment": wrong})
        big = attrs.evolve(data["enrollment"], user=attrs.evolve(data["enrollment"].user, id=-(2**40) - 3))
        assert codec.from_avro(
            COURSE_ENROLLMENT_CREATED, codec.to_avro(COURSE_ENROLLMENT_CREATED, {"enrollment": big})
        ) == {"enrollment": big}

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


def _without_optionals(value: object) -> object:
    """``value`` with every field that may be ``None`` set to ``None``, and lists and dicts emptied."""
    if attrs.has(type(value)):
        changes = {}
        for field in attrs.fields(type(value)):
            current = getattr(value, field.name)
            if field.default is None:
                changes[field.name] = None
            elif isinstance(current, (list, dict)):
                changes[field.name] = type(current)()
            else:
                changes[field.name] = _without_optionals(current)
        return attrs.evolve(value, **changes)
    return value
