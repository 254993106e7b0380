"""``manage.py event_hub_validate``: existing tracking logs checked against the catalog.

Three kinds of logs: the JSON examples of the tracking-log reference, a log of
one generated valid event per catalog entry and source (plain and gzip), and
logs with bad lines.
"""

from __future__ import annotations

import copy
import functools
import gzip
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from io import StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import CommandError, call_command

from event_hub import logcheck
from event_hub.catalog import NoFields, RawString, registry
from event_hub.catalog.base import EventType
from event_hub.catalog.schema import payload_schema
from event_hub.exceptions import InvalidEventError
from event_hub.logcheck import (
    NO_SOURCE,
    NOT_JSON,
    NOT_OBJECT,
    OTHER_NAMES,
    OTHER_REASONS,
    REQUEST_PATHS,
    UNKNOWN,
    reason_path,
)
from tests.catalog import reference
from tests.catalog.samples import SAMPLE_CONTEXT, SAMPLE_EVENT
from tests.catalog.test_contract import Walker
from tests.conftest import ROOT, subprocess_env

EXAMPLES = reference.read_json_examples() if reference.available() else []
#: A prefix the platform's syslog handler puts before the JSON of each event.
SYSLOG_PREFIX = (
    b"Mar  3 12:00:01 lms-1 [service_variant=lms][tracking][env:prod] INFO 42 [tracking] tracking: "
)
def run(*args: Any, stderr: StringIO | None = None) -> tuple[int, str, str]:
    """Run the command; return its exit status, standard output and standard error."""
    out, err = StringIO(), stderr if stderr is not None else StringIO()
    try:
        call_command("event_hub_validate", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def run_json(*args: Any) -> tuple[int, dict[str, Any]]:
    status, out, _ = run(*args, "--json")
    return status, orjson.loads(out)


def write_log(path: Path, lines: Iterable[dict[str, Any] | bytes], *, compress: bool = False) -> Path:
    """One line per item (dicts as JSON), gzip-compressed when asked (whatever the file's name)."""
    body = b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(body) if compress else body)
    return path


def record(name: str, source: str, event: Any, *, event_type: str | None = None) -> dict[str, Any]:
    """A tracking-log line; browser and mobile events carry structured ``event`` as a JSON string."""
    if source in ("browser", "mobile") and isinstance(event, (dict, list)):
        event = orjson.dumps(event).decode()
    return {
        "event_type": event_type or name,
        "name": name,
        "event_source": source,
        "event": event,
        "context": {"course_id": SAMPLE_CONTEXT["course_id"], "user_id": 7, "org_id": "edx", "path": "/x"},
        "time": "2024-03-03T12:00:01.000000+00:00",
        "username": "learner",
    }


def accepted_strictly(spec: EventType, source: str, payload: Any) -> bool:
    try:
        registry.validate(spec.name_for(source), source, payload, strict=True)
    except InvalidEventError:
        return False
    return True


def valid_payload(spec: EventType, source: str) -> Any:
    """One payload the entry accepts strictly, found from the catalog test's value strategy."""
    if spec.payload is NoFields:
        return {}
    if spec.payload is RawString:
        return "input_1=a&input_2=b"
    schema = payload_schema(spec.payload)
    value = Walker(schema).instance(schema)
    assert accepted_strictly(spec, source, value), spec.key
    return value


@functools.cache
def catalog_records() -> tuple[dict[str, Any], ...]:
    """One valid line per catalog entry and source, plus the reference's sample ``problem_check``."""
    lines = [
        record(spec.name_for(source), source, valid_payload(spec, source), event_type=spec.name)
        for spec in registry
        for source in sorted(spec.sources)
    ]
    lines.append(record("problem_check", "server", SAMPLE_EVENT))
    return tuple(lines)


