"""Child executions, ContinueAsNew and the external signals and cancels, carried out by the embedded SWF as SWF does.

One test (or parametrized case) per event and per cause; each drives the embedded server with boto3, and the shape
contract (conftest) checks every answer against botocore's model.
"""

from __future__ import annotations

from typing import Any

import pytest

from swfagent.local.faults import parse_faults
from tests.support import ClockedSWF
from tests.swf import DOMAIN, TASK_LIST, WORKFLOW, Swf, client, decision

CHILDREN = "C"  # the children's task list: their decision tasks never stand in the parent's way


@pytest.fixture
def swf(clocked: ClockedSWF) -> Swf:
    return Swf(client(clocked.endpoint))


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("EventAttributes"))


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["eventType"] == event_type]


def one(events: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    [found] = of_type(events, event_type)
    return found


def start_child(workflow_id: str = "c", **extra: Any) -> dict[str, Any]:
    """A StartChildWorkflowExecution decision for the test's workflow type, on the children's task list."""
    return decision("StartChildWorkflowExecution", workflowType=WORKFLOW, workflowId=workflow_id,
                    taskList={"name": CHILDREN}, **extra)


def with_child(swf: Swf, child: dict[str, Any] | None = None, **parent: Any) -> dict[str, Any]:
    """Start parent "p" and have it start child "c"; the child's ChildWorkflowExecutionStarted event in the parent."""
    swf.start("p", **parent)
    swf.decide(start_child(control="k", input="in", tagList=["t1"], **(child or {})))
    started = one(swf.events("p"), "ChildWorkflowExecutionStarted")
    swf.runs["c"] = attrs(started)["workflowExecution"]["runId"]
    return started


def child_decides(swf: Swf, *decisions: dict[str, Any]) -> None:
    """Take the child's decision task and answer it."""
    task = swf.c.poll_for_decision_task(domain=DOMAIN, taskList={"name": CHILDREN}, identity="d")
    assert task["workflowExecution"]["workflowId"] == "c"
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=list(decisions))


# ---- StartChildWorkflowExecution --------------------------------------------------------------------------


def test_start_child_workflow_execution_links_parent_and_child(swf: Swf) -> None:
    started = with_child(swf)
    events = swf.events("p")
    assert [e["eventType"] for e in events][-4:] == [
        "DecisionTaskCompleted", "StartChildWorkflowExecutionInitiated", "ChildWorkflowExecutionStarted",
        "DecisionTaskScheduled"]
    initiated = one(events, "StartChildWorkflowExecutionInitiated")
    assert attrs(initiated) == {
        "workflowId": "c", "workflowType": WORKFLOW, "control": "k", "input": "in", "tagList": ["t1"],
        "executionStartToCloseTimeout": "3600", "taskStartToCloseTimeout": "10", "childPolicy": "TERMINATE",
        "taskList": {"name": CHILDREN}, "taskPriority": "0",
        "decisionTaskCompletedEventId": one(events, "DecisionTaskCompleted")["eventId"]}
    assert attrs(started) == {"workflowExecution": swf.execution("c"), "workflowType": WORKFLOW,
                              "initiatedEventId": initiated["eventId"]}
    child_start = attrs(swf.events("c")[0])
    assert child_start["parentWorkflowExecution"] == swf.execution("p")
    assert child_start["parentInitiatedEventId"] == initiated["eventId"]
    assert (child_start["input"], child_start["tagList"], child_start["taskList"]) == ("in", ["t1"], {"name": CHILDREN})
    assert swf.describe("p")["openCounts"]["openChildWorkflowExecutions"] == 1
    assert swf.describe("c")["executionInfo"]["parent"] == swf.execution("p")
    [listed] = [e for e in swf.c.list_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0})[
        "executionInfos"] if e["execution"]["workflowId"] == "c"]
    assert listed["parent"] == swf.execution("p")


