"""The façade: every signal of openedx-events sent through the hub arrives as sent."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED

from event_hub.openedx import codec, samples, signals

SEED_LIST = Path("/work/shared/seeds/openedx-events-list.txt")


def seed_event_types() -> list[str]:
    """The event types of the published list of Open edX events (the seed)."""
    text = SEED_LIST.read_text()
    return re.findall(r"^(org\.openedx\.[^\s#]+)#$", text, flags=re.MULTILINE)


def comparable(value: Any) -> Any:
    """``value`` with binary streams replaced by their content (BytesIO has no value equality)."""
    if isinstance(value, io.IOBase):
        return codec.jsonable(value)
    if attrs.has(type(value)):
        return (type(value), {f.name: comparable(getattr(value, f.name)) for f in attrs.fields(type(value))})
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


class TestCoverage:
    def test_every_signal_is_sent_and_arrives_equal(self, receiver: Any) -> None:
        """All signals of the installed openedx-events (75 in 11.2.0) reach a receiver with the data sent."""
        every = signals.all_signals()
        received = receiver(*every)
        sent = {}
        for number, signal in enumerate(every):
            data = samples.sample_data(signal, seed=number + 1)
            sent[signal.event_type] = data
            signals.send_signal(signal.event_type, **data)
        assert len(every) == 75
        assert len(received.calls) == len(every)
        for call in received.calls:
            event_type = call["signal"].event_type
            got = {key: call[key] for key in call["signal"].init_data}
            assert comparable(got) == comparable(sent[event_type]), event_type
            assert call["metadata"].event_type == event_type

    def test_the_seed_list_is_covered(self) -> None:
        """The 63 event types of the published list are all signals here (the grade-summary one by alias)."""
        seeds = seed_event_types()
        assert len(seeds) == 63
        known = {signal.event_type for signal in signals.all_signals()}
        assert [name for name in seeds if signals.canonical(name) not in known] == []
        assert "org.openedx.learning.course.persistent_grade.summary.v1" in seeds

    def test_alias_sends_the_library_signal(self, receiver: Any) -> None:
        """The seed's grade-summary name sends the library's persistent_grade_summary.changed signal."""
        signal = signals.get_signal("org.openedx.learning.course.persistent_grade.summary.v1")
        assert signal.event_type == "org.openedx.learning.course.persistent_grade_summary.changed.v1"
        received = receiver(signal)
        signals.send_signal(
            "org.openedx.learning.course.persistent_grade.summary.v1", **samples.sample_data(signal)
        )
        assert len(received.calls) == 1


class TestRefusals:
    def test_falsy_argument_is_a_clear_error(self) -> None:
        """openedx-events refuses a falsy argument; the hub says which argument and why."""
        with pytest.raises(signals.SignalRefused, match=r"argument 'enrollment' is None: .*falsy"):
            signals.send_signal(COURSE_ENROLLMENT_CREATED.event_type, enrollment=None)

    def test_missing_argument_is_named(self) -> None:
        """A missing argument is reported with the arguments the signal expects."""
        with pytest.raises(signals.SignalRefused, match=r"missing \['enrollment'\]"):
            signals.send_signal(COURSE_ENROLLMENT_CREATED.event_type)

    def test_wrong_type_is_named(self) -> None:
        """An argument of the wrong class is reported with the class expected."""
        with pytest.raises(signals.SignalRefused, match="must be a CourseEnrollmentData, not str"):
            signals.send_signal(COURSE_ENROLLMENT_CREATED.event_type, enrollment="x")

    def test_unknown_event_type(self) -> None:
        """An event type no signal has raises UnknownSignal."""
        with pytest.raises(signals.UnknownSignal, match="no Open edX signal"):
            signals.get_signal("org.openedx.nothing.v1")
