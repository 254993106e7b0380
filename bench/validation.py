"""µs per payload check: registry.validate (jsonschema-rs and the error map) against jsonschema-rs alone.

Run: ``.venv/bin/python bench/validation.py`` (``--calls N`` per timed round).

Workloads, each valid and invalid:

* the sample server ``problem_check`` of the tracking-log reference (nested maps of objects);
  invalid: a string ``npoints`` deep in ``correct_map`` and an unlisted member;
* a browser ``play_video`` (three members); invalid: a string ``currentTime`` and an unlisted member.

Candidates (strict fields):

* ``registry.validate``: what every emit runs (the entry's compiled schema; for an invalid
  payload, the ``{path: [messages]}`` map of ``InvalidEventError``);
* ``jsonschema-rs``: ``jsonschema_rs.validator_for`` on the schema ``event_hub_schema`` exports;
  valid: ``is_valid``, invalid: ``iter_errors`` (every error, with its raw path), the floor.

The first version of this script (git history) also timed the cattrs hooks and the compiled
fast check this replaced; bench/README.rst keeps those figures.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from typing import Any

import _common as c
import jsonschema_rs

CALLS = 5_000


def timed(check: Callable[[Any], Any], data: Any, calls: int) -> Callable[[], int]:
    def case() -> int:
        start = time.perf_counter_ns()
        for _ in range(calls):
            check(data)
        return time.perf_counter_ns() - start

    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS, help="checks per timed round and case")
    args = parser.parse_args()

    c.setup_django(migrate=False)
    from event_hub.catalog import registry
    from event_hub.catalog.schema import event_schema
    from event_hub.exceptions import InvalidEventError

    problem = c.problem_check()
    broken_problem = copy.deepcopy(problem)
    broken_problem["correct_map"][c._P2]["npoints"] = "1"
    broken_problem["extra"] = True
    video = {"code": "html5", "currentTime": 12.5, "id": "0b9e39477cf34507a7a48f74be381fdd"}
    broken_video = {**video, "currentTime": "12.5", "extra": True}
    workloads = [
        ("problem_check", "server", problem, broken_problem),
        ("play_video", "browser", video, broken_video),
    ]

    cases: list[tuple[str, Callable[[], int]]] = []
    for name, source, valid, invalid in workloads:
        spec = registry.lookup(name, source)
        assert spec is not None

        def registry_check(data: Any, name: str = name, source: str = source) -> Any:
            try:
                return registry.validate(name, source, data)
            except InvalidEventError as exc:
                return exc.errors

        rs = jsonschema_rs.validator_for(event_schema(spec))
        assert rs.is_valid(valid)
        assert len(list(rs.iter_errors(invalid))) >= 2

        def rs_errors(data: Any, rs: Any = rs) -> Any:
            return [(error.instance_path, error.message) for error in rs.iter_errors(data)]

        assert registry_check(valid).data is valid
        assert len(registry_check(invalid)) >= 2
        for label, data, floor in (("valid", valid, rs.is_valid), ("invalid", invalid, rs_errors)):
            for candidate, check in (("registry.validate", registry_check), ("jsonschema-rs", floor)):
                cases.append((f"{name}@{source} {label} | {candidate}", timed(check, data, args.calls)))

    c.print_header(f"Payload checks: µs per call ({args.calls} calls per round)")
    results = c.side_by_side(cases)
    rows = []
    medians: dict[str, float] = {}
    for label, samples in results.items():
        median, low, high = c.per_unit(samples, args.calls)
        medians[label] = median
        rows.append([label, c.fmt_us(median, low, high)])
    c.print_table(["case", "µs per call (median, min..max)"], rows)
    print()
    ratio_rows = []
    for label, median in medians.items():
        workload, candidate = label.split(" | ")
        reference = medians[f"{workload} | jsonschema-rs"]
        ratio_rows.append([workload, candidate, f"{median / reference:.2f}x"])
    c.print_table(["workload", "candidate", "time / jsonschema-rs"], ratio_rows)


if __name__ == "__main__":
    main()
