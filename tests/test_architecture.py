"""The package's floors as docs/architecture.md draws them: each module imports only from its own floor or below,
and no import cycle anywhere (imports read with ast, those inside functions included)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import swfagent

PACKAGE = Path(swfagent.__file__).parent
FLOORS = [
    {"errors", "status", "limits", "logs"},
    {"ids", "decisions", "views", "retrying", "conditions", "cron"},
    {"config", "history", "decide", "graph", "render"},
    {"client", "runner", "poller", "payloads", "alerts", "register", "policies"},
    {"decision_tasks", "activity_tasks", "executions", "live", "runtime"},
    {"pollers", "commands", "servers", "demo", "web", "local"},
    {"cli", "__main__", "__init__"},
]
FLOOR = {name: i for i, names in enumerate(FLOORS) for name in names}


def imports() -> dict[str, set[str]]:
    """Each module (top-level name, or package) -> the package's modules it imports."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] == "article":
            continue
        module = ".".join(p for p in parts if p != "__init__") or "__init__"
        here = parts[:-1]
        targets = found.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = list(here[: len(here) - (node.level - 1)])
                named = [*base, *node.module.split(".")] if node.module else base
                for alias in node.names if not node.module else [None]:
                    target = [*named, alias.name] if alias is not None else named
                    targets.add(".".join(target))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("swfagent."):
                targets.add(str(node.module)[len("swfagent."):])
    modules = set(found)
    return {m: {t for t in ts if t in modules and t != m} for m, ts in found.items()}


def test_every_module_has_a_floor() -> None:
    assert {m.split(".")[0] for m in imports()} <= set(FLOOR)


def test_no_module_imports_one_above_it() -> None:
    above = [(m, t) for m, ts in imports().items() for t in ts
             if FLOOR[t.split(".")[0]] > FLOOR[m.split(".")[0]]]
    assert above == []


def test_no_import_cycle_outside_the_embedded_swf() -> None:
    graph = {m: {t for t in ts if not t.startswith("local.")} for m, ts in imports().items() if not m.startswith("local.")}
    graphlib.TopologicalSorter(graph).prepare()  # CycleError names the cycle


def test_no_import_cycle_in_the_embedded_swf() -> None:
    graphlib.TopologicalSorter(imports()).prepare()


def test_moto_is_imported_by_the_adapter_only() -> None:
    """Every module of swfagent/local/ takes moto's names from local/moto_adapter.py (imports inside functions too)."""
    importers = set()
    for path in (PACKAGE / "local").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(n == "moto" or n.startswith("moto.") for n in names):
                importers.add(path.name)
    assert importers == {"moto_adapter.py"}
