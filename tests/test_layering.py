"""The package's imports run one way: no module imports, even inside a function, one that imports it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "event_hub"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its body (function-level imports too)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                    for alias in node.names
                ]
            for target in targets:
                found = resolve(target) if target.startswith("event_hub") else None
                if found and found != name:
                    graph[name].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


class TestLayering:
    def test_no_import_cycles(self) -> None:
        """No group of event_hub modules imports each other in a circle, function-level imports included."""
        assert cycles(import_graph()) == []

    def test_the_checker_finds_a_cycle(self) -> None:
        """The cycle finder reports a circle it is given (so the test above can fail)."""
        assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

    def test_delivery_reads_like_the_data_flow(self) -> None:
        """Delivery layers import downward only: batch, dead letters, attempt, outbox, broker,
        forward, republish, spool, hand-off, unit of work; the tasks sit on top."""
        graph = import_graph()
        order = [
            "event_hub.delivery.batch",
            "event_hub.delivery.deadletters",
            "event_hub.delivery.attempt",
            "event_hub.delivery.outbox",
            "event_hub.delivery.broker",
            "event_hub.delivery.forward",
            "event_hub.delivery.republish",
            "event_hub.delivery.spool",
            "event_hub.delivery.handoff",
            "event_hub.delivery.unit_of_work",
            "event_hub.delivery.tasks",
        ]
        for position, module in enumerate(order):
            above = set(order[position + 1 :])
            assert not graph[module] & above, f"{module} imports {sorted(graph[module] & above)}"
