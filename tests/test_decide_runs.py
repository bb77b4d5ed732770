"""Past one history, on histories built in the test: a workflow that repeats, a long history continued as new with its
results, and a map of 10,000 items in batches of child executions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from swfagent.config import ConfigError
from swfagent.cron import next_time
from swfagent.decide import decide, describe
from swfagent.decisions import Decision
from swfagent.history import Batch, batch_input, carry_input
from tests.flows import config_from
from tests.histories import T0, History

TWO = [{"activity": "A"}, {"activity": "B", "after": ["A"]}]


def done(h: History) -> History:
    return h.decision().schedule("A").complete("A", "a").decision().schedule("B").complete("B", "b").decision()


def test_a_repeating_workflow_continues_as_new_at_once_and_the_new_run_waits_for_its_time() -> None:
    config = config_from(TWO, repeat={"every": 86400})
    h = done(History(input="the job"))
    answer = decide(config.workflow, h.state())
    [d] = answer.swf
    attrs = d["continueAsNewWorkflowExecutionDecisionAttributes"]
    assert d["decisionType"] == "ContinueAsNewWorkflowExecution" and describe(answer) == "Continue as new"
    assert attrs["executionStartToCloseTimeout"] == str(86400 + 3600)  # the wait, then the run: it never times out
    not_before = h.events[-1]["eventTimestamp"] + dt.timedelta(seconds=86400)
    assert json.loads(attrs["input"]) == {"swfagent-carry": {"input": "the job", "results": {}, "run": 1,
                                                             "not_before": not_before.isoformat()}}
    nxt = History(input=attrs["input"]).decision()
    answer = decide(config.workflow, nxt.state())
    [timer] = answer.swf
    delay = int((not_before - nxt.events[-1]["eventTimestamp"]).total_seconds())
    assert timer["startTimerDecisionAttributes"] == {"timerId": "swfagent-repeat", "startToFireTimeout": str(delay)}
    assert describe(answer) == f"Wait {delay} s for this run's time (repeat)"
    nxt.apply(timer)
    assert decide(config.workflow, nxt.decision().state()).swf == []
    nxt.fire("swfagent-repeat").decision()
    [a] = decide(config.workflow, nxt.state()).swf
    assert a["scheduleActivityTaskDecisionAttributes"]["input"] == "the job"


def test_a_cron_schedule_waits_until_its_next_time() -> None:
    config = config_from(TWO, repeat={"cron": "0 6 * * *"})
    h = done(History())
    [d] = decide(config.workflow, h.state()).swf
    attrs = d["continueAsNewWorkflowExecutionDecisionAttributes"]
    assert json.loads(attrs["input"])["swfagent-carry"]["not_before"] == T0.replace(hour=6).isoformat()
    now = h.events[-1]["eventTimestamp"]
    assert int(attrs["executionStartToCloseTimeout"]) == (T0.replace(hour=6) - now).seconds + 3600


@pytest.mark.parametrize(("cron", "after", "expected"), [
    ("0 6 * * *", "2026-01-01T06:00:00+00:00", "2026-01-02T06:00:00+00:00"),
    ("*/15 * * * *", "2026-01-01T06:07:00+00:00", "2026-01-01T06:15:00+00:00"),
    ("30 2 1 * *", "2026-01-15T00:00:00+00:00", "2026-02-01T02:30:00+00:00"),
    ("0 9 * * 1-5", "2026-01-02T10:00:00+00:00", "2026-01-05T09:00:00+00:00"),  # a Friday: Monday next
])
def test_cron_next_time(cron: str, after: str, expected: str) -> None:
    import datetime as dt
    assert next_time(cron, dt.datetime.fromisoformat(after)) == dt.datetime.fromisoformat(expected)


@pytest.mark.parametrize(("repeat", "message"), [
    ({"every": 60, "cron": "* * * * *"}, "needs one of every"),
    ({"cron": "61 * * * *"}, "repeat.cron: minute '61'"),
    ({"cron": "* * *"}, "repeat.cron: must have 5 fields"),
    ({"every": 60, "on_failure": "retry"}, "repeat.on_failure: must be stop or continue"),
])
def test_a_wrong_repeat_is_one_line_naming_the_key(repeat: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from(TWO, repeat=repeat)


@pytest.mark.parametrize(("on_failure", "expected"), [("stop", "FailWorkflowExecution"), ("continue", "ContinueAsNewWorkflowExecution")])
def test_a_failed_run_stops_the_chain_or_not_as_on_failure_says(on_failure: str, expected: str) -> None:
    config = config_from(TWO, repeat={"every": 60, "on_failure": on_failure})
    h = History().decision().schedule("A").fail("A")
    assert [d["decisionType"] for d in decide(config.workflow, h.state()).swf] == [expected]


def test_a_continue_as_new_refused_for_a_passing_cause_waits_then_goes_again() -> None:
    config = config_from(TWO, repeat={"every": 60})
    h = done(History())
    [d] = decide(config.workflow, h.state()).swf
    h.refuse(d, "CONTINUE_AS_NEW_WORKFLOW_EXECUTION_RATE_EXCEEDED").decision()
    [wait] = decide(config.workflow, h.state()).swf
    assert wait["startTimerDecisionAttributes"] == {"timerId": "swfagent-repeat.wait1", "startToFireTimeout": "2"}
    h.apply(wait).fire("swfagent-repeat.wait1").decision()
    assert [d["decisionType"] for d in decide(config.workflow, h.state()).swf] == ["ContinueAsNewWorkflowExecution"]


def test_a_continue_as_new_refused_for_good_is_not_sent_again() -> None:
    config = config_from(TWO, repeat={"every": 60})
    h = done(History())
    [d] = decide(config.workflow, h.state()).swf
    h.refuse(d, "WORKFLOW_TYPE_DEPRECATED").decision()
    answer = decide(config.workflow, h.state())
    assert answer.swf == [] and answer.refused is not None and answer.refused.cause == "WORKFLOW_TYPE_DEPRECATED"


def _next_run(every: int = 3600) -> History:
    """The run after a repeating workflow's first: it waits `every` seconds for its time."""
    config = config_from(TWO, repeat={"every": every})
    [d] = decide(config.workflow, done(History(input="x")).state()).swf
    return History(input=d["continueAsNewWorkflowExecutionDecisionAttributes"]["input"]).decision()


