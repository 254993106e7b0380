"""µs per server ``emit`` of one realistic event: event_hub vs event-tracking vs the floor.

Run: ``.venv/bin/python bench/emit.py`` (``--profile`` adds a cProfile of event_hub's path).

Workload: the sample server ``problem_check`` of the tracking-log reference, emitted
``--per-unit`` times per request-like unit of work, ``--units`` units per repeat.

* event_hub: what ``EventHubMiddleware`` does per request
  (``context.push("request", request=request_info(request))`` + ``unit_of_work()``) on a
  fake request with an authenticated user and a session, plus a ``module`` context
  frame; then ``emit("problem_check", data)``: catalog validation, envelope, processors
  (``OutputFormat``, ``Privacy``), orjson rendering; when the unit ends, in-process
  (``DELIVERY="sync"``) delivery of the batch to the JSON-lines backend (a temp file).
* event-tracking, as edx-platform configures its tracking log: a ``DjangoTracker``
  built from ``EVENT_TRACKING_BACKENDS`` (RoutingBackend ``tracking_logs`` → LoggerBackend
  ``tracking`` with ``max_event_size=50000``, and the legacy field-mapping processors,
  see bench/edx_shim.py), the ``edx.request`` context the LMS middleware enters per request
  plus a ``module`` context; the ``tracking`` logger writes ``%(message)s`` through a
  ``logging.FileHandler`` on a temp file.
* event-tracking, minimal: ``Tracker(backends={"logger": LoggerBackend(...)})``, no
  processors, no nested routing (the cheapest way to use it; for reference).
* floor: ``orjson.dumps`` of the very record event_hub writes + a buffered file append.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import _common as c
import orjson

UNITS = 250
PER_UNIT = 20
VALIDATIONS = 20_000

HUB = "event_hub (VALIDATE=True, sync -> JSON lines)"
HUB_NOVALID = "event_hub (VALIDATE=False)"
PEER = "event-tracking, LMS config (DjangoTracker)"
PEER_MIN = "event-tracking, minimal (Tracker -> LoggerBackend)"
FLOOR = "floor (orjson.dumps + buffered append)"
VALIDATE = "registry.validate alone"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=UNITS, help="units of work per repeat")
    parser.add_argument("--per-unit", type=int, default=PER_UNIT, help="events per unit of work")
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
    data = c.problem_check()
    request = c.FakeRequest()
    registry.validate("problem_check", "server", data)  # raises if the sample does not fit the catalog

    # --- event_hub --------------------------------------------------------------------------------------
    hub_log = tmp / "tracking.log"

    def hub_run(count: int = units) -> None:
        for _ in range(count):
            with (
                ctx.push("request", request=request_info(request)),  # type: ignore[arg-type]
                unit_of_work(),
                tracker.context("module", module=c.MODULE),
            ):
                for _ in range(per_unit):
                    emit("problem_check", data)

    def hub_case(**overrides: Any) -> Any:
        config = c.hub_config(tmp, **overrides)

        def case() -> int:
            with override_settings(EVENT_HUB=config):
                hub_run(1)  # warm the caches the settings change dropped (routes, backend, pseudonyms)
                c.truncate(hub_log)
                started = time.perf_counter_ns()
                hub_run()
                return time.perf_counter_ns() - started

        return case

    # --- event-tracking ---------------------------------------------------------------------------------
    peer_log = tmp / "event-tracking.log"
    tracking_logger = logging.getLogger("tracking")
    tracking_logger.setLevel(logging.INFO)
    tracking_logger.propagate = False
    handler = logging.FileHandler(peer_log)
    handler.setFormatter(logging.Formatter("%(message)s"))
    tracking_logger.addHandler(handler)

    def peer_case(peer: Any) -> Any:
        def case() -> int:
            peer.emit("problem_check", data)  # warm
            c.truncate(peer_log)
            started = time.perf_counter_ns()
            for _ in range(units):
                with (
                    peer.context("edx.request", c.edx_request_context(request)),
                    peer.context("module", {"module": c.MODULE}),
                ):
                    for _ in range(per_unit):
                        peer.emit("problem_check", data)
            handler.flush()
            return time.perf_counter_ns() - started

        return case

    # --- the floor: serialise the record event_hub writes, append it to a buffered file ------------------
    with override_settings(EVENT_HUB=c.hub_config(tmp)):
        c.truncate(hub_log)
        hub_run(1)
        sample_line = hub_log.read_bytes().splitlines()[0]
    record = orjson.loads(sample_line)
    floor_log = tmp / "floor.log"

    def floor_case() -> int:
        dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        with open(floor_log, "wb") as out:
            started = time.perf_counter_ns()
            for _ in range(events):
                out.write(dumps(record, option=option))
            out.flush()
            return time.perf_counter_ns() - started

    def validate_case() -> int:
        validate = registry.validate
        started = time.perf_counter_ns()
        for _ in range(VALIDATIONS):
            validate("problem_check", "server", data)
        return time.perf_counter_ns() - started

    cases = [
        (HUB, hub_case()),
        (HUB_NOVALID, hub_case(VALIDATE=False)),
        (PEER, peer_case(_lms_tracker())),
        (PEER_MIN, peer_case(_minimal_tracker())),
        (FLOOR, floor_case),
        (VALIDATE, validate_case),
    ]

    c.print_header("emit: µs per server emit of one problem_check event")
    print(
        f"event: server problem_check, payload {len(orjson.dumps(data))} B as JSON; "
        f"{per_unit} events per unit of work, {units} units = {events} events per repeat; "
        "cases interleaved in each round"
    )
    print(f"event_hub's line ({len(sample_line)} B): {sample_line[:120].decode()}...")
    results = c.side_by_side(cases)
    written: dict[str, tuple[int, float]] = {}
    # What each writer left in its file after the last round, to show the outputs are alike.
    written[HUB] = written[HUB_NOVALID] = c.count_lines(hub_log)
    written[FLOOR] = c.count_lines(floor_log)
    peer_lines = c.count_lines(peer_log)
    written[PEER] = written[PEER_MIN] = peer_lines

    medians: dict[str, float] = {}
    rows = []
    for label, _ in cases[:-1]:
        median, low, high = c.per_unit(results[label], events)
        medians[label] = median
        _lines, mean = written[label]
        rows.append((label, c.fmt_us(median, low, high), f"{1e6 / median:,.0f}", f"{mean:,.0f} B"))
    print()
    c.print_table(["contender", "µs/event", "events/s", "line"], rows)
    print(
        f"(last round: event_hub file {written[HUB][0]} lines, event-tracking file {peer_lines[0]} lines, "
        f"floor file {written[FLOOR][0]} lines; event_hub blanks username and ip, event-tracking keeps them)"
    )

    v_median, v_low, v_high = c.per_unit(results[VALIDATE], VALIDATIONS)
    print()
    print(
        f"validation alone: registry.validate('problem_check', 'server', payload) = "
        f"{c.fmt_us(v_median, v_low, v_high)} µs per call"
    )
    print(f"VALIDATE=True minus VALIDATE=False: {medians[HUB] - medians[HUB_NOVALID]:.2f} µs per event")
    print()
    c.print_table(
        ["ratio", "value", "goal"],
        [
            ("event-tracking (LMS config) / event_hub", f"{medians[PEER] / medians[HUB]:.2f}x", ">= 4x"),
            (
                "event-tracking (LMS config) / event_hub VALIDATE=False",
                f"{medians[PEER] / medians[HUB_NOVALID]:.2f}x",
                "",
            ),
            ("event-tracking (minimal) / event_hub", f"{medians[PEER_MIN] / medians[HUB]:.2f}x", ""),
            ("event_hub / floor", f"{medians[HUB] / medians[FLOOR]:.2f}x", "<= 5x"),
            ("event_hub VALIDATE=False / floor", f"{medians[HUB_NOVALID] / medians[FLOOR]:.2f}x", ""),
        ],
    )

    for path in (hub_log, peer_log, floor_log):
        path.unlink(missing_ok=True)
    if args.profile:
        print()
        c.print_header("emit: where event_hub's time goes (VALIDATE=True)", timing=False)
        with override_settings(EVENT_HUB=c.hub_config(tmp)):
            _stages(request, data, per_unit, medians[HUB], medians[HUB_NOVALID])
            hub_run(1)
            print()
            c.profile(hub_run, events)
    handler.close()
    tracking_logger.removeHandler(handler)


def _stages(request: Any, data: Any, per_unit: int, hub_us: float, novalid_us: float) -> None:
    """Cost of each stage of one emit, timed alone (no profiler), in µs per event."""
    import timeit

    from event_hub import context as ctx
    from event_hub.catalog import registry
    from event_hub.delivery.unit_of_work import UnitOfWork, unit_of_work
    from event_hub.middleware import request_info
    from event_hub.processors.chain import routes
    from event_hub.tracker import emit, tracker

    def best(func: Any, number: int) -> float:
        """Best of 7 runs of ``number`` calls, µs per call."""
        func()
        return min(timeit.repeat(func, number=number, repeat=7)) / number * 1e6

    def frames() -> Any:
        return (
            ctx.push("request", request=request_info(request)),
            unit_of_work(),
            tracker.context("module", module=c.MODULE),
        )

    request_frame, work, module_frame = frames()
    with request_frame, work, module_frame:
        envelope = emit("problem_check", data)
    table = routes()

    def process_and_render() -> None:
        for processor in table.shared:
            processor(envelope)
        for route in table.routes:
            processed = route.apply(envelope)
            if processed is not None:
                orjson.dumps(processed.render())

    def render_only() -> None:
        orjson.dumps(envelope.render())

    lines = [orjson.dumps(envelope.render())] * per_unit

    def hand_off() -> None:
        unit = UnitOfWork()
        for line in lines:
            unit.add("tracking_log", line)
        unit.flush()

    def request_overhead() -> None:
        request_frame, work, module_frame = frames()
        with request_frame, work, module_frame:
            pass

    validate = best(lambda: registry.validate("problem_check", "server", data), 20_000)
    processing = best(process_and_render, 20_000)
    rendering = best(render_only, 20_000)
    delivery = best(hand_off, 1_000) / per_unit
    overhead = best(request_overhead, 20_000) / per_unit
    rest = novalid_us - processing - delivery - overhead
    print("stages timed alone (best of 7, no profiler), µs per event; emit medians from the table above")
    c.print_table(
        ["stage", "µs/event", "share"],
        [
            ("registry.validate (catalog validation)", f"{validate:.2f}", f"{validate / hub_us:.0%}"),
            (
                "envelope build + tracker overhead (emit VALIDATE=False minus the rows below)",
                f"{rest:.2f}",
                f"{rest / hub_us:.0%}",
            ),
            (
                "processors + render + orjson.dumps, per backend route",
                f"{processing:.2f}",
                f"{processing / hub_us:.0%}",
            ),
            ("  of which render() + orjson.dumps", f"{rendering:.2f}", ""),
            (
                f"unit of work: add + hand-off (sync JSON-lines write), batch of {per_unit}",
                f"{delivery:.2f}",
                f"{delivery / hub_us:.0%}",
            ),
            (
                f"request frame + unit of work + module frame, spread over {per_unit} events",
                f"{overhead:.2f}",
                f"{overhead / hub_us:.0%}",
            ),
            ("emit, VALIDATE=True (median above)", f"{hub_us:.2f}", "100%"),
        ],
    )


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
