"""Shared helpers of the benchmarks: Django setup, the sample event, fake requests, timing, tables.

Each benchmark script imports this module first (``import _common`` works because
Python puts ``bench/`` on ``sys.path`` when it runs ``bench/<script>.py``). It puts
the repository root on ``sys.path`` so ``bench.settings`` and ``event_hub`` import.
"""

from __future__ import annotations

import atexit
import copy
import cProfile
import datetime
import gc
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.catalog.samples import SAMPLE_EVENT  # noqa: E402 - needs the root on sys.path

# --- the realistic event --------------------------------------------------------------------------------

#: The ``event`` member of the sample server ``problem_check`` at the top of the tracking-log reference,
#: shared with the catalog tests.
PROBLEM_CHECK: dict[str, Any] = SAMPLE_EVENT
_P2, _P4 = list(SAMPLE_EVENT["correct_map"])

COURSE_ID = "course-v1:edX+DemoX+2014_T1"
USAGE_KEY = "block-v1:edX+DemoX+2014_T1+type@problem+block@a0effb954cca4759994f1ac9e9434bf4"
#: The ``context.module`` the server ``problem_check`` carries.
MODULE = {"display_name": "Multiple Choice Questions", "usage_key": USAGE_KEY}
REQUEST_PATH = f"/courses/{COURSE_ID}/xblock/{USAGE_KEY}/handler/xmodule_handler/problem_check"

#: A browser ``play_video`` as the video player posts it, and the page it came from.
PLAY_VIDEO: dict[str, Any] = {"code": "html5", "currentTime": 12.5, "id": "0b9e39477cf34507a7a48f74be381fdd"}
VIDEO_PAGE = f"https://courses.example.org/courses/{COURSE_ID}/courseware/week1/video/"
#: The client's ``timestamp``, as ``/api/tracking`` passes it on (``context.client_time``).
CLIENT_TIME = "2024-05-01T10:00:00.000000+00:00"
#: The path browser events are posted to (``/event`` on the platform).
BROWSER_PATH = "/event"


def client_times(count: int) -> list[str]:
    """``count`` client timestamps a millisecond apart from :data:`CLIENT_TIME` (a browser batch's events)."""
    start = datetime.datetime.fromisoformat(CLIENT_TIME)
    step = datetime.timedelta(milliseconds=1)
    return [(start + n * step).isoformat(timespec="microseconds") for n in range(count)]


def problem_check() -> dict[str, Any]:
    """A fresh copy of the sample payload."""
    return copy.deepcopy(PROBLEM_CHECK)


# --- a request as the middleware sees it --------------------------------------------------------------


class FakeUser:
    """The attributes of an authenticated ``django.contrib.auth`` user that event code reads."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, pk: int = 9999999, username: str = "learner_9999999") -> None:
        self.pk = self.id = pk
        self.username = username

    def get_username(self) -> str:
        return self.username


class FakeSession:
    session_key = "3a7f1c9e0b2d4e6f8a1b2c3d4e5f6a7b"


class FakeRequest:
    """Enough of an ``HttpRequest`` for ``event_hub.middleware.request_info`` and the tracker."""

    def __init__(self, path: str = REQUEST_PATH) -> None:
        self.path = path
        self.user = FakeUser()
        self.session = FakeSession()
        self.META = {
            "REMOTE_ADDR": "203.0.113.7",
            "HTTP_USER_AGENT": (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/124.0.0.0 Safari/537.36"
            ),
            "HTTP_HOST": "courses.example.org",
            "HTTP_REFERER": f"https://courses.example.org/courses/{COURSE_ID}/courseware/week1/",
            "HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.8",
            "SERVER_NAME": "courses.example.org",
        }


def edx_request_context(request: FakeRequest, course_id: str = COURSE_ID) -> dict[str, Any]:
    """The ``edx.request`` context edx-platform's TrackMiddleware gives event-tracking for a request.

    ``course_id`` is the one the request's URL names (none for ``/event``).
    """
    meta = request.META
    return {
        "accept_language": meta["HTTP_ACCEPT_LANGUAGE"],
        "referer": meta["HTTP_REFERER"],
        "username": request.user.get_username(),
        "session": request.session.session_key,
        "ip": meta["REMOTE_ADDR"],
        "host": meta["HTTP_HOST"],
        "agent": meta["HTTP_USER_AGENT"],
        "path": request.path,
        "client_id": None,
        "user_id": request.user.pk,
        "course_id": course_id,
        "org_id": "edX" if course_id else "",
    }


def edx_browser_context(request: FakeRequest, page: str = VIDEO_PAGE) -> dict[str, Any]:
    """The context edx-platform's ``/event`` view enters around each browser event it emits."""
    return {
        "course_id": COURSE_ID,  # the course the page's URL names
        "org_id": "edX",
        "username": request.user.get_username(),
        "event_source": "browser",
        "page": page,
    }


# --- Django ---------------------------------------------------------------------------------------------

