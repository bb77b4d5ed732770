"""The flow chart: Mermaid and DOT parsed back, checked against the steps; live statuses against the history."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from swfagent import graph
from swfagent.cli import main
from swfagent.config import Config, Workflow, load_config
from swfagent.executions import fetch_history as history
from swfagent.executions import shown_steps as step_status
from swfagent.history import fold
from tests.e2e import Driver
from tests.histories import History
from tests.support import ROOT, Server, demo_config_data, run_script, write_config


@dataclass
class Parsed:
    """A chart read back: node id -> (shape, label lines), edges (from, to, label, dashed), node -> class."""

    nodes: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, bool]] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)

    def by_label(self, first_line: str) -> str:
        found = [n for n, (_, label) in self.nodes.items() if label[0] == first_line]
        assert len(found) == 1, (first_line, self.nodes)
        return found[0]


_MERMAID_NODE = re.compile(r'(\w+)(\(\[|\[|\{)"([^"]*)"(\]\)|\]|\})')
_MERMAID_EDGE = re.compile(r"(\w+) (-->|-\.->)(?:\|([^|]*)\|)? (\w+)")
_MERMAID_SHAPES = {"([": "oval", "[": "box", "{": "diamond"}
_ENTITIES = {"#quot;": '"', "#lt;": "<", "#gt;": ">", "#35;": "#"}


def _unescape_mermaid(text: str) -> str:
    return re.sub(r"#(quot|lt|gt|35);", lambda m: _ENTITIES[m.group(0)], text)


def parse_mermaid(text: str) -> Parsed:
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    p = Parsed()
    for line in (x.strip() for x in lines[1:]):
        if m := _MERMAID_NODE.fullmatch(line):
            p.nodes[m.group(1)] = (_MERMAID_SHAPES[m.group(2)], [_unescape_mermaid(x) for x in m.group(3).split("<br/>")])
        elif m := _MERMAID_EDGE.fullmatch(line):
            p.edges.append((m.group(1), m.group(4), m.group(3) or "", m.group(2) == "-.->"))
        elif m := re.fullmatch(r"class (\w+) (\w+)", line):
            p.classes[m.group(1)] = m.group(2)
        else:
            assert re.fullmatch(r"classDef \w+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}", line), line
    return p


_DOT_STRING = r'"((?:[^"\\]|\\.)*)"'
_DOT_SHAPES = {"ellipse": "oval", "box": "box", "diamond": "diamond"}


_DOT_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]*)')


def _dot_attrs(text: str) -> dict[str, str]:
    return {k: v[1:-1] if v.startswith('"') else v for k, v in _DOT_ATTR.findall(text)}


def _dot_label(text: str) -> list[str]:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text).split("\n")


def parse_dot(text: str) -> Parsed:
    lines = [x.strip() for x in text.splitlines()]
    assert re.fullmatch(r"digraph " + _DOT_STRING + r" \{", lines[0]) and lines[-1] == "}"
    p = Parsed()
    for line in lines[1:-1]:
        if line == "rankdir=TB;":
            continue
        if m := re.fullmatch(r"(\w+) -> (\w+)(?: \[(.*)\])?;", line):
            attrs = _dot_attrs(m.group(3) or "")
            p.edges.append((m.group(1), m.group(2), attrs.get("label", ""), attrs.get("style") == "dashed"))
        elif m := re.fullmatch(r"(\w+) \[(.*)\];", line):
            attrs = _dot_attrs(m.group(2))
            p.nodes[m.group(1)] = (_DOT_SHAPES[attrs["shape"]], _dot_label(attrs["label"]))
            if "class" in attrs:
                p.classes[m.group(1)] = attrs["class"]
                assert attrs["style"] == "filled" and attrs["fillcolor"] == graph.COLORS[attrs["class"]][0]
        else:
            raise AssertionError(line)
    return p


_SVG = "{http://www.w3.org/2000/svg}"
_SVG_SHAPES = {"ellipse": "oval", "rect": "box", "polygon": "diamond"}


def parse_svg(text: str) -> Parsed:
    """The SVG read back as XML: each node's shape, label lines and status, each edge's ends, label and dashes."""
    root = ElementTree.fromstring(text)
    assert root.tag == f"{_SVG}svg"
    p = Parsed()
    for g in root.iter(f"{_SVG}g"):
        [shape] = [_SVG_SHAPES[child.tag[len(_SVG):]] for child in g if child.tag[len(_SVG):] in _SVG_SHAPES]
        p.nodes[g.get("data-node", "")] = (shape, [t.text or "" for t in g.iter(f"{_SVG}text")])
        if g.get("data-status"):
            p.classes[g.get("data-node", "")] = g.get("data-status", "")
            fill = next(c for c in g if c.tag[len(_SVG):] in _SVG_SHAPES).get("fill")
            assert fill == graph.COLORS[g.get("data-status", "")][0]
    for line in root.iter(f"{_SVG}polyline"):
        p.edges.append((line.get("data-from", ""), line.get("data-to", ""), line.get("data-label", ""),
                        line.get("stroke-dasharray") is not None))
    return p


PARSERS = {"mermaid": parse_mermaid, "dot": parse_dot, "svg": parse_svg}


def check_structure(workflow: Workflow, p: Parsed) -> None:
    """Ovals start and end, a box per step, a diamond per `when`, and an edge (or a diamond) per `after`."""
    start, end = p.by_label("Start"), p.by_label("End")
    assert p.nodes[start][0] == p.nodes[end][0] == "oval"
    boxes = {n for n, (shape, _) in p.nodes.items() if shape == "box"}
    assert {p.nodes[n][1][0] for n in boxes} == {s.id for s in workflow.steps}
    assert sum(shape == "diamond" for shape, _ in p.nodes.values()) == sum(bool(s.when) for s in workflow.steps)
    edges = {(a, b) for a, b, _, _ in p.edges}
    assert all(a in p.nodes and b in p.nodes for a, b in edges)
    dependents = {d for s in workflow.steps for d in s.after}
    for s in workflow.steps:
        node = p.by_label(s.id)
        into = [a for a, b, label, _ in p.edges if b == node and label != "no"]  # 'no' arrows pass a skipped step
        if s.when:
            (diamond,) = into
            shape, label = p.nodes[diamond]
            assert shape == "diamond"
            assert label == [f"{'and ' if i else ''}{dep} {c}" for i, (dep, c) in enumerate(s.when)]
            assert {a for a, b in edges if b == diamond} == {p.by_label(d) for d in s.after}
            assert (diamond, node, "yes", False) in p.edges
            # 'no': skipped, the flow goes on to the steps after it, or to the end
            after_it = {p.by_label(t.id) for t in workflow.steps if s.id in t.after} or {end}
            assert {b for a, b, label, dashed in p.edges if a == diamond and label == "no" and dashed} == after_it
        elif s.after:
            assert set(into) == {p.by_label(d) for d in s.after}
        else:
            assert into == [start]
        if s.id not in dependents:
            assert (node, end) in edges


def config_with(tmp_path: Path, steps: list[dict[str, Any]], name: str = "config.yaml") -> Config:
    data = demo_config_data()
    data["workflow"]["steps"] = steps
    return load_config(write_config(tmp_path / name, data))


DIAMOND = [
    {"activity": "Test_Task_A"},
    {"activity": "Test_Task_B", "after": ["Test_Task_A"], "when": {"Test_Task_A": "[a-m]"}},
]
FAN = [
    {"id": "split", "activity": "Test_Task_A"},
    {"id": "left", "activity": "Test_Task_B", "after": ["split"], "when": {"split": "[a-m]"}},
    {"id": "right", "activity": "Test_Task_B", "after": ["split"]},
    {"id": "join", "activity": "Test_Task_A", "after": ["left", "right"]},
]


@pytest.mark.parametrize("fmt", graph.FORMATS)
@pytest.mark.parametrize("steps", [None, DIAMOND, FAN], ids=["demo", "diamond", "fan"])
def test_every_step_and_arrow_is_drawn(tmp_path: Path, fmt: str, steps: list[dict[str, Any]] | None) -> None:
    config = load_config(ROOT / "config.yaml") if steps is None else config_with(tmp_path, steps)
    text = graph.render(config.workflow, fmt)
    p = PARSERS[fmt](text)
    check_structure(config.workflow, p)
    assert p.classes == {}


def test_the_demo_chart() -> None:
    p = parse_mermaid(graph.mermaid(load_config(ROOT / "config.yaml").workflow))
    ids = {label[0]: n for n, (_, label) in p.nodes.items()}
    assert [(ids_of(p, a), ids_of(p, b)) for a, b, _, _ in p.edges] == [
        ("Start", "Test_Task_A"), ("Test_Task_A", "Test_Task_B"), ("Test_Task_B", "End")]
    assert set(ids) == {"Start", "Test_Task_A", "Test_Task_B", "End"}


def ids_of(p: Parsed, node: str) -> str:
    return p.nodes[node][1][0]


def test_fan_out_and_in(tmp_path: Path) -> None:
    config = config_with(tmp_path, FAN)
    p = parse_dot(graph.dot(config.workflow))
    named = {(ids_of(p, a), ids_of(p, b), label) for a, b, label, _ in p.edges}
    cond = "split result matches [a-m]"
    assert named == {
        ("Start", "split", ""), ("split", cond, ""), (cond, "left", "yes"), (cond, "join", "no"),
        ("split", "right", ""), ("left", "join", ""), ("right", "join", ""), ("join", "End", ""),
    }
    assert p.nodes[p.by_label("left")][1] == ["left", "activity Test_Task_B"]


def test_labels_with_awkward_characters(tmp_path: Path) -> None:
    steps = [{"id": "a b.c", "activity": "Test_Task_A"},
             {"id": "a-b-c", "activity": "Test_Task_B", "after": ["a b.c"],
              "when": {"a b.c": r'"(x|y)"#<\d+>{2}'}}]
    config = config_with(tmp_path, steps)
    for fmt, parse in PARSERS.items():
        p = parse(graph.render(config.workflow, fmt))
        check_structure(config.workflow, p)
        assert len({p.by_label("a b.c"), p.by_label("a-b-c")}) == 2


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("steps", [DIAMOND, FAN])
def test_graphviz_reads_the_dot(tmp_path: Path, steps: list[dict[str, Any]]) -> None:
    config = config_with(tmp_path, steps)
    text = graph.dot(config.workflow, {"split": "completed", "left": "skipped"})
    done = subprocess.run(["dot", "-Tjson"], input=text, capture_output=True, text=True, timeout=30, check=True)
    drawn = json.loads(done.stdout)
    assert {o["name"] for o in drawn["objects"]} == set(parse_dot(text).nodes)


# ---- statuses --------------------------------------------------------------------------------


def test_statuses_follow_the_history(tmp_path: Path) -> None:
    config = config_with(tmp_path, FAN)
    h = History().decision().schedule("split", activity="Test_Task_A").complete("split", "z").decision()
    h.schedule("right", activity="Test_Task_B").start("right")
    status = step_status(config, h.state())
    assert status == {"split": "completed", "left": "skipped", "right": "running", "join": "pending"}
    for fmt, parse in PARSERS.items():
        p = parse(graph.render(config.workflow, fmt, status))
        assert {ids_of(p, n): c for n, c in p.classes.items()} == status
    h.fail("right")
    status = step_status(config, h.state())
    assert status["right"] == "failed"


def test_graph_of_an_execution(server: Server, tmp_path: Path) -> None:
    config = config_with(tmp_path, FAN)
    d = Driver(server.client(), config)
    run_id = d.start("fan")
    d.decide()
    assert d.work("z") == "split-1"  # not in [a-m]: left is skipped
    d.decide()
    assert d.work(fail="exit code 3") == "right-1"
    assert d.decide()[0]["decisionType"] == "FailWorkflowExecution"
    expected = step_status(config, fold(history(server.client(), config, "fan", run_id)))
    assert expected == {"split": "completed", "left": "skipped", "right": "failed", "join": "pending"}

    done = run_script("swfagent", "graph", "--execution", "fan", "--config", str(config.path), env=server.env)
    assert done.returncode == 0, done.stderr
    p = parse_mermaid(done.stdout)
    check_structure(config.workflow, p)
    assert {ids_of(p, n): c for n, c in p.classes.items()} == expected

    for fmt in ("dot", "svg"):
        done = run_script("swfagent", "graph", "--execution", "fan", "--run-id", run_id, "--format", fmt,
                          "--config", str(config.path), env=server.env)
        assert done.returncode == 0, done.stderr
        assert {ids_of(p, n): c for p in [PARSERS[fmt](done.stdout)] for n, c in p.classes.items()} == expected


def _boxes(text: str) -> list[tuple[float, float, float, float]]:
    """Each node's bounding box (left, top, right, bottom) in the SVG."""
    out = []
    for shape in ElementTree.fromstring(text).iter():
        tag = shape.tag[len(_SVG):]
        if tag == "rect":
            x, y, w, h = (float(shape.get(k, 0)) for k in ("x", "y", "width", "height"))
            out.append((x, y, x + w, y + h))
        elif tag == "ellipse":
            cx, cy, rx, ry = (float(shape.get(k, 0)) for k in ("cx", "cy", "rx", "ry"))
            out.append((cx - rx, cy - ry, cx + rx, cy + ry))
        elif tag == "polygon":
            xs, ys = zip(*(map(float, pt.split(",")) for pt in shape.get("points", "").split()), strict=True)
            out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


