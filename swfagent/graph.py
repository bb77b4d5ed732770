"""The workflow's flow chart in the article's notation, as Mermaid or Graphviz DOT text.

Ovals are the start and the end, rectangles the steps (activities), diamonds the `when` conditions:
a step with `when` gets a diamond between its `after` steps and itself, 'yes' leading to the step
and 'no' past it (the step is skipped) to the steps after it, or to the end. Pure: a Workflow and, optionally, each step's status in.
"""

from __future__ import annotations

import re

from .config import Step, Workflow
from .status import Shown

FORMATS = ("mermaid", "dot")
START, END = "wf_start", "wf_end"

# fill, border: the same in both formats
COLORS = {
    Shown.COMPLETED: ("#c8e6c9", "#2e7d32"),
    Shown.RUNNING: ("#bbdefb", "#1565c0"),
    Shown.FAILED: ("#ffcdd2", "#c62828"),
    Shown.SKIPPED: ("#eeeeee", "#9e9e9e"),
    Shown.PENDING: ("#ffffff", "#616161"),
}


class Chart:
    """The flow chart as nodes (id, shape, label lines) and edges (from, to, label, dashed)."""

    def __init__(self, workflow: Workflow):
        self.workflow = workflow
        self.ids = _node_ids(workflow.steps)
        self.nodes: list[tuple[str, str, list[str]]] = [(START, "oval", ["Start"])]
        self.edges: list[tuple[str, str, str, bool]] = []
        used: set[str] = set()
        for step in workflow.steps:
            label = [step.id] if step.activity == step.id else [step.id, f"activity {step.activity}"]
            self.nodes.append((self.ids[step.id], "box", label))
            used.update(step.after)
            if step.when:
                diamond = "when_" + self.ids[step.id][len("step_"):]
                tests = [f"{'and ' if i else ''}{dep} result matches {p.pattern}" for i, (dep, p) in enumerate(step.when)]
                self.nodes.append((diamond, "diamond", tests))
                self.edges += [(self.ids[dep], diamond, "", False) for dep in step.after]
                self.edges.append((diamond, self.ids[step.id], "yes", False))
                # 'no': the step is skipped and the flow goes on past it (to the end if nothing follows)
                after_it = [self.ids[s.id] for s in workflow.steps if step.id in s.after] or [END]
                self.edges += [(diamond, nxt, "no", True) for nxt in after_it]
            elif step.after:
                self.edges += [(self.ids[dep], self.ids[step.id], "", False) for dep in step.after]
            else:
                self.edges.append((START, self.ids[step.id], "", False))
        self.edges += [(self.ids[s.id], END, "", False) for s in workflow.steps if s.id not in used]
        self.nodes.append((END, "oval", ["End"]))


def _node_ids(steps: tuple[Step, ...]) -> dict[str, str]:
    """A node id for each step, made of letters, digits and underscores, unique."""
    ids: dict[str, str] = {}
    for step in steps:
        base = "step_" + re.sub(r"[^A-Za-z0-9_]", "_", step.id)
        node, n = base, 1
        while node in ids.values():
            n += 1
            node = f"{base}_{n}"
        ids[step.id] = node
    return ids


def _mermaid_text(lines: list[str]) -> str:
    text = "<br/>".join(
        line.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
        for line in lines
    )
    return f'"{text}"'


_MERMAID_SHAPES = {"oval": ("([", "])"), "box": ("[", "]"), "diamond": ("{", "}")}


def mermaid(workflow: Workflow, status: dict[str, Shown] | None = None) -> str:
    """The flow chart as a Mermaid `flowchart TD`; with status, each step is classed by it."""
    chart = Chart(workflow)
    out = ["flowchart TD"]
    for node, shape, label in chart.nodes:
        left, right = _MERMAID_SHAPES[shape]
        out.append(f"    {node}{left}{_mermaid_text(label)}{right}")
    for src, dst, text, dashed in chart.edges:
        arrow = "-.->" if dashed else "-->"
        out.append(f"    {src} {arrow}{'|' + text + '|' if text else ''} {dst}")
    if status is not None:
        for name in Shown:
            fill, stroke = COLORS[name]
            out.append(f"    classDef {name} fill:{fill},stroke:{stroke}")
        for step in workflow.steps:
            out.append(f"    class {chart.ids[step.id]} {status.get(step.id, Shown.PENDING)}")
    return "\n".join(out) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_SHAPES = {"oval": "ellipse", "box": "box", "diamond": "diamond"}


def dot(workflow: Workflow, status: dict[str, Shown] | None = None) -> str:
    """The flow chart as a Graphviz digraph; with status, each step is filled by it."""
    chart = Chart(workflow)
    step_of = {node: step for step, node in chart.ids.items()}
    out = [f"digraph {_dot_text(f'{workflow.name} {workflow.version}')} {{", "    rankdir=TB;"]
    for node, shape, label in chart.nodes:
        attrs = [f"label={_dot_text(chr(10).join(label))}".replace("\n", "\\n"), f"shape={_DOT_SHAPES[shape]}"]
        if status is not None and node in step_of:
            name = status.get(step_of[node], Shown.PENDING)
            fill, stroke = COLORS[name]
            attrs += ["style=filled", f'fillcolor="{fill}"', f'color="{stroke}"', f'class="{name}"']
        out.append(f"    {node} [{', '.join(attrs)}];")
    for src, dst, text, dashed in chart.edges:
        attrs = ([f"label={_dot_text(text)}"] if text else []) + (["style=dashed"] if dashed else [])
        out.append(f"    {src} -> {dst}{' [' + ', '.join(attrs) + ']' if attrs else ''};")
    out.append("}")
    return "\n".join(out) + "\n"


def render(workflow: Workflow, fmt: str = "mermaid", status: dict[str, Shown] | None = None) -> str:
    """The flow chart in one of FORMATS."""
    return dot(workflow, status) if fmt == "dot" else mermaid(workflow, status)
