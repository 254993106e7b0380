"""The JSON-lines file backend: whole lines only, concurrent writers, logrotate, oversize events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from event_hub.backends.jsonlog import TRUNCATION_MARKER, JsonLinesBackend, truncate_line
from event_hub.exceptions import EventRejected, RetryableDeliveryError
from tests.conftest import ROOT
from tests.support_backends import read_lines, wait_for


def line(number: int, size: int = 0, **fields: object) -> bytes:
    """A rendered event line; ``size`` pads ``event.text`` to about that many bytes."""
    return orjson.dumps(
        {"id": f"e{number}", "name": "test.event", "event": {"n": number, "text": "x" * size, **fields}}
    )


@pytest.fixture(name="log")
def fixture_log(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "tracking.log"


@pytest.fixture(name="backend")
def fixture_backend(log: Path) -> JsonLinesBackend:
    return JsonLinesBackend("log", path=str(log))


class TestLines:
    def test_each_event_is_one_json_line(self, backend: JsonLinesBackend, log: Path) -> None:
        """A batch becomes one parseable line per event, in order, ending with a newline (folder created)."""
        lines = [line(n, text="with \n newline and \u2028 separator") for n in range(3)]
        result = backend.deliver(lines)
        assert (result.delivered, result.rejected) == (3, ())
        data = log.read_bytes()
        assert data.endswith(b"\n")
        assert [orjson.loads(raw)["id"] for raw in data.splitlines()] == ["e0", "e1", "e2"]

    def test_batches_append(self, backend: JsonLinesBackend, log: Path) -> None:
        """A second batch is appended after the first, never overwriting it."""
        backend.deliver([line(0)])
        backend.deliver([line(1), line(2)])
        assert [orjson.loads(raw)["id"] for raw in read_lines(log)] == ["e0", "e1", "e2"]

    def test_fsync_option_writes_the_same(self, log: Path) -> None:
        """fsync=True still writes whole lines (and flushes them to disk)."""
        JsonLinesBackend("log", path=str(log), fsync=True).deliver([line(0)])
        assert read_lines(log) == [line(0)]


WRITER = textwrap.dedent(
    """
    import os, sys, time, orjson
    from event_hub.backends.jsonlog import JsonLinesBackend
    path, writer, batches, per_batch, size, go = sys.argv[1:]
    backend = JsonLinesBackend("log", path=path)
    open(f"{go}.ready.{writer}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    for b in range(int(batches)):
        lines = [orjson.dumps({"writer": writer, "batch": b, "n": n, "pad": "x" * int(size)})
                 for n in range(int(per_batch))]
        backend.deliver(lines)
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
        runs = [(r["writer"], r["batch"]) for r in records]
        for start in range(0, len(runs), per_batch):
            chunk = runs[start : start + per_batch]
            assert len(set(chunk)) == 1, f"batch interleaved at line {start}: {chunk}"
            assert [r["n"] for r in records[start : start + per_batch]] == list(range(per_batch))


class TestLogrotate:
    def test_renamed_file_is_reopened_at_the_path(self, backend: JsonLinesBackend, log: Path) -> None:
        """After logrotate renames the file, the next batch goes to a new file at the configured path."""
        backend.deliver([line(0)])
        rotated = log.with_name("tracking.log.1")
        log.rename(rotated)
        backend.deliver([line(1)])
        assert read_lines(rotated) == [line(0)]
        assert read_lines(log) == [line(1)]

    def test_removed_file_is_recreated(self, backend: JsonLinesBackend, log: Path) -> None:
        """After the file is deleted, the next batch creates it again."""
        backend.deliver([line(0)])
        log.unlink()
        backend.deliver([line(1)])
        assert read_lines(log) == [line(1)]

    def test_copytruncate_writes_continue_at_the_new_end(self, backend: JsonLinesBackend, log: Path) -> None:
        """After copytruncate empties the file in place, writes start at offset 0: no hole, whole lines."""
        backend.deliver([line(0, size=500), line(1, size=500)])
        log.with_name("tracking.log.1").write_bytes(log.read_bytes())
        with open(log, "r+b") as handle:
            handle.truncate(0)
        backend.deliver([line(2)])
        assert log.read_bytes() == line(2) + b"\n"


class TestOversize:
    def test_dead_letter_policy_rejects_only_the_big_event(self, log: Path) -> None:
        """oversize="dead_letter": the big event is rejected (EventRejected) and the others are written."""
        backend = JsonLinesBackend("log", path=str(log), max_event_bytes=1024)
        big = line(1, size=2000)
        with pytest.raises(EventRejected, match="max_event_bytes=1024"):
            backend.serialize(big)
        result = backend.deliver([line(0), big, line(2)])
        assert result.delivered == 2
        assert [r.line for r in result.rejected] == [big]
        assert read_lines(log) == [line(0), line(2)]

    def test_a_line_exactly_at_the_limit_is_not_written(self, log: Path) -> None:
        """max_event_bytes bounds the line with its newline: a line of exactly max_event_bytes is too big."""
        backend = JsonLinesBackend("log", path=str(log), max_event_bytes=1024)
        fits = line(0, size=1023 - len(line(0)))
        assert len(fits) == 1023
        assert backend.serialize(fits) == fits
        with pytest.raises(EventRejected):
            backend.serialize(line(0, size=1024 - len(line(0))))

    def test_truncate_policy_keeps_valid_json_under_the_limit(self, log: Path) -> None:
        """oversize="truncate": valid JSON within the limit, cut strings marked, their paths listed."""
        backend = JsonLinesBackend("log", path=str(log), max_event_bytes=2048, oversize="truncate")
        big = line(7, size=5000, answer={"essay": "é" * 3000, "short": "kept"})
        result = backend.deliver([big])
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
    path = sys.argv[1]
    backend = JsonLinesBackend("log", path=path)
    backend.deliver([orjson.dumps({"batch": 1, "n": n}) for n in range(3)])
    size = os.path.getsize(path)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    big = [orjson.dumps({"batch": 2, "n": n, "pad": "z" * 1000}) for n in range(20)]
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10000, resource.RLIM_INFINITY))
    try:
        backend.deliver(big)
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
        assert [orjson.loads(raw)["batch"] for raw in data.splitlines()] == [1, 1, 1]
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
