"""The workflow's flow chart in the article's notation, as Mermaid or Graphviz DOT text, or as SVG.

Ovals are the start and the end, rectangles the steps (activities), diamonds the `when`/`unless` conditions:
a step with a condition gets a diamond between its `after` steps and itself, 'yes' leading to the step
and 'no' past it (the step is skipped) to the steps after it, or to the end. A map, a signal and a wait say so in
their box, with a line for their live state (notes); a catch is a dashed arrow 'on failure' to its target.
Pure: a Workflow and, optionally, each step's status and notes in.
SVG is laid out by grandalf (Sugiyama's layered layout, as Graphviz's dot does), so it needs no Graphviz.
"""

from __future__ import annotations

import functools
import html
import re

from .config import Step, StepKind, Workflow
from .status import Shown

FORMATS = ("mermaid", "dot", "svg")
START, END = "wf_start", "wf_end"

# fill, border: the same in both formats
COLORS = {
    Shown.COMPLETED: ("#c8e6c9", "#2e7d32"),
    Shown.RUNNING: ("#bbdefb", "#1565c0"),
    Shown.WAITING: ("#ffe0b2", "#e65100"),
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
            shape = "child" if step.kind is StepKind.CHILD or step.batch_size is not None else "box"
            self.nodes.append((self.ids[step.id], shape, step_label(step)))
            used.update(step.after)
            if step.caught_by is not None:
                self.edges.append((self.ids[step.caught_by], self.ids[step.id], "on failure", True))
            if step.when or step.unless:
                diamond = "when_" + self.ids[step.id][len("step_"):]
                tests = [f"{dep} {c}" for dep, c in step.when] + [f"not {dep} {c}" for dep, c in step.unless]
                tests = [f"{'and ' if i else ''}{t}" for i, t in enumerate(tests)]
                self.nodes.append((diamond, "diamond", tests))
                self.edges += [(self.ids[dep], diamond, "", False) for dep in step.after]
                self.edges.append((diamond, self.ids[step.id], "yes", False))
                # 'no': the step is skipped and the flow goes on past it (to the end if nothing follows)
                after_it = [self.ids[s.id] for s in workflow.steps if step.id in s.after] or [END]
                self.edges += [(diamond, nxt, "no", True) for nxt in after_it]
            elif step.after:
                self.edges += [(self.ids[dep], self.ids[step.id], "", False) for dep in step.after]
            elif step.caught_by is None:
                self.edges.append((START, self.ids[step.id], "", False))
        self.edges += [(self.ids[s.id], END, "", False) for s in workflow.steps if s.id not in used]
        self.nodes.append((END, "oval", ["End", *repeat_label(workflow)]))


NOTE_ROOM = 34  # characters kept for a live note (a map's "37/100 done · 2 failed · 10 running")


def repeat_label(workflow: Workflow) -> list[str]:
    """The End of a repeating workflow: when it runs again (as a new run of the same workflow id)."""
    r = workflow.repeat
    if r is None:
        return []
    when = f"every {r.every} s" if r.every is not None else f"at cron {r.cron}"
    return [f"then again {when}" + (" (even after a failure)" if r.on_failure == "continue" else "")]


def step_label(step: Step) -> list[str]:
    """A step's box: its id, what it does, and for a map, a signal or a wait the line its live note takes."""
    head = [step.id]
    if step.kind is StepKind.TASK:
        return head if step.activity == step.id else [*head, f"activity {step.activity}"]
    if step.kind is StepKind.MAP:
        cap = f", {step.max_concurrency} at once" if step.max_concurrency is not None else ""
        batches = [f"in child workflows of {step.batch_size} items"] if step.batch_size is not None else []
        return [*head, f"map {step.activity} over {step.for_each}{cap}", *batches, "items"]
    if step.kind is StepKind.CHILD:
        return [*head, f"workflow {step.workflow}"]
    if step.kind is StepKind.SIGNAL:
        timeout = f" (within {step.timeout} s)" if step.timeout is not None else ""
        return [*head, f"signal {step.signal}{timeout}", "waiting for signal"]
    if step.kind is StepKind.WAIT:
        what = (f"wait {step.wait_seconds} s" if step.wait_seconds is not None
                else f"wait until {step.wait_until_step}'s time" if step.wait_until_step is not None
                else f"wait until {step.wait_until:%Y-%m-%d %H:%M:%S %Z}" if step.wait_until is not None else "wait")
        return [*head, what, "not started"]
    return [*head, f"fail: {step.fail}"]


def _labelled(chart: Chart, notes: dict[str, str] | None) -> list[tuple[str, str, list[str]]]:
    """The chart's nodes with each live note in its step's box (the last line of a map, signal or wait; a new one
    for any other step)."""
    if not notes:
        return chart.nodes
    step_of = {node: step for step, node in chart.ids.items()}
    out = []
    for node, shape, label in chart.nodes:
        note = notes.get(step_of.get(node, ""))
        if note:
            kind = chart.workflow.step(step_of[node]).kind
            label = [*label[:-1], note] if kind in (StepKind.MAP, StepKind.SIGNAL, StepKind.WAIT) else [*label, note]
        out.append((node, shape, label))
    return out


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


_MERMAID_SHAPES = {"oval": ("([", "])"), "box": ("[", "]"), "diamond": ("{", "}"), "child": ("[[", "]]")}


def mermaid(workflow: Workflow, status: dict[str, Shown] | None = None, notes: dict[str, str] | None = None) -> str:
    """The flow chart as a Mermaid `flowchart TD`; with status, each step is classed by it."""
    chart = Chart(workflow)
    out = ["flowchart TD"]
    for node, shape, label in _labelled(chart, notes):
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


_DOT_SHAPES = {"oval": "ellipse", "box": "box", "diamond": "diamond", "child": "box3d"}


def dot(workflow: Workflow, status: dict[str, Shown] | None = None, notes: dict[str, str] | None = None) -> str:
    """The flow chart as a Graphviz digraph; with status, each step is filled by it."""
    chart = Chart(workflow)
    step_of = {node: step for step, node in chart.ids.items()}
    out = [f"digraph {_dot_text(f'{workflow.name} {workflow.version}')} {{", "    rankdir=TB;"]
    for node, shape, label in _labelled(chart, notes):
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


# SVG: a monospace label's character width and line height, in px, and the spaces between nodes
CHAR_W, LINE_H, PAD = 7.2, 16, 12


def _node_size(shape: str, label: list[str], room: int = 0) -> tuple[float, float]:
    w = max(room, *(len(line) for line in label)) * CHAR_W + 2 * PAD
    h = len(label) * LINE_H + PAD
    return (w * 1.5, h * 1.8) if shape == "diamond" else (w, h)


class _Box:
    """What grandalf lays out: a node's width and height; it sets xy (the centre)."""

    def __init__(self, w: float, h: float):
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


Layout = tuple[dict[str, tuple[float, float, float, float]], list[list[tuple[float, float]]]]


@functools.lru_cache(maxsize=16)
def _layout(workflow: Workflow) -> Layout:
    """Each node's centre and size, and each edge's points (ends on the shapes), in Chart.edges' order.

    Kept per workflow: the layout depends on the steps only, and a live chart is drawn again at every refresh.
    """
    chart = Chart(workflow)
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout
    from grandalf.routing import EdgeViewer, route_with_lines

    vertices = {}
    step_of = {node: step for step, node in chart.ids.items()}
    for node, shape, label in chart.nodes:
        vertices[node] = Vertex(node)
        live = node in step_of and workflow.step(step_of[node]).kind in (StepKind.MAP, StepKind.SIGNAL, StepKind.WAIT)
        vertices[node].view = _Box(*_node_size(shape, label, NOTE_ROOM if live else 0))
    edges = [Edge(vertices[src], vertices[dst]) for src, dst, _, _ in chart.edges]
    for e in edges:
        e.view = EdgeViewer()
    left = 0.0
    for component in Graph(list(vertices.values()), edges).C:  # one, unless a config draws apart
        sug = SugiyamaLayout(component)
        sug.xspace, sug.yspace = 30, 36
        sug.route_edge = route_with_lines
        sug.init_all()
        sug.draw()
        xs = [v.view.xy[0] - v.view.w / 2 for v in component.sV]
        shift = left - min(xs)
        for v in component.sV:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        for e in component.sE:
            e.view._pts = [(x + shift, y) for x, y in e.view._pts]
        left = max(v.view.xy[0] + v.view.w / 2 for v in component.sV) + 40
    boxes = {n: (v.view.xy[0], v.view.xy[1], v.view.w, v.view.h) for n, v in vertices.items()}
    routes = [list(e.view._pts) for e in edges]
    shapes = {node: shape for node, shape, _ in chart.nodes}
    for (src, dst, _, _), points in zip(chart.edges, routes, strict=True):
        points[0] = _clip(shapes[src], boxes[src], points[1], points[0])
        points[-1] = _clip(shapes[dst], boxes[dst], points[-2], points[-1])
    return boxes, routes


def _clip(shape: str, box: tuple[float, float, float, float], toward: tuple[float, float],
          end: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a node's centre toward a point leaves an oval or a diamond (grandalf stops at the box)."""
    x, y, w, h = box
    dx, dy = toward[0] - x, toward[1] - y
    if shape in ("box", "child") or (dx == 0 and dy == 0):
        return end
    rx, ry = dx / (w / 2), dy / (h / 2)
    t = 1 / (abs(rx) + abs(ry)) if shape == "diamond" else 1 / (rx * rx + ry * ry) ** 0.5
    return x + t * dx, y + t * dy


def _svg_shape(shape: str, x: float, y: float, w: float, h: float, fill: str, stroke: str) -> str:
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"'
    if shape == "oval":
        return f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" {paint}/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - h / 2:.1f} {x + w / 2:.1f},{y:.1f} {x:.1f},{y + h / 2:.1f} {x - w / 2:.1f},{y:.1f}"
        return f'<polygon points="{points}" {paint}/>'
    if shape == "child":  # a subroutine's box: a bar inside each side, the workflow it runs named in it
        bars = "".join(f'<line x1="{bx:.1f}" y1="{y - h / 2:.1f}" x2="{bx:.1f}" y2="{y + h / 2:.1f}" {paint}/>'
                       for bx in (x - w / 2 + 6, x + w / 2 - 6))
        return f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" {paint}/>' + bars
    return f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="4" {paint}/>'


def svg(workflow: Workflow, status: dict[str, Shown] | None = None, notes: dict[str, str] | None = None) -> str:
    """The flow chart as an SVG document; with status, each step is filled by it (and carries it in data-status)."""
    chart = Chart(workflow)
    step_of = {node: step for step, node in chart.ids.items()}
    boxes, routes = _layout(workflow)
    margin = 10.0
    x0 = min(x - w / 2 for x, _, w, _ in boxes.values()) - margin
    y0 = min(y - h / 2 for _, y, _, h in boxes.values()) - margin
    width = max(x + w / 2 for x, _, w, _ in boxes.values()) - x0 + margin
    height = max(y + h / 2 for _, y, _, h in boxes.values()) - y0 + margin
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" viewBox="{x0:.1f} {y0:.1f} {width:.1f} '
           f'{height:.1f}" width="{width:.0f}" height="{height:.0f}" font-family="ui-monospace, monospace" '
           'font-size="12" role="img">',
           f"<title>{html.escape(f'{workflow.name} {workflow.version}')}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>']
    for (src, dst, text, dashed), points in zip(chart.edges, routes, strict=True):
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dashes = ' stroke-dasharray="5,4"' if dashed else ""
        out.append(f'<polyline class="edge" data-from="{src}" data-to="{dst}" data-label="{html.escape(text)}" '
                   f'points="{path}" fill="none" stroke="#555" stroke-width="1.2"{dashes} marker-end="url(#arrow)"/>')
        if text:
            (ax, ay), (bx, by) = points[0], points[1]
            out.append(f'<text x="{(ax + bx) / 2 + 4:.1f}" y="{(ay + by) / 2:.1f}" fill="#333">{html.escape(text)}</text>')
    for node, shape, label in _labelled(chart, notes):
        x, y, w, h = boxes[node]
        step = step_of.get(node)
        shown = status.get(step, Shown.PENDING) if status is not None and step is not None else None
        fill, stroke = COLORS[shown if shown is not None else Shown.PENDING]
        attrs = f' data-step="{html.escape(step)}"' if step is not None else ""
        attrs += f' data-status="{shown}"' if shown is not None else ""
        tip = f"{step}: {shown}" if shown is not None else " ".join(label)
        out.append(f'<g class="node {shape}" data-node="{node}"{attrs}><title>{html.escape(tip)}</title>'
                   + _svg_shape(shape, x, y, w, h, fill, stroke))
        top = y - (len(label) - 1) * LINE_H / 2
        for i, line in enumerate(label):
            out.append(f'<text x="{x:.1f}" y="{top + i * LINE_H:.1f}" text-anchor="middle" dominant-baseline="central" '
                       f'fill="#212121">{html.escape(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(workflow: Workflow, fmt: str = "mermaid", status: dict[str, Shown] | None = None,
           notes: dict[str, str] | None = None) -> str:
    """The flow chart in one of FORMATS."""
    return {"dot": dot, "svg": svg}.get(fmt, mermaid)(workflow, status, notes)