@pytest.mark.parametrize("steps", [DIAMOND, FAN, [{"id": f"s{i}", "activity": "Test_Task_A"} for i in range(12)]],
                         ids=["diamond", "fan", "twelve-apart"])
def test_the_svg_layout_keeps_nodes_apart_and_inside(tmp_path: Path, steps: list[dict[str, Any]]) -> None:
    workflow = config_with(tmp_path, steps).workflow
    text = graph.svg(workflow)
    boxes = _boxes(text)
    assert len(boxes) == len(graph.Chart(workflow).nodes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    x0, y0, w, h = map(float, ElementTree.fromstring(text).get("viewBox", "").split())
    assert all(x0 <= left and y0 <= t and r <= x0 + w and b <= y0 + h for left, t, r, b in boxes)


def test_a_step_waiting_for_its_retry_is_drawn_waiting(tmp_path: Path) -> None:
    data = demo_config_data()
    data["activities"]["Test_Task_A"]["retries"] = 2
    data["activities"]["Test_Task_A"]["retry_delay"] = 30
    config = load_config(write_config(tmp_path / "config.yaml", data))
    h = History().decision().schedule("Test_Task_A").fail("Test_Task_A").decision().timer("Test_Task_A-2", 30)
    status = step_status(config, h.state())
    assert status == {"Test_Task_A": "waiting", "Test_Task_B": "pending"}
    p = parse_svg(graph.svg(config.workflow, status))
    assert p.classes[p.by_label("Test_Task_A")] == "waiting"


def test_graph_command_without_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    done = run_script("swfagent", "graph", "--format", "dot")
    assert done.returncode == 0, done.stderr
    check_structure(load_config(ROOT / "config.yaml").workflow, parse_dot(done.stdout))
    assert main(["graph", "--run-id", "x"]) == 2
    assert "--run-id goes with --execution" in capsys.readouterr().err


def test_the_svg_escapes_every_label(tmp_path: Path) -> None:
    data = demo_config_data()
    data["workflow"]["name"] = "<script>alert(1)<script>"  # SWF names take no '/'
    data["workflow"]["steps"] = [{"id": "<img src=x onerror=alert(2)>", "activity": "Test_Task_A"},
                                 {"id": "b&c", "activity": "Test_Task_B", "after": ["<img src=x onerror=alert(2)>"],
                                  "when": {"<img src=x onerror=alert(2)>": "</svg><script>'\"x"}}]
    config = load_config(write_config(tmp_path / "config.yaml", data))
    text = graph.svg(config.workflow, {"b&c": "running"})
    root = ElementTree.fromstring(text)  # well-formed: nothing broke out of an attribute or a text
    assert {e.tag[len(_SVG):] for e in root.iter()} <= {"svg", "title", "defs", "marker", "path", "polyline", "text",
                                                         "g", "rect", "ellipse", "polygon"}
    p = parse_svg(text)
    check_structure(config.workflow, p)
    assert p.by_label("<img src=x onerror=alert(2)>")