def expected_rows(lines: Iterable[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """(catalog event type, source) -> lines, as the report should count them."""
    rows: Counter[tuple[str, str]] = Counter()
    for line in lines:
        spec = registry.lookup(line.get("name") or line["event_type"], line["event_source"])
        assert spec is not None
        rows[(spec.name, line["event_source"])] += 1
    return rows


def rows_of(report: dict[str, Any], column: str = "accepted") -> Counter[tuple[str, str]]:
    return Counter(
        {(row["event_type"], row["source"]): row[column] for row in report["event_types"] if row[column]}
    )


def reasons_of(report: dict[str, Any]) -> dict[tuple[str | None, str], int]:
    return {(row["event_type"], row["reason"]): row["lines"] for row in report["reasons"]}


def catalog_error(name: str, source: str, payload: Any, *, strict: bool = False) -> dict[str, list[str]]:
    """The errors the catalog itself gives for a payload (what the report must repeat)."""
    with pytest.raises(InvalidEventError) as caught:
        registry.validate(name, source, payload, strict=strict)
    return caught.value.errors


class Terminal(StringIO):
    """A text stream that says it is a terminal (the progress bar shows only on one)."""

    def isatty(self) -> bool:
        return True


class TestDocumentExamples:
    @pytest.fixture(autouse=True)
    def _documents(self) -> None:
        reference.require_documents()

    def test_every_example_is_accepted(self, tmp_path):
        """Each example of the reference is one accepted line, counted under its event type and source."""
        data = [example.data for example in EXAMPLES]
        status, report = run_json(write_log(tmp_path / "examples.log", data))
        print(f"\nreference examples: {report['lines']} lines, {report['accepted']} accepted")
        assert status == 0
        counts = (report["lines"], report["accepted"], report["rejected"], report["unknown"])
        assert counts == (len(data), len(data), 0, 0)
        assert rows_of(report) == expected_rows(data)
        assert report["reasons"] == []
        assert report["passed"] is True

    def test_examples_with_a_syslog_prefix_are_accepted(self, tmp_path):
        """The same examples behind a syslog-style ``... tracking:`` prefix give the same counts."""
        data = [example.data for example in EXAMPLES]
        path = write_log(tmp_path / "syslog.log", [SYSLOG_PREFIX + orjson.dumps(line) for line in data])
        status, report = run_json(path)
        assert status == 0
        assert report["accepted"] == len(data)
        assert rows_of(report) == expected_rows(data)

    def test_text_report(self, tmp_path):
        """The text report gives the totals, a row per event type and PASSED."""
        data = [example.data for example in EXAMPLES]
        status, out, _ = run(write_log(tmp_path / "examples.log", data), "--no-progress")
        print("\n" + out)
        assert status == 0
        assert f"{len(data)} lines in 1 file(s)" in out
        assert f"{len(data)} accepted, 0 rejected" in out
        for event_type, source in expected_rows(data):
            assert any(line.split()[:2] == [event_type, source] for line in out.splitlines())
        assert out.rstrip().endswith("PASSED")


class TestCatalogLog:
    @pytest.mark.parametrize(
        ("file_name", "compress"), [("catalog.log", False), ("catalog.log", True), ("catalog.gz", False)]
    )
    def test_one_event_per_entry_and_source_passes(self, tmp_path, file_name, compress):
        """A generated valid event of every entry and source is accepted, plain or gzip whatever the name."""
        lines = catalog_records()
        status, report = run_json(write_log(tmp_path / file_name, lines, compress=compress))
        print(
            f"\ncatalog log ({'gzip' if compress else 'plain'}): {report['lines']} lines, "
            f"{report['accepted']} accepted, {len(report['event_types'])} event type rows"
        )
        assert status == 0
        assert (report["lines"], report["accepted"], report["rejected"]) == (len(lines), len(lines), 0)
        assert rows_of(report) == expected_rows(lines)
        assert {row[1] for row in rows_of(report)} == {s for spec in registry for s in spec.sources}

    def test_passes_with_strict_fields(self, tmp_path):
        """The generated events carry only listed members, so ``--strict-fields`` accepts them too."""
        lines = catalog_records()
        status, report = run_json(write_log(tmp_path / "catalog.log", lines), "--strict-fields")
        assert status == 0
        assert report["accepted"] == len(lines)
        assert report["strict_fields"] is True

    def test_mobile_names_count_under_the_event_type(self, tmp_path):
        """Mobile lines named by their newer name count under the entry's ``event_type``."""
        lines = [line for line in catalog_records() if line["name"] != line["event_type"]]
        assert lines
        assert all(line["event_source"] == "mobile" for line in lines)
        status, report = run_json(write_log(tmp_path / "mobile.log", lines))
        assert status == 0
        assert set(rows_of(report)) == {(line["event_type"], "mobile") for line in lines}

    def test_several_files_add_up(self, tmp_path):
        """Counts of several files (one plain, one gzip) add up in one report."""
        lines = catalog_records()
        first = write_log(tmp_path / "a.log", lines)
        second = write_log(tmp_path / "b.log.gz", lines, compress=True)
        status, report = run_json(first, second)
        assert status == 0
        assert report["files"] == [str(first), str(second)]
        assert report["accepted"] == 2 * len(lines)


def sample(**changes: Any) -> dict[str, Any]:
    """The reference's server ``problem_check`` with some members replaced."""
    return record("problem_check", "server", {**copy.deepcopy(SAMPLE_EVENT), **changes})


def spec_where(condition: Any) -> EventType:
    return next(spec for spec in registry if condition(spec))


class TestBadLines:
    @pytest.fixture(name="bad_log")
    def fixture_bad_log(self, tmp_path) -> Path:
        return write_log(
            tmp_path / "bad.log",
            [
                sample(),
                sample(),
                b"this is not json",
                b'{"event_type": "problem_check", ',
                b"[1, 2]",
                sample(attempts="one"),
                sample(attempts="two"),
                {**sample(), "event_source": None},
                record("edx.no.such.event", "server", {}),
                record("/courses/course-v1:edX+DemoX+2024/courseware", "server", {"GET": {}}),
                record("/courses/course-v1:edX+DemoX+2024/progress", "server", {"GET": {}}),
            ],
        )

    def test_counts_and_exit_status(self, bad_log):
        """Accepted, rejected and unknown lines are counted; rejected lines make the exit status 1."""
        status, report = run_json(bad_log)
        assert status == 1
        assert (report["lines"], report["accepted"], report["rejected"], report["unknown"]) == (11, 2, 6, 3)
        assert (report["failed"], report["passed"]) == (6, False)

    def test_grouped_by_reason(self, bad_log):
        """Each reason counts its lines once; field errors repeat the catalog's message and path."""
        errors = catalog_error("problem_check", "server", {**SAMPLE_EVENT, "attempts": "one"})
        [(path, [message])] = errors.items()
        _, report = run_json(bad_log)
        assert reasons_of(report) == {
            (None, NOT_JSON): 2,
            (None, NOT_OBJECT): 1,
            (None, NO_SOURCE): 1,
            ("problem_check", f"{reason_path(path)}: {message}"): 2,
            (None, UNKNOWN): 3,
        }

    def test_grouped_by_event_type(self, bad_log):
        """Event type rows count accepted and rejected lines; request paths share one unknown row."""
        _, report = run_json(bad_log)
        rows = {(row["event_type"], row["source"]): row for row in report["event_types"]}
        assert set(rows) == {
            ("problem_check", "server"),
            ("edx.no.such.event", "server"),
            (REQUEST_PATHS, "server"),
        }
        problem_check = rows[("problem_check", "server")]
        assert (problem_check["accepted"], problem_check["rejected"]) == (2, 2)
        assert rows[(REQUEST_PATHS, "server")]["unknown"] == 2
        assert rows[("edx.no.such.event", "server")]["unknown"] == 1

    def test_keys_in_member_paths_group_as_one_reason(self, tmp_path):
        """The same mistake under two different mapping keys (problem ids) is one reason of two lines."""
        wrong = {"correctness": "correct", "npoints": "two"}
        lines = [sample(correct_map={"problem_a": wrong}), sample(correct_map={"problem_b": wrong})]
        messages = {
            (member, message)
            for line in lines
            for member, messages in catalog_error("problem_check", "server", line["event"]).items()
            for message in messages
        }
        status, report = run_json(write_log(tmp_path / "keys.log", lines))
        assert status == 1
        assert {row["lines"] for row in report["reasons"]} == {2}
        assert len(report["reasons"]) == len(messages) // 2
        assert all("[*]" in row["reason"] for row in report["reasons"])

    def test_rows_and_reasons_are_bounded(self, tmp_path, monkeypatch):
        """Past the caps, further unknown names and reasons are counted under one catch-all row each."""
        monkeypatch.setattr(logcheck, "MAX_UNKNOWN_NAMES", 1)
        monkeypatch.setattr(logcheck, "MAX_REASONS", 2)
        lines = [record(f"edx.unknown.{n}", "server", {}) for n in range(3)]
        lines += [b"not json", b"[]", {"event_type": "x"}]
        _, report = run_json(write_log(tmp_path / "many.log", lines))
        assert rows_of(report, "unknown") == {("edx.unknown.0", "server"): 1, (OTHER_NAMES, "server"): 2}
        assert reasons_of(report) == {(None, UNKNOWN): 3, (None, NOT_JSON): 1, (None, OTHER_REASONS): 2}

    @pytest.mark.parametrize("limit", [0, 1, 2])
    def test_limit_caps_the_examples_per_reason(self, bad_log, limit):
        """``--limit N`` keeps the first N lines of each reason, with their file and line number."""
        _, report = run_json(bad_log, "--limit", limit)
        by_reason = {row["reason"]: row for row in report["reasons"]}
        assert [e["line"] for e in by_reason[NOT_JSON]["examples"]] == [3, 4][:limit]
        assert all(e["file"] == str(bad_log) for row in report["reasons"] for e in row["examples"])
        assert all(len(row["examples"]) == min(limit, row["lines"]) for row in report["reasons"])

    def test_text_report_lists_reasons_and_examples(self, bad_log):
        """The text report names each reason with its count and example lines, and says FAILED."""
        status, out, _ = run(bad_log, "--limit", "1")
        assert status == 1
        assert f"  2  {NOT_JSON}" in out
        assert f"{bad_log}:3: this is not json" in out
        assert f"{bad_log}:4: " not in out
        assert out.rstrip().endswith("FAILED: 6 line(s)")

    def test_unknown_types_pass_unless_asked(self, tmp_path):
        """Lines of unknown event types alone pass, and fail with ``--fail-on-unknown``."""
        path = write_log(tmp_path / "unknown.log", [sample(), record("edx.no.such.event", "browser", "{}")])
        status, report = run_json(path)
        assert (status, report["unknown"], report["passed"]) == (0, 1, True)
        status, report = run_json(path, "--fail-on-unknown")
        assert (status, report["failed"], report["passed"]) == (1, 1, False)

    def test_unlisted_members_fail_only_with_strict_fields(self, tmp_path):
        """A member the catalog does not list passes by default and is a reason under ``--strict-fields``."""
        path = write_log(tmp_path / "extra.log", [sample(new_member=1)])
        assert run_json(path)[0] == 0
        errors = catalog_error("problem_check", "server", {**SAMPLE_EVENT, "new_member": 1}, strict=True)
        status, report = run_json(path, "--strict-fields")
        assert status == 1
        assert reasons_of(report) == {
            ("problem_check", f"{reason_path(member)}: {message}"): 1
            for member, messages in errors.items()
            for message in messages
        }

    def test_json_string_events_are_decoded_for_structured_entries(self, tmp_path):
        """A browser ``event`` string holding an object is decoded; a raw-string entry keeps the string."""
        structured = spec_where(lambda s: "browser" in s.sources and s.payload not in (NoFields, RawString))
        raw = spec_where(lambda s: s.payload is RawString)
        source = sorted(raw.sources)[0]
        lines = [
            record(structured.name, "browser", valid_payload(structured, "browser")),
            record(raw.name, source, '{"looks": "like JSON"}'),
            record(raw.name, source, "input_1=a"),
        ]
        status, report = run_json(write_log(tmp_path / "strings.log", lines))
        assert (status, report["accepted"]) == (0, 3)

    def test_objects_are_rejected_for_raw_string_entries(self, tmp_path):
        """A raw-string entry rejects an object, also after it has accepted a string in the same run."""
        raw = spec_where(lambda s: s.payload is RawString)
        source = sorted(raw.sources)[0]
        lines = [record(raw.name, source, "input_1=a"), {**record(raw.name, source, ""), "event": {"a": 1}}]
        status, report = run_json(write_log(tmp_path / "raw.log", lines))
        assert status == 1
        assert (report["accepted"], report["rejected"]) == (1, 1)
        [(event_type, reason)] = reasons_of(report)
        assert event_type == raw.name
        assert reason.startswith("event: ")

    def test_wrong_source_is_a_reason(self, tmp_path):
        """A known name from a source its entry does not allow is rejected with the catalog's message."""
        spec = spec_where(lambda s: s.sources == frozenset({"browser"}))
        errors = catalog_error(spec.name, "server", {})
        status, report = run_json(write_log(tmp_path / "source.log", [record(spec.name, "server", {})]))
        assert status == 1
        assert reasons_of(report) == {(spec.name, errors[""][0]): 1}

    def test_mobile_name_must_match_its_event_type(self, tmp_path):
        """A mobile line whose ``event_type`` is not the entry of its ``name`` is rejected."""
        spec = spec_where(lambda s: s.mobile_name is not None)
        other = spec_where(lambda s: s.name != spec.name)
        line = record(spec.mobile_name, "mobile", valid_payload(spec, "mobile"), event_type=other.name)
        status, report = run_json(write_log(tmp_path / "mobile.log", [line]))
        assert status == 1
        [(event_type, reason)] = reasons_of(report)
        assert event_type == spec.name
        assert repr(other.name) in reason

    def test_unreadable_file_exits_2(self, tmp_path):
        """A missing file is an error with exit status 2, before anything is checked."""
        status, out, _ = run(tmp_path / "missing.log")
        assert (status, out) == (2, "")

    def test_progress_bar_on_a_terminal(self, bad_log):
        """On a terminal a progress bar goes to standard error; ``--no-progress`` removes it."""
        terminal = Terminal()
        run(bad_log, "--json", stderr=terminal)
        assert "100%" in terminal.getvalue()
        quiet = Terminal()
        run(bad_log, "--json", "--no-progress", stderr=quiet)
        assert "100%" not in quiet.getvalue()

    def test_as_a_process(self, bad_log):
        """``python -m django event_hub_validate --json`` prints the same report and exits with 1."""
        result = subprocess.run(
            [sys.executable, "-m", "django", "event_hub_validate", str(bad_log), "--json"],
            env=subprocess_env({}),
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1, result.stderr.decode()
        report = orjson.loads(result.stdout)
        expected = run_json(bad_log)[1]
        assert {k: v for k, v in report.items() if k != "seconds"} == {
            k: v for k, v in expected.items() if k != "seconds"
        }
        assert b"6 line(s) failed the check" in result.stderr