_OWNS_TMP = not os.environ.get("BENCH_TMP")


def setup_django(*, migrate: bool = True) -> Path:
    """Configure Django with ``bench.settings``; return the temporary folder (removed at exit if ours)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django
    from django.conf import settings

    django.setup()
    tmp = Path(settings.BENCH_TMP)
    if _OWNS_TMP:
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return tmp


def hub_config(tmp: Path, **overrides: Any) -> dict[str, Any]:
    """An ``EVENT_HUB`` with one JSON-lines backend writing ``tmp/tracking.log``."""
    config: dict[str, Any] = {
        "DELIVERY": "sync",
        "BACKENDS": {
            "tracking_log": {
                "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
                "OPTIONS": {"path": str(tmp / "tracking.log")},
            },
        },
    }
    config.update(overrides)
    return config


def truncate(path: Path) -> None:
    """Empty ``path`` in place (writers open it ``O_APPEND``, so they go on at the new end)."""
    if path.exists():
        os.truncate(path, 0)


def count_lines(path: Path) -> tuple[int, float]:
    """Lines in ``path`` and their mean length in bytes (newline excluded)."""
    data = path.read_bytes() if path.exists() else b""
    lines = data.count(b"\n")
    return lines, ((len(data) - lines) / lines if lines else 0.0)


# --- realistic events as each library renders them ------------------------------------------------


def worker_env(tmp: Path, config: dict[str, Any]) -> dict[str, str]:
    """The environment of a Celery worker subprocess: ``bench.settings``, this run's folder and ``config``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_TMP": str(tmp),
        "BENCH_EVENT_HUB": json.dumps(config),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }


def run_worker_until(
    command: Sequence[str],
    env: dict[str, str],
    out_path: Path,
    log: Path,
    expected_bytes: int,
    timeout: float,
    cleanup: Callable[[], Any],
) -> tuple[float, float | None, float | None]:
    """Run a worker until ``log`` holds ``expected_bytes``, stop it, then ``cleanup()`` (empty the broker).

    Returns the ``perf_counter`` times of its launch, of the log's first byte and of its last byte
    (``None`` for what did not happen before ``timeout`` or the worker exited).
    """
    first = done = None
    with open(out_path, "wb") as out:
        launched = time.perf_counter()
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = launched + timeout
            while time.perf_counter() < deadline and worker.poll() is None:
                size = log.stat().st_size if log.exists() else 0
                now = time.perf_counter()
                if size and first is None:
                    first = now
                if size >= expected_bytes:
                    done = now
                    break
                time.sleep(0.002)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            cleanup()
    return launched, first, done


def varied_problem_check(index: int) -> dict[str, Any]:
    """The sample payload with its problem, answers and question text changed per ``index``.

    Lines that differ like real ones keep compression (of broker messages) honest.
    """
    rng = random.Random(index)
    token = f"{rng.getrandbits(128):032x}"
    p2, p4 = f"i4x-edx-AN101-problem-{token}_2_1", f"i4x-edx-AN101-problem-{token}_4_1"
    data = problem_check()
    data["problem_id"] = f"i4x://edx/AN101/problem/{token}"
    data["attempts"] = rng.randint(1, 5)
    data["grade"] = rng.randint(0, 3)
    data["answers"] = {
        p2: rng.choice(["yellow", "blue", "green"]),
        p4: rng.sample(["choice_0", "choice_1", "choice_2"], 2),
    }
    data["correct_map"] = {p2: data["correct_map"][_P2], p4: data["correct_map"][_P4]}
    data["state"]["input_state"] = {p2: {}, p4: {}}
    data["state"]["seed"] = rng.randint(1, 1000)
    submission = data["submission"]
    data["submission"] = {p2: submission[_P2], p4: submission[_P4]}
    data["submission"][p2]["answer"] = data["answers"][p2]
    data["submission"][p2]["question"] = f"Question {rng.getrandbits(40):x}: what color is the ocean?"
    return data


def event_hub_lines(tmp: Path, count: int) -> list[bytes]:
    """``count`` wire lines, exactly as a unit of work collects them for a backend, of varied
    sample events emitted inside a request (what a batch carries to the broker and the worker)."""
    from django.test import override_settings

    from event_hub import context as ctx
    from event_hub.delivery.unit_of_work import unit_of_work
    from event_hub.middleware import request_info
    from event_hub.tracker import emit, tracker

    request = FakeRequest()
    with (
        override_settings(EVENT_HUB=hub_config(tmp, BATCH_MAX_EVENTS=count + 1, BATCH_MAX_SECONDS=3600)),
        ctx.push("request", request=request_info(request)),  # type: ignore[arg-type]
        unit_of_work() as work,
        tracker.context("module", module=MODULE),
    ):
        for index in range(count):
            emit("problem_check", varied_problem_check(index))
        lines = list(work._lines["tracking_log"])
        work._lines.clear()  # taken here: nothing to hand off
        work._started.clear()
    return lines


