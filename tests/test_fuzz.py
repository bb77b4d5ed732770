"""Fuzzing: broken config.yaml documents always give one clear line (exit 2); broken histories never crash the decider.

The inputs that once broke them are kept below as regression tests (FOUND_BY_FUZZING, and the history cases found by fuzzing).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from swfagent.config import Config, load_config
from swfagent.decide import decide, describe
from swfagent.errors import ConfigError
from swfagent.history import fold
from swfagent.limits import MAX_DATA, MAX_REASON
from tests.histories import History
from tests.support import demo_config_data, run_script, write_config

MAX_LINE = 1000  # a clear line is short enough to read; longer means a raw value was echoed


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ---- config: the property ---------------------------------------------------------------------


def check_load(path: Path) -> Config | None:
    """load_config returns a Config or raises ConfigError with one short line; nothing else escapes."""
    try:
        return load_config(path)
    except ConfigError as exc:
        message = str(exc)
        assert message.strip(), "empty error message"
        assert "\n" not in message and "\r" not in message, f"multi-line error: {message[:300]!r}"
        assert len(message) <= MAX_LINE + len(str(path)), f"error of {len(message)} characters"
        assert "Traceback" not in message
        return None


def _write_text(folder: Path, text: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# Values of every kind a YAML document can hold, wrong types and huge ones included.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(["", " ", "arn", "a:b", "a/b", "x" * 300, "\t", "1.0", "NONE", "-1",
                                            "[", "(?P<", "a" * 5000, "\u2028", "é", "\x85", "😀"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


def _rich_config() -> dict[str, Any]:
    data = demo_config_data()
    data["workflow"]["steps"] += [
        {"id": "C", "activity": "Test_Task_A", "after": ["Test_Task_A"], "when": {"Test_Task_A": "[a-m]"}},
        {"id": "D", "activity": "Test_Task_B", "after": ["Test_Task_B", "C"]},
    ]
    data["activities"]["Test_Task_A"].update(retries=2, retry_delay=5, task_list="Fast", cwd="tasks")
    data["alerts"] = {"command": ["python", "alert.py"], "sns_topic_arn": "arn:aws:sns:us-east-1:1:t"}
    return data


@st.composite
def mutated_configs(draw: Any) -> Any:
    """The shipped config with 1 to 4 keys deleted, retyped, renamed, or added."""
    data = _rich_config()
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "add", "rename"] if path else ["replace"]))
        if not path:
            data = draw(values)
            continue
        parent = _get(data, path[:-1])
        key = path[-1]
        if op == "replace":
            parent[key] = draw(values)
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif op == "add":
            parent.append(draw(values))
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = parent.pop(key)
    return data


@given(data=mutated_configs())
def test_a_mutated_config_loads_or_gives_one_line(folder: Path, data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    check_load(_write_text(folder, text))


@given(text=st.text(max_size=300))
def test_random_text_loads_or_gives_one_line(folder: Path, text: str) -> None:
    check_load(_write_text(folder, text))


@given(raw=st.binary(max_size=300))
def test_random_bytes_give_one_line(folder: Path, raw: bytes) -> None:
    path = folder / "config.yaml"
    path.write_bytes(raw)
    assert check_load(path) is None


@given(text=st.text(alphabet="{}[]:,-&*!|>'\"#%@`?\n\t aAz01.", max_size=200))
def test_yaml_punctuation_soup_gives_one_line(folder: Path, text: str) -> None:
    check_load(_write_text(folder, text))


@given(edges=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12))
def test_any_step_graph_loads_or_names_the_problem(folder: Path, edges: list[tuple[int, int]]) -> None:
    data = demo_config_data()
    after: list[list[str]] = [[] for _ in range(6)]
    for a, b in edges:
        if f"S{b}" not in after[a]:
            after[a].append(f"S{b}")
    data["workflow"]["steps"] = [{"id": f"S{i}", "activity": "Test_Task_A", "after": after[i]} for i in range(6)]
    config = check_load(write_config(folder / "config.yaml", data))
    has_cycle = _has_cycle({i: {b for a, b in edges if a == i} for i in range(6)})
    assert (config is None) == has_cycle
    if config is None:
        with pytest.raises(ConfigError, match=r"workflow\.steps: cycle: S\d+( -> S\d+)+$"):
            load_config(folder / "config.yaml")
    else:
        order = [s.id for s in config.workflow.steps]
        assert all(order.index(f"S{b}") < order.index(f"S{a}") for a, b in edges)


def _has_cycle(graph: dict[int, set[int]]) -> bool:
    state: dict[int, int] = {}

    def visit(n: int) -> bool:
        state[n] = 1
        for m in graph[n]:
            if state.get(m) == 1 or (m not in state and visit(m)):
                return True
        state[n] = 2
        return False

    return any(n not in state and visit(n) for n in graph)


SPECIAL_DOCUMENTS = {
    "deep list": "domain: " + "[" * 20_000 + "]" * 20_000,
    "deep mapping": "domain: " + "{a: " * 5_000 + "1" + "}" * 5_000,
    "deep block": "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n",
    "self-referencing list": "domain: &d [*d]\n",
    "self-referencing mapping": "domain: &d {name: *d}\nworkflow: {}\nactivities: {}\n",
    "cyclic command": "activities: &a {A: {version: '1', command: *a}}\ndomain: {name: D}\n"
                      "workflow: {name: W, version: '1', task_list: T, steps: [{activity: A}]}\n",
    "billion laughs": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                      "domain: {name: [*d,*d,*d,*d,*d,*d,*d,*d,*d]}\n",
    "python tag": "domain: !!python/object/apply:os.system ['echo pwned']\n",
    "binary": "domain: !!binary aGVsbG8=\n",
    "timestamp name": "domain: {name: 2001-12-14}\n",
    "huge string": "domain: {name: " + "x" * 1_000_000 + "}\n",
    "huge description": "domain: {name: D, description: " + "x" * 1_000_000 + "}\n",
    "huge float": "domain: {name: D, retention_days: 1e999}\n",
    "nan timeout": "domain: {name: D}\nworkflow: {execution_timeout: .nan}\n",
    "many documents": "domain: {name: D}\n---\ndomain: {name: E}\n",
    "only a comment": "# nothing\n",
    "tab indent": "domain:\n\tname: D\n",
    "NUL byte": "domain: {name: \"a\\0b\"}\n",
    "BOM": "\ufeffdomain: {name: D}\n",
    "regex bomb": "",  # filled below from the shipped config
}


def _special(name: str) -> str:
    if name == "regex bomb":
        data = demo_config_data()
        data["workflow"]["steps"][1]["when"] = {"Test_Task_A": "(" * 200_000 + ")" * 200_000}
        return yaml.safe_dump(data)
    return SPECIAL_DOCUMENTS[name]


@pytest.mark.parametrize("name", list(SPECIAL_DOCUMENTS))
def test_special_documents_give_one_line(folder: Path, name: str) -> None:
    check_load(_write_text(folder, _special(name)))


def test_a_missing_or_unreadable_file_gives_one_line(folder: Path) -> None:
    assert check_load(folder / "nope.yaml") is None
    assert check_load(folder) is None  # a folder


# ---- config: the scripts ----------------------------------------------------------------------

BAD_FILES = {
    "wrong type": "domain: [1, 2]\n",
    "missing key": "domain: {name: D}\n",
    "unknown key": "domain: {name: D, colour: blue}\n",
    "not UTF-8": b"domain: {name: \xff\xfe}\n",
    "deep nesting": "domain: " + "[" * 20_000 + "]" * 20_000,
    "cycle": None,
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_register_check_on_a_bad_config_exits_2_with_one_line(folder: Path, name: str) -> None:
    path = folder / f"bad-{name.replace(' ', '-')}.yaml"
    content = BAD_FILES[name]
    if content is None:
        data = demo_config_data()
        data["workflow"]["steps"][0]["after"] = ["Test_Task_B"]
        write_config(path, data)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    done = run_script("register_swf.py", "--check", "--config", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"register_swf.py: error: {path}: "), done.stderr


# ---- config: inputs that once broke config.py -----------------------------------------------------

FOUND_BY_FUZZING = {
    "huge int": (
        "domain: {name: D, retention_days: " + "9" * 5000 + "}\n",
        "yaml.safe_load raises ValueError (Exceeds the limit (4300 digits) for integer string conversion) "
        "and load_config catches only yaml.YAMLError and RecursionError: a traceback, exit 1"),
    "unknown key with a line break": (
        'domain: {name: D}\n"x\\ny": 1\n',
        "config._Section.__init__ / _Section.error put the raw key into the key path ('x\\ny: unknown key ...'): "
        "the message spans two lines"),
    "huge unknown key": (
        "domain: {name: D}\n? " + "y" * 100_000 + "\n: 1\n",  # an explicit key: YAML's plain keys stop at 1024
        "config._Section.__init__ puts the whole key into the message twice: a 200,000-character line"),
    "name with a line break": (
        'domain: {name: D}\nworkflow: {name: W, version: "1", task_list: T, steps: [{activity: "a\\nb"}]}\n'
        'activities: {"a\\nb": {version: "1", command: [x]}}\n',
        "config._activity passes f'activities.{name}' (the raw name) as the key path of the error: "
        "the message spans two lines"),
    "huge activity name": (
        'domain: {name: D}\nworkflow: {name: W, version: "1", task_list: T, steps: [{activity: A}]}\n'
        "activities:\n  ? " + "A" * 100_000 + '\n  : {version: "1", command: [x]}\n',
        "config._activity puts the whole name in the key path of 'is longer than 256 characters': "
        "a 100,000-character line"),
}


@pytest.mark.parametrize("name", list(FOUND_BY_FUZZING))
def test_config_found_by_fuzzing(folder: Path, name: str) -> None:
    text, _ = FOUND_BY_FUZZING[name]
    done = run_script("register_swf.py", "--check", "--config", str(_write_text(folder, text)))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-300:]
    assert done.stderr.count("\n") == 1 and len(done.stderr) < MAX_LINE, done.stderr[:300]


# ---- histories: fold and decide never crash -----------------------------------------------------


@pytest.fixture(scope="module")
def workflow_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    data = _rich_config()
    del data["alerts"]
    data["activities"]["Test_Task_B"].update(retries=1)
    return load_config(write_config(tmp_path_factory.mktemp("wf") / "config.yaml", data))


STEPS = ["Test_Task_A", "Test_Task_B", "C", "D", "Z"]
KNOWN_TYPES = [
    "WorkflowExecutionStarted", "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
    "ActivityTaskFailed", "ActivityTaskTimedOut", "ActivityTaskCanceled", "ScheduleActivityTaskFailed",
    "TimerStarted", "TimerFired", "TimerCanceled", "StartTimerFailed", "WorkflowExecutionCancelRequested",
    "WorkflowExecutionSignaled", "MarkerRecorded", "DecisionTaskTimedOut", "DecisionTaskScheduled",
    "WorkflowExecutionCompleted", "WorkflowExecutionFailed", "WorkflowExecutionTerminated",
]
junk = st.one_of(st.none(), st.integers(-3, 10**6), st.text(max_size=8), st.floats(), st.booleans(),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@st.composite
def base_histories(draw: Any) -> list[dict[str, Any]]:
    """A plausible history: random builder moves (schedule, complete, fail, timers, signals...)."""
    h = History(input=draw(st.one_of(st.none(), st.text(max_size=20))))
    for _ in range(draw(st.integers(0, 12))):
        step = draw(st.sampled_from(STEPS))
        attempt = draw(st.integers(1, 3))
        move = draw(st.sampled_from(["decision", "schedule", "start", "complete", "fail", "time_out", "canceled",
                                     "schedule_failed", "timer", "fire", "signal", "cancel_request",
                                     "decision_timed_out", "marker"]))
        try:
            if move == "decision":
                h.decision()
            elif move == "schedule":
                h.schedule(step, attempt=attempt, activity="Test_Task_A" if step in ("C", "Z") else
                           "Test_Task_B" if step == "D" else None)
            elif move in ("start", "canceled", "schedule_failed"):
                getattr(h, move)(step, attempt=attempt)
            elif move == "complete":
                h.complete(step, result=draw(st.sampled_from(["b", "n", "", "x" * 40_000])), attempt=attempt)
            elif move == "fail":
                h.fail(step, details=draw(st.one_of(st.none(), st.text(max_size=10))), attempt=attempt)
            elif move == "time_out":
                h.time_out(step, attempt=attempt)
            elif move == "timer":
                h.timer(f"{step}-{attempt}", draw(st.integers(0, 10)))
            elif move == "fire":
                h.fire(f"{step}-{attempt}")
            elif move == "signal":
                h.signal("s", draw(st.text(max_size=5)))
            elif move == "marker":
                h.marker("m")
            else:
                getattr(h, move)()
        except (KeyError, StopIteration):
            continue
    return h.events


@st.composite
def broken_histories(draw: Any) -> list[Any]:
    """A plausible history, then broken: attributes dropped or retyped, unknown types, ids shuffled, junk events."""
    events: list[Any] = copy.deepcopy(draw(base_histories()))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["drop", "retype", "unknown", "ids", "swap", "junk", "dup", "attrs", "deep"]))
        if op == "junk" or not events:
            events.insert(draw(st.integers(0, len(events))), draw(st.one_of(
                junk, st.fixed_dictionaries({"eventType": st.sampled_from(KNOWN_TYPES), "eventId": junk}),
                st.fixed_dictionaries({"eventType": junk}))))
            continue
        i = draw(st.integers(0, len(events) - 1))
        e = events[i]
        if not isinstance(e, dict):
            continue
        attrs_key = next((k for k in e if k.endswith("EventAttributes")), None)
        if op == "drop" and attrs_key:
            attrs = e[attrs_key]
            if isinstance(attrs, dict) and attrs:
                del attrs[draw(st.sampled_from(sorted(attrs)))]
        elif op == "retype" and attrs_key and isinstance(e[attrs_key], dict) and e[attrs_key]:
            e[attrs_key][draw(st.sampled_from(sorted(e[attrs_key])))] = draw(junk)
        elif op == "attrs" and attrs_key:
            e[attrs_key] = draw(junk)
        elif op == "deep" and attrs_key and isinstance(e[attrs_key], dict):
            for sub in e[attrs_key].values():
                if isinstance(sub, dict) and sub:
                    sub[draw(st.sampled_from(sorted(sub)))] = draw(junk)
        elif op == "unknown":
            e["eventType"] = draw(st.sampled_from(["LambdaFunctionScheduled", "ChildWorkflowExecutionStarted", "",
                                                   "ActivityTaskScheduledX", "activitytaskscheduled"]))
        elif op == "ids":
            e["eventId"] = draw(junk)
        elif op == "swap":
            j = draw(st.integers(0, len(events) - 1))
            events[i], events[j] = events[j], events[i]
        elif op == "dup":
            events.insert(i, copy.deepcopy(e))
    return events


KINDS = {"ScheduleActivityTask", "StartTimer", "CompleteWorkflowExecution", "FailWorkflowExecution",
         "CancelWorkflowExecution", "CancelTimer", "RequestCancelActivityTask"}


def check_decide(config: Config, events: list[Any]) -> list[dict[str, Any]]:
    """fold, plan, decide and describe never raise; the decisions are well-formed SWF decisions."""
    state = fold(events)
    answer = decide(config.workflow, state)
    describe(answer)
    decisions = answer.swf
    json.dumps(decisions)  # what respond_decision_task_completed sends
    assert isinstance(decisions, list)
    for d in decisions:
        assert d["decisionType"] in KINDS, d
        attrs = next(v for k, v in d.items() if k.endswith("DecisionAttributes"))
        for key in ("input", "result", "details"):
            assert attrs.get(key) is None or (isinstance(attrs[key], str) and len(attrs[key]) <= MAX_DATA), (key, d)
        if d["decisionType"] == "FailWorkflowExecution":
            assert len(decisions) == 1
            reason = attrs["reason"]
            assert isinstance(reason, str) and reason.strip() and len(reason) <= MAX_REASON, reason
        if d["decisionType"] == "ScheduleActivityTask":
            assert attrs["activityType"]["name"] in config.activities
            assert re.fullmatch(r".+-[1-9]\d*", attrs["activityId"])
        if d["decisionType"] == "StartTimer":
            assert attrs["startToFireTimeout"].isdigit()
    if state.problems:
        assert [d["decisionType"] for d in decisions] in ([], ["FailWorkflowExecution"], ["CancelWorkflowExecution"])
    return decisions


@given(events=broken_histories())
def test_a_broken_history_never_crashes_the_decider(workflow_config: Config, events: list[Any]) -> None:
    check_decide(workflow_config, events)


@given(events=st.lists(st.one_of(junk, st.dictionaries(
    st.sampled_from(["eventType", "eventId", "eventTimestamp", "activityTaskScheduledEventAttributes",
                     "activityTaskCompletedEventAttributes", "workflowExecutionStartedEventAttributes",
                     "timerFiredEventAttributes"]),
    st.one_of(junk, st.sampled_from(KNOWN_TYPES), st.dictionaries(st.sampled_from(
        ["activityId", "activityType", "scheduledEventId", "timerId", "input", "result", "workflowType"]),
        st.one_of(junk, st.text(max_size=6)), max_size=4)), max_size=5)), max_size=12))
def test_random_events_never_crash_the_decider(workflow_config: Config, events: list[Any]) -> None:
    check_decide(workflow_config, events)


def test_a_history_that_is_not_a_list_of_mappings(workflow_config: Config) -> None:
    cases: list[list[Any]] = [[None], [1, "x"], [{"eventType": None}], [{}], [[]]]
    for events in cases:
        decisions = check_decide(workflow_config, events)
        assert [d["decisionType"] for d in decisions] in (["FailWorkflowExecution"], ["ScheduleActivityTask"])


def test_nan_and_huge_ids(workflow_config: Config) -> None:
    h = History().decision().schedule("Test_Task_A")
    events = copy.deepcopy(h.events)
    events[0]["eventId"] = math.nan
    events[-1]["eventId"] = 10**30
    check_decide(workflow_config, events)


def test_history_found_by_fuzzing_an_infinite_id_out_of_order(workflow_config: Config) -> None:
    events = copy.deepcopy(History().events)
    events.insert(0, {"eventType": "WorkflowExecutionStarted", "eventId": math.inf})
    decisions = check_decide(workflow_config, events)
    assert [d["decisionType"] for d in decisions] == ["FailWorkflowExecution"]


def test_history_found_by_fuzzing_a_result_that_is_not_a_string(workflow_config: Config) -> None:
    h = History().decision().schedule("Test_Task_A").complete("Test_Task_A", result="b")
    events = copy.deepcopy(h.events)
    events[-1]["activityTaskCompletedEventAttributes"]["result"] = 7
    decisions = check_decide(workflow_config, events)
    assert [d["decisionType"] for d in decisions] == ["FailWorkflowExecution"]


def test_history_found_by_fuzzing_a_retry_whose_after_step_never_completed(workflow_config: Config) -> None:
    # Test_Task_B (after: Test_Task_A, retries: 1) ran and failed; Test_Task_A never ran
    events = History().decision().schedule("Test_Task_B").fail("Test_Task_B").events
    check_decide(workflow_config, events)