@pytest.mark.parametrize("how, event_type, carried", [
    ("complete", "ChildWorkflowExecutionCompleted", {"result": "r"}),
    ("fail", "ChildWorkflowExecutionFailed", {"reason": "why", "details": "d"}),
    ("cancel", "ChildWorkflowExecutionCanceled", {"details": "d"}),
    ("terminate", "ChildWorkflowExecutionTerminated", {}),
    ("time out", "ChildWorkflowExecutionTimedOut", {"timeoutType": "START_TO_CLOSE"}),
])
def test_a_childs_close_is_told_to_its_parent(clocked: ClockedSWF, swf: Swf, how: str, event_type: str,
                                              carried: dict[str, str]) -> None:
    started = with_child(swf, {"executionStartToCloseTimeout": "1800"})  # it times out before its parent
    swf.decide()  # the parent's task for ChildWorkflowExecutionStarted: answered, nothing is scheduled now
    if how == "complete":
        child_decides(swf, decision("CompleteWorkflowExecution", result="r"))
    elif how == "fail":
        child_decides(swf, decision("FailWorkflowExecution", reason="why", details="d"))
    elif how == "cancel":
        child_decides(swf, decision("CancelWorkflowExecution", details="d"))
    elif how == "terminate":
        swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="c")
    else:
        clocked.clock.advance(1801)
    events = swf.events("p")
    assert [e["eventType"] for e in events][-2:] == [event_type, "DecisionTaskScheduled"]
    assert attrs(events[-2]) == {"workflowExecution": swf.execution("c"), "workflowType": WORKFLOW,
                                 "initiatedEventId": attrs(started)["initiatedEventId"],
                                 "startedEventId": started["eventId"], **carried}
    assert swf.describe("p")["openCounts"]["openChildWorkflowExecutions"] == 0


def test_start_child_fails_with_workflow_already_running(swf: Swf) -> None:
    swf.start("p")
    swf.decide(start_child("p", control="k"))  # its own workflow id: open
    events = swf.events("p")
    assert [e["eventType"] for e in events][-3:] == [
        "StartChildWorkflowExecutionInitiated", "StartChildWorkflowExecutionFailed", "DecisionTaskScheduled"]
    assert attrs(events[-2]) == {
        "workflowType": WORKFLOW, "workflowId": "p", "cause": "WORKFLOW_ALREADY_RUNNING", "control": "k",
        "initiatedEventId": events[-3]["eventId"], "decisionTaskCompletedEventId": events[-4]["eventId"]}


def refusal(swf: Swf, *decisions: dict[str, Any], workflow_id: str = "p") -> dict[str, Any]:
    """The attributes of the *Failed event a decision got (the last before the decision task it brings)."""
    events = swf.events(workflow_id)
    assert events[-1]["eventType"] == "DecisionTaskScheduled"
    return attrs(events[-2]) | {"type": events[-2]["eventType"]}


def test_start_child_fails_with_workflow_type_does_not_exist_or_deprecated(swf: Swf) -> None:
    swf.c.register_workflow_type(domain=DOMAIN, name="W", version="old", defaultTaskList={"name": TASK_LIST})
    swf.c.deprecate_workflow_type(domain=DOMAIN, workflowType={"name": "W", "version": "old"})
    swf.start("p")
    swf.decide(decision("StartChildWorkflowExecution", workflowType={"name": "W", "version": "9"}, workflowId="c"))
    failed = refusal(swf)
    assert failed["type"] == "StartChildWorkflowExecutionFailed"
    assert (failed["cause"], failed["initiatedEventId"]) == ("WORKFLOW_TYPE_DOES_NOT_EXIST", 0)
    assert "StartChildWorkflowExecutionInitiated" not in swf.types("p")
    swf.decide(decision("StartChildWorkflowExecution", workflowType={"name": "W", "version": "old"}, workflowId="c"))
    assert refusal(swf)["cause"] == "WORKFLOW_TYPE_DEPRECATED"