def test_a_repeat_timer_refused_for_a_passing_cause_waits_then_goes_again() -> None:
    config = config_from(TWO, repeat={"every": 3600})
    h = _next_run()
    [timer] = decide(config.workflow, h.state()).swf
    h.refuse(timer, "TIMER_CREATION_RATE_EXCEEDED").decision()
    [wait] = decide(config.workflow, h.state()).swf
    assert wait["startTimerDecisionAttributes"] == {"timerId": "swfagent-repeat.wait1", "startToFireTimeout": "2"}
    h.apply(wait)
    assert decide(config.workflow, h.decision().state()).swf == []
    h.fire("swfagent-repeat.wait1").decision()
    [again] = decide(config.workflow, h.state()).swf
    assert again["startTimerDecisionAttributes"]["timerId"] == "swfagent-repeat"
    for k in range(2, 11):  # refused every time: it gives up after MAX_WAITS, saying why
        h.refuse(again, "TIMER_CREATION_RATE_EXCEEDED").decision()
        answer = decide(config.workflow, h.state())
        if answer.closing is not None:
            break
        h.apply(answer.swf[0]).fire(f"swfagent-repeat.wait{k}").decision()
        [again] = decide(config.workflow, h.state()).swf
    assert answer.closing is not None and "TIMER_CREATION_RATE_EXCEEDED, which passes by itself" in answer.closing.reason


# ---- long histories: continue as new, carrying the completed steps' results ----

def test_past_continue_after_events_it_continues_as_new_carrying_the_results() -> None:
    config = config_from([*TWO, {"activity": "C", "after": ["B"]}], continue_after_events=10)
    h = History(input="in").decision().schedule("A").complete("A", "a").decision().decision()
    assert h.state().event_count > 10
    [d] = decide(config.workflow, h.state()).swf
    carried = d["continueAsNewWorkflowExecutionDecisionAttributes"]["input"]
    assert json.loads(carried) == {"swfagent-carry": {"input": "in", "results": {"A": "a"}, "run": 2}}
    nxt = History(input=carried).decision()  # the new run: A is done, B gets its result
    state = nxt.state()
    assert (state.input, state.carried, state.runs) == ("in", {"A": "a"}, 2)
    [b] = decide(config.workflow, state).swf
    assert b["scheduleActivityTaskDecisionAttributes"]["activityId"] == "B-1"
    assert b["scheduleActivityTaskDecisionAttributes"]["input"] == "a"
    nxt.schedule("B").complete("B", "b").decision().schedule("C").complete("C", "c").decision()
    assert decide(config.workflow, nxt.state()).swf[0]["decisionType"] == "CompleteWorkflowExecution"


