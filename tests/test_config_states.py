"""config.yaml's Step Functions keys: what each gives, and one line naming the key for each mistake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from swfagent.config import StepKind, parse_config
from swfagent.errors import ConfigError
from tests.flows import STATES, config_from


def test_the_issues_chart_parses() -> None:
    steps = {s.id: s for s in STATES.workflow.steps}
    assert steps["Convert"].kind is StepKind.MAP and steps["Convert"].after == ("List_Files",)
    assert (steps["Convert"].max_concurrency, steps["Convert"].tolerated_failures) == (2, 1)
    assert (steps["Approval"].signal, steps["Approval"].timeout) == ("approve", 86400)
    assert steps["Settle"].wait_seconds == 600 and steps["Report"].caught_by == "Publish"
    assert steps["Report"].needs == ("Publish",) and steps["Give_Up"].fail == "Publish failed: see Report"
    assert [s.id for s in STATES.workflow.steps].index("Report") > [s.id for s in STATES.workflow.steps].index("Publish")
    assert {a.name for a in STATES.workflow.used_activities} == {"List_Files", "Convert_One", "Publish", "Notify"}


def test_waits_and_tolerances() -> None:
    flow = config_from([
        {"activity": "A"}, {"id": "M", "activity": "A", "for_each": "A", "tolerated_failures": "12.5%"},
        {"id": "W1", "wait": {"until": "A"}, "after": ["A"]},
        {"id": "W2", "wait": {"until": "2026-12-24T06:00:00Z"}},
        {"id": "W3", "wait": {"until": dt.datetime(2026, 12, 24, 6, tzinfo=dt.timezone.utc)}},
    ])
    steps = {s.id: s for s in flow.workflow.steps}
    assert steps["M"].tolerated_percent == 12.5 and steps["M"].tolerates(1, 8) and not steps["M"].tolerates(2, 8)
    assert steps["W1"].wait_until_step == "A"
    assert steps["W2"].wait_until == steps["W3"].wait_until == dt.datetime(2026, 12, 24, 6, tzinfo=dt.timezone.utc)


A: dict[str, Any] = {"activity": "A"}
BROKEN = [
    ("unknown for_each", [A, {"id": "M", "activity": "A", "for_each": "Nope"}],
     "workflow.steps[1].for_each: unknown step 'Nope'"),
    ("tolerated_failures over 100%", [A, {"id": "M", "activity": "A", "for_each": "A", "tolerated_failures": "150%"}],
     "workflow.steps[1].tolerated_failures: must be between 0% and 100%, not 150%"),
    ("tolerated_failures not a number", [A, {"id": "M", "activity": "A", "for_each": "A", "tolerated_failures": "some"}],
     "workflow.steps[1].tolerated_failures: must be a whole number, not str"),
    ("max_concurrency without for_each", [{"activity": "A", "max_concurrency": 3}],
     "workflow.steps[0].max_concurrency: goes with for_each: (a map step) only"),
    ("max_concurrency zero", [A, {"id": "M", "activity": "A", "for_each": "A", "max_concurrency": 0}],
     "workflow.steps[1].max_concurrency: must be between 1 and"),
    ("catch target with after", [A, {"id": "B", "activity": "A", "catch": "H"}, {"id": "H", "activity": "A", "after": ["A"]}],
     "workflow.steps[1].catch: catch target 'H' has after: (a catch target runs only through its catch: remove its after:)"),
    ("unknown catch target", [{"activity": "A", "catch": "Nope"}], "workflow.steps[0].catch: unknown step 'Nope'"),
    ("one target for two catches", [{"activity": "A", "catch": "H"}, {"id": "B", "activity": "A", "catch": "H"},
                                    {"id": "H", "activity": "A"}],
     "workflow.steps[1].catch: 'H' is already the catch target of A"),
    ("a step catching itself", [{"activity": "A", "catch": "A"}], "workflow.steps[0].catch: a step cannot catch itself"),
    ("signal together with activity", [{"activity": "A", "signal": "go"}],
     "workflow.steps[0].signal: a step is one of activity, workflow, signal, wait or fail: not activity and signal "
     "together"),
    ("a step that does nothing", [{"id": "X"}], "workflow.steps[0].activity: needs one of activity, workflow, signal, wait or fail"),
    ("a signal step without id", [{"signal": "go"}], "workflow.steps[0].id: is missing"),
    ("timeout without signal", [{"activity": "A", "timeout": 5}],
     "workflow.steps[0].timeout: goes with signal: only (an activity's timeout is under activities:)"),
    ("a fail step something comes after", [{"id": "F", "fail": "no"}, {"activity": "A", "after": ["F"]}],
     "workflow.steps[0].fail: a fail: step ends the execution, but A comes after it"),
    ("a fail step caught", [{"id": "F", "fail": "no", "catch": "A"}, A],
     "workflow.steps[0].catch: a fail: step cannot be caught"),
    ("a fail step without a reason", [{"id": "F", "fail": ""}], "workflow.steps[0].fail: must be a non-empty string"),
    ("wait as text", [{"id": "W", "wait": "soon"}],
     'workflow.steps[0].wait: must be seconds, {until: STEP} or {until: "2026-12-24T06:00:00Z"}'),
    ("wait until neither a step nor a time", [{"id": "W", "wait": {"until": "Tuesday"}}],
     "workflow.steps[0].wait.until: 'Tuesday' is neither a step nor an ISO 8601 time with its zone"),
    ("wait until a step not upstream", [A, {"id": "W", "wait": {"until": "A"}}],
     "workflow.steps[1].wait.until: 'A' is not upstream of this step (add it to after:)"),
    ("wait over a year", [{"id": "W", "wait": 10**9}], "workflow.steps[0].wait: must be between 0 and"),
    ("a condition on a step not upstream", [A, {"id": "B", "activity": "A"}, {"id": "C", "activity": "A", "after": ["A"],
                                                                               "when": {"B": "x"}}],
     "workflow.steps[2].when.B: 'B' is not upstream of this step (through after:)"),
    ("unless with an unknown test", [A, {"id": "B", "activity": "A", "after": ["A"], "unless": {"A": {"is": "x"}}}],
     "workflow.steps[1].unless.A: must have one of equals, matches or json"),
    ("json without a test", [A, {"id": "B", "activity": "A", "after": ["A"], "when": {"A": {"json": "a.b"}}}],
     "workflow.steps[1].when.A: json: needs exactly one of equals, ge, gt, le, lt, matches, present, not none"),
    ("json gt on a list", [A, {"id": "B", "activity": "A", "after": ["A"], "when": {"A": {"json": "a", "gt": [1]}}}],
     "workflow.steps[1].when.A: gt: must be a number or a string, not list"),
    ("json with an empty path part", [A, {"id": "B", "activity": "A", "after": ["A"], "when": {"A": {"json": "a..b",
                                                                                                    "present": True}}}],
     "workflow.steps[1].when.A: json: must be a dotted path into the result"),
    ("equals a list", [A, {"id": "B", "activity": "A", "after": ["A"], "when": {"A": {"equals": [1]}}}],
     "workflow.steps[1].when.A: equals: must be a string, a number or true/false, not list"),
    ("a bad regex under matches", [A, {"id": "B", "activity": "A", "after": ["A"], "when": {"A": {"matches": "[a-"}}}],
     "workflow.steps[1].when.A: is not a valid regular expression"),
    ("a step id with @", [{"id": "A@1", "activity": "A"}], "workflow.steps[0].id: step id 'A@1' holds '@'"),
    ("a catch cycle", [{"activity": "A", "catch": "H"}, {"id": "H", "activity": "A", "catch": "A"}],
     "workflow.steps: cycle: A -> H -> A"),
]


@pytest.mark.parametrize(("steps", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_each_mistake_is_one_line_naming_the_key(steps: list[dict[str, Any]], message: str) -> None:
    data = {"domain": {"name": "D"}, "activities": {"A": {"version": "1", "command": ["true"]}},
            "workflow": {"name": "W", "version": "1", "task_list": "T", "steps": steps}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, Path("/tmp/config.yaml"))
    text = str(caught.value)
    assert message in text and "\n" not in text, text


def test_the_policies_grant_the_new_kinds_what_they_need_and_no_more() -> None:
    from swfagent.policies import statements

    decider = {s["Sid"]: s for s in statements(STATES, "decider", "arn:aws:swf:us-east-1:1:/domain/D", wildcard=False)}
    names = decider["ScheduleConfiguredActivities"]["Condition"]["StringEquals"]["swf:activityType.name"]
    assert names == ["Convert_One", "List_Files", "Notify", "Publish"]  # the map's activity; nothing for signal/wait/fail
    actions = decider["RespondDecisionTasks"]["Action"]
    assert {"swf:StartTimer", "swf:RecordMarker"} <= set(actions)  # wait and signal timers; the signal taken


def test_the_shipped_configs_commented_steps_parse_once_uncommented(tmp_path: Path) -> None:
    """config.yaml shows every new key commented out: uncommented (one `when` at a time), it loads."""
    from swfagent.config import load_config
    from tests.support import ROOT

    out: list[str] = []
    in_step = False
    for line in (ROOT / "config.yaml").read_text().splitlines():
        indent, _, body = line.partition("# ")
        if indent.strip() == "" and body.startswith("- id:"):
            in_step = True
            out.append(indent + body)
        elif in_step and indent.strip() == "" and body.startswith("  ") and body.strip()[:1].isalpha():
            out.append(indent + body)
        elif indent.strip() == "" and body.startswith(("when: {Test_Task_A: {json", "catch:")):
            in_step = False
            out.append(indent + body)
        else:
            in_step = in_step and indent.strip() == "" and body.startswith("  ")
            out.append(line)
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(out).replace("python, tasks/", f"python, {ROOT}/tasks/") + "\n")
    steps = {s.id: s for s in load_config(path).workflow.steps}
    assert {s.kind for s in steps.values()} == set(StepKind) - {StepKind.CHILD}  # a child step needs workflows:
    assert steps["Test_Task_B"].catch == "Report" and steps["Convert"].tolerated_percent == 10
