"""A tiny builder of SWF histories, so a decider test is a few lines and needs no server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from swfagent.decisions import Decision
from swfagent.history import ExecutionState, fold
from swfagent.ids import activity_id, child_workflow_id

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

# The decisions the decider sends
SENT = ("ScheduleActivityTask", "StartTimer", "CancelTimer", "RequestCancelActivityTask", "RecordMarker",
        "CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution", "StartChildWorkflowExecution",
        "RequestCancelExternalWorkflowExecution", "ContinueAsNewWorkflowExecution")
# The decisions the decider never sends, whose causes decide.CAUSES classifies all the same
UNSENT = ("SignalExternalWorkflowExecution",)
WORKFLOW_ID = "wf-1"  # the workflow id of the executions built here


def model_causes() -> dict[str, list[str]]:
    """Each decision the decider sends -> the causes of its *Failed event, read from botocore's SWF model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("swf")
    return {d: list(model.shape_for(f"{d}FailedCause").enum) for d in (*SENT, *UNSENT)}


def _attr_key(event_type: str) -> str:
    return event_type[0].lower() + event_type[1:] + "EventAttributes"


class History:
    """Events in SWF's shape, with ids and timestamps; each method adds events and returns self."""

    def __init__(self, input: str | None = None, workflow: tuple[str, str] = ("TestWorkflow", "1.0")):
        self.events: list[dict[str, Any]] = []
        self._scheduled: dict[tuple[str, int], int] = {}
        self._children: dict[tuple[str, int], tuple[int, int]] = {}  # (step, attempt) -> initiated, started event ids
        self._last_completed = 0  # the last DecisionTaskCompleted event's id
        attrs: dict[str, Any] = {"workflowType": {"name": workflow[0], "version": workflow[1]},
                                 "taskList": {"name": "TestTasks"}, "childPolicy": "TERMINATE"}
        if input is not None:
            attrs["input"] = input
        self.add("WorkflowExecutionStarted", attrs)

    def add(self, event_type: str, attrs: dict[str, Any] | None = None) -> int:
        """Append one event; returns its id."""
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "eventId": event_id, "eventType": event_type,
            "eventTimestamp": T0 + dt.timedelta(seconds=event_id),
        }
        if attrs is not None:
            event[_attr_key(event_type)] = attrs
        self.events.append(event)
        if event_type == "DecisionTaskCompleted":
            self._last_completed = event_id
        return event_id

    def _completed(self) -> int:
        """The DecisionTaskCompleted event a decision's event points at: the last one (the last event if none)."""
        return self._last_completed or len(self.events)

    def decision(self) -> History:
        """A decision task scheduled, started and completed."""
        s = self.add("DecisionTaskScheduled", {"taskList": {"name": "TestTasks"}})
        st = self.add("DecisionTaskStarted", {"scheduledEventId": s, "identity": "host:1"})
        self.add("DecisionTaskCompleted", {"scheduledEventId": s, "startedEventId": st})
        return self

    def schedule(self, step: str, attempt: int = 1, input: str | None = None,
                 activity: str | None = None, version: str = "1.0") -> History:
        attrs: dict[str, Any] = {
            "activityType": {"name": activity or step, "version": version},
            "activityId": activity_id(step, attempt), "taskList": {"name": "TestTasks"},
            "decisionTaskCompletedEventId": self._completed(),
        }
        if input is not None:
            attrs["input"] = input
        self._scheduled[(step, attempt)] = self.add("ActivityTaskScheduled", attrs)
        return self

    def start(self, step: str, attempt: int = 1) -> History:
        self.add("ActivityTaskStarted", {"scheduledEventId": self._scheduled[(step, attempt)], "identity": "host:2"})
        return self

    def _close(self, event_type: str, step: str, attempt: int, **attrs: Any) -> History:
        sid = self._scheduled[(step, attempt)]
        started = [e["eventId"] for e in self.events if e["eventType"] == "ActivityTaskStarted"
                   and e["activityTaskStartedEventAttributes"]["scheduledEventId"] == sid]
        if not started:
            self.start(step, attempt)
            started = [len(self.events)]
        self.add(event_type, {"scheduledEventId": sid, "startedEventId": started[0],
                              **{k: v for k, v in attrs.items() if v is not None}})
        return self

    def complete(self, step: str, result: str | None = None, attempt: int = 1) -> History:
        return self._close("ActivityTaskCompleted", step, attempt, result=result)

    def fail(self, step: str, reason: str = "exit code 1", details: str | None = None, attempt: int = 1) -> History:
        return self._close("ActivityTaskFailed", step, attempt, reason=reason, details=details)

    def time_out(self, step: str, kind: str = "HEARTBEAT", attempt: int = 1) -> History:
        return self._close("ActivityTaskTimedOut", step, attempt, timeoutType=kind)

    def canceled(self, step: str, attempt: int = 1) -> History:
        return self._close("ActivityTaskCanceled", step, attempt)

    def schedule_failed(self, step: str, cause: str = "ACTIVITY_TYPE_DOES_NOT_EXIST", attempt: int = 1) -> History:
        self.add("ScheduleActivityTaskFailed", {
            "activityType": {"name": step, "version": "1.0"}, "activityId": activity_id(step, attempt),
            "cause": cause, "decisionTaskCompletedEventId": self._completed()})
        return self

    def cancel_activity(self, step: str, attempt: int = 1) -> History:
        """The decider's RequestCancelActivityTask, recorded."""
        self.add("ActivityTaskCancelRequested", {"activityId": activity_id(step, attempt),
                                                 "decisionTaskCompletedEventId": self._completed()})
        return self

    def close_refused(self, decision: str, cause: str) -> History:
        """SWF refused a closing decision: CompleteWorkflowExecutionFailed and the like."""
        self.add(f"{decision}Failed", {"cause": cause, "decisionTaskCompletedEventId": self._completed()})
        return self

    def timer(self, timer_id: str, delay: int) -> History:
        self.add("TimerStarted", {"timerId": timer_id, "startToFireTimeout": str(delay),
                                  "decisionTaskCompletedEventId": self._completed()})
        return self

    def fire(self, timer_id: str) -> History:
        started = next(e["eventId"] for e in self.events
                       if e["eventType"] == "TimerStarted" and e["timerStartedEventAttributes"]["timerId"] == timer_id)
        self.add("TimerFired", {"timerId": timer_id, "startedEventId": started})
        return self

    def timer_failed(self, timer_id: str, cause: str = "TIMER_ID_ALREADY_IN_USE") -> History:
        self.add("StartTimerFailed", {"timerId": timer_id, "cause": cause,
                                      "decisionTaskCompletedEventId": self._completed()})
        return self

    def signal(self, name: str, input: str | None = None) -> History:
        self.add("WorkflowExecutionSignaled", {"signalName": name, **({"input": input} if input else {})})
        return self

    def marker(self, name: str, details: str | None = None) -> History:
        self.add("MarkerRecorded", {"markerName": name, "details": details,
                                    "decisionTaskCompletedEventId": self._completed()})
        return self

    def cancel_request(self) -> History:
        self.add("WorkflowExecutionCancelRequested", {})
        return self

    def decision_timed_out(self, kind: str = "START_TO_CLOSE") -> History:
        """A decision task that timed out: START_TO_CLOSE after a decider took it, SCHEDULE_TO_START before any did."""
        s = self.add("DecisionTaskScheduled", {"taskList": {"name": "TestTasks"}})
        st = 0 if kind == "SCHEDULE_TO_START" else self.add("DecisionTaskStarted", {"scheduledEventId": s})
        self.add("DecisionTaskTimedOut", {"scheduledEventId": s, "startedEventId": st, "timeoutType": kind})
        return self

    def started_decision(self) -> int:
        """A decision task scheduled and started, as a decider receives it; returns its DecisionTaskStarted id."""
        s = self.add("DecisionTaskScheduled", {"taskList": {"name": "TestTasks"}})
        return self.add("DecisionTaskStarted", {"scheduledEventId": s})

    def refuse(self, decision: Decision | dict[str, Any], cause: str) -> History:
        """SWF refused this decision (as decide makes it, or as SWF takes it): its *Failed event, with the attributes
        SWF gives."""
        d = decision if isinstance(decision, Decision) else Decision.from_swf(decision)
        kind, attrs = d.type.value, d.attributes
        kept = {k: attrs[k] for k in ("activityType", "activityId", "timerId", "markerName", "workflowType", "workflowId",
                                      "control", "runId") if k in attrs}
        if kind == "StartChildWorkflowExecution":
            kept["initiatedEventId"] = 0
        self.add(f"{kind}Failed", {**kept, "cause": cause, "decisionTaskCompletedEventId": self._completed()})
        return self

    def apply(self, decision: Decision | dict[str, Any]) -> History:
        """SWF carried out this decision (as decide makes it, or as SWF takes it): the events it records."""
        d = decision if isinstance(decision, Decision) else Decision.from_swf(decision)
        kind, a = d.type.value, d.attributes
        done = self._completed()
        if kind == "ScheduleActivityTask":
            step, _, attempt = a["activityId"].rpartition("-")
            self.schedule(step, int(attempt), a.get("input"), activity=a["activityType"]["name"])
        elif kind == "StartTimer":
            self.timer(a["timerId"], int(a["startToFireTimeout"]))
        elif kind == "CancelTimer":
            started = next(e["eventId"] for e in reversed(self.events) if e["eventType"] == "TimerStarted"
                           and e["timerStartedEventAttributes"]["timerId"] == a["timerId"])
            self.add("TimerCanceled", {"timerId": a["timerId"], "startedEventId": started,
                                       "decisionTaskCompletedEventId": done})
        elif kind == "RequestCancelActivityTask":
            self.add("ActivityTaskCancelRequested", {"activityId": a["activityId"], "decisionTaskCompletedEventId": done})
        elif kind == "RecordMarker":
            self.marker(a["markerName"], a.get("details"))
        elif kind == "StartChildWorkflowExecution":
            step, _, attempt = a["control"].rpartition("-")
            self.start_child(step, int(attempt), a["workflowType"]["name"], a.get("input"), a["workflowType"]["version"])
        elif kind == "RequestCancelExternalWorkflowExecution":
            self.add("RequestCancelExternalWorkflowExecutionInitiated", {**a, "decisionTaskCompletedEventId": done})
        elif kind == "ContinueAsNewWorkflowExecution":
            self.add("WorkflowExecutionContinuedAsNew", {**a, "newExecutionRunId": "run-2",
                                                         "decisionTaskCompletedEventId": done})
        else:  # Complete-, Fail-, CancelWorkflowExecution
            closed = {"CompleteWorkflowExecution": "WorkflowExecutionCompleted",
                      "FailWorkflowExecution": "WorkflowExecutionFailed",
                      "CancelWorkflowExecution": "WorkflowExecutionCanceled"}[kind]
            self.add(closed, {**a, "decisionTaskCompletedEventId": done})
        return self

    def state(self) -> ExecutionState:
        state = fold(self.events)
        state.workflow_id = WORKFLOW_ID
        return state

    # ---- child executions ----

    def start_child(self, step: str, attempt: int = 1, workflow: str = "Child", input: str | None = None,
                    version: str = "1.0") -> History:
        """The decider's StartChildWorkflowExecution, initiated."""
        aid = activity_id(step, attempt)
        attrs: dict[str, Any] = {
            "workflowType": {"name": workflow, "version": version}, "workflowId": child_workflow_id(WORKFLOW_ID, aid),
            "control": aid, "taskList": {"name": "TestTasks"}, "childPolicy": "TERMINATE",
            "decisionTaskCompletedEventId": self._completed(), **({"input": input} if input is not None else {}),
        }
        self._children[(step, attempt)] = (self.add("StartChildWorkflowExecutionInitiated", attrs), 0)
        return self

    def _child_attrs(self, step: str, attempt: int) -> dict[str, Any]:
        initiated, started = self._children[(step, attempt)]
        a = self.events[initiated - 1]["startChildWorkflowExecutionInitiatedEventAttributes"]
        return {"workflowExecution": {"workflowId": a["workflowId"], "runId": f"run-{initiated}"},
                "workflowType": a["workflowType"], "initiatedEventId": initiated,
                **({"startedEventId": started} if started else {})}

    def child_started(self, step: str, attempt: int = 1) -> History:
        started = self.add("ChildWorkflowExecutionStarted", self._child_attrs(step, attempt))
        self._children[(step, attempt)] = (self._children[(step, attempt)][0], started)
        return self

    def child_closed(self, kind: str, step: str, attempt: int = 1, **attrs: Any) -> History:
        """The child closed: kind is Completed, Failed, TimedOut, Canceled or Terminated."""
        if not self._children[(step, attempt)][1]:
            self.child_started(step, attempt)
        self.add(f"ChildWorkflowExecution{kind}", {**self._child_attrs(step, attempt),
                                                  **{k: v for k, v in attrs.items() if v is not None}})
        return self

    def child_failed_to_start(self, step: str, cause: str = "WORKFLOW_TYPE_DOES_NOT_EXIST", attempt: int = 1,
                              workflow: str = "Child") -> History:
        aid = activity_id(step, attempt)
        initiated = self._children.get((step, attempt), (0, 0))[0]
        self.add("StartChildWorkflowExecutionFailed", {
            "workflowType": {"name": workflow, "version": "1.0"}, "workflowId": child_workflow_id(WORKFLOW_ID, aid),
            "cause": cause, "initiatedEventId": initiated, "control": aid,
            "decisionTaskCompletedEventId": self._completed()})
        return self