def test_it_never_continues_while_a_step_is_open() -> None:
    config = config_from([{"activity": "A"}, {"activity": "B"}], continue_after_events=10)
    h = History().decision().schedule("A").schedule("B").complete("A", "a").decision().decision()
    assert decide(config.workflow, h.state()).swf == []


def test_results_too_large_to_carry_fail_clearly_without_s3() -> None:
    config = config_from(TWO + [{"activity": "C", "after": ["B"]}], continue_after_events=10)
    h = History().decision().schedule("A").complete("A", "x" * 20_000).decision().schedule("B").complete(
        "B", "y" * 20_000).decision()  # each result fits in an input, the two together do not
    answer = decide(config.workflow, h.state())
    assert answer.closing is not None and "results: {s3:" in answer.closing.reason
    assert "continue_after_events" in answer.closing.reason


# ---- a map past one history: batch_size ----

def test_a_map_whose_list_would_pass_the_history_fails_at_once_naming_batch_size() -> None:
    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L"}])
    h = History().decision().schedule("L").complete("L", json.dumps(list(range(5000)))).decision()
    answer = decide(config.workflow, h.state())
    assert answer.closing is not None and "set batch_size:" in answer.closing.reason and "5000 items" in answer.closing.reason


def _run_child(config: Any, input: str) -> tuple[str, int]:
    """A batch's child run to its end, each item completing with its own value doubled; its result and events."""
    h = History(input=input)
    for _ in range(1000):
        h.decision()
        answer = decide(config.workflow, h.state())
        for d in answer.decisions:
            h.apply(d)
        if answer.decisions[-1].type.value == "CompleteWorkflowExecution":
            return str(answer.decisions[-1].get("result")), len(h.events)
        for d in answer.decisions:
            if d.type.value == "ScheduleActivityTask":
                step = d.get("activityId").rpartition("-")[0]
                h.complete(step, json.dumps({"n": int(d.get("input")) * 2}))
            elif d.type.value == "StartTimer":
                h.fire(d.get("timerId"))
    raise AssertionError("the child did not end")


def test_a_map_of_10000_items_completes_in_batches_with_no_history_past_25000_events() -> None:
    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": 500,
                                              "max_concurrency": 1000}], results={"s3": "s3://bucket/values"})
    parent = History().decision().schedule("L").complete("L", json.dumps(list(range(10_000)))).decision()
    largest, open_at_once = 0, 0
    for _ in range(200):
        answer = decide(config.workflow, parent.state())
        starts = [d for d in answer.decisions if d.type.value == "StartChildWorkflowExecution"]
        if answer.decisions and answer.decisions[-1].type.value == "CompleteWorkflowExecution":
            break
        assert starts, describe(answer)
        open_at_once = max(open_at_once, len(starts))
        for d in starts:
            parent.apply(d)
            result, events = _run_child(config, d.get("input"))
            largest = max(largest, events)
            parent.child_closed("Completed", d.get("control").rpartition("-")[0], result=result)
        parent.decision()
    else:
        raise AssertionError("the parent did not end")
    values = json.loads(answer.decisions[-1].get("result"))
    assert values == [{"n": 2 * i} for i in range(10_000)]
    assert largest < 25_000 and len(parent.events) < 25_000, (largest, len(parent.events))
    assert open_at_once <= 1000 // 500


def test_a_batch_is_a_child_of_the_workflows_own_type_with_its_share_of_the_concurrency() -> None:
    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": 3,
                                              "max_concurrency": 2}])
    h = History().decision().schedule("L").complete("L", json.dumps(list(range(7)))).decision()
    [d] = decide(config.workflow, h.state()).decisions  # 2 // 3 batches open: at least one
    assert d.get("control") == "M#1-1" and d.get("workflowType") == {"name": "TestWorkflow", "version": "1.0"}
    assert json.loads(d.get("input")) == {"swfagent-batch": {"step": "M", "first": 1, "items": ["0", "1", "2"],
                                                             "max_concurrency": 2}}
    child = History(input=batch_input(Batch("M", 4, ("3", "4", "5"), 2))).decision()
    assert [x.get("activityId") for x in decide(config.workflow, child.state()).decisions] == ["M@4-1", "M@5-1"]


