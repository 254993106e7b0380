"""The JSON-lines file backend: whole lines only, concurrent writers, logrotate, oversize events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from event_hub import wireline
from event_hub.backends.base import decode
from event_hub.backends.jsonlog import TRUNCATION_MARKER, JsonLinesBackend, truncate_line
from event_hub.delivery.batch import Batch
from event_hub.envelope import Envelope
from event_hub.exceptions import EventRejected, RetryableDeliveryError
from tests.conftest import ROOT
from tests.support_backends import as_batch, read_lines, wait_for, wire_line


def line(number: int, size: int = 0, **fields: object) -> bytes:
    """A rendered event line; ``size`` pads ``event.text`` to about that many bytes."""
    return wire_line(f"e{number}", {"n": number, "text": "x" * size, **fields})


def ids(raw_lines: list[bytes]) -> list[str]:
    """The event ids of lines written with ``extra_fields=["id"]``."""
    return [orjson.loads(raw)["id"] for raw in raw_lines]


@pytest.fixture(name="log")
def fixture_log(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "tracking.log"


@pytest.fixture(name="backend")
def fixture_backend(log: Path) -> JsonLinesBackend:
    return JsonLinesBackend("log", path=str(log), extra_fields=["id"])


class TestLines:
    def test_each_event_is_one_json_line(self, backend: JsonLinesBackend, log: Path) -> None:
        """A batch becomes one parseable line per event, in order, ending with a newline (folder created)."""
        lines = [line(n, text="with \n newline and \u2028 separator") for n in range(3)]
        result = backend.deliver(as_batch(lines))
        assert (result.delivered, result.rejected) == (3, ())
        data = log.read_bytes()
        assert data.endswith(b"\n")
        assert [orjson.loads(raw)["id"] for raw in data.splitlines()] == ["e0", "e1", "e2"]

    def test_batches_append(self, backend: JsonLinesBackend, log: Path) -> None:
        """A second batch is appended after the first, never overwriting it."""
        backend.deliver(as_batch([line(0)]))
        backend.deliver(as_batch([line(1), line(2)]))
        assert [orjson.loads(raw)["id"] for raw in read_lines(log)] == ["e0", "e1", "e2"]

    def test_a_trackers_line_is_copied_by_parts(self, log: Path, envelope: Envelope) -> None:
        """A line with its count is written from its parts (the renderer keeps them); others are decoded."""
        backend = JsonLinesBackend("log", path=str(log))
        assert backend.render_sections is not None
        backend.transform_line(line(0))  # no count: decoded whole, the parts renderer untouched
        assert backend.render_sections.request == b""
        tracker_line = wireline.encode(envelope)
        assert wireline.split(tracker_line) is not None
        assert backend.transform_line(tracker_line) == backend.transform_split_line(tracker_line)
        assert backend.render_sections.request.startswith(b',"username":')  # the parts path wrote it

    def test_fsync_option_writes_the_same(self, log: Path) -> None:
        """fsync=True still writes whole lines (and flushes them to disk)."""
        JsonLinesBackend("log", path=str(log), fsync=True, extra_fields=["id"]).deliver(as_batch([line(0)]))
        assert ids(read_lines(log)) == ["e0"]


WRITER = textwrap.dedent(
    """
    import os, sys, time, orjson
    from event_hub.backends.jsonlog import JsonLinesBackend
    from tests.support_backends import as_batch, wire_line
    path, writer, batches, per_batch, size, go = sys.argv[1:]
    backend = JsonLinesBackend("log", path=path)
    open(f"{go}.ready.{writer}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    for b in range(int(batches)):
        lines = [wire_line(f"{writer}-{b}-{n}",
                           {"writer": writer, "batch": b, "n": n, "pad": "x" * int(size)})
                 for n in range(int(per_batch))]
        backend.deliver(as_batch(lines))
    """
)


class TestConcurrentWriters:
    def test_processes_writing_at_once_never_interleave(self, log: Path, tmp_path: Path) -> None:
        """Four processes appending 9 KB lines at once: every line is whole, each batch stays contiguous."""
        go = tmp_path / "go"
        writers, batches, per_batch = 4, 40, 6
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WRITER,
                    str(log),
                    str(w),
                    str(batches),
                    str(per_batch),
                    "9000",
                    str(go),
                ],
                env=env,
            )
            for w in range(writers)
        ]
        # Start them together once every writer is up (imports done), so the appends really overlap.
        wait_for(lambda: len(list(tmp_path.glob("go.ready.*"))) == writers, what="every writer to start")
        go.touch()
        assert [process.wait(timeout=60) for process in processes] == [0] * writers
        records = [orjson.loads(raw) for raw in read_lines(log)]
        assert len(records) == writers * batches * per_batch
        # One write per batch under the lock: a batch's lines are never split by another writer's.
        runs = [(r["event"]["writer"], r["event"]["batch"]) for r in records]
        for start in range(0, len(runs), per_batch):
            chunk = runs[start : start + per_batch]
            assert len(set(chunk)) == 1, f"batch interleaved at line {start}: {chunk}"
            assert [r["event"]["n"] for r in records[start : start + per_batch]] == list(range(per_batch))


class TestLogrotate:
    def test_renamed_file_is_reopened_at_the_path(self, backend: JsonLinesBackend, log: Path) -> None:
        """After logrotate renames the file, the next batch goes to a new file at the configured path."""
        backend.deliver(as_batch([line(0)]))
        rotated = log.with_name("tracking.log.1")
        log.rename(rotated)
        backend.deliver(as_batch([line(1)]))
        assert ids(read_lines(rotated)) == ["e0"]
        assert ids(read_lines(log)) == ["e1"]

    def test_removed_file_is_recreated(self, backend: JsonLinesBackend, log: Path) -> None:
        """After the file is deleted, the next batch creates it again."""
        backend.deliver(as_batch([line(0)]))
        log.unlink()
        backend.deliver(as_batch([line(1)]))
        assert ids(read_lines(log)) == ["e1"]

    def test_copytruncate_writes_continue_at_the_new_end(self, backend: JsonLinesBackend, log: Path) -> None:
        """After copytruncate empties the file in place, writes start at offset 0: no hole, whole lines."""
        backend.deliver(as_batch([line(0, size=500), line(1, size=500)]))
        log.with_name("tracking.log.1").write_bytes(log.read_bytes())
        with open(log, "r+b") as handle:
            handle.truncate(0)
        backend.deliver(as_batch([line(2)]))
        data = log.read_bytes()
        assert data.endswith(b"\n")
        assert ids(data.splitlines()) == ["e2"]


class TestOversize:
    def test_dead_letter_policy_rejects_only_the_big_event(self, log: Path) -> None:
        """oversize="dead_letter": the big event is rejected (EventRejected) and the others are written."""
        backend = JsonLinesBackend("log", path=str(log), max_event_bytes=1024)
        big = line(1, size=2000)
        with pytest.raises(EventRejected, match="max_event_bytes=1024"):
            backend.transform(decode(big))
        result = backend.deliver(as_batch([line(0), big, line(2)]))
        assert result.delivered == 2
        assert [r.line for r in result.rejected] == [big]
        assert [orjson.loads(raw)["event"]["n"] for raw in read_lines(log)] == [0, 2]

    def test_a_line_exactly_at_the_limit_is_not_written(self, log: Path) -> None:
        """max_event_bytes bounds the line with its newline: a line of exactly max_event_bytes is too big."""
        backend = JsonLinesBackend("log", path=str(log), max_event_bytes=1024)
        rendered = len(backend.transform(decode(line(0))))
        fits = backend.transform(decode(line(0, size=1023 - rendered)))
        assert len(fits) == 1023
        with pytest.raises(EventRejected):
            backend.transform(decode(line(0, size=1024 - rendered)))

    def test_truncate_policy_keeps_valid_json_under_the_limit(self, log: Path) -> None:
        """oversize="truncate": valid JSON within the limit, cut strings marked, their paths listed."""
        backend = JsonLinesBackend(
            "log", path=str(log), max_event_bytes=2048, oversize="truncate", extra_fields=["id"]
        )
        big = line(7, size=5000, answer={"essay": "é" * 3000, "short": "kept"})
        result = backend.deliver(as_batch([big]))
        assert result.delivered == 1
        [written] = read_lines(log)
        assert len(written) + 1 <= 2048
        record = orjson.loads(written)
        assert record["id"] == "e7"
        assert record["event"]["text"].endswith(TRUNCATION_MARKER)
        assert record["event"]["answer"]["essay"].endswith(TRUNCATION_MARKER)
        assert record["event"]["answer"]["short"] == "kept"
        assert sorted(record["event_hub_truncated"]) == ["event.answer.essay", "event.text"]

    def test_truncate_handles_the_compact_format(self) -> None:
        """The compact format's payload (event_data) is truncated the same way."""
        raw = orjson.dumps({"id": "c1", "event_type": "x", "event_data": {"body": "y" * 5000}})
        record = orjson.loads(truncate_line(raw, 1023))
        assert record["event_data"]["body"].endswith(TRUNCATION_MARKER)
        assert record["event_hub_truncated"] == ["event_data.body"]

    def test_truncate_handles_escaped_strings(self) -> None:
        """Strings that JSON escapes (quotes, control characters) are still cut to fit the limit."""
        raw = orjson.dumps({"id": "q", "event": {"q": '"\x01' * 3000}})
        assert len(truncate_line(raw, 1023)) <= 1023

    def test_event_that_cannot_be_truncated_is_rejected(self) -> None:
        """When no string is long enough to cut, the event is rejected rather than cut into invalid JSON."""
        raw = orjson.dumps({"id": "n", "event": {f"k{i}": i for i in range(400)}})
        with pytest.raises(EventRejected, match="cannot be truncated"):
            truncate_line(raw, 1023)


FAILING_WRITE = textwrap.dedent(
    """
    import json, os, resource, signal, sys, orjson
    from event_hub.backends.jsonlog import JsonLinesBackend
    from event_hub.exceptions import DeliveryError
    from tests.support_backends import as_batch, wire_line
    path = sys.argv[1]
    backend = JsonLinesBackend("log", path=path)
    backend.deliver(as_batch([wire_line(f"a{n}", {"batch": 1, "n": n}) for n in range(3)]))
    size = os.path.getsize(path)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    big = [wire_line(f"b{n}", {"batch": 2, "n": n, "pad": "z" * 1000}) for n in range(20)]
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10000, resource.RLIM_INFINITY))
    try:
        backend.deliver(as_batch(big))
        outcome = {"raised": None}
    except DeliveryError as exc:
        outcome = {"raised": type(exc).__name__, "cause": type(exc.__cause__).__name__,
                   "errno": getattr(exc.__cause__, "errno", None)}
    outcome["size_before"] = size
    print(json.dumps(outcome))
    """
)


class TestFailingWrite:
    def test_write_failing_half_way_leaves_no_partial_line(self, log: Path) -> None:
        """A write cut short by EFBIG (file size limit) is rolled back to the last whole line; retryable."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", FAILING_WRITE, str(log)],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()
        outcome = json.loads(result.stdout)
        assert outcome["raised"] == RetryableDeliveryError.__name__
        assert (outcome["cause"], outcome["errno"]) == ("OSError", 27)  # EFBIG
        data = log.read_bytes()
        assert len(data) == outcome["size_before"]
        assert [orjson.loads(raw)["event"]["batch"] for raw in data.splitlines()] == [1, 1, 1]
        assert data.endswith(b"\n")


class TestCheckOptions:
    @pytest.mark.parametrize(
        ("options", "problem"),
        [
            ({}, "must name the log file"),
            ({"path": "/tmp/x.log", "max_event_bytes": 100}, "at least 1024"),
            ({"path": "/tmp/x.log", "oversize": "drop"}, "must be one of"),
        ],
    )
    def test_bad_options_are_reported(self, options: dict[str, object], problem: str) -> None:
        """check_options names each bad option (the system checks show these at startup)."""
        assert any(problem in message for message in JsonLinesBackend.check_options(options))

    def test_good_options_pass(self, log: Path) -> None:
        """A writable path with defaults has no problem."""
        assert JsonLinesBackend.check_options({"path": str(log)}) == []


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from event_hub.backends import jsonlog
    from event_hub.delivery.batch import Batch
    from tests.support_backends import wire_line
    path, batch_id, when = sys.argv[1:]
    write_all = jsonlog.write_all

    def dying_write(fd, data):
        if when == "mid-write":
            write_all(fd, data[: len(data) // 2])
        else:
            write_all(fd, data)
        os.kill(os.getpid(), signal.SIGKILL)

    jsonlog.write_all = dying_write  # the log's data only: the ledger writes with its own module's
    backend = jsonlog.JsonLinesBackend("log", path=path, extra_fields=["id"])
    lines = [wire_line(f"k{n}", {"n": n}) for n in range(50)]
    backend.deliver(Batch(backend="log", id=batch_id, lines=lines))
    """
)