@pytest.mark.parametrize("left_out, cause", [
    ("executionStartToCloseTimeout", "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
    ("taskList", "DEFAULT_TASK_LIST_UNDEFINED"),
    ("taskStartToCloseTimeout", "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
    ("childPolicy", "DEFAULT_CHILD_POLICY_UNDEFINED"),
])
def test_start_child_fails_when_neither_decision_nor_type_gives_a_default(swf: Swf, left_out: str, cause: str) -> None:
    swf.c.register_workflow_type(domain=DOMAIN, name="Bare", version="1")  # no defaults at all
    given = {"executionStartToCloseTimeout": "60", "taskList": {"name": CHILDREN}, "taskStartToCloseTimeout": "10",
             "childPolicy": "ABANDON"}
    del given[left_out]
    swf.start("p")
    swf.decide(decision("StartChildWorkflowExecution", workflowType={"name": "Bare", "version": "1"}, workflowId="c",
                        **given))
    assert refusal(swf)["cause"] == cause


def test_start_child_fails_past_the_open_children_limit(clocked: ClockedSWF, swf: Swf) -> None:
    clocked.swf.engine.set_limits(parse_faults("open-children=1"))
    swf.start("p")
    swf.decide(start_child("c1"), start_child("c2"))
    failed = attrs(one(swf.events("p"), "StartChildWorkflowExecutionFailed"))
    assert (failed["workflowId"], failed["cause"], failed["initiatedEventId"]) == ("c2", "OPEN_CHILDREN_LIMIT_EXCEEDED", 0)
    assert swf.describe("p")["openCounts"]["openChildWorkflowExecutions"] == 1


@pytest.mark.parametrize("kind, extra", [
    ("StartChildWorkflowExecution", {"workflowType": WORKFLOW, "workflowId": "c", "control": "k"}),
    ("ContinueAsNewWorkflowExecution", {}),
    ("SignalExternalWorkflowExecution", {"workflowId": "p", "runId": "r", "signalName": "s", "control": "k"}),
    ("RequestCancelExternalWorkflowExecution", {"workflowId": "p", "runId": "r", "control": "k"}),
])
def test_each_new_decision_fails_with_operation_not_permitted(clocked: ClockedSWF, swf: Swf, kind: str,
                                                              extra: dict[str, Any]) -> None:
    clocked.swf.engine.set_limits(parse_faults(f"deny={kind}"))
    swf.start("p")
    swf.decide(decision(kind, **extra))
    failed = refusal(swf)
    assert (failed["type"], failed["cause"]) == (f"{kind}Failed", "OPERATION_NOT_PERMITTED")
    if kind != "ContinueAsNewWorkflowExecution":
        assert (failed["initiatedEventId"], failed["workflowId"], failed["control"]) == (0, "c" if "Child" in kind else "p", "k")
    assert swf.describe("p")["executionInfo"]["executionStatus"] == "OPEN"


# ---- the child policy: applied when the parent is terminated or times out, not on its other closes ------------
# SWF's API reference (WorkflowExecutionConfiguration.childPolicy): "The policy to use for the child workflow
# executions if this workflow execution is terminated, by calling the TerminateWorkflowExecution action explicitly or
# due to an expired timeout."


def close_parent(clocked: ClockedSWF, swf: Swf, how: str) -> None:
    """Close parent "p" one way: by the decider's decision, TerminateWorkflowExecution or its timeout (1800 s)."""
    if how == "terminate":
        swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="p")
    elif how == "time out":
        clocked.clock.advance(1801)  # the child's own timeout is the type's 3600 s
    else:
        kind = {"complete": "CompleteWorkflowExecution", "fail": "FailWorkflowExecution",
                "cancel": "CancelWorkflowExecution", "continue as new": "ContinueAsNewWorkflowExecution"}[how]
        swf.decide(decision(kind))
    assert swf.describe("p")["executionInfo"]["executionStatus"] == "CLOSED"


def test_child_policy_terminate_terminates_the_open_children(swf: Swf) -> None:
    with_child(swf, childPolicy="TERMINATE")
    swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="p")
    terminated = swf.events("c")[-1]
    assert terminated["eventType"] == "WorkflowExecutionTerminated"
    assert attrs(terminated) == {"cause": "CHILD_POLICY_APPLIED", "childPolicy": "TERMINATE"}
    assert swf.describe("c")["executionInfo"]["closeStatus"] == "TERMINATED"
    assert swf.types("p")[-1] == "WorkflowExecutionTerminated"  # a closed parent hears nothing more


def test_child_policy_request_cancel_asks_each_child_to_cancel(clocked: ClockedSWF, swf: Swf) -> None:
    with_child(swf, childPolicy="REQUEST_CANCEL", executionStartToCloseTimeout="1800")
    child_decides(swf)  # the child's first decision task: answered, so the request brings a new one
    clocked.clock.advance(1801)
    events = swf.events("c")
    assert [e["eventType"] for e in events][-2:] == ["WorkflowExecutionCancelRequested", "DecisionTaskScheduled"]
    assert attrs(events[-2]) == {"cause": "CHILD_POLICY_APPLIED"}
    assert swf.describe("c")["executionInfo"]["cancelRequested"] is True
    child_decides(swf, decision("CancelWorkflowExecution"))
    assert swf.types("p")[-1] == "WorkflowExecutionTimedOut"


def test_child_policy_abandon_leaves_the_children_running(swf: Swf) -> None:
    with_child(swf, childPolicy="ABANDON")
    before = swf.types("c")
    swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="p")
    assert swf.types("c") == before and swf.describe("c")["executionInfo"]["executionStatus"] == "OPEN"
    child_decides(swf, decision("CompleteWorkflowExecution"))
    assert swf.types("p")[-1] == "WorkflowExecutionTerminated"