def test_failed_items_of_the_batches_count_over_all_items() -> None:
    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": 2,
                                              "tolerated_failures": 1}])
    h = History().decision().schedule("L").complete("L", json.dumps([1, 2, 3, 4])).decision()
    h.start_child("M#1", workflow="TestWorkflow").child_closed("Completed", "M#1", result=json.dumps(
        {"results": [None, 1], "failed": 1, "reason": "M@1 failed: x"}))
    h.start_child("M#2", workflow="TestWorkflow").child_closed("Completed", "M#2", result=json.dumps(
        {"results": [None, 1], "failed": 1, "reason": "M@3 failed: y"}))
    answer = decide(config.workflow, h.state())
    assert answer.closing is not None and answer.closing.reason.startswith("M: 2 of 4 items failed")


def test_carry_and_batch_inputs_read_back() -> None:
    h = History(input=carry_input("x", {"A": "1"}, 3))
    assert (h.state().input, h.state().carried, h.state().runs) == ("x", {"A": "1"}, 3)
    assert isinstance(Decision, type)


def test_a_repeat_timer_swf_refuses_ends_the_chain_once_saying_why() -> None:
    config = config_from(TWO, repeat={"every": 3600})
    h = _next_run()
    [timer] = decide(config.workflow, h.state()).swf
    h.refuse(timer, "OPERATION_NOT_PERMITTED").decision()
    answer = decide(config.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["FailWorkflowExecution"]
    assert answer.closing is not None and "could not wait for its time (OPERATION_NOT_PERMITTED)" in \
        answer.closing.reason


@pytest.mark.parametrize(("batch_size", "reason"), [
    (2000, "M's batch_size 2000: at about 6 events an item, a history would pass max_history_events (10000): set "
           "batch_size: (at most 1666)"),
    (1, "M has 5000 items: in batches of 1, its own history would pass max_history_events (10000): raise batch_size"),
])
def test_a_batch_size_that_would_pass_a_history_fails_at_once(batch_size: int, reason: str) -> None:
    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": batch_size}])
    h = History().decision().schedule("L").complete("L", json.dumps(list(range(5000)))).decision()
    answer = decide(config.workflow, h.state())
    assert answer.closing is not None and answer.closing.reason.startswith(reason), answer.closing


def test_a_caught_failure_is_carried_to_the_next_run_and_not_run_again() -> None:
    config = config_from([{"activity": "A", "catch": "Fix"}, {"activity": "B", "after": ["A"]},
                          {"id": "Fix", "activity": "Fix"}, {"activity": "C", "after": ["Fix"]}],
                         continue_after_events=10)
    h = History().decision().schedule("A").fail("A", "exit code 1").decision().schedule(
        "Fix", input="x").complete("Fix", "fixed").decision()
    [d] = decide(config.workflow, h.state()).swf
    carried = d["continueAsNewWorkflowExecutionDecisionAttributes"]["input"]
    assert json.loads(carried)["swfagent-carry"]["caught"] == {"A": "A failed: exit code 1"}
    [c] = decide(config.workflow, History(input=carried).decision().state()).swf
    assert c["scheduleActivityTaskDecisionAttributes"]["activityId"] == "C-1"


def test_a_batchs_child_shows_its_map_and_leaves_the_rest_of_the_chart_to_its_parent() -> None:
    from swfagent.decide import plan

    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": 3}])
    child = History(input=batch_input(Batch("M", 4, ("3", "4"), 3))).decision().schedule("M@4", input="3")
    steps = plan(config.workflow, child.state())
    assert steps["L"].status == "skipped" and steps["M"].status == "running"
    assert str(steps["M"].items) == "0/2 done · 1 running"


def test_a_long_history_refused_its_continue_for_its_rate_waits_then_continues() -> None:
    config = config_from([*TWO, {"activity": "C", "after": ["B"]}], continue_after_events=10)
    h = History(input="in").decision().schedule("A").complete("A", "a").decision().decision()
    [d] = decide(config.workflow, h.state()).swf
    h.refuse(d, "CONTINUE_AS_NEW_WORKFLOW_EXECUTION_RATE_EXCEEDED").decision()
    [wait] = decide(config.workflow, h.state()).swf
    assert wait["startTimerDecisionAttributes"]["timerId"] == "swfagent-repeat.wait1"
    h.apply(wait)
    assert decide(config.workflow, h.state()).swf == []  # waits for its timer
    h.fire("swfagent-repeat.wait1").decision()
    assert [x["decisionType"] for x in decide(config.workflow, h.state()).swf] == ["ContinueAsNewWorkflowExecution"]


def test_a_batch_result_that_cannot_be_read_fails_its_items_clearly() -> None:
    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": 2}])
    h = History().decision().schedule("L").complete("L", json.dumps([1, 2])).decision()
    h.start_child("M#1", workflow="TestWorkflow").child_closed("Completed", "M#1", result="not json")
    answer = decide(config.workflow, h.state())
    assert answer.closing is not None and "M: 2 of 2 items failed" in answer.closing.reason
    assert "a batch's result cannot be read" in answer.closing.reason


MAP_CHART = [{"activity": "A"}, {"id": "M", "activity": "Item", "for_each": "A"}, {"activity": "B", "after": ["M"]}]


def _carried(answer: Any) -> str:
    [d] = [d for d in answer.swf if d["decisionType"] == "ContinueAsNewWorkflowExecution"]
    return str(d["continueAsNewWorkflowExecutionDecisionAttributes"]["input"])


def test_a_completed_map_is_carried_to_the_next_run_and_not_run_again() -> None:
    config = config_from(MAP_CHART, continue_after_events=10)
    h = History(input="in").decision().schedule("A").complete("A", '["x","y"]').decision()
    for d in decide(config.workflow, h.state()).swf:
        h.apply(d)
    h.complete("M@1", "r1").complete("M@2", "r2").decision()
    carried = _carried(decide(config.workflow, h.state()))
    assert json.loads(carried)["swfagent-carry"]["results"] == {"A": '["x","y"]', "M": '["r1", "r2"]'}
    [b] = decide(config.workflow, History(input=carried).decision().state()).swf
    assert b["scheduleActivityTaskDecisionAttributes"]["activityId"] == "B-1"
    assert b["scheduleActivityTaskDecisionAttributes"]["input"] == '["r1", "r2"]'


def test_a_completed_wait_is_carried_to_the_next_run() -> None:
    config = config_from([{"activity": "A"}, {"id": "W", "wait": 60, "after": ["A"]}, {"activity": "B", "after": ["W"]}],
                         continue_after_events=10)
    h = History(input="in").decision().schedule("A").complete("A", "a").decision()
    h.timer("swfagent-wait-W", 60).fire("swfagent-wait-W").decision()
    carried = _carried(decide(config.workflow, h.state()))
    [b] = decide(config.workflow, History(input=carried).decision().state()).swf
    assert b["scheduleActivityTaskDecisionAttributes"]["activityId"] == "B-1"


def test_a_signal_just_taken_is_recorded_and_carried_to_the_next_run() -> None:
    config = config_from([{"activity": "A"}, {"id": "S", "signal": "go", "after": ["A"]},
                          {"activity": "B", "after": ["S"]}], continue_after_events=10)
    h = History(input="in").decision().schedule("A").complete("A", "a").decision().signal("go", "yes").decision()
    answer = decide(config.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["RecordMarker", "ContinueAsNewWorkflowExecution"]
    [b] = decide(config.workflow, History(input=_carried(answer)).decision().state()).swf
    assert b["scheduleActivityTaskDecisionAttributes"]["input"] == "yes"


def test_a_signal_not_taken_yet_keeps_the_run_going_until_its_step_takes_it() -> None:
    config = config_from([{"activity": "A"}, {"activity": "B", "after": ["A"]}, {"id": "S", "signal": "go", "after": ["B"]},
                          {"activity": "C", "after": ["S"]}], continue_after_events=10)
    h = History(input="in").decision().schedule("A").signal("go", "yes").complete("A", "a").decision()
    assert describe(decide(config.workflow, h.state())) == "Schedule activity -- B"
    h.schedule("B").complete("B", "b").decision()
    answer = decide(config.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["RecordMarker", "ContinueAsNewWorkflowExecution"]
    [c] = decide(config.workflow, History(input=_carried(answer)).decision().state()).swf
    assert c["scheduleActivityTaskDecisionAttributes"]["activityId"] == "C-1"


def test_a_batch_whose_input_is_over_swfs_limit_fails_its_map_clearly_without_s3() -> None:
    steps = [{"activity": "A"}, {"id": "M", "activity": "Item", "for_each": "A", "batch_size": 1000}]
    items = "\n".join(['{"f":"' + "x" * 20 + '"}'] * 1100)  # fits in A's result; 1,000 of them as JSON do not
    h = History(input="in").decision().schedule("A").complete("A", items).decision()
    answer = decide(config_from(steps).workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["FailWorkflowExecution"]
    assert answer.closing is not None and answer.closing.reason.startswith("M: batch 1's input is 36081 characters")
    answer = decide(config_from(steps, results={"s3": "s3://bkt/p"}).workflow, h.state())  # S3 takes it
    assert [d["decisionType"] for d in answer.swf] == ["StartChildWorkflowExecution"]