class TestRedelivery:
    """A batch delivered twice is written once (the ledger beside the file, see backends/ledger.py)."""

    @staticmethod
    def batch(batch_id: str = "b1", count: int = 50) -> Batch:
        return Batch(backend="log", id=batch_id, lines=[wire_line(f"k{n}", {"n": n}) for n in range(count)])

    def test_same_batch_twice_is_written_once(self, backend: JsonLinesBackend, log: Path) -> None:
        """Delivering the same batch (same id and events) again leaves the file as it was."""
        backend.deliver(self.batch())
        before = log.read_bytes()
        result = backend.deliver(self.batch())
        assert result.delivered == 50
        assert log.read_bytes() == before

    def test_other_processes_see_the_ledger(self, log: Path) -> None:
        """A second backend instance (another worker process) skips what the first wrote."""
        JsonLinesBackend("log", path=str(log)).deliver(self.batch())
        JsonLinesBackend("log", path=str(log)).deliver(self.batch())
        assert len(read_lines(log)) == 50

    def test_writers_taking_turns_each_see_the_others_batches(self, log: Path) -> None:
        """Two writers alternating (each keeping its ledger open) never write a batch the other wrote."""
        first, second = (
            JsonLinesBackend("log", path=str(log), extra_fields=["id"]),
            JsonLinesBackend("log", path=str(log), extra_fields=["id"]),
        )
        for number in range(6):
            writer, other = (first, second) if number % 2 == 0 else (second, first)
            writer.deliver(self.batch(f"b{number}", count=2))
            other.deliver(self.batch(f"b{number}", count=2))  # a redelivery to the other worker
            writer.deliver(self.batch(f"b{number}", count=2))
        assert ids(read_lines(log)) == [f"k{n}" for _ in range(6) for n in range(2)]

    def test_a_compacted_ledger_is_reopened(self, log: Path) -> None:
        """After another writer compacts the ledger (a new file), the next entries go to the new file."""
        first, second = (
            JsonLinesBackend("log", path=str(log), extra_fields=["id"]),
            JsonLinesBackend("log", path=str(log), extra_fields=["id"]),
        )
        assert first.ledger is not None
        assert second.ledger is not None
        first.deliver(self.batch("a0", count=1))
        second.ledger.keep = 2
        for number in range(6):
            second.deliver(self.batch(f"s{number}", count=1))  # compacts: the ledger is replaced
        first.deliver(self.batch("a1", count=1))
        second.deliver(self.batch("a1", count=1))  # recorded in the new ledger by the first writer
        assert ids(read_lines(log)).count("k0") == 8

    def test_a_subset_under_the_same_id_is_written(self, backend: JsonLinesBackend, log: Path) -> None:
        """One event of a batch replayed alone (a dead letter) is not mistaken for the whole batch."""
        batch = self.batch()
        backend.deliver(batch)
        backend.deliver(batch.subset(batch.lines[:1]))
        assert ids(read_lines(log)).count("k0") == 2

    def test_deduplicate_off_writes_every_delivery(self, log: Path) -> None:
        """deduplicate=False keeps no ledger and appends every delivery."""
        backend = JsonLinesBackend("log", path=str(log), deduplicate=False)
        backend.deliver(self.batch())
        backend.deliver(self.batch())
        assert len(read_lines(log)) == 100
        assert not log.with_name("tracking.log.batches").exists()

    def test_ledger_is_bounded(self, log: Path) -> None:
        """The ledger is rewritten to its last ``keep`` batches once it holds twice as many."""
        backend = JsonLinesBackend("log", path=str(log))
        assert backend.ledger is not None
        backend.ledger.keep = 5
        for number in range(12):
            backend.deliver(self.batch(f"b{number}", count=1))
        ledger_lines = log.with_name("tracking.log.batches").read_text().splitlines()
        assert len(ledger_lines) <= 11
        backend.deliver(self.batch("b11", count=1))  # still remembered
        assert len(read_lines(log)) == 12

    @pytest.mark.parametrize("when", ["mid-write", "after-write"])
    def test_sigkill_during_a_batch_then_redelivery(self, log: Path, when: str) -> None:
        """A writer SIGKILLed mid-batch or after writing it: the batch delivered again is in the file once."""
        result = subprocess.run(
            [sys.executable, "-c", KILLED_WRITER, str(log), "b1", when],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == -signal.SIGKILL, result.stderr.decode()
        written = log.read_bytes()
        if when == "mid-write":
            assert not written.endswith(b"\n")  # the dying writer left half a batch
        JsonLinesBackend("log", path=str(log), extra_fields=["id"]).deliver(self.batch())
        data = log.read_bytes()
        assert data.endswith(b"\n")
        assert ids(data.splitlines()) == [f"k{n}" for n in range(50)]