@pytest.mark.parametrize("how", ["terminate", "time out"])
def test_the_child_policy_applies_when_the_parent_is_terminated_or_times_out(clocked: ClockedSWF, swf: Swf,
                                                                             how: str) -> None:
    with_child(swf, executionStartToCloseTimeout="1800")
    close_parent(clocked, swf, how)
    assert attrs(swf.events("c")[-1]) == {"cause": "CHILD_POLICY_APPLIED", "childPolicy": "TERMINATE"}
    assert swf.describe("c")["executionInfo"]["closeStatus"] == "TERMINATED"


@pytest.mark.parametrize("how", ["complete", "fail", "cancel", "continue as new"])
def test_the_children_stay_open_when_the_parent_completes_fails_cancels_or_continues(clocked: ClockedSWF, swf: Swf,
                                                                                    how: str) -> None:
    with_child(swf, executionStartToCloseTimeout="1800")  # the policy is TERMINATE: not applied on these closes
    before = swf.types("c")
    closed = swf.types("p")
    close_parent(clocked, swf, how)
    assert swf.types("c") == before and swf.describe("c")["executionInfo"]["executionStatus"] == "OPEN"
    child_decides(swf, decision("CompleteWorkflowExecution"))  # it runs on, and the closed parent hears nothing
    assert swf.describe("c")["executionInfo"]["closeStatus"] == "COMPLETED"
    assert swf.types("p")[:len(closed)] == closed and len(swf.types("p")) == len(closed) + 3


def test_terminate_with_a_child_policy_overrides_the_parents(swf: Swf) -> None:
    with_child(swf, childPolicy="TERMINATE")
    swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="p", childPolicy="ABANDON")
    assert swf.describe("c")["executionInfo"]["executionStatus"] == "OPEN"


# ---- ContinueAsNewWorkflowExecution ------------------------------------------------------------------------


def test_continue_as_new_closes_the_run_and_starts_a_new_one(swf: Swf) -> None:
    old = swf.start("w", tagList=["t1"])
    swf.decide(decision("ContinueAsNewWorkflowExecution", input="next", tagList=["t2"], taskStartToCloseTimeout="20"))
    events = swf.events("w")
    last = events[-1]
    assert last["eventType"] == "WorkflowExecutionContinuedAsNew"
    new = attrs(last)["newExecutionRunId"]
    assert attrs(last) == {
        "decisionTaskCompletedEventId": events[-2]["eventId"], "newExecutionRunId": new, "input": "next",
        "executionStartToCloseTimeout": "3600", "taskStartToCloseTimeout": "20", "taskList": {"name": TASK_LIST},
        "childPolicy": "TERMINATE", "taskPriority": "0", "tagList": ["t2"], "workflowType": WORKFLOW}
    info = swf.describe("w")["executionInfo"]
    assert (info["executionStatus"], info["closeStatus"]) == ("CLOSED", "CONTINUED_AS_NEW") and new != old
    swf.runs["w"] = new
    started = swf.events("w")
    assert [e["eventType"] for e in started] == ["WorkflowExecutionStarted", "DecisionTaskScheduled"]
    assert attrs(started[0])["continuedExecutionRunId"] == old
    assert (attrs(started[0])["input"], attrs(started[0])["tagList"]) == ("next", ["t2"])
    assert swf.decide(decision("CompleteWorkflowExecution"))["workflowExecution"] == {"workflowId": "w", "runId": new}
    assert swf.describe("w")["executionInfo"]["closeStatus"] == "COMPLETED"


def test_continue_as_new_fails_with_unhandled_decision_when_events_came_in_meanwhile(swf: Swf) -> None:
    swf.start()
    task = swf.poll_decision()
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="late news")
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
        decision("ContinueAsNewWorkflowExecution")])
    events = swf.events()
    assert events[-1]["eventType"] == "ContinueAsNewWorkflowExecutionFailed"
    assert attrs(events[-1]) == {"cause": "UNHANDLED_DECISION", "decisionTaskCompletedEventId": events[-2]["eventId"]}
    assert swf.describe()["executionInfo"]["executionStatus"] == "OPEN"


def test_continue_as_new_fails_for_a_type_missing_deprecated_or_without_defaults(swf: Swf) -> None:
    swf.start()
    swf.decide(decision("ContinueAsNewWorkflowExecution", workflowTypeVersion="9"))
    assert refusal(swf, workflow_id="w")["cause"] == "WORKFLOW_TYPE_DOES_NOT_EXIST"
    swf.c.register_workflow_type(domain=DOMAIN, name="W", version="bare")  # no defaults
    swf.decide(decision("ContinueAsNewWorkflowExecution", workflowTypeVersion="bare"))
    assert refusal(swf, workflow_id="w")["cause"] == "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED"
    swf.c.deprecate_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    swf.decide(decision("ContinueAsNewWorkflowExecution"))
    assert refusal(swf, workflow_id="w")["cause"] == "WORKFLOW_TYPE_DEPRECATED"


