"""µs per emit of two realistic events: event_hub vs event-tracking vs the floor.

Run: ``.venv/bin/python bench/emit.py`` (``--profile`` adds a cProfile of event_hub's path).

Two workloads, each emitted ``--per-unit`` times per request-like unit of work, ``--units``
units per round:

* ``problem_check``: the sample server event of the tracking-log reference, emitted by
  server code inside a request (and a ``module`` context frame);
* ``play_video``: a browser event as ``/api/tracking`` hands it to the tracker
  (``tracker.send(..., source="browser", page=..., course_id=..., context={"client_time": ...})``),
  many events per posted batch, each with its own client time.

Contenders, per workload:

* event_hub, what ``EventHubMiddleware`` does per request
  (``context.push("request", request=request_info(request))`` + ``unit_of_work()``) on a fake
  request with an authenticated user and a session; then the emits: catalog validation,
  envelope, processors (``Privacy``), the wire line. ``DELIVERY="sync"``: when the unit ends its
  batch is delivered in-process to the JSON-lines backend, which renders each tracking-log line
  from its wire line (``transform_line``) and appends the batch to a temp file.

  - *end to end*: everything above, the delivery included;
  - *emit side*: only what the emitting code waits for before its batch leaves (the emits and
    the hand-off to the unit of work); the unit's delivery runs untimed.

* event-tracking as edx-platform configures its tracking log: a ``DjangoTracker`` built from
  ``EVENT_TRACKING_BACKENDS`` (RoutingBackend ``tracking_logs`` → LoggerBackend ``tracking``
  with ``max_event_size=50000`` and the legacy field-mapping processors, see bench/edx_shim.py),
  the ``edx.request`` context the LMS middleware enters per request; for ``problem_check`` a
  ``module`` context, for ``play_video`` the context the platform's ``/event`` view enters
  around each browser event. The ``tracking`` logger writes ``%(message)s`` through a
  ``logging.FileHandler`` on a temp file.
* floor: ``orjson.dumps`` of the very record event_hub's file holds, appended to a buffered
  file: the same final line, written the cheapest way.
* floor of a wire hand-off: the floor, plus ``orjson.dumps`` of the event's wire object (what
  event_hub's tracker hands off) and ``orjson.loads`` of that text (what a backend reads back).
  The least any design pays where the envelope travels serialised and the backend writes its
  own line (issue 8's shape), with nothing validated, built or processed and the record not
  derived from what was read.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import time
import timeit
from collections.abc import Callable
from typing import Any

import _common as c
import orjson

UNITS = 250
PER_UNIT = 20
REPEATS = 7
VALIDATIONS = 20_000

HUB = "event_hub end to end (sync -> JSON lines)"
HUB_EMIT = "event_hub emit side (hand-off to the unit of work)"
HUB_CONTEXT = "event_hub end to end, module as context= per call"
HUB_NOVALID = "event_hub end to end, VALIDATE=False"
PEER = "event-tracking, LMS config (DjangoTracker)"
PEER_MIN = "event-tracking, minimal (Tracker -> LoggerBackend)"
FLOOR = "floor (orjson.dumps + buffered append)"
WIRE_FLOOR = "floor of a wire hand-off (+ wire dumps, loads)"

FLOOR_GOAL = "<= 5x"
PEER_GOAL = ">= 4x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=UNITS, help="units of work per round")
    parser.add_argument("--per-unit", type=int, default=PER_UNIT, help="events per unit of work")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="timed rounds")
    parser.add_argument("--profile", action="store_true", help="also profile event_hub's emit path")
    args = parser.parse_args()

    tmp = c.setup_django()
    from django.test import override_settings

    from event_hub import context as ctx
    from event_hub.catalog import registry
    from event_hub.delivery.unit_of_work import unit_of_work
    from event_hub.middleware import request_info
    from event_hub.tracker import emit, tracker

    units, per_unit = args.units, args.per_unit
    events = units * per_unit
    problem = c.problem_check()
    video = dict(c.PLAY_VIDEO)
    server_request = c.FakeRequest()
    browser_request = c.FakeRequest(path=c.BROWSER_PATH)
    # Both samples must fit the catalog (this raises otherwise).
    registry.validate("problem_check", "server", problem)
    registry.validate("play_video", "browser", video)

    def emit_problem() -> None:
        emit("problem_check", problem)

    def emit_problem_context() -> None:
        emit("problem_check", problem, context={"module": c.MODULE})

    # Each browser event carries its own client timestamp (context.client_time), as posted.
    client_times = itertools.cycle(c.client_times(1000))

    def send_video() -> None:
        # The call /api/tracking makes for one posted browser event (a fresh context per event).
        tracker.send(
            "play_video",
            video,
            user=browser_request.user,
            course_content_node=None,
            course_id=c.COURSE_ID,
            source="browser",
            page=c.VIDEO_PAGE,
            context={"client_time": next(client_times)},
            on_invalid=None,
        )

    hub_log = tmp / "tracking.log"

    def hub_units(
        count: int, request: Any, emit_one: Callable[[], None], *, module: bool, emit_side: bool = False
    ) -> int:
        """Run ``count`` units of work; ns spent end to end, or on the emit side only."""
        elapsed = 0
        clock = time.perf_counter_ns
        for _ in range(count):
            started = clock()
            with ctx.push("request", request=request_info(request)), unit_of_work():  # type: ignore[arg-type]
                with tracker.context("module", module=c.MODULE) if module else contextlib.nullcontext():
                    for _ in range(per_unit):
                        emit_one()
                handed = clock()
            ended = clock()
            elapsed += (handed if emit_side else ended) - started
        return elapsed

    def hub_case(request: Any, emit_one: Callable[[], None], *, module: bool, **options: Any) -> Any:
        emit_side = options.pop("emit_side", False)
        config = c.hub_config(tmp, **options)

        def case() -> int:
            with override_settings(EVENT_HUB=config):
                hub_units(1, request, emit_one, module=module)  # warm the caches the settings change dropped
                c.truncate(hub_log)
                return hub_units(units, request, emit_one, module=module, emit_side=emit_side)

        return case

    # --- event-tracking ---------------------------------------------------------------------------------
    peer_log = tmp / "event-tracking.log"
    tracking_logger = logging.getLogger("tracking")
    tracking_logger.setLevel(logging.INFO)
    tracking_logger.propagate = False
    handler = logging.FileHandler(peer_log)
    handler.setFormatter(logging.Formatter("%(message)s"))
    tracking_logger.addHandler(handler)

    def peer_problem(peer: Any) -> Any:
        def case() -> int:
            peer.emit("problem_check", problem)  # warm
            c.truncate(peer_log)
            started = time.perf_counter_ns()
            for _ in range(units):
                with (
                    peer.context("edx.request", c.edx_request_context(server_request)),
                    peer.context("module", {"module": c.MODULE}),
                ):
                    for _ in range(per_unit):
                        peer.emit("problem_check", problem)
            handler.flush()
            return time.perf_counter_ns() - started

        return case

    def peer_video(peer: Any) -> Any:
        def case() -> int:
            peer.emit("play_video", video)  # warm
            c.truncate(peer_log)
            started = time.perf_counter_ns()
            for _ in range(units):
                with peer.context("edx.request", c.edx_request_context(browser_request, course_id="")):
                    for _ in range(per_unit):
                        # The platform's /event view: a context per event, then emit.
                        with peer.context("edx.course.browser", c.edx_browser_context(browser_request)):
                            peer.emit("play_video", video)
            handler.flush()
            return time.perf_counter_ns() - started

        return case

    # --- the floor: serialise the record event_hub's file holds, append it to a buffered file ------------
    def final_line(request: Any, emit_one: Callable[[], None], *, module: bool) -> bytes:
        with override_settings(EVENT_HUB=c.hub_config(tmp)):
            c.truncate(hub_log)
            hub_units(1, request, emit_one, module=module)
            return hub_log.read_bytes().splitlines()[0]

    floor_log = tmp / "floor.log"

    def floor_case(line: bytes) -> Any:
        record = orjson.loads(line)

        def case() -> int:
            dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
            with open(floor_log, "wb") as out:
                started = time.perf_counter_ns()
                for _ in range(events):
                    out.write(dumps(record, option=option))
                out.flush()
                return time.perf_counter_ns() - started

        return case

    def wire_floor_case(wire: bytes, line: bytes) -> Any:
        wire_object, record = orjson.loads(wire), orjson.loads(line)

        def case() -> int:
            dumps, loads, option = orjson.dumps, orjson.loads, orjson.OPT_APPEND_NEWLINE
            with open(floor_log, "wb") as out:
                started = time.perf_counter_ns()
                for _ in range(events):
                    loads(dumps(wire_object))
                    out.write(dumps(record, option=option))
                out.flush()
                return time.perf_counter_ns() - started

        return case

    with override_settings(EVENT_HUB=c.hub_config(tmp)):
        wires = {workload: _wire_lines(workload, 1)[0] for workload in ("problem_check", "play_video")}
    problem_line = final_line(server_request, emit_problem, module=True)
    video_line = final_line(browser_request, send_video, module=False)
    lms, minimal = _lms_tracker(), _minimal_tracker()
    workloads = {
        "problem_check": [
            (HUB, hub_case(server_request, emit_problem, module=True)),
            (HUB_EMIT, hub_case(server_request, emit_problem, module=True, emit_side=True)),
            (HUB_CONTEXT, hub_case(server_request, emit_problem_context, module=False)),
            (HUB_NOVALID, hub_case(server_request, emit_problem, module=True, VALIDATE=False)),
            (PEER, peer_problem(lms)),
            (PEER_MIN, peer_problem(minimal)),
            (FLOOR, floor_case(problem_line)),
            (WIRE_FLOOR, wire_floor_case(wires["problem_check"], problem_line)),
        ],
        "play_video": [
            (HUB, hub_case(browser_request, send_video, module=False)),
            (HUB_EMIT, hub_case(browser_request, send_video, module=False, emit_side=True)),
            (HUB_NOVALID, hub_case(browser_request, send_video, module=False, VALIDATE=False)),
            (PEER, peer_video(lms)),
            (FLOOR, floor_case(video_line)),
            (WIRE_FLOOR, wire_floor_case(wires["play_video"], video_line)),
        ],
    }
    cases = [(f"{workload}: {label}", case) for workload, pairs in workloads.items() for label, case in pairs]

    c.print_header("emit: µs per event, event_hub vs event-tracking vs the floor", repeats=args.repeats)
    print(
        f"{per_unit} events per unit of work, {units} units = {events} events per round and case; "
        "cases interleaved in each round"
    )
    print(
        f"problem_check: server, payload {len(orjson.dumps(problem))} B as JSON, "
        f"final line {len(problem_line)} B"
    )
    print(
        "play_video: browser, via tracker.send as /api/tracking calls it, "
        f"payload {len(orjson.dumps(video))} B, final line {len(video_line)} B:\n  {video_line.decode()}"
    )
    results = c.side_by_side(cases, repeats=args.repeats)
    print(f"load average after the rounds: {c.load_average()}")

    medians: dict[str, dict[str, float]] = {}
    for workload, pairs in workloads.items():
        medians[workload] = {}
        rows = []
        for label, _ in pairs:
            median, low, high = c.per_unit(results[f"{workload}: {label}"], events)
            medians[workload][label] = median
            rows.append((label, c.fmt_us(median, low, high), f"{1e6 / median:,.0f}"))
        print()
        print(f"{workload}:")
        c.print_table(["contender", "µs/event", "events/s"], rows)

    print()
    validate_rows = []
    for name, source, payload in (("problem_check", "server", problem), ("play_video", "browser", video)):
        per_call = _best(lambda n=name, s=source, p=payload: registry.validate(n, s, p), VALIDATIONS)  # type: ignore[misc]
        validate_rows.append((f"registry.validate({name!r}, {source!r}) alone", f"{per_call:.2f}"))
    for workload, values in medians.items():
        validate_rows.append(
            (f"{workload}: VALIDATE=True minus VALIDATE=False", f"{values[HUB] - values[HUB_NOVALID]:.2f}")
        )
    validate_rows.append(
        (
            "problem_check: context= per call minus a module frame",
            f"{medians['problem_check'][HUB_CONTEXT] - medians['problem_check'][HUB]:.2f}",
        )
    )
    c.print_table(["validation and context", "µs/event"], validate_rows)

    print()
    ratio_rows = []
    for workload, values in medians.items():
        floor, peer = values[FLOOR], values[PEER]
        hub, hub_emit = values[HUB], values[HUB_EMIT]
        ratio_rows += [
            (f"{workload}: event_hub end to end / floor", f"{hub / floor:.2f}x", FLOOR_GOAL),
            (f"{workload}: event_hub emit side / floor", f"{hub_emit / floor:.2f}x", FLOOR_GOAL),
            (f"{workload}: floor of a wire hand-off / floor", f"{values[WIRE_FLOOR] / floor:.2f}x", ""),
            (f"{workload}: event-tracking (LMS) / event_hub end to end", f"{peer / hub:.2f}x", PEER_GOAL),
            (f"{workload}: event-tracking (LMS) / event_hub emit side", f"{peer / hub_emit:.2f}x", PEER_GOAL),
        ]
    ratio_rows.append(
        (
            "problem_check: event-tracking (minimal) / event_hub end to end",
            f"{medians['problem_check'][PEER_MIN] / medians['problem_check'][HUB]:.2f}x",
            "",
        )
    )
    c.print_table(["ratio", "value", "goal"], ratio_rows, align="<><")

    for path in (hub_log, peer_log, floor_log):
        path.unlink(missing_ok=True)
    handler.close()
    tracking_logger.removeHandler(handler)
    if args.profile:
        for workload, request, emit_one, module in (
            ("play_video", browser_request, send_video, False),
            ("problem_check", server_request, emit_problem, True),
        ):
            with override_settings(EVENT_HUB=c.hub_config(tmp)):
                print()
                c.print_header(f"emit: where event_hub's time goes, {workload}", timing=False)
                _stages(workload, medians[workload], per_unit)
                hub_units(1, request, emit_one, module=module)
                print()
                c.profile(lambda r=request, e=emit_one, m=module: hub_units(units, r, e, module=m), events)


def _best(func: Callable[[], Any], number: int) -> float:
    """Best of 7 runs of ``number`` calls, µs per call."""
    func()
    return min(timeit.repeat(func, number=number, repeat=7)) / number * 1e6


def _stages(workload: str, medians: dict[str, float], per_unit: int) -> None:
    """Each stage of one event timed alone (no profiler), in µs per event, from lines event_hub wrote."""
    from event_hub import wireline
    from event_hub.backends import get_backend
    from event_hub.backends.base import decode
    from event_hub.delivery.batch import Batch

    wires = _wire_lines(workload, per_unit)
    envelope = decode(wires[0])
    backend = get_backend("tracking_log")
    items = [backend.transform_line(wire) for wire in wires]

    def each(step: Callable[[bytes], Any]) -> Callable[[], None]:
        def run() -> None:
            for wire in wires:
                step(wire)

        return run

    # What transform_line did before the parts were copied: every line split, the same lines written.
    split_path = backend.transform_split_line
    assert all(wireline.split(wire) is not None for wire in wires)
    assert [split_path(wire) for wire in wires] == items
    wire_cost = _best(lambda: wireline.encode(envelope), 20_000)
    sections_cost = _best(each(wireline.sections), 1_000) / per_unit
    transform_cost = _best(each(backend.transform_line), 1_000) / per_unit
    split_cost = _best(each(split_path), 1_000) / per_unit
    # A new batch each time (the file backend writes a batch id it has seen once).
    send_cost = _best(lambda: backend.send(items, Batch(backend="tracking_log", lines=wires)), 200) / per_unit
    worker = medians[HUB] - medians[HUB_EMIT]
    own_time = ", each with its own client time" if workload == "play_video" else ""
    print(
        "stages timed alone (best of 7, no profiler), µs per event; medians from the tables above; "
        f"{per_unit} lines of one request{own_time}"
    )
    c.print_table(
        ["stage", "µs/event"],
        [
            ("emit side (median above)", f"{medians[HUB_EMIT]:.2f}"),
            ("  of which VALIDATE=True minus VALIDATE=False", f"{medians[HUB] - medians[HUB_NOVALID]:.2f}"),
            ("  of which wireline.encode (the wire line)", f"{wire_cost:.2f}"),
            ("delivery at the unit's end (end to end minus emit side)", f"{worker:.2f}"),
            ("  of which JsonLinesBackend.transform_line (parts copied)", f"{transform_cost:.2f}"),
            ("    of which wireline.sections (the parts cut out)", f"{sections_cost:.2f}"),
            ("  the same lines through the split path (head decoded)", f"{split_cost:.2f}"),
            (f"  of which JsonLinesBackend.send (ledger + write), batch of {per_unit}", f"{send_cost:.2f}"),
            ("floor (median above)", f"{medians[FLOOR]:.2f}"),
        ],
    )


def _wire_lines(workload: str, count: int) -> list[bytes]:
    """The wire lines ``count`` events of ``workload`` put in one request's unit of work."""
    from event_hub import context as ctx
    from event_hub import wireline
    from event_hub.middleware import request_info
    from event_hub.processors.chain import routes
    from event_hub.tracker import emit, tracker

    envelopes = []
    if workload == "problem_check":
        with ctx.push("request", request=request_info(c.FakeRequest())):  # type: ignore[arg-type]
            for _ in range(count):
                envelopes.append(emit("problem_check", c.problem_check(), context={"module": c.MODULE}))
    else:
        request = c.FakeRequest(path=c.BROWSER_PATH)
        with ctx.push("request", request=request_info(request)):  # type: ignore[arg-type]
            for client_time in c.client_times(count):
                envelopes.append(
                    tracker.send(
                        "play_video",
                        dict(c.PLAY_VIDEO),
                        user=request.user,
                        course_id=c.COURSE_ID,
                        source="browser",
                        page=c.VIDEO_PAGE,
                        context={"client_time": client_time},
                    )
                )
    route = routes().routes[0]
    lines = []
    for envelope in envelopes:
        assert envelope is not None
        processed = route.apply(envelope)
        assert processed is not None
        lines.append(wireline.encode(processed))
    return lines