class _Capture:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def send(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def event_tracking_event() -> dict[str, Any]:
    """The event dict event-tracking's tracker hands its backends for the same emit."""
    from eventtracking.tracker import Tracker

    capture = _Capture()
    tracker = Tracker(backends={"capture": capture})
    request = FakeRequest()
    with (
        tracker.context("edx.request", edx_request_context(request)),
        tracker.context("module", {"module": MODULE}),
    ):
        tracker.emit("problem_check", problem_check())
    return capture.events[0]


# --- timing ---------------------------------------------------------------------------------------------

REPEATS = 5
WARMUP = 1


def side_by_side(
    cases: Sequence[tuple[str, Callable[[], int]]], *, repeats: int = REPEATS, warmup: int = WARMUP
) -> dict[str, list[int]]:
    """Run every case ``warmup + repeats`` times, interleaved round by round; keep the timed rounds.

    Each case callable does its own (untimed) set-up, times its workload with
    ``time.perf_counter_ns`` and returns the elapsed nanoseconds. Interleaving puts
    every case under the same machine conditions (frequency, cache, noise).
    """
    results: dict[str, list[int]] = {label: [] for label, _ in cases}
    for round_ in range(warmup + repeats):
        for label, case in cases:
            gc.collect()
            elapsed = case()
            if round_ >= warmup:
                results[label].append(elapsed)
    return results


def per_unit(samples_ns: Sequence[int], units: int, scale: float = 1e-3) -> tuple[float, float, float]:
    """(median, min, max) of ``samples / units`` in µs by default."""
    values = [ns / units * scale for ns in samples_ns]
    return statistics.median(values), min(values), max(values)


def print_header(title: str, *, timing: bool = True, repeats: int = REPEATS) -> None:
    line = "=" * max(len(title), 72)
    print(line)
    print(title)
    print(line)
    if not timing:
        return
    print(
        f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {repeats} timed repeats after {WARMUP} warm-up, median (min..max); "
        f"load average {load_average()}"
    )


def load_average() -> str:
    """The host's 1-minute load average (figures taken above the CPU count are noisy)."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, align: str | None = None) -> None:
    """A plain-text table; ``align`` has one of ``<`` / ``>`` per column (default: first left, rest right)."""
    align = align or "<" + ">" * (len(headers) - 1)
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)).rstrip()

    print(fmt(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(fmt(row))


def fmt_us(median: float, low: float, high: float, digits: int = 2) -> str:
    return f"{median:.{digits}f} ({low:.{digits}f}..{high:.{digits}f})"


def profile(workload: Callable[[], Any], events: int, *, top: int = 25, root: str = "event_hub") -> None:
    """Run ``workload`` under cProfile; print the top functions by own time, in µs per event.

    cProfile adds a fixed cost to every Python call, so absolute figures are
    inflated (by roughly 2x for call-heavy code); the ranking is what matters.
    With ``BENCH_PSTATS=<file>`` the raw profile is also written there (``pstats``, for callers).
    """
    profiler = cProfile.Profile()
    started = time.perf_counter_ns()
    profiler.enable()
    workload()
    profiler.disable()
    wall = (time.perf_counter_ns() - started) / 1e3 / events
    stats = pstats.Stats(profiler)
    if os.environ.get("BENCH_PSTATS"):
        stats.dump_stats(os.environ["BENCH_PSTATS"])
    total = sum(entry[2] for entry in stats.stats.values()) * 1e6 / events  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tottime, cumtime, ncalls, _where(filename, line, name, root)))
    print(
        f"cProfile: {events} events, {wall:.2f} µs/event under the profiler "
        f"({total:.2f} µs/event of own time)"
    )
    print("\ntop functions by own time:")
    print_table(
        ["function", "calls/event", "own µs/event", "cum µs/event"],
        [
            (
                where,
                f"{ncalls / events:.2f}",
                f"{tottime * 1e6 / events:.2f}",
                f"{cumtime * 1e6 / events:.2f}",
            )
            for tottime, cumtime, ncalls, where in sorted(rows, reverse=True)[:top]
        ],
    )
    print(f"\n{root} functions by cumulative time:")
    mine = [row for row in rows if row[3].startswith(root)]
    print_table(
        ["function", "calls/event", "own µs/event", "cum µs/event"],
        [
            (
                where,
                f"{ncalls / events:.2f}",
                f"{tottime * 1e6 / events:.2f}",
                f"{cumtime * 1e6 / events:.2f}",
            )
            for tottime, cumtime, ncalls, where in sorted(mine, key=lambda r: -r[1])[:top]
        ],
    )


def _where(filename: str, line: int, name: str, root: str) -> str:
    if filename == "~":
        return name
    path = Path(filename)
    parts = path.parts
    if root in parts:
        module = ".".join(parts[parts.index(root) :])[: -len(".py")]
    elif "site-packages" in parts:
        module = ".".join(parts[parts.index("site-packages") + 1 :])[: -len(".py")]
    else:
        module = path.stem
    return f"{module}.{name}:{line}"
