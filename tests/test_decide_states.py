"""decide() on the Step Functions kinds: map, signal, wait, catch, fail, and conditions on values; one history per case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from swfagent.config import Config
from swfagent.decide import decide, describe, map_items
from swfagent.decisions import marker
from swfagent.ids import signal_timer_id, wait_step_timer_id
from swfagent.status import StepStatus
from tests.flows import STATES, config_from
from tests.histories import History
from tests.test_decide import kinds


def mapped(cap: int | None = 2, tolerated: int | str | None = None, retries: int = 0,
           after: list[dict[str, Any]] | None = None) -> Config:
    """List, then a map over its result, then optionally more steps."""
    step: dict[str, Any] = {"id": "M", "activity": "One", "for_each": "L"}
    if cap is not None:
        step["max_concurrency"] = cap
    if tolerated is not None:
        step["tolerated_failures"] = tolerated
    return config_from([{"id": "L", "activity": "List"}, step, *(after or [])],
                       {"One": {"retries": retries}} if retries else None)


def listed(items: list[Any] | str) -> History:
    text = items if isinstance(items, str) else json.dumps(items)
    return History().decision().schedule("L").complete("L", text).decision()


WAITS = config_from([{"activity": "A"}, {"id": "W", "wait": 600, "after": ["A"]}, {"activity": "B", "after": ["W"]}])
UNTIL = config_from([{"activity": "A"}, {"id": "W", "wait": {"until": "A"}, "after": ["A"]},
                     {"activity": "B", "after": ["W"]}])
UNTIL_TIME = config_from([{"id": "W", "wait": {"until": "2026-01-01T00:10:00Z"}}, {"activity": "B", "after": ["W"]}])
SIGNALS = config_from([{"activity": "A"}, {"id": "S", "signal": "go", "after": ["A"]}, {"activity": "B", "after": ["S"]}])
TWO_SIGNALS = config_from([{"activity": "A"}, {"id": "S1", "signal": "go", "after": ["A"]},
                           {"id": "S2", "signal": "go", "after": ["A"]}])
TIMEOUT = config_from([{"id": "S", "signal": "go", "timeout": 60, "catch": "H"}, {"activity": "B", "after": ["S"]},
                       {"id": "H", "activity": "Handle"}])
CATCH = config_from([{"activity": "A", "catch": "H"}, {"activity": "B", "after": ["A"]}, {"id": "H", "activity": "Handle"},
                     {"activity": "C", "after": ["H"]}])
CATCH_FAIL = config_from([{"activity": "A", "catch": "H"}, {"id": "H", "activity": "Handle"},
                          {"id": "F", "fail": "A failed: see H", "after": ["H"]}])
DIAMOND_CATCH = config_from([
    {"activity": "A"},
    {"activity": "B", "after": ["A"], "when": {"A": {"equals": "yes"}}, "catch": "H"},
    {"activity": "C", "after": ["A"], "unless": {"A": {"equals": "yes"}}},
    {"id": "H", "activity": "Handle"},
    {"activity": "D", "after": ["B", "C"]},
])
JSON_WHEN = config_from([
    {"activity": "A"}, {"activity": "X", "after": ["A"]},
    {"activity": "B", "after": ["X"], "when": {"A": {"json": "counts.errors", "gt": 0}}},
    {"activity": "C", "after": ["X"], "when": {"A": {"json": "counts.missing", "present": False}},
     "unless": {"A": {"json": "counts.errors", "gt": 0}}},
])


def _schedule_items(h: History, *items: int, attempt: int = 1) -> History:
    for i in items:
        h.schedule(f"M@{i}", attempt, activity="One")
    return h


CASES = [
    # (name, config, history, expected decisions)
    ("map: the first items up to max_concurrency", mapped(), listed(["a", "b", "c", "d"]),
     ["schedule M@1-1", "schedule M@2-1"]),
    ("map: no cap: every item at once", mapped(cap=None), listed(["a", "b", "c"]),
     ["schedule M@1-1", "schedule M@2-1", "schedule M@3-1"]),
    ("map: items as lines when not a JSON array", mapped(cap=None), listed("x\n\n  y \n"),
     ["schedule M@1-1", "schedule M@2-1"]),
    ("map: an empty list completes at once with []", mapped(), listed([]), ["complete []"]),
    ("map: the cap held while items finish out of order", mapped(),
     _schedule_items(listed(["a", "b", "c", "d"]), 1, 2).complete("M@2", "B").decision(), ["schedule M@3-1"]),
    ("map: two open of two: nothing more", mapped(),
     _schedule_items(listed(["a", "b", "c", "d"]), 1, 2).complete("M@2", "B").decision()
     .schedule("M@3", activity="One").decision(), []),
    ("map: the result in the items' order", mapped(),
     _schedule_items(listed(["a", "b"]), 1, 2).complete("M@2", '{"n": 2}').complete("M@1", "A").decision(),
     ['complete ["A", {"n": 2}]']),
    ("map: an item failed and retried in its place", mapped(retries=1),
     _schedule_items(listed(["a", "b", "c"]), 1, 2).fail("M@1").decision(), ["schedule M@1-2"]),
    ("map: an item failed for good, tolerated: null in the result", mapped(retries=1, tolerated=1),
     _schedule_items(listed(["a", "b"]), 1, 2).fail("M@1").decision().schedule("M@1", 2, activity="One")
     .fail("M@1", attempt=2).complete("M@2", "B").decision(), ['complete [null, "B"]']),
    ("map: past its tolerated failures: the step fails", mapped(tolerated=1),
     _schedule_items(listed(["a", "b", "c"]), 1, 2).fail("M@1").fail("M@2").decision(),
     ["fail M: 2 of 3 items failed, past tolerated_failures 1: M@1 failed: exit code 1"]),
    ("map: tolerated as a percentage", mapped(cap=None, tolerated="50%"),
     _schedule_items(listed(["a", "b"]), 1, 2).fail("M@1").complete("M@2", "B").decision(), ['complete [null, "B"]']),
    ("signal: waits for it", SIGNALS, History().decision().schedule("A").complete("A", "a").decision(), []),
    ("signal: taken, its input is the step's result", SIGNALS,
     History().decision().schedule("A").complete("A", "a").signal("go", "yes").decision(),
     ["marker swfagent-signal", "schedule B-1"]),
    ("signal: one that came before the step was ready", SIGNALS,
     History().decision().signal("go", "early").schedule("A").complete("A", "a").decision(),
     ["marker swfagent-signal", "schedule B-1"]),
    ("signal: another name does not count", SIGNALS,
     History().decision().schedule("A").complete("A", "a").signal("stop", "x").decision(), []),
    ("signal: two steps on one name: one signal each, in the chart's order", TWO_SIGNALS,
     History().decision().schedule("A").complete("A", "a").signal("go", "1").decision(), ["marker swfagent-signal"]),
    ("signal: its marker refused for good: the step fails, the marker is not sent again", SIGNALS,
     History().decision().schedule("A").complete("A", "a").signal("go", "yes").decision()
     .refuse(marker("swfagent-signal", "{}"), "OPERATION_NOT_PERMITTED"),
     ["fail S: SWF refused the marker of the signal it took (OPERATION_NOT_PERMITTED): see python -m swfagent policies"]),
    ("signal: its timeout's timer", TIMEOUT, History().decision(), ["timer swfagent-signal-S 60"]),
    ("signal: no signal within the timeout: failed, caught", TIMEOUT,
     History().decision().timer(signal_timer_id("S"), 60).fire(signal_timer_id("S")).decision(), ["schedule H-1"]),
    ("signal: in time: the timer is left to fire unheeded", TIMEOUT,
     History().decision().timer(signal_timer_id("S"), 60).signal("go", "ok").decision(),
     ["marker swfagent-signal", "schedule B-1"]),
    ("wait: its timer", WAITS, History().decision().schedule("A").complete("A", "a").decision(),
     [f"timer {wait_step_timer_id('W')} 600"]),
    ("wait: the timer runs: nothing", WAITS,
     History().decision().schedule("A").complete("A", "a").decision().timer(wait_step_timer_id("W"), 600), []),
    ("wait: fired: the next step, with the wait's input", WAITS,
     History().decision().schedule("A").complete("A", "a").decision().timer(wait_step_timer_id("W"), 600)
     .fire(wait_step_timer_id("W")).decision(), ["schedule B-1"]),
    ("wait until a time: the seconds from the history's now", UNTIL_TIME, History().decision(),
     [f"timer {wait_step_timer_id('W')} 596"]),
    ("wait until a step's time in the past: at once", UNTIL,
     History().decision().schedule("A").complete("A", "2025-12-31T00:00:00Z").decision(), ["schedule B-1"]),
    ("wait until a step's time to come", UNTIL,
     History().decision().schedule("A").complete("A", "2026-01-01T01:00:00+00:00").decision(),
     [f"timer {wait_step_timer_id('W')} 3590"]),
    ("wait until a step's result that is no time: the step fails and says so", UNTIL,
     History().decision().schedule("A").complete("A", "soon").decision(),
     ["fail W: A's result 'soon' is not an ISO 8601 time with its zone (such as 2026-12-24T06:00:00Z)"]),
    ("catch: the handler runs instead of what follows", CATCH,
     History().decision().schedule("A").fail("A", "exit code 2").decision(), ["schedule H-1"]),
    ("catch: the handler done: what follows it, then complete", CATCH,
     History().decision().schedule("A").fail("A").decision().schedule("H").complete("H", "h").decision(),
     ["schedule C-1"]),
    ("catch: nothing failed: the handler and its steps skipped, the run completes", CATCH,
     History().decision().schedule("A").complete("A", "a").decision().schedule("B").complete("B", "b").decision(),
     ["complete b"]),
    ("catch inside a diamond's branch", DIAMOND_CATCH,
     History().decision().schedule("A").complete("A", "yes").decision().schedule("B").fail("B").decision(),
     ["schedule H-1"]),
    ("catch inside a diamond's branch: D still after the branches", DIAMOND_CATCH,
     History().decision().schedule("A").complete("A", "yes").decision().schedule("B").fail("B").decision()
     .schedule("H").complete("H", "h").decision(), ["complete h"]),
    ("the diamond's other branch (unless)", DIAMOND_CATCH,
     History().decision().schedule("A").complete("A", "no").decision(), ["schedule C-1"]),
    ("fail: reached through a catch", CATCH_FAIL,
     History().decision().schedule("A").fail("A").decision().schedule("H").complete("H", "h").decision(),
     ["fail A failed: see H"]),
    ("fail: not reached when nothing fails", CATCH_FAIL,
     History().decision().schedule("A").complete("A", "a").decision(), ["complete a"]),
    ("json condition on a step upstream, not in after", JSON_WHEN,
     History().decision().schedule("A").complete("A", '{"counts": {"errors": 2}}').schedule("X").complete("X", "x")
     .decision(), ["schedule B-1"]),
    ("json present: false, and unless", JSON_WHEN,
     History().decision().schedule("A").complete("A", '{"counts": {"errors": 0}}').schedule("X").complete("X", "x")
     .decision(), ["schedule C-1"]),
]


@pytest.mark.parametrize(("config", "history", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decide(config: Config, history: History, expected: list[str]) -> None:
    answer = decide(config.workflow, history.state())
    assert kinds(answer) == expected
    assert kinds(decide(config.workflow, history.state())) == expected  # the same history, the same answer


def test_a_catch_target_gets_the_failure_as_json() -> None:
    answer = decide(CATCH.workflow, History().decision().schedule("A").fail("A", "exit code 2", "Traceback").state())
    assert json.loads(answer.decisions[0].get("input")) == {"step": "A", "reason": "A failed: exit code 2",
                                                           "details": "Traceback"}
    assert answer.steps["A"].status == StepStatus.CAUGHT and answer.steps["B"].status == StepStatus.SKIPPED


def test_a_map_item_gets_its_item_on_stdin() -> None:
    answer = decide(mapped(cap=None).workflow, listed(["a", {"b": 1}, 3]).state())
    assert [d.get("input") for d in answer.decisions] == ["a", '{"b": 1}', "3"]
    assert map_items("[]") == [] and map_items("one\ntwo\n") == ["one", "two"]


def test_two_steps_on_one_signal_name_take_one_each() -> None:
    h = History().decision().schedule("A").complete("A", "a").signal("go", "1").decision()
    first = decide(TWO_SIGNALS.workflow, h.state())
    assert first.steps["S1"].status == StepStatus.COMPLETED and first.steps["S2"].status == StepStatus.SIGNAL
    for d in first.decisions:
        h.apply(d)
    h.signal("go", "2").decision()
    second = decide(TWO_SIGNALS.workflow, h.state())
    assert second.steps["S1"].result == "1" and second.steps["S2"].result == "2"
    assert kinds(second) == ["marker swfagent-signal", "complete 2"]


def test_a_signal_taken_stays_taken_by_its_step() -> None:
    """S2 took the first signal while S1 waited on A: S1, ready later, takes the next, not S2's."""
    flow = config_from([{"activity": "A"}, {"id": "S1", "signal": "go", "after": ["A"]},
                        {"id": "S2", "signal": "go"}])
    h = History().decision().signal("go", "1").decision()
    for d in decide(flow.workflow, h.state()).decisions:
        h.apply(d)
    h.schedule("A").complete("A", "a").decision()
    answer = decide(flow.workflow, h.state())
    assert answer.steps["S2"].result == "1" and answer.steps["S1"].status == StepStatus.SIGNAL


