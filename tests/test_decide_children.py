"""Child steps (`workflow: NAME`) on histories built in the test: start, result, failure, retries, catch, refusals,
the parent's cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from swfagent.config import Config, ConfigError, StepKind, parse_config
from swfagent.decide import decide, describe
from swfagent.history import fold
from swfagent.ids import child_workflow_id
from tests.histories import WORKFLOW_ID, History


def parent_config(child_step: dict[str, Any] | None = None, **parent: Any) -> Config:
    """Parent: A, then Run_Sub (workflow: Sub), then B after it; Sub: one activity C."""
    step = {"id": "Run_Sub", "workflow": "Sub", "after": ["A"], **(child_step or {})}
    data = {
        "domain": {"name": "D"},
        "workflows": {
            "Parent": {"version": "1.0", "task_list": "T", "child_policy": "REQUEST_CANCEL",
                       "steps": [{"activity": "A"}, step, {"activity": "B", "after": ["Run_Sub"]}], **parent},
            "Sub": {"version": "2.0", "task_list": "SubTasks", "execution_timeout": 600, "decision_timeout": 20,
                    "steps": [{"activity": "C"}]},
        },
        "activities": {n: {"version": "1.0", "command": ["true"]} for n in ("A", "B", "C")},
    }
    return parse_config(data, Path("/tmp/config.yaml"))


PARENT = parent_config()


def a_done() -> History:
    return History(input="in").decision().schedule("A").complete("A", "for the child").decision()


def test_a_workflow_step_parses_as_a_child_step_with_its_type() -> None:
    step = PARENT.workflow.step("Run_Sub")
    assert step.kind is StepKind.CHILD and step.workflow == "Sub" and not step.activity
    sub = PARENT.workflow.child_types["Sub"]
    assert (sub.version, sub.task_list, sub.execution_timeout, sub.decision_timeout) == ("2.0", "SubTasks", 600, 20)
    assert [a.name for a in PARENT.workflow.used_activities] == ["A", "B"]


@pytest.mark.parametrize(("step", "message"), [
    ({"workflow": "Nope"}, "workflows.Parent.steps[1].workflow: unknown workflow 'Nope' (not under workflows:)"),
    ({"workflow": "Parent"}, "workflows.Parent.steps[1].workflow: a workflow cannot run itself as a step"),
    ({"activity": "A"}, "a step is one of activity, workflow, signal, wait or fail: not activity and workflow"),
    ({"for_each": "A"}, "steps[1].for_each: goes with activity: only"),
])
def test_a_wrong_child_step_is_one_line_naming_the_key(step: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parent_config(step)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_an_activity_step_with_retries_is_refused_naming_where_they_go() -> None:
    data = {"domain": {"name": "D"}, "activities": {"A": {"version": "1", "command": ["true"]}},
            "workflow": {"name": "W", "version": "1", "task_list": "T", "steps": [{"activity": "A", "retries": 2}]}}
    with pytest.raises(ConfigError, match="retries: goes with workflow: only"):
        parse_config(data, Path("/tmp/config.yaml"))


def test_the_child_starts_with_the_steps_input_and_an_id_made_from_the_parents() -> None:
    [d] = decide(PARENT.workflow, a_done().state()).swf
    assert d["decisionType"] == "StartChildWorkflowExecution"
    assert d["startChildWorkflowExecutionDecisionAttributes"] == {
        "workflowType": {"name": "Sub", "version": "2.0"}, "workflowId": f"{WORKFLOW_ID}--Run_Sub-1",
        "control": "Run_Sub-1", "taskList": {"name": "SubTasks"}, "executionStartToCloseTimeout": "600",
        "taskStartToCloseTimeout": "20", "childPolicy": "TERMINATE", "input": "for the child"}
    assert describe(decide(PARENT.workflow, a_done().state())) == "Start child workflow -- Run_Sub (Sub)"


def test_deciding_twice_starts_nothing_twice() -> None:
    h = a_done().start_child("Run_Sub", workflow="Sub")
    assert decide(PARENT.workflow, h.state()).swf == []
    assert decide(PARENT.workflow, h.child_started("Run_Sub").state()).swf == []


def test_the_childs_result_is_the_steps_result() -> None:
    h = a_done().start_child("Run_Sub", workflow="Sub").child_closed("Completed", "Run_Sub", result="sub done")
    [d] = decide(PARENT.workflow, h.decision().state()).swf
    assert d["scheduleActivityTaskDecisionAttributes"]["input"] == "sub done"


@pytest.mark.parametrize(("kind", "attrs", "reason"), [
    ("Failed", {"reason": "C failed: exit code 1", "details": "boom"}, "Run_Sub failed: C failed: exit code 1"),
    ("TimedOut", {"timeoutType": "START_TO_CLOSE"}, "Run_Sub timed out: START_TO_CLOSE"),
    ("Canceled", {"details": "by a person"}, "Run_Sub was canceled"),
    ("Terminated", {}, "Run_Sub failed: terminated"),
])
def test_a_child_that_does_not_complete_fails_the_step(kind: str, attrs: dict[str, Any], reason: str) -> None:
    h = a_done().start_child("Run_Sub", workflow="Sub").child_closed(kind, "Run_Sub", **attrs)
    answer = decide(PARENT.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["FailWorkflowExecution"]
    assert answer.closing is not None and answer.closing.reason == reason and answer.closing.step == "Run_Sub"


def test_a_failed_child_is_retried_after_its_delay_under_a_new_id() -> None:
    config = parent_config({"retries": 1, "retry_delay": 30})
    h = a_done().start_child("Run_Sub", workflow="Sub", input="for the child").child_closed("Failed", "Run_Sub", reason="x")
    [timer] = decide(config.workflow, h.state()).swf
    assert timer["startTimerDecisionAttributes"] == {"timerId": "Run_Sub-2", "startToFireTimeout": "30"}
    h.decision().timer("Run_Sub-2", 30).fire("Run_Sub-2")
    [d] = decide(config.workflow, h.state()).swf
    attrs = d["startChildWorkflowExecutionDecisionAttributes"]
    assert (attrs["workflowId"], attrs["control"], attrs["input"]) == (f"{WORKFLOW_ID}--Run_Sub-2", "Run_Sub-2",
                                                                      "for the child")


def test_a_failed_child_is_caught() -> None:
    data_step = {"catch": "Report"}
    config = parse_config({
        "domain": {"name": "D"},
        "workflows": {
            "Parent": {"version": "1.0", "task_list": "T", "steps": [
                {"id": "Run_Sub", "workflow": "Sub", **data_step}, {"id": "Report", "activity": "A"}]},
            "Sub": {"version": "1.0", "task_list": "T", "steps": [{"activity": "A"}]}},
        "activities": {"A": {"version": "1.0", "command": ["true"]}}}, Path("/tmp/config.yaml"))
    h = History().decision().start_child("Run_Sub", workflow="Sub").child_closed("Failed", "Run_Sub", reason="x")
    [d] = decide(config.workflow, h.decision().state()).swf
    assert d["scheduleActivityTaskDecisionAttributes"]["activityId"] == "Report-1"
    assert '"step": "Run_Sub"' in d["scheduleActivityTaskDecisionAttributes"]["input"]


def test_a_child_refused_for_a_passing_cause_waits_then_starts_again() -> None:
    h = a_done().child_failed_to_start("Run_Sub", "OPEN_CHILDREN_LIMIT_EXCEEDED", workflow="Sub")
    [timer] = decide(PARENT.workflow, h.state()).swf
    assert timer["startTimerDecisionAttributes"] == {"timerId": "Run_Sub-1.wait1", "startToFireTimeout": "2"}
    h.decision().timer("Run_Sub-1.wait1", 2).fire("Run_Sub-1.wait1")
    [d] = decide(PARENT.workflow, h.state()).swf
    assert d["startChildWorkflowExecutionDecisionAttributes"]["control"] == "Run_Sub-1"


def test_a_child_refused_after_it_was_initiated_is_not_left_running() -> None:
    h = a_done().start_child("Run_Sub", workflow="Sub").child_failed_to_start("Run_Sub", "CHILD_CREATION_RATE_EXCEEDED",
                                                                               workflow="Sub")
    assert "Run_Sub-1" not in h.state().children
    assert [d["decisionType"] for d in decide(PARENT.workflow, h.state()).swf] == ["StartTimer"]


@pytest.mark.parametrize(("cause", "hint"), [
    ("WORKFLOW_TYPE_DOES_NOT_EXIST", "workflow type Sub 1.0 is not registered: run python register_swf.py"),
    ("WORKFLOW_ALREADY_RUNNING", "its child workflow id is in use"),
    ("OPERATION_NOT_PERMITTED", "does not allow StartChildWorkflowExecution for Sub 1.0: see python -m swfagent policies"),
    ("DEFAULT_CHILD_POLICY_UNDEFINED", "SWF has no default for it: run python register_swf.py"),
])
def test_a_child_refused_for_a_lasting_cause_fails_once_with_a_hint(cause: str, hint: str) -> None:
    h = a_done().child_failed_to_start("Run_Sub", cause, workflow="Sub")
    answer = decide(PARENT.workflow, h.state())
    assert answer.closing is not None and hint in answer.closing.reason
    assert answer.closing.reason.startswith(f"Run_Sub could not be scheduled ({cause})")


def test_cancelling_the_parent_cancels_its_open_children_and_waits_for_them() -> None:
    h = a_done().start_child("Run_Sub", workflow="Sub").child_started("Run_Sub").cancel_request()
    [d] = decide(PARENT.workflow, h.state()).swf
    assert d == {"decisionType": "RequestCancelExternalWorkflowExecution",
                 "requestCancelExternalWorkflowExecutionDecisionAttributes": {
                     "workflowId": f"{WORKFLOW_ID}--Run_Sub-1", "runId": "run-11", "control": "Run_Sub-1"}}
    h.decision().apply(d)
    assert decide(PARENT.workflow, h.state()).swf == []  # asked once; waits for the child to close
    h.child_closed("Canceled", "Run_Sub")
    assert [d["decisionType"] for d in decide(PARENT.workflow, h.state()).swf] == ["CancelWorkflowExecution"]


def test_a_child_swf_will_not_cancel_is_left_to_the_child_policy() -> None:
    h = a_done().start_child("Run_Sub", workflow="Sub").child_started("Run_Sub").cancel_request()
    [d] = decide(PARENT.workflow, h.state()).swf
    h.decision().refuse(d, "OPERATION_NOT_PERMITTED")
    assert [d["decisionType"] for d in decide(PARENT.workflow, h.state()).swf] == ["CancelWorkflowExecution"]


def test_a_long_parent_id_gives_a_child_id_within_swfs_length_and_unique() -> None:
    long_a, long_b = "p" * 250 + "a", "p" * 250 + "b"
    a, b = child_workflow_id(long_a, "Run_Sub-1"), child_workflow_id(long_b, "Run_Sub-1")
    assert len(a) <= 256 and len(b) <= 256 and a != b and a.endswith("--Run_Sub-1")


def test_fold_reads_the_child_from_its_events_even_without_control() -> None:
    h = a_done().start_child("Run_Sub", workflow="Sub")
    for e in h.events:
        e.get("startChildWorkflowExecutionInitiatedEventAttributes", {}).pop("control", None)
    h.child_closed("Completed", "Run_Sub", result="r")
    child = fold(h.events).children["Run_Sub-1"]
    assert (child.step_id, child.attempt, child.result, child.run_id) == ("Run_Sub", 1, "r", "run-11")


def test_the_graph_draws_a_child_step_as_a_subroutine_naming_its_workflow() -> None:
    from swfagent.graph import dot, mermaid, svg

    assert "[[Run_Sub<br/>workflow Sub]]" in mermaid(PARENT.workflow) or "[[\"Run_Sub<br/>workflow Sub\"]]" in \
        mermaid(PARENT.workflow), mermaid(PARENT.workflow)
    assert "shape=box3d" in dot(PARENT.workflow) and "workflow Sub" in dot(PARENT.workflow)
    assert 'class="node child"' in svg(PARENT.workflow)


def test_the_graph_says_when_a_repeating_workflow_runs_again() -> None:
    from swfagent.graph import mermaid
    from tests.flows import config_from

    config = config_from([{"activity": "A"}], repeat={"cron": "0 6 * * *", "on_failure": "continue"})
    assert "then again at cron 0 6 * * * (even after a failure)" in mermaid(config.workflow)


def test_show_names_the_child_execution_of_a_child_step() -> None:
    from swfagent.decide import plan, step_notes

    state = a_done().start_child("Run_Sub", workflow="Sub").child_started("Run_Sub").state()
    notes = step_notes(PARENT.workflow, state, plan(PARENT.workflow, state))
    assert notes["Run_Sub"] == f"child workflow {WORKFLOW_ID}--Run_Sub-1"


def test_a_failing_parent_cancels_its_open_children_waits_for_them_then_fails_as_it_first_would() -> None:
    import json

    from tests.flows import config_from

    config = config_from([{"activity": "A"}, {"id": "M", "activity": "Item", "for_each": "A", "batch_size": 2}])
    h = History(input="in").decision().schedule("A").complete("A", json.dumps(list("abcd"))).decision()
    for d in decide(config.workflow, h.state()).swf:
        h.apply(d)
    h.child_started("M#1").child_started("M#2").child_closed("Failed", "M#1", reason="boom").decision()
    answer = decide(config.workflow, h.state())  # SWF applies no child policy when the parent fails: it asks them
    assert [d["decisionType"] for d in answer.swf] == ["RecordMarker", "RequestCancelExternalWorkflowExecution"]
    assert answer.closing is None and answer.swf[1]["requestCancelExternalWorkflowExecutionDecisionAttributes"][
        "workflowId"] == "wf-1--M#2-1"
    assert "Cancel child workflow -- wf-1--M#2-1" in describe(answer)
    for d in answer.swf:
        h.apply(d)
    assert decide(config.workflow, h.decision().state()).swf == []  # waits for the child: nothing sent twice
    h.child_closed("Canceled", "M#2").decision()
    answer = decide(config.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["FailWorkflowExecution"]
    assert answer.closing is not None and answer.closing.reason.startswith("M: 2 of 4 items failed")  # as first


def test_a_parent_whose_child_cancel_is_refused_fails_without_waiting_for_it() -> None:
    data = {"domain": {"name": "D"}, "activities": {n: {"version": "1.0", "command": ["true"]} for n in ("A", "C")},
            "workflows": {"Parent": {"version": "1.0", "task_list": "T", "steps": [{"id": "Run_Sub", "workflow": "Sub"},
                                                                                   {"activity": "A"}]},
                          "Sub": {"version": "1.0", "task_list": "T", "steps": [{"activity": "C"}]}}}
    config = parse_config(data, Path("/tmp/config.yaml"))
    h = History().decision().start_child("Run_Sub", workflow="Sub").schedule("A").child_started("Run_Sub")
    h.fail("A").decision()
    answer = decide(config.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["RecordMarker", "RequestCancelExternalWorkflowExecution"]
    for d in answer.swf:
        h.apply(d)
    h.add("RequestCancelExternalWorkflowExecutionFailed", {"workflowId": child_workflow_id(WORKFLOW_ID, "Run_Sub-1"),
                                                           "cause": "OPERATION_NOT_PERMITTED"})
    answer = decide(config.workflow, h.decision().state())
    assert [d["decisionType"] for d in answer.swf] == ["FailWorkflowExecution"]
    assert answer.closing is not None and answer.closing.reason == "A failed: exit code 1"


def test_a_child_cancel_refused_for_its_rate_waits_then_asks_again() -> None:
    config = parent_config()
    h = History().decision().schedule("A").complete("A", "a").decision().start_child("Run_Sub", workflow="Sub")
    h.child_started("Run_Sub").cancel_request().decision()
    [ask] = decide(config.workflow, h.state()).swf
    h.apply(ask).refuse(ask, "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_RATE_EXCEEDED").decision()
    answer = decide(config.workflow, h.state())
    [wait] = answer.swf
    assert wait["startTimerDecisionAttributes"] == {"timerId": "swfagent-cancel-Run_Sub-1.wait1",
                                                    "startToFireTimeout": "2"}
    assert describe(answer) == "Wait 2 s for SWF's capacity, then cancel child Run_Sub-1"
    h.apply(wait)
    assert decide(config.workflow, h.decision().state()).swf == []  # the wait is kept, not canceled with the rest
    h.fire("swfagent-cancel-Run_Sub-1.wait1").decision()
    assert decide(config.workflow, h.state()).swf == [ask]
    h.apply(ask)
    assert decide(config.workflow, h.decision().state()).swf == []  # asked: waits for the child
    h.child_closed("Canceled", "Run_Sub").decision()
    assert [d["decisionType"] for d in decide(config.workflow, h.state()).swf] == ["CancelWorkflowExecution"]


def test_a_batched_map_never_has_more_than_1000_children_open() -> None:
    import json

    from tests.flows import config_from

    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": 2}])
    h = History().decision().schedule("L").complete("L", json.dumps(list(range(2400)))).decision()
    progress = decide(config.workflow, h.state()).steps["M"].items
    assert progress is not None and len(progress.schedule) == 1000


def test_an_execution_that_fails_itself_cancels_its_open_children_first() -> None:
    config = parent_config()
    h = History().decision().schedule("A").complete("A", "a").decision().start_child("Run_Sub", workflow="Sub")
    h.child_started("Run_Sub").decision_timed_out().decision_timed_out().decision_timed_out()
    answer = decide(config.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["RecordMarker", "RequestCancelExternalWorkflowExecution"]
    for d in answer.swf:
        h.apply(d)
    h.decision().child_closed("Canceled", "Run_Sub").decision()  # the timeouts in a row end: the marker remembers
    answer = decide(config.workflow, h.state())
    assert [d["decisionType"] for d in answer.swf] == ["FailWorkflowExecution"]
    assert answer.closing is not None and answer.closing.reason.startswith("3 decision tasks in a row timed out")