def _lms_tracker() -> Any:
    """event-tracking's DjangoTracker, built from the settings the LMS uses for its tracking log."""
    from django.test import override_settings
    from eventtracking.django.django_tracker import DjangoTracker

    backends = {
        "tracking_logs": {
            "ENGINE": "eventtracking.backends.routing.RoutingBackend",
            "OPTIONS": {
                "backends": {
                    "logger": {
                        "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                        "OPTIONS": {"name": "tracking", "max_event_size": 50000},
                    }
                },
                "processors": [
                    {"ENGINE": "bench.edx_shim.LegacyFieldMappingProcessor"},
                    {"ENGINE": "bench.edx_shim.PrefixedEventProcessor"},
                ],
            },
        },
    }
    with override_settings(EVENT_TRACKING_BACKENDS=backends, EVENT_TRACKING_PROCESSORS=[]):
        return DjangoTracker()


def _minimal_tracker() -> Any:
    """The cheapest event-tracking set-up: one LoggerBackend, no processors."""
    from eventtracking.backends.logger import LoggerBackend
    from eventtracking.locator import ThreadLocalContextLocator
    from eventtracking.tracker import Tracker

    backend = LoggerBackend(name="tracking", max_event_size=50000)
    return Tracker(backends={"logger": backend}, context_locator=ThreadLocalContextLocator())


if __name__ == "__main__":
    main()
