"""decide() on histories built in the test: one history per case, no server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from swfagent.decide import decide, describe, retry_delay
from tests.flows import ARTICLE, DIAMOND, FAN, config_from, retrying
from tests.histories import History


def kinds(decisions: list[dict[str, Any]]) -> list[str]:
    out = []
    for d in decisions:
        t = d["decisionType"]
        if t == "ScheduleActivityTask":
            out.append("schedule " + d["scheduleActivityTaskDecisionAttributes"]["activityId"])
        elif t == "StartTimer":
            a = d["startTimerDecisionAttributes"]
            out.append(f"timer {a['timerId']} {a['startToFireTimeout']}")
        elif t == "CompleteWorkflowExecution":
            out.append("complete " + str(d["completeWorkflowExecutionDecisionAttributes"].get("result")))
        elif t == "FailWorkflowExecution":
            out.append("fail " + d["failWorkflowExecutionDecisionAttributes"]["reason"])
        elif t == "CancelWorkflowExecution":
            out.append("cancel")
    return out


CASES = [
    # (name, config, history, expected decisions)
    ("start: first step", ARTICLE, History().decision(), ["schedule Test_Task_A-1"]),
    ("A running: wait", ARTICLE, History().decision().schedule("Test_Task_A").start("Test_Task_A"), []),
    ("A scheduled, not started: wait", ARTICLE, History().decision().schedule("Test_Task_A"), []),
    ("A done: B", ARTICLE, History().decision().schedule("Test_Task_A").complete("Test_Task_A", "b"),
     ["schedule Test_Task_B-1"]),
    ("all done: complete with the last result", ARTICLE,
     History().schedule("Test_Task_A").complete("Test_Task_A", "b").schedule("Test_Task_B").complete("Test_Task_B", "banana"),
     ["complete banana"]),
    ("A failed, no retries: fail", ARTICLE,
     History().schedule("Test_Task_A").fail("Test_Task_A", "exit code 1", "boom"),
     ["fail Test_Task_A failed: exit code 1"]),
    ("A timed out, no retries: fail", ARTICLE,
     History().schedule("Test_Task_A").time_out("Test_Task_A", "START_TO_CLOSE"),
     ["fail Test_Task_A timed out: START_TO_CLOSE"]),
    ("A canceled, no retries: fail", ARTICLE,
     History().schedule("Test_Task_A").canceled("Test_Task_A"), ["fail Test_Task_A was canceled"]),
    ("schedule failed: fail with SWF's cause", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "ACTIVITY_TYPE_DEPRECATED"),
     ["fail Test_Task_A could not be scheduled: ACTIVITY_TYPE_DEPRECATED (Test_Task_A)"]),
    ("open activities limit: fail with SWF's cause", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "OPEN_ACTIVITIES_LIMIT_EXCEEDED"),
     ["fail Test_Task_A could not be scheduled: OPEN_ACTIVITIES_LIMIT_EXCEEDED (Test_Task_A)"]),
    ("timer failed: fail with SWF's cause", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5)
     .timer_failed("Test_Task_A-2", "TIMER_CREATION_RATE_EXCEEDED"),
     ["fail timer Test_Task_A-2 could not be started: TIMER_CREATION_RATE_EXCEEDED"]),
    ("decision timed out: decide again, same answer", ARTICLE,
     History().decision_timed_out().decision_timed_out(), ["schedule Test_Task_A-1"]),
    ("cancel requested: cancel", ARTICLE,
     History().decision().schedule("Test_Task_A").start("Test_Task_A").cancel_request(), ["cancel"]),
    ("signals and markers: recorded, not fatal", ARTICLE,
     History().signal("poke", "x").marker("note", "y").decision(), ["schedule Test_Task_A-1"]),
    ("unknown event type: ignored", ARTICLE,
     History().decision(), ["schedule Test_Task_A-1"]),
    # retries
    ("failure with retries left: timer with the first delay", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A"), ["timer Test_Task_A-2 5"]),
    ("timeout with retries left: timer too", retrying(),
     History().schedule("Test_Task_A").time_out("Test_Task_A", "HEARTBEAT"), ["timer Test_Task_A-2 5"]),
    ("retry timer running: wait", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5), []),
    ("retry timer fired: next attempt", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5).fire("Test_Task_A-2"),
     ["schedule Test_Task_A-2"]),
    ("second failure: delay doubled", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5).fire("Test_Task_A-2")
     .schedule("Test_Task_A", 2).fail("Test_Task_A", attempt=2), ["timer Test_Task_A-3 10"]),
    ("retries spent: fail naming the step and the attempts", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5).fire("Test_Task_A-2")
     .schedule("Test_Task_A", 2).fail("Test_Task_A", attempt=2).timer("Test_Task_A-3", 10).fire("Test_Task_A-3")
     .schedule("Test_Task_A", 3).fail("Test_Task_A", "exit code 3", attempt=3),
     ["fail Test_Task_A failed: exit code 3 (after 3 attempts)"]),
    ("retry succeeded: go on", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5).fire("Test_Task_A-2")
     .schedule("Test_Task_A", 2).complete("Test_Task_A", "q", attempt=2), ["schedule Test_Task_B-1"]),
    ("retry with no delay: rescheduled at once", retrying(delay=0),
     History().schedule("Test_Task_A").fail("Test_Task_A"), ["schedule Test_Task_A-2"]),
    # branches
    ("diamond: a-m takes B, skips C", DIAMOND, History().schedule("A").complete("A", "c"), ["schedule B-1"]),
    ("diamond: n-z takes C, skips B", DIAMOND, History().schedule("A").complete("A", "x"), ["schedule C-1"]),
    ("diamond: result stripped before matching", DIAMOND, History().schedule("A").complete("A", " x\n"),
     ["schedule C-1"]),
    ("diamond: no match either way: both skipped, D skipped, complete with A's result", DIAMOND,
     History().schedule("A").complete("A", "7"), ["complete 7"]),
    ("diamond: branches meet again in D", DIAMOND,
     History().schedule("A").complete("A", "x").schedule("C").complete("C", "xigua"), ["schedule D-1"]),
    ("diamond: D done: complete with D's result", DIAMOND,
     History().schedule("A").complete("A", "x").schedule("C").complete("C", "xigua").schedule("D").complete("D", "end"),
     ["complete end"]),
    ("fan-out: B and C in one decision", FAN, History().schedule("A").complete("A", "a"), ["schedule B-1", "schedule C-1"]),
    ("fan-in: D waits for both", FAN,
     History().schedule("A").complete("A", "a").schedule("B").schedule("C").complete("B", "b"), []),
    ("fan-in: D after both", FAN,
     History().schedule("A").complete("A", "a").schedule("B").schedule("C").complete("B", "b").complete("C", "c"),
     ["schedule D-1"]),
    ("fan-out: one branch fails: fail at once", FAN,
     History().schedule("A").complete("A", "a").schedule("B").schedule("C").fail("B", "exit code 2"),
     ["fail B failed: exit code 2"]),
]


@pytest.mark.parametrize(("config", "history", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decide(config: Any, history: History, expected: list[str]) -> None:
    assert kinds(decide(config.workflow, history.state())) == expected


def test_unknown_event_type_is_recorded() -> None:
    h = History().decision()
    h.add("SomeFutureEventType", {"x": 1})
    state = h.state()
    assert state.unknown_events == ["SomeFutureEventType"]
    assert kinds(decide(ARTICLE.workflow, state)) == ["schedule Test_Task_A-1"]


def test_signals_and_markers_are_recorded() -> None:
    state = History().signal("poke", "x").marker("note", "y").state()
    assert state.signals == [("poke", "x")] and state.markers == [("note", "y")]


@pytest.mark.parametrize(("history", "expected_input"), [
    (History(input="hello"), "hello"),  # no after: the execution's input
    (History(), None),  # no input at all: none sent
])
def test_first_step_gets_the_execution_input(history: History, expected_input: str | None) -> None:
    [d] = decide(ARTICLE.workflow, history.state())
    assert d["scheduleActivityTaskDecisionAttributes"].get("input") == expected_input


def test_one_after_gets_its_result() -> None:
    [d] = decide(ARTICLE.workflow, History().schedule("Test_Task_A").complete("Test_Task_A", "b").state())
    assert d["scheduleActivityTaskDecisionAttributes"]["input"] == "b"


def test_several_after_get_a_json_object_of_results() -> None:
    h = History().schedule("A").complete("A", "a").schedule("B").schedule("C").complete("B", "bb").complete("C", "cc")
    [d] = decide(FAN.workflow, h.state())
    assert json.loads(d["scheduleActivityTaskDecisionAttributes"]["input"]) == {"B": "bb", "C": "cc"}


def test_skipped_steps_are_left_out_of_the_json_input() -> None:
    flow = config_from([
        {"activity": "A"},
        {"activity": "B", "after": ["A"], "when": {"A": "[a-m]"}},
        {"activity": "C", "after": ["A"]},
        {"activity": "D", "after": ["B", "C"]},
    ])
    h = History().schedule("A").complete("A", "z").schedule("C").complete("C", "cc")
    [d] = decide(flow.workflow, h.state())
    assert json.loads(d["scheduleActivityTaskDecisionAttributes"]["input"]) == {"C": "cc"}


def test_schedule_carries_every_timeout_and_the_task_list() -> None:
    flow = config_from([{"activity": "A"}], {"A": {"timeout": 42, "heartbeat_timeout": 9, "task_list": "big-hosts"}})
    [d] = decide(flow.workflow, History().state())
    a = d["scheduleActivityTaskDecisionAttributes"]
    assert a["activityType"] == {"name": "A", "version": "1.0"}
    assert a["taskList"] == {"name": "big-hosts"}
    assert (a["startToCloseTimeout"], a["heartbeatTimeout"], a["scheduleToStartTimeout"],
            a["scheduleToCloseTimeout"]) == ("42", "9", "NONE", "NONE")


def test_one_activity_type_in_several_steps() -> None:
    flow = config_from([{"id": "first", "activity": "A"}, {"id": "second", "activity": "A", "after": ["first"]}])
    decisions = decide(flow.workflow, History().schedule("first", activity="A").complete("first", "1").state())
    assert kinds(decisions) == ["schedule second-1"]
    assert decisions[0]["scheduleActivityTaskDecisionAttributes"]["activityType"]["name"] == "A"


def test_failure_carries_the_activity_details() -> None:
    [d] = decide(ARTICLE.workflow, History().schedule("Test_Task_A").fail("Test_Task_A", "exit code 1", "stderr tail").state())
    assert d["failWorkflowExecutionDecisionAttributes"]["details"] == "stderr tail"


def test_reason_is_cut_to_256() -> None:
    [d] = decide(ARTICLE.workflow, History().schedule("Test_Task_A").fail("Test_Task_A", "x" * 1000).state())
    assert len(d["failWorkflowExecutionDecisionAttributes"]["reason"]) == 256


def test_deciding_twice_gives_the_same_decisions() -> None:
    h = History().schedule("A").complete("A", "a")
    assert decide(FAN.workflow, h.state()) == decide(FAN.workflow, h.state())


def test_history_over_the_threshold_fails_clearly() -> None:
    flow = config_from([{"activity": "A"}], max_history_events=20)
    h = History().schedule("A")
    while len(h.events) < 20:
        h.signal("noise")
    assert decide(flow.workflow, h.state()) == []  # at the threshold: A is still running, nothing to do
    h.signal("one more")
    [d] = decide(flow.workflow, h.state())
    assert "history has 21 events, past max_history_events (20)" in d["failWorkflowExecutionDecisionAttributes"]["reason"]


def test_retry_delay_doubles_and_is_capped() -> None:
    activity = retrying(delay=5, max_delay=30).activities["Test_Task_A"]
    assert [retry_delay(activity, n) for n in range(1, 6)] == [5, 10, 20, 30, 30]


def test_describe_matches_the_article() -> None:
    assert describe(decide(ARTICLE.workflow, History().state())) == "Schedule activity -- Test_Task_A"
    done = History().schedule("Test_Task_A").complete("Test_Task_A", "b").schedule("Test_Task_B").complete("Test_Task_B", "x")
    assert describe(decide(ARTICLE.workflow, done.state())) == "Complete the workflow execution"


def test_a_retry_gets_the_input_its_first_attempt_got() -> None:
    # the flow chart changed while the execution was open: B's retry still has its input
    flow = config_from([{"activity": "A"}, {"activity": "B", "after": ["A"]}], {"B": {"retries": 1}})
    decisions = decide(flow.workflow, History().schedule("B", input="first").fail("B").state())
    [b] = [d["scheduleActivityTaskDecisionAttributes"] for d in decisions
           if d["scheduleActivityTaskDecisionAttributes"]["activityId"] == "B-2"]
    assert b["input"] == "first"


def test_a_result_that_is_not_text_fails_the_execution_clearly() -> None:
    h = History().schedule("Test_Task_A").complete("Test_Task_A", "b")
    h.events[-1]["activityTaskCompletedEventAttributes"]["result"] = 7
    [d] = decide(ARTICLE.workflow, h.state())
    assert "result is int, not text" in d["failWorkflowExecutionDecisionAttributes"]["reason"]


def test_the_result_is_the_last_completed_step_as_the_chart_is_written() -> None:
    flow = config_from([{"activity": "A"}, {"activity": "B", "after": ["A"]}, {"activity": "C"}])
    assert [s.id for s in flow.workflow.steps] == ["A", "C", "B"]  # dependency order inside
    h = History().schedule("A").schedule("C").complete("A", "a").complete("C", "c").schedule("B").complete("B", "b")
    assert kinds(decide(flow.workflow, h.state())) == ["complete c"]
