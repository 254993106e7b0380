"""The backend base class and registry: options, error classification, per-event rejection."""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_hub.backends import get_backend
from event_hub.backends.base import Backend
from event_hub.backends.console import ConsoleBackend
from event_hub.backends.jsonlog import JsonLinesBackend
from event_hub.backends.memory import MemoryBackend
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope
from event_hub.exceptions import (
    ConfigurationError,
    DeliveryError,
    EventRejected,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from tests.support_backends import FlakyBackend, as_batch, wire_line

GOOD = wire_line("a")


class Failing(Backend):
    """Raises whatever it was given from ``send``."""

    def __init__(self, name: str, *, error: BaseException | None = None) -> None:
        super().__init__(name)
        self.error = error

    def send(self, items: Sequence[Any], batch: Batch) -> None:
        if self.error is not None:
            raise self.error


class Picky(Backend):
    """Rejects events whose id is ``bad`` with EventRejected; collects the rest."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.sent: list[Any] = []

    def transform(self, envelope: Envelope) -> Any:
        if envelope.id == "bad":
            raise EventRejected("id 'bad' is not allowed")
        return envelope

    def send(self, items: Sequence[Any], batch: Batch) -> None:
        self.sent.extend(items)


class TestOptions:
    def test_unknown_option_of_a_backend_without_init(self) -> None:
        """A backend that declares no options refuses any (a typo in OPTIONS is an error, not ignored)."""
        with pytest.raises(TypeError, match="unknown option"):
            Failing.__mro__[1]("m", colour="blue")

    def test_unknown_option_of_a_backend_with_init(self) -> None:
        """A backend with keyword options refuses others."""
        with pytest.raises(TypeError, match="stream_name"):
            ConsoleBackend("c", stream_name="stdout")  # type: ignore[call-arg]

    def test_registry_turns_bad_options_into_a_configuration_error(self, hub: Callable[..., Any]) -> None:
        """get_backend reports unknown OPTIONS as ConfigurationError naming the backend."""
        hub(BACKENDS={"mem": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "OPTIONS": {"size": 3}}})
        with pytest.raises(ConfigurationError, match=r"'mem'.*size"):
            get_backend("mem")

    def test_subclass_may_pass_its_parents_options_on(self, tmp_path: Path) -> None:
        """A subclass of a concrete backend builds though its parent passes on options it does not declare."""
        backend = FlakyBackend("f", path=str(tmp_path / "f.log"), counter=str(tmp_path / "n"), failures=0)
        assert backend.max_event_bytes == 65536
        assert FlakyBackend.option_names()[:4] == ("path", "counter", "failures", "max_event_bytes")
        assert set(JsonLinesBackend.option_names()) < set(FlakyBackend.option_names())

    def test_option_names_are_the_keyword_parameters(self) -> None:
        """option_names lists the keyword-only parameters, for the system checks."""
        assert JsonLinesBackend.option_names() == (
            "path", "max_event_bytes", "oversize", "fsync", "format", "extra_fields", "deduplicate"
        )
        assert MemoryBackend.option_names() == ("format", "extra_fields")
        assert Picky.option_names() == ()

    def test_engine_must_be_a_backend(self, hub: Callable[..., Any]) -> None:
        """An ENGINE that is not a Backend subclass, or cannot be imported, is a ConfigurationError."""
        hub(BACKENDS={"x": {"ENGINE": "collections.OrderedDict"}, "y": {"ENGINE": "no.such.Backend"}})
        with pytest.raises(ConfigurationError, match="not a subclass"):
            get_backend("x")
        with pytest.raises(ConfigurationError, match="cannot import"):
            get_backend("y")

    def test_disabled_or_missing_backend_is_not_built(self, hub: Callable[..., Any]) -> None:
        """Only enabled backends are built."""
        hub(BACKENDS={"off": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "ENABLED": False}})
        with pytest.raises(ConfigurationError, match="no enabled backend named 'off'"):
            get_backend("off")


class TestRegistry:
    def test_backend_is_built_once_and_rebuilt_when_settings_change(
        self, hub: Callable[..., Any], tmp_path: Path
    ) -> None:
        """get_backend caches the instance; changing EVENT_HUB closes it and builds a new one."""
        hub(
            BACKENDS={
                "log": {
                    "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
                    "OPTIONS": {"path": str(tmp_path / "a.log")},
                }
            }
        )
        first = get_backend("log")
        assert get_backend("log") is first
        first.deliver(as_batch([GOOD]))
        assert first._fd is not None  # type: ignore[attr-defined]
        hub(
            BACKENDS={
                "log": {
                    "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
                    "OPTIONS": {"path": str(tmp_path / "b.log")},
                }
            }
        )
        second = get_backend("log")
        assert second is not first
        assert first._fd is None  # type: ignore[attr-defined]
        assert str(second.path) == str(tmp_path / "b.log")  # type: ignore[attr-defined]


class TestClassify:
    @pytest.mark.parametrize(
        "error",
        [OSError(errno.ENOSPC, "disk full"), ConnectionError("reset"), TimeoutError("slow")],
    )
    def test_os_errors_are_retryable(self, error: Exception) -> None:
        """OSError and its kin (disk full, connection reset, timeout) are worth retrying."""
        with pytest.raises(RetryableDeliveryError) as caught:
            Failing("f", error=error).deliver(as_batch([GOOD]))
        assert caught.value.__cause__ is error
        assert type(error).__name__ in str(caught.value)

    @pytest.mark.parametrize("error", [ValueError("bad payload"), KeyError("x"), RuntimeError("bug")])
    def test_other_errors_are_permanent(self, error: Exception) -> None:
        """ValueError and anything else not listed as retryable is permanent."""
        with pytest.raises(PermanentDeliveryError) as caught:
            Failing("f", error=error).deliver(as_batch([GOOD]))
        assert caught.value.__cause__ is error

    def test_delivery_errors_pass_through(self) -> None:
        """A backend raising a DeliveryError itself chooses its class."""
        error = RetryableDeliveryError("rate limited")
        with pytest.raises(DeliveryError) as caught:
            Failing("f", error=error).deliver(as_batch([GOOD]))
        assert caught.value is error

    def test_retryable_types_can_be_extended(self) -> None:
        """A backend lists further retryable types in ``retryable``."""

        class Lenient(Failing):
            retryable = (*Backend.retryable, LookupError)

        with pytest.raises(RetryableDeliveryError):
            Lenient("l", error=KeyError("k")).deliver(as_batch([GOOD]))


class TestRejection:
    def test_unparseable_line_is_rejected_alone(self) -> None:
        """A line that is not JSON is rejected; the other events are still sent."""
        backend = Picky("p")
        result = backend.deliver(as_batch([GOOD, b"{not json", GOOD]))
        assert result.delivered == 2
        [rejected] = result.rejected
        assert rejected.line == b"{not json"
        assert rejected.reason.startswith("cannot transform")
        assert len(backend.sent) == 2

    def test_event_rejected_sets_one_event_aside(self) -> None:
        """EventRejected from transform sets that event aside with its reason."""
        backend = Picky("p")
        result = backend.deliver(as_batch([GOOD, wire_line("bad")]))
        assert [r.reason for r in result.rejected] == ["id 'bad' is not allowed"]
        assert [item.id for item in backend.sent] == ["a"]

    def test_line_that_is_not_an_envelope_is_rejected_alone(self) -> None:
        """JSON that lacks the envelope's fields is set aside with the missing member named."""
        backend = Picky("p")
        result = backend.deliver(as_batch([GOOD, orjson.dumps({"id": "x"})]))
        assert [r.reason for r in result.rejected] == ["cannot transform: KeyError: 'name'"]
        assert len(backend.sent) == 1

    def test_nothing_is_sent_when_every_event_is_rejected(self) -> None:
        """A batch with no serializable event makes no send call."""
        backend = Failing("f", error=AssertionError("send must not be called"))
        result = backend.deliver(as_batch([b"nope", b"[also"]))
        assert (result.delivered, len(result.rejected)) == (0, 2)


class TestConsoleAndMemory:
    def test_console_prints_json_lines(self, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
        """The console backend writes each event as one tracking-log line on stdout."""
        ConsoleBackend("c").deliver(as_batch([GOOD, GOOD]))
        out = capfdbinary.readouterr().out.splitlines()
        assert len(out) == 2
        assert orjson.loads(out[0])["name"] == "test.event"
        assert "id" not in orjson.loads(out[0])

    def test_console_can_use_stderr(self, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
        """stream="stderr" writes to standard error."""
        ConsoleBackend("c", stream="stderr").deliver(as_batch([GOOD]))
        assert orjson.loads(capfdbinary.readouterr().err)["name"] == "test.event"

    def test_console_checks_its_stream(self) -> None:
        """An unknown stream name is reported by check_options."""
        assert ConsoleBackend.check_options({"stream": "printer"})

    def test_memory_keeps_events_per_backend_name(self) -> None:
        """Memory backends keep decoded events by name until cleared."""
        from event_hub.backends import memory

        MemoryBackend("one").deliver(as_batch([GOOD]))
        MemoryBackend("two").deliver(as_batch([GOOD, GOOD]))
        assert (len(memory.events("one")), len(memory.events("two"))) == (1, 2)
        assert memory.events("one")[0]["id"] == "a"  # the whole envelope, id included
        memory.clear("one")
        assert (memory.events("one"), len(memory.events("two"))) == ([], 2)
