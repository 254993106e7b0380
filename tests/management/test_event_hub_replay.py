"""``manage.py event_hub_replay``: a log of every catalog example backfilled to a real LRS and to memory."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import CommandError, call_command

from event_hub import xapi
from event_hub.backends import memory
from event_hub.logcheck import LogFile, parse_line
from event_hub.replay import envelope_of
from event_hub.xapi.statement import NoActor, Site
from tests.management.test_event_hub_validate import catalog_records, write_log
from tests.xapi.ralph_lrs import PASSWORD, USERNAME, Ralph, fixture_ralph
from tests.xapi.samples import LMS

pytestmark = pytest.mark.django_db
__all__ = ["fixture_ralph"]


def replay(*args: Any) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("event_hub_replay", *map(str, args), "--no-progress", stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def expected_statements(log: Path) -> tuple[set[str], int]:
    """Statement ids the log should give, and how many lines have a transform but cannot make a statement."""
    ids: set[str] = set()
    refused = 0
    site = Site(lms_root_url=LMS)
    with LogFile(log) as opened:
        lines = opened.lines.read().splitlines()
    for line in lines:
        env = envelope_of(parse_line(line), line)
        build = xapi.lookup(env)
        if build is None:
            continue
        try:
            ids.add(build(env, site)["id"])
        except NoActor:
            continue
        except Exception:  # noqa: BLE001 - an EventRejected or a transform error: dead-lettered by the backend
            refused += 1
    return ids, refused


class TestReplayToTheLrs:
    @pytest.mark.parametrize("compress", [False, True])
    def test_every_catalog_example_is_backfilled_once(
        self, compress: bool, hub: Callable[..., Any], ralph: Ralph, tmp_path: Path
    ) -> None:
        """Each xAPI event of the log is stored once; replaying the log again adds nothing."""
        hub(
            BACKENDS={
                "lrs": {
                    "ENGINE": "event_hub.backends.xapi.XapiBackend",
                    "OPTIONS": {
                        "endpoint": ralph.endpoint,
                        "lms_root_url": LMS,
                        "username": USERNAME,
                        "password": PASSWORD,
                    },
                    "PROCESSORS": ["event_hub.xapi.allowlist.XapiEvents"],
                }
            }
        )
        log = write_log(tmp_path / "tracking.log", catalog_records(), compress=compress)
        ids, refused = expected_statements(log)
        assert len(ids) >= 20
        before = {s["id"] for s in ralph.statements()}
        status, out = replay(log, "--backend", "lrs", "--batch-size", 7)
        assert status == (1 if refused else 0), out
        after = {s["id"] for s in ralph.statements()}
        assert after - before == ids - before
        assert ids <= after
        status, out = replay(log, "--backend", "lrs", "--restart")
        assert {s["id"] for s in ralph.statements()} == after
        assert f"{len(catalog_records()):,} lines replayed" in out


class TestResume:
    def test_interrupted_replay_goes_on_where_it_stopped(
        self, hub: Callable[..., Any], tmp_path: Path
    ) -> None:
        """A replay cut short by --limit resumes from its checkpoint: every line is delivered exactly once."""
        hub(BACKENDS={"memory": {"ENGINE": "event_hub.backends.memory.MemoryBackend", "PII": True}})
        records = catalog_records()
        log = write_log(tmp_path / "tracking.log.gz", records, compress=True)
        assert replay(log, "--backend", "memory", "--batch-size", 10, "--limit", 25)[0] == 0
        assert len(memory.events("memory")) == 25
        status, out = replay(log, "--backend", "memory", "--batch-size", 10)
        assert status == 0, out
        delivered = memory.events("memory")
        assert len(delivered) == len(records)
        assert len({event["id"] for event in delivered}) == len(records)
        assert [event["event_type"] for event in delivered] == [r["event_type"] for r in records]
        assert orjson.loads((tmp_path / "tracking.log.gz.memory.replay").read_bytes()) == {
            str(log.resolve()): len(records)
        }
        assert "0 lines replayed" in replay(log, "--backend", "memory")[1]

    def test_ids_are_stable_across_replays(self) -> None:
        """A line without an id gets the same id every time it is read, and different lines different ids."""
        lines = [orjson.dumps(r) for r in catalog_records()[:5]]
        first = [envelope_of(orjson.loads(line), line).id for line in lines]
        assert first == [envelope_of(orjson.loads(line), line).id for line in lines]
        assert len(set(first)) == 5
