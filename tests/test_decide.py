"""decide() on histories built in the test: one history per case, no server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from swfagent.decide import CAUSES, MAX_WAITS, Answer, Closing, after_error, decide, describe, lasts, retry_delay, wait_delay
from swfagent.status import Lasts
from tests.flows import ARTICLE, DIAMOND, FAN, config_from, retrying
from tests.histories import History, model_causes


def kinds(answer: Answer | list[dict[str, Any]]) -> list[str]:
    out = []
    for d in answer.swf if isinstance(answer, Answer) else answer:
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
        elif t == "CancelTimer":
            out.append("cancel timer " + d["cancelTimerDecisionAttributes"]["timerId"])
        elif t == "RequestCancelActivityTask":
            out.append("cancel activity " + d["requestCancelActivityTaskDecisionAttributes"]["activityId"])
        elif t == "RecordMarker":
            out.append("marker " + d["recordMarkerDecisionAttributes"]["markerName"])
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
    ("type deprecated: fail once, saying what to do", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "ACTIVITY_TYPE_DEPRECATED"),
     ["fail Test_Task_A could not be scheduled (ACTIVITY_TYPE_DEPRECATED): activity type Test_Task_A 1.0 is deprecated "
      "in SWF: give it a new version in config.yaml and run python register_swf.py"]),
    ("type missing: fail once, saying what to do", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "ACTIVITY_TYPE_DOES_NOT_EXIST"),
     ["fail Test_Task_A could not be scheduled (ACTIVITY_TYPE_DOES_NOT_EXIST): activity type Test_Task_A 1.0 is not "
      "registered: run python register_swf.py"]),
    ("not permitted: fail once, naming the policy", ARTICLE,
     History().decision().schedule("Test_Task_A").complete("Test_Task_A", "a").schedule_failed("Test_Task_B", "OPERATION_NOT_PERMITTED"),
     ["fail Test_Task_B could not be scheduled (OPERATION_NOT_PERMITTED): the decider's IAM policy does not allow "
      "ScheduleActivityTask for Test_Task_B 1.0: see python -m swfagent policies"]),
    ("open activities limit: wait, then the same attempt", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "OPEN_ACTIVITIES_LIMIT_EXCEEDED"), ["timer Test_Task_A-1.wait1 2"]),
    ("rate exceeded twice: a longer wait", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "ACTIVITY_CREATION_RATE_EXCEEDED").timer("Test_Task_A-1.wait1", 2)
     .fire("Test_Task_A-1.wait1").schedule_failed("Test_Task_A", "ACTIVITY_CREATION_RATE_EXCEEDED"),
     ["timer Test_Task_A-1.wait2 4"]),
    ("waiting for capacity: nothing to do", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "ACTIVITY_CREATION_RATE_EXCEEDED").timer("Test_Task_A-1.wait1", 2),
     []),
    ("the wait is over: the same attempt again", ARTICLE,
     History().decision().schedule_failed("Test_Task_A", "ACTIVITY_CREATION_RATE_EXCEEDED").timer("Test_Task_A-1.wait1", 2)
     .fire("Test_Task_A-1.wait1"), ["schedule Test_Task_A-1"]),
    ("a retry refused for capacity: waits too, its retries untouched", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5).fire("Test_Task_A-2")
     .schedule_failed("Test_Task_A", "OPEN_ACTIVITIES_LIMIT_EXCEEDED", attempt=2), ["timer Test_Task_A-2.wait1 2"]),
    ("a retry timer refused for a rate: a wait timer instead", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer_failed("Test_Task_A-2", "TIMER_CREATION_RATE_EXCEEDED"),
     ["timer Test_Task_A-2.wait1 2"]),
    ("a wait timer refused: the next wait, longer", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer_failed("Test_Task_A-2", "OPEN_TIMERS_LIMIT_EXCEEDED")
     .timer_failed("Test_Task_A-2.wait1", "TIMER_CREATION_RATE_EXCEEDED"), ["timer Test_Task_A-2.wait2 4"]),
    ("a timer refused for good: fail once", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer_failed("Test_Task_A-2", "OPERATION_NOT_PERMITTED"),
     ["fail Test_Task_A could not be scheduled (OPERATION_NOT_PERMITTED): the decider's IAM policy does not allow "
      "StartTimer for its timers: see python -m swfagent policies"]),
    ("decision timed out: decide again, same answer", ARTICLE,
     History().decision_timed_out().decision_timed_out(), ["schedule Test_Task_A-1"]),
    ("cancel requested, A running: cancel A first", ARTICLE,
     History().decision().schedule("Test_Task_A").start("Test_Task_A").cancel_request(),
     ["cancel activity Test_Task_A-1"]),
    ("cancel requested, A's cancel asked already: wait", ARTICLE,
     History().decision().schedule("Test_Task_A").start("Test_Task_A").cancel_request().cancel_activity("Test_Task_A"), []),
    ("cancel requested, A canceled: cancel the execution", ARTICLE,
     History().decision().schedule("Test_Task_A").start("Test_Task_A").cancel_request().cancel_activity("Test_Task_A")
     .canceled("Test_Task_A"), ["cancel"]),
    ("cancel requested, a retry timer running: cancel it with the execution", retrying(),
     History().schedule("Test_Task_A").fail("Test_Task_A").timer("Test_Task_A-2", 5).cancel_request(),
     ["cancel timer Test_Task_A-2", "cancel"]),
    ("cancel requested, nothing open: cancel", ARTICLE, History().decision().cancel_request(), ["cancel"]),
    ("signals and markers: recorded, not fatal", ARTICLE,
     History().signal("poke", "x").marker("note", "y").decision(), ["schedule Test_Task_A-1"]),
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
    [d] = decide(ARTICLE.workflow, history.state()).swf
    assert d["scheduleActivityTaskDecisionAttributes"].get("input") == expected_input


def test_one_after_gets_its_result() -> None:
    [d] = decide(ARTICLE.workflow, History().schedule("Test_Task_A").complete("Test_Task_A", "b").state()).swf
    assert d["scheduleActivityTaskDecisionAttributes"]["input"] == "b"


def test_several_after_get_a_json_object_of_results() -> None:
    h = History().schedule("A").complete("A", "a").schedule("B").schedule("C").complete("B", "bb").complete("C", "cc")
    [d] = decide(FAN.workflow, h.state()).swf
    assert json.loads(d["scheduleActivityTaskDecisionAttributes"]["input"]) == {"B": "bb", "C": "cc"}


def test_skipped_steps_are_left_out_of_the_json_input() -> None:
    flow = config_from([
        {"activity": "A"},
        {"activity": "B", "after": ["A"], "when": {"A": "[a-m]"}},
        {"activity": "C", "after": ["A"]},
        {"activity": "D", "after": ["B", "C"]},
    ])
    h = History().schedule("A").complete("A", "z").schedule("C").complete("C", "cc")
    [d] = decide(flow.workflow, h.state()).swf
    assert json.loads(d["scheduleActivityTaskDecisionAttributes"]["input"]) == {"C": "cc"}


def test_schedule_carries_every_timeout_and_the_task_list() -> None:
    flow = config_from([{"activity": "A"}], {"A": {"timeout": 42, "heartbeat_timeout": 9, "task_list": "big-hosts"}})
    [d] = decide(flow.workflow, History().state()).swf
    a = d["scheduleActivityTaskDecisionAttributes"]
    assert a["activityType"] == {"name": "A", "version": "1.0"}
    assert a["taskList"] == {"name": "big-hosts"}
    assert (a["startToCloseTimeout"], a["heartbeatTimeout"], a["scheduleToStartTimeout"],
            a["scheduleToCloseTimeout"]) == ("42", "9", "NONE", "NONE")


def test_one_activity_type_in_several_steps() -> None:
    flow = config_from([{"id": "first", "activity": "A"}, {"id": "second", "activity": "A", "after": ["first"]}])
    decisions = decide(flow.workflow, History().schedule("first", activity="A").complete("first", "1").state()).swf
    assert kinds(decisions) == ["schedule second-1"]
    assert decisions[0]["scheduleActivityTaskDecisionAttributes"]["activityType"]["name"] == "A"


def test_failure_carries_the_activity_details() -> None:
    [d] = decide(ARTICLE.workflow, History().schedule("Test_Task_A").fail("Test_Task_A", "exit code 1", "stderr tail").state()).swf
    assert d["failWorkflowExecutionDecisionAttributes"]["details"] == "stderr tail"


def test_reason_is_cut_to_256() -> None:
    [d] = decide(ARTICLE.workflow, History().schedule("Test_Task_A").fail("Test_Task_A", "x" * 1000).state()).swf
    assert len(d["failWorkflowExecutionDecisionAttributes"]["reason"]) == 256


def test_deciding_twice_gives_the_same_decisions() -> None:
    h = History().schedule("A").complete("A", "a")
    assert decide(FAN.workflow, h.state()) == decide(FAN.workflow, h.state())


def test_history_over_the_threshold_fails_clearly() -> None:
    flow = config_from([{"activity": "A"}], max_history_events=20)
    h = History().schedule("A")
    while len(h.events) < 20:
        h.signal("noise")
    assert decide(flow.workflow, h.state()).swf == []  # at the threshold: A is still running, nothing to do
    h.signal("one more")
    [d] = decide(flow.workflow, h.state()).swf
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
    decisions = decide(flow.workflow, History().schedule("B", input="first").fail("B").state()).swf
    [b] = [d["scheduleActivityTaskDecisionAttributes"] for d in decisions
           if d["scheduleActivityTaskDecisionAttributes"]["activityId"] == "B-2"]
    assert b["input"] == "first"


def test_a_result_that_is_not_text_fails_the_execution_clearly() -> None:
    h = History().schedule("Test_Task_A").complete("Test_Task_A", "b")
    h.events[-1]["activityTaskCompletedEventAttributes"]["result"] = 7
    [d] = decide(ARTICLE.workflow, h.state()).swf
    assert "result is int, not text" in d["failWorkflowExecutionDecisionAttributes"]["reason"]


def test_the_result_is_the_last_completed_step_as_the_chart_is_written() -> None:
    flow = config_from([{"activity": "A"}, {"activity": "B", "after": ["A"]}, {"activity": "C"}])
    assert [s.id for s in flow.workflow.steps] == ["A", "C", "B"]  # dependency order inside
    h = History().schedule("A").schedule("C").complete("A", "a").complete("C", "c").schedule("B").complete("B", "b")
    assert kinds(decide(flow.workflow, h.state())) == ["complete c"]


# ---- what real SWF does that the embedded one only does on demand ---------------------------------


def test_capacity_waits_have_a_cap_ending_in_a_clear_reason() -> None:
    h = History().decision()
    for k in range(1, MAX_WAITS):
        h.schedule_failed("Test_Task_A", "ACTIVITY_CREATION_RATE_EXCEEDED").timer(f"Test_Task_A-1.wait{k}", 2)
        h.fire(f"Test_Task_A-1.wait{k}")
        assert kinds(decide(ARTICLE.workflow, h.state())) == ["schedule Test_Task_A-1"]
    h.schedule_failed("Test_Task_A", "ACTIVITY_CREATION_RATE_EXCEEDED")
    answer = decide(ARTICLE.workflow, h.state())
    [reason] = [k for k in kinds(answer) if k.startswith("fail ")]
    assert f"SWF refused it {MAX_WAITS} times in a row" in reason and "ACTIVITY_CREATION_RATE_EXCEEDED" in reason
    assert answer.closing is not None and answer.closing.step == "Test_Task_A"
    assert [wait_delay(k) for k in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def fan_out(n: int, **activity: Any) -> Any:
    return config_from([{"activity": "A"}, *({"activity": f"S{i}", "after": ["A"]} for i in range(n))],
                       {f"S{i}": dict(activity) for i in range(n)})


def test_a_large_fan_out_is_answered_in_parts_of_at_most_100_decisions() -> None:
    flow = fan_out(250)
    h = History().decision().schedule("A").complete("A", "a").decision()
    parts = []
    while True:
        answer = decide(flow.workflow, h.state())
        names = kinds(answer)
        parts.append(len(names))
        if names[-1].startswith("timer swfagent-more-"):
            for d in answer.swf[:-1]:
                h.schedule(d["scheduleActivityTaskDecisionAttributes"]["activityId"].rsplit("-", 1)[0])
            more = names[-1].split()[1]
            h.timer(more, 0).fire(more).decision()
            continue
        assert all(n.startswith("schedule S") for n in names)
        break
    assert parts == [100, 100, 52]  # 99 + a 0-second timer, twice, then the last 52


def test_an_answer_over_one_megabyte_is_split_too() -> None:
    flow = fan_out(40)
    big = "x" * 30_000  # every step gets A's 30,000 characters: 1.2 MB in all
    h = History().decision().schedule("A").complete("A", big)
    answer = decide(flow.workflow, h.state())
    assert len(answer.swf) < 40 and kinds(answer)[-1].startswith("timer swfagent-more-")
    assert sum(len(json.dumps(d)) for d in answer.swf) <= 1_000_000


def test_an_input_over_32768_characters_fails_the_step_unless_values_go_to_s3() -> None:
    flow = config_from([{"activity": "A"}, {"activity": "B"}, {"activity": "C", "after": ["A", "B"]}])
    h = History().schedule("A").complete("A", "a" * 20_000).schedule("B").complete("B", "b" * 20_000)
    [reason] = kinds(decide(flow.workflow, h.state()))
    assert reason.startswith("fail input for C is 40018 characters, over SWF's 32768: set results: {s3:")
    to_s3 = config_from([{"activity": "A"}, {"activity": "B"}, {"activity": "C", "after": ["A", "B"]}],
                        results={"s3": "s3://bucket/prefix"})
    assert kinds(decide(to_s3.workflow, h.state())) == ["schedule C-1"]  # the decider's edge puts it in S3


def test_a_when_reads_the_text_of_a_result_kept_in_s3() -> None:
    h = History().schedule("A").complete("A", "swfagent+s3://bucket/key")
    state = h.state()
    assert kinds(decide(DIAMOND.workflow, state)) == ["complete swfagent+s3://bucket/key"]  # matches neither branch
    state.texts["A-1"] = "c"  # what the decider fetched from S3
    assert kinds(decide(DIAMOND.workflow, state)) == ["schedule B-1"]


def test_three_decision_timeouts_in_a_row_fail_the_execution() -> None:
    h = History().decision_timed_out().decision_timed_out()
    assert kinds(decide(ARTICLE.workflow, h.state())) == ["schedule Test_Task_A-1"]
    h.decision_timed_out()
    [reason] = kinds(decide(ARTICLE.workflow, h.state()))
    assert reason.startswith("fail 3 decision tasks in a row timed out without an answer (decision_timeout 30 s)")
    h.decision().decision_timed_out()  # a decision went through since: the count starts again
    assert kinds(decide(ARTICLE.workflow, h.state())) == ["schedule Test_Task_A-1"]


def test_a_decider_that_cannot_decide_records_why_and_fails_the_third_time() -> None:
    h = History().decision()
    first = after_error(h.state(), "cannot decide: KeyError('x')")
    assert kinds(first) == ["marker swfagent-error", "timer swfagent-error-4 30"]
    h.marker("swfagent-error", "cannot decide: KeyError('x')").timer("swfagent-error-4", 30).fire("swfagent-error-4")
    h.decision().marker("swfagent-error", "cannot decide: KeyError('x')")
    third = after_error(h.state(), "cannot decide: KeyError('y')")
    assert kinds(third) == ["fail the decider failed 3 times in a row: cannot decide: KeyError('y')"]
    assert third.closing is not None and third.closing.status == "FAILED"
    h.schedule("Test_Task_A").complete("Test_Task_A", "a")  # progress: the count starts again
    assert kinds(after_error(h.state(), "again"))[0] == "marker swfagent-error"


def test_a_close_refused_for_good_is_not_sent_again() -> None:
    h = History().schedule("Test_Task_A").fail("Test_Task_A").decision().close_refused(
        "FailWorkflowExecution", "OPERATION_NOT_PERMITTED")
    answer = decide(ARTICLE.workflow, h.state())
    assert answer.swf == [] and answer.refused is not None
    assert (answer.refused.decision, answer.refused.cause) == ("FailWorkflowExecution", "OPERATION_NOT_PERMITTED")
    assert describe(answer).startswith("Wait -- SWF refused to close the execution (OPERATION_NOT_PERMITTED)")
    h.signal("anything").decision()
    assert decide(ARTICLE.workflow, h.state()).swf == []  # still nothing: it waits for a person


def test_unhandled_decision_decides_again() -> None:
    h = History().schedule("Test_Task_A").complete("Test_Task_A", "a").schedule("Test_Task_B").complete(
        "Test_Task_B", "b").decision().close_refused("CompleteWorkflowExecution", "UNHANDLED_DECISION").signal("x")
    assert kinds(decide(ARTICLE.workflow, h.state())) == ["complete b"]


def test_the_answer_says_what_an_alert_says() -> None:
    failed = decide(ARTICLE.workflow, History().schedule("Test_Task_A").fail("Test_Task_A", "exit code 1", "boom").state())
    assert failed.closing == Closing("FAILED", "Test_Task_A failed: exit code 1", "Test_Task_A", "boom")
    assert failed.steps["Test_Task_A"].status == "failed"
    canceled = decide(ARTICLE.workflow, History().decision().cancel_request().state())
    assert canceled.closing is not None and canceled.closing.status == "CANCELED"


# ---- liveness: whatever SWF refuses, the decider never sends the same refused decision on every decision task ----

def test_every_cause_in_botocores_model_is_classified_once() -> None:
    causes = {c for cs in model_causes().values() for c in cs}
    assert sorted(causes - set(CAUSES)) == [], "a cause botocore knows and decide.CAUSES does not: classify it"
    assert sorted(set(CAUSES) - causes) == [], "decide.CAUSES has a cause botocore's model does not"
    assert {c for c, k in CAUSES.items() if k is Lasts.PASSING} == {
        "ACTIVITY_CREATION_RATE_EXCEEDED", "OPEN_ACTIVITIES_LIMIT_EXCEEDED", "TIMER_CREATION_RATE_EXCEEDED",
        "OPEN_TIMERS_LIMIT_EXCEEDED", "CHILD_CREATION_RATE_EXCEEDED", "OPEN_CHILDREN_LIMIT_EXCEEDED",
        "OPEN_WORKFLOWS_LIMIT_EXCEEDED", "CONTINUE_AS_NEW_WORKFLOW_EXECUTION_RATE_EXCEEDED",
        "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_RATE_EXCEEDED", "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_RATE_EXCEEDED"}
    assert lasts("A_CAUSE_FROM_THE_FUTURE") is Lasts.LASTING  # unknown: the decider stops asking


def running_a_then_cancel() -> History:
    return History().decision().schedule("Test_Task_A").start("Test_Task_A").cancel_request().decision()


def test_an_activity_cancel_refused_for_good_is_not_asked_again_and_the_cancel_waits_for_it() -> None:
    h = running_a_then_cancel()
    [ask] = decide(ARTICLE.workflow, h.state()).swf
    h.refuse(ask, "OPERATION_NOT_PERMITTED").decision()
    answer = decide(ARTICLE.workflow, h.state())
    assert answer.swf == [] and answer.refused is not None
    assert (answer.refused.decision, answer.refused.target) == ("RequestCancelActivityTask", "Test_Task_A-1")
    assert describe(answer) == "Wait -- Test_Task_A-1 to end by itself: SWF refused to cancel it (OPERATION_NOT_PERMITTED)"
    h.signal("poke").decision()
    assert decide(ARTICLE.workflow, h.state()).swf == []
    h.complete("Test_Task_A", "a")  # it ended by itself: now the execution is canceled, B never scheduled
    answer = decide(ARTICLE.workflow, h.state())
    assert kinds(answer) == ["cancel"] and answer.refused is None and answer.closing is not None


def test_an_activity_cancel_refused_as_unknown_is_not_asked_again_nor_reported() -> None:
    h = running_a_then_cancel()
    [ask] = decide(ARTICLE.workflow, h.state()).swf
    h.refuse(ask, "ACTIVITY_ID_UNKNOWN").decision()  # it closed meanwhile; its close comes in the history
    answer = decide(ARTICLE.workflow, h.state())
    assert answer.swf == [] and answer.refused is None


def test_a_refused_cancel_timer_is_not_sent_again() -> None:
    flow = config_from([{"activity": "A"}, {"activity": "B"}], {"A": {"retries": 1, "retry_delay": 60}})
    h = History().decision().schedule("A").schedule("B").start("B").fail("A").decision().timer("A-2", 60)
    h.cancel_request().decision()
    answer = decide(flow.workflow, h.state())
    assert kinds(answer) == ["cancel activity B-1", "cancel timer A-2"]
    h.apply(answer.swf[0]).refuse(answer.swf[1], "OPERATION_NOT_PERMITTED").decision()
    assert kinds(decide(flow.workflow, h.state())) == []
    h.canceled("B")
    assert kinds(decide(flow.workflow, h.state())) == ["cancel"]  # the timer goes with the execution


def test_a_refused_error_marker_still_counts_toward_the_three_decider_errors_and_is_not_sent_again() -> None:
    h = History().decision()
    first = after_error(h.state(), "cannot decide: KeyError('x')")
    assert kinds(first) == ["marker swfagent-error", "timer swfagent-error-4 30"]
    h.refuse(first.swf[0], "OPERATION_NOT_PERMITTED").apply(first.swf[1])
    assert h.state().decider_errors == ["its marker was refused (OPERATION_NOT_PERMITTED)"]  # marker and timer: one
    h.fire("swfagent-error-4").decision()
    second = after_error(h.state(), "cannot decide: KeyError('x')")
    assert kinds(second) == ["timer swfagent-error-10 60"]  # no marker: SWF will not take one
    h.apply(second.swf[0]).fire("swfagent-error-10").decision()
    assert len(h.state().decider_errors) == 2
    third = after_error(h.state(), "cannot decide: KeyError('x')")
    assert kinds(third) == ["fail the decider failed 3 times in a row: cannot decide: KeyError('x')"]


def test_a_decider_error_whose_timer_is_refused_for_good_fails_at_once_saying_what_to_do() -> None:
    h = History().decision()
    for d in after_error(h.state(), "boom").swf:
        h.refuse(d, "OPERATION_NOT_PERMITTED")
    h.decision()  # SWF's next decision task, at once: there is no timer to wait on
    assert kinds(after_error(h.state(), "boom")) == [
        "fail the decider failed (boom), and SWF refused the timer to decide again (OPERATION_NOT_PERMITTED): see "
        "python -m swfagent policies"]


def test_decision_tasks_no_decider_took_are_not_a_slow_decider() -> None:
    h = History()
    for _ in range(5):
        h.decision_timed_out("SCHEDULE_TO_START")
    state = h.state()
    assert state.decision_timeouts_in_a_row == 0 and len(state.unpolled_decisions) == 5
    assert kinds(decide(ARTICLE.workflow, state)) == ["schedule Test_Task_A-1"]


@pytest.mark.parametrize(("history", "expected"), [
    (History().schedule("A").complete("A", "x"), {"B": "A's result 'x' does not match [a-m]"}),
    (History().schedule("A").complete("A", " 7\n"),
     {"B": "A's result '7' does not match [a-m]", "C": "A's result '7' does not match [n-z]", "D": "B and C skipped"}),
])
def test_a_skipped_step_says_why(history: History, expected: dict[str, str]) -> None:
    steps = decide(DIAMOND.workflow, history.state()).steps
    assert {s: st.reason for s, st in steps.items() if st.status == "skipped"} == expected