@pytest.mark.parametrize(("config", "history", "line"), [
    (mapped(cap=10), listed(list(range(100))), "Schedule activity -- M (items 1-10 of 100)"),
    (WAITS, History().decision().schedule("A").complete("A", "a").decision(), "Start timer -- W (600 s)"),
    (SIGNALS, History().decision().schedule("A").complete("A", "a").decision(), "Waiting for signal go -- S"),
    (CATCH, History().decision().schedule("A").fail("A").decision(),
     "A failed: caught by H; Schedule activity -- H"),
    (SIGNALS, History().decision().schedule("A").complete("A", "a").signal("go").decision(),
     "Schedule activity -- B; Signal go taken -- S (event 8)"),
])
def test_the_deciders_lines(config: Config, history: History, line: str) -> None:
    assert describe(decide(config.workflow, history.state())) == line


def test_the_issues_chart_runs_to_its_fail() -> None:
    """The issue's example, every kind on one chart: map, signal, wait, diamond on a value, catch, fail."""
    w, h = STATES.workflow, History().decision()

    def step(*close: tuple[str, str, str | None]) -> list[str]:
        for how, sid, value in close:
            {"complete": h.complete, "fail": h.fail}[how](sid, value)
        h.decision()
        answer = decide(w, h.state())
        for d in answer.decisions:
            h.apply(d)
        return kinds(answer)

    assert step() == ["schedule List_Files-1"]
    assert step(("complete", "List_Files", '["x", "y", "z"]')) == ["schedule Convert@1-1", "schedule Convert@2-1"]
    assert step(("fail", "Convert@1", "bad")) == ["schedule Convert@3-1"]
    assert step(("complete", "Convert@2", "Y"), ("complete", "Convert@3", "Z")) == ["timer swfagent-signal-Approval 86400"]
    h.signal("approve", "yes")
    assert step() == ["marker swfagent-signal", "timer swfagent-wait-Settle 600"]
    h.fire("swfagent-wait-Settle")
    assert step() == ["schedule Publish-1"]
    assert step(("fail", "Publish", "exit code 1")) == ["schedule Report-1"]
    assert step(("complete", "Report", "sent")) == ["fail Publish failed: see Report"]