def test_a_child_that_continues_as_new_is_still_its_parents_child(swf: Swf) -> None:
    started = with_child(swf)
    swf.decide()
    child_decides(swf, decision("ContinueAsNewWorkflowExecution", taskList={"name": CHILDREN}))
    new_run = attrs(swf.events("c")[-1])["newExecutionRunId"]
    swf.runs["c"] = new_run
    assert attrs(swf.events("c")[0])["parentWorkflowExecution"] == swf.execution("p")
    assert swf.describe("p")["openCounts"]["openChildWorkflowExecutions"] == 1
    child_decides(swf, decision("CompleteWorkflowExecution", result="r"))
    done = swf.events("p")[-2]
    assert done["eventType"] == "ChildWorkflowExecutionCompleted"
    assert attrs(done)["workflowExecution"] == {"workflowId": "c", "runId": new_run}
    assert attrs(done)["initiatedEventId"] == attrs(started)["initiatedEventId"]


# ---- SignalExternalWorkflowExecution, RequestCancelExternalWorkflowExecution ------------------------------------


def test_signal_external_workflow_execution_signals_the_target(swf: Swf) -> None:
    swf.start("a")
    swf.start("b")
    swf.decide(decision("SignalExternalWorkflowExecution", workflowId="b", signalName="s", input="i", control="k"))
    events = swf.events("a")
    assert [e["eventType"] for e in events][-3:] == [
        "SignalExternalWorkflowExecutionInitiated", "ExternalWorkflowExecutionSignaled", "DecisionTaskScheduled"]
    initiated = events[-3]
    assert attrs(initiated) == {"workflowId": "b", "signalName": "s", "input": "i", "control": "k",
                                "decisionTaskCompletedEventId": events[-4]["eventId"]}
    assert attrs(events[-2]) == {"workflowExecution": swf.execution("b"), "initiatedEventId": initiated["eventId"]}
    signaled = one(swf.events("b"), "WorkflowExecutionSignaled")
    assert attrs(signaled) == {"signalName": "s", "input": "i", "externalWorkflowExecution": swf.execution("a"),
                               "externalInitiatedEventId": initiated["eventId"]}


def test_request_cancel_external_workflow_execution_asks_the_target(swf: Swf) -> None:
    swf.start("a")
    swf.start("b")
    swf.decide(decision("RequestCancelExternalWorkflowExecution", workflowId="b", runId=swf.runs["b"]))
    events = swf.events("a")
    assert [e["eventType"] for e in events][-3:] == [
        "RequestCancelExternalWorkflowExecutionInitiated", "ExternalWorkflowExecutionCancelRequested",
        "DecisionTaskScheduled"]
    initiated = events[-3]
    assert attrs(initiated) == {"workflowId": "b", "runId": swf.runs["b"],
                                "decisionTaskCompletedEventId": events[-4]["eventId"]}
    assert attrs(events[-2]) == {"workflowExecution": swf.execution("b"), "initiatedEventId": initiated["eventId"]}
    requested = one(swf.events("b"), "WorkflowExecutionCancelRequested")
    assert attrs(requested) == {"externalWorkflowExecution": swf.execution("a"),
                                "externalInitiatedEventId": initiated["eventId"]}
    assert swf.describe("b")["executionInfo"]["cancelRequested"] is True


@pytest.mark.parametrize("kind, extra", [
    ("SignalExternalWorkflowExecution", {"signalName": "s"}),
    ("RequestCancelExternalWorkflowExecution", {}),
])
def test_an_external_decision_for_an_unknown_execution_fails(swf: Swf, kind: str, extra: dict[str, Any]) -> None:
    swf.start("a")
    swf.start("closed")
    swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="closed")
    for target in ("nobody", "closed"):
        swf.decide(decision(kind, workflowId=target, control="k", **extra))
        events = swf.events("a")
        assert [e["eventType"] for e in events][-3:] == [f"{kind}Initiated", f"{kind}Failed", "DecisionTaskScheduled"]
        assert attrs(events[-2]) == {
            "workflowId": target, "cause": "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION", "control": "k",
            "initiatedEventId": events[-3]["eventId"], "decisionTaskCompletedEventId": events[-4]["eventId"]}
