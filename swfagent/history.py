"""fold(events) -> ExecutionState: the whole history of an execution, reduced to the state of each step.

Pure: no boto3, no clock, no randomness. Events are the dicts SWF returns in a decision task or in
GetWorkflowExecutionHistory.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .decisions import attributes_key
from .ids import BATCH_INPUT, CARRY, CHILD, DECIDER_ERROR, attempt_of_timer, is_error_timer, parse_activity_id
from .status import ActivityStatus, Closed

Event = dict[str, Any]


@dataclass(slots=True)
class ActivityState:
    """One attempt of one step: what the console's Activities tab shows."""

    activity_id: str
    step_id: str | None
    attempt: int
    activity_type: str
    version: str
    scheduled_event_id: int
    status: ActivityStatus = ActivityStatus.SCHEDULED
    input: str | None = None
    result: str | None = None
    reason: str | None = None
    details: str | None = None
    timeout_type: str | None = None
    closed_event_id: int = 0
    scheduled_at: Any = None
    started_at: Any = None
    closed_at: Any = None
    identity: str | None = None
    cancel_requested: bool = False
    workflow_id: str | None = None  # a child step's attempt: its child execution's workflow id...
    run_id: str | None = None  # ...and run id, once started


@dataclass(slots=True)
class TimerState:
    """A timer the decider started (a retry's delay, a wait, the next part of an answer)."""

    timer_id: str
    fired: bool = False
    started_at: Any = None
    delay: str = "0"  # startToFireTimeout, as started: seconds


@dataclass(frozen=True, slots=True)
class Refusal:
    """A decision SWF refused: its *Failed event (ScheduleActivityTaskFailed, CancelTimerFailed, ...)."""

    event_id: int
    decision: str  # ScheduleActivityTask, StartTimer, CompleteWorkflowExecution, ...
    cause: str
    target: str = ""  # the activity type (name and version), the activity id or the timer id concerned


@dataclass
class ExecutionState:
    """What an execution's history says, as of its last event."""

    input: str | None = None
    workflow_type: tuple[str, str] | None = None
    activities: dict[str, ActivityState] = field(default_factory=dict)
    by_step: dict[str, ActivityState] = field(default_factory=dict)  # each step's latest attempt
    timers: dict[str, TimerState] = field(default_factory=dict)
    cancel_requested: bool = False
    cancel_cause: str | None = None
    signals: list[tuple[str, str | None]] = field(default_factory=list)
    signal_ids: list[int] = field(default_factory=list)  # each signal's event id, as signals lists them
    markers: list[tuple[str, str | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # events that cannot be read: going on is impossible
    unknown_events: list[str] = field(default_factory=list)
    refused: dict[str, list[Refusal]] = field(default_factory=dict)  # an attempt's activity id -> SWF's refusals
    close_refusals: list[Refusal] = field(default_factory=list)
    activity_cancels_refused: dict[str, Refusal] = field(default_factory=dict)  # activity id -> RequestCancel's refusal
    timer_cancels_refused: dict[str, Refusal] = field(default_factory=dict)  # timer id -> CancelTimer's refusal
    markers_refused: list[Refusal] = field(default_factory=list)  # RecordMarkerFailed, the marker's name as target
    decision_timeouts_in_a_row: int = 0  # START_TO_CLOSE DecisionTaskTimedOut since the last DecisionTaskCompleted
    unpolled_decisions: list[int] = field(default_factory=list)  # SCHEDULE_TO_START DecisionTaskTimedOut: event ids
    decider_errors: list[str] = field(default_factory=list)  # decision tasks that recorded a decider error, since progress
    texts: dict[str, str] = field(default_factory=dict)  # activity id -> its result kept in S3, fetched by the decider
    event_count: int = 0
    last_event_id: int = 0
    started_at: Any = None
    closed_at: Any = None
    close_status: Closed | None = None
    close_result: str | None = None
    close_reason: str | None = None
    now: Any = None  # the last event's time (a decision task's DecisionTaskStarted): a `wait: {until:}` step's now
    workflow_id: str | None = None  # the execution's own workflow id: not in its history, the decision task gives it
    children: dict[str, ActivityState] = field(default_factory=dict)  # a child step's attempt id -> its child execution
    child_cancels_refused: dict[str, list[Refusal]] = field(default_factory=dict)  # child workflow id -> its cancels' refusals
    child_cancel_asked: dict[str, int] = field(default_factory=dict)  # child workflow id -> its last cancel's event id
    continued_from: str | None = None  # the run this one continues (ContinueAsNew), when it does
    parent: str | None = None  # the parent's workflow id, for a child execution
    carried: dict[str, str] = field(default_factory=dict)  # step id -> its result, from the runs before this one
    carried_caught: dict[str, str] = field(default_factory=dict)  # step id -> why it failed, caught, in a run before
    runs: int = 1  # this run's number in a chain of runs continued as new (1: the first)
    not_before: str | None = None  # a repeating workflow's next run: the time (ISO 8601) its chart may start
    batch: Batch | None = None  # a child that runs a batch of a map's items


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of a map's items that a child execution runs: the map step, the first item's number, the items."""

    step: str
    first: int
    items: tuple[str, ...]
    max_concurrency: int | None = None


def read_envelope(state: ExecutionState, text: str | None) -> None:
    """A run's input as the decider made it: results carried from the run before, or a batch of a map's items."""
    if text is None or not text.startswith('{"swfagent-'):
        return
    try:
        value = json.loads(text)
    except RecursionError:  # nested too deep to read: bad input, as any other
        raise ValueError(f"an input of {len(text)} characters nested too deep to read") from None
    if CARRY in value:
        carry = value[CARRY]
        state.input = carry.get("input")
        state.carried = {str(k): str(v) for k, v in (carry.get("results") or {}).items()}
        state.carried_caught = {str(k): str(v) for k, v in (carry.get("caught") or {}).items()}
        state.runs = int(carry.get("run", 1))
        state.not_before = None if carry.get("not_before") is None else str(carry["not_before"])
    elif BATCH_INPUT in value:
        b = value[BATCH_INPUT]
        state.batch = Batch(str(b["step"]), int(b["first"]), tuple(str(i) for i in b["items"]), b.get("max_concurrency"))


def carry_input(input: str | None, results: dict[str, str], run: int, caught: dict[str, str] | None = None,
                not_before: str | None = None) -> str:
    """The input of the next run of a chain: the execution's input, the results so far (and the failures caught so
    far, with their reasons), the run's number; for a repeating workflow's next run, the time it may start."""
    value: dict[str, Any] = {"input": input, "results": results, "run": run}
    if caught:
        value["caught"] = caught
    if not_before is not None:
        value["not_before"] = not_before
    return json.dumps({CARRY: value}, ensure_ascii=False)


def batch_input(batch: Batch) -> str:
    """The input of a child that runs a batch of a map's items."""
    return json.dumps({BATCH_INPUT: {"step": batch.step, "first": batch.first, "items": list(batch.items),
                                     "max_concurrency": batch.max_concurrency}}, ensure_ascii=False)


def _text(attrs: dict[str, Any], key: str) -> str | None:
    """A text attribute (input, result, reason, details), or None; anything else makes the event unreadable."""
    value = attrs.get(key)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{key} is {type(value).__name__}, not text")


class _Folder:
    """The event handlers, keyed by event type."""

    def __init__(self) -> None:
        self.state = ExecutionState()
        self.by_scheduled: dict[int, ActivityState] = {}
        self.error_task: object = None  # the decision task of the last decider error counted
        self.by_initiated: dict[int, ActivityState] = {}  # a child's StartChildWorkflowExecutionInitiated event id
        self.by_workflow_id: dict[str, ActivityState] = {}

    def _activity(self, a: dict[str, Any]) -> ActivityState:
        found = self.by_scheduled.get(a["scheduledEventId"])
        if found is None:
            raise KeyError(f"no ActivityTaskScheduled event {a['scheduledEventId']}")
        return found

    def started(self, e: Event) -> None:
        a = e["workflowExecutionStartedEventAttributes"]
        self.state.input = _text(a, "input")
        read_envelope(self.state, self.state.input)
        wt = a.get("workflowType") or {}
        self.state.workflow_type = (wt.get("name", ""), wt.get("version", ""))
        self.state.started_at = e.get("eventTimestamp")
        self.state.continued_from = a.get("continuedExecutionRunId")
        self.state.parent = (a.get("parentWorkflowExecution") or {}).get("workflowId")

    def scheduled(self, e: Event) -> None:
        a = e["activityTaskScheduledEventAttributes"]
        aid = a["activityId"]
        step, attempt = parse_activity_id(aid)
        act = ActivityState(
            activity_id=aid, step_id=step, attempt=attempt,
            activity_type=a["activityType"]["name"], version=a["activityType"]["version"],
            scheduled_event_id=e["eventId"], input=_text(a, "input"),
            scheduled_at=e.get("eventTimestamp"),
        )
        self.state.activities[aid] = act
        self.by_scheduled[e["eventId"]] = act
        if step is not None:
            latest = self.state.by_step.get(step)
            if latest is None or latest.attempt <= attempt:
                self.state.by_step[step] = act

    def schedule_failed(self, e: Event) -> None:
        a = e["scheduleActivityTaskFailedEventAttributes"]
        atype = a.get("activityType") or {}
        refusal = Refusal(e["eventId"], "ScheduleActivityTask", str(a.get("cause", "?")),
                          f"{atype.get('name', '?')} {atype.get('version', '?')}")
        self.state.refused.setdefault(str(a.get("activityId", "?")), []).append(refusal)

    def activity_started(self, e: Event) -> None:
        a = e["activityTaskStartedEventAttributes"]
        act = self._activity(a)
        act.status, act.started_at, act.identity = ActivityStatus.STARTED, e.get("eventTimestamp"), a.get("identity")

    def _close(self, e: Event, a: dict[str, Any], status: ActivityStatus) -> ActivityState:
        self.state.decider_errors.clear()  # progress
        act = self._activity(a)
        act.status, act.closed_event_id, act.closed_at = status, e["eventId"], e.get("eventTimestamp")
        act.details = _text(a, "details")
        return act

    def cancel_requested_activity(self, e: Event) -> None:
        a = e["activityTaskCancelRequestedEventAttributes"]
        act = self.state.activities.get(a["activityId"])
        if act is not None:
            act.cancel_requested = True

    def completed(self, e: Event) -> None:
        a = e["activityTaskCompletedEventAttributes"]
        self._close(e, a, ActivityStatus.COMPLETED).result = _text(a, "result")

    def failed(self, e: Event) -> None:
        a = e["activityTaskFailedEventAttributes"]
        self._close(e, a, ActivityStatus.FAILED).reason = _text(a, "reason")

    def timed_out(self, e: Event) -> None:
        a = e["activityTaskTimedOutEventAttributes"]
        act = self._close(e, a, ActivityStatus.TIMED_OUT)
        act.timeout_type = a.get("timeoutType")
        act.reason = f"timed out ({act.timeout_type})"

    def canceled(self, e: Event) -> None:
        a = e["activityTaskCanceledEventAttributes"]
        self._close(e, a, ActivityStatus.CANCELED).reason = "canceled"

    def _child_attempt(self, a: dict[str, Any]) -> str:
        """A child's attempt id: the control the decider gave it, or else what follows the parent's id in its own."""
        control = a.get("control")
        return str(control) if control else str(a.get("workflowId", "?")).rpartition(CHILD)[2]

    def child_initiated(self, e: Event) -> None:
        a = e["startChildWorkflowExecutionInitiatedEventAttributes"]
        aid = self._child_attempt(a)
        step, attempt = parse_activity_id(aid)
        child = ActivityState(
            activity_id=aid, step_id=step, attempt=attempt, activity_type=a["workflowType"]["name"],
            version=a["workflowType"]["version"], scheduled_event_id=e["eventId"], input=_text(a, "input"),
            scheduled_at=e.get("eventTimestamp"), workflow_id=str(a["workflowId"]),
        )
        self.state.children[aid] = child
        self.by_initiated[e["eventId"]] = child
        self.by_workflow_id[child.workflow_id or ""] = child
        if step is not None and (step not in self.state.by_step or self.state.by_step[step].attempt <= attempt):
            self.state.by_step[step] = child

    def child_failed_to_start(self, e: Event) -> None:
        a = e["startChildWorkflowExecutionFailedEventAttributes"]
        aid = self._child_attempt(a)
        wtype = a.get("workflowType") or {}
        refusal = Refusal(e["eventId"], "StartChildWorkflowExecution", str(a.get("cause", "?")),
                          f"{wtype.get('name', '?')} {wtype.get('version', '?')}")
        self.state.refused.setdefault(aid, []).append(refusal)
        child = self.state.children.pop(aid, None)
        if child is not None and child.step_id is not None:  # initiated, then refused: as if never started
            earlier = [c for c in self.state.children.values() if c.step_id == child.step_id]
            if earlier:
                self.state.by_step[child.step_id] = max(earlier, key=lambda c: c.attempt)
            else:
                self.state.by_step.pop(child.step_id, None)

    def child_started(self, e: Event) -> None:
        a = e["childWorkflowExecutionStartedEventAttributes"]
        child = self._child(a)
        child.status, child.started_at = ActivityStatus.STARTED, e.get("eventTimestamp")
        child.run_id = (a.get("workflowExecution") or {}).get("runId")

    def _child(self, a: dict[str, Any]) -> ActivityState:
        found = self.by_initiated.get(a["initiatedEventId"])
        if found is None:
            raise KeyError(f"no StartChildWorkflowExecutionInitiated event {a['initiatedEventId']}")
        return found

    def child_closed(self, e: Event, *, status: ActivityStatus) -> None:
        a = e[attributes_key(e["eventType"], "Event")]
        self.state.decider_errors.clear()  # progress
        child = self._child(a)
        child.status, child.closed_event_id, child.closed_at = status, e["eventId"], e.get("eventTimestamp")
        child.details = _text(a, "details")
        child.result = _text(a, "result")
        child.timeout_type = a.get("timeoutType")
        if e["eventType"] == "ChildWorkflowExecutionTerminated":
            child.reason = "terminated"
        elif status is ActivityStatus.CANCELED:
            child.reason = "canceled"
        else:
            child.reason = _text(a, "reason") or (f"timed out ({child.timeout_type})" if child.timeout_type else None)

    def child_cancel_initiated(self, e: Event) -> None:
        a = e["requestCancelExternalWorkflowExecutionInitiatedEventAttributes"]
        child = self.by_workflow_id.get(str(a.get("workflowId")))
        self.state.child_cancel_asked[str(a.get("workflowId"))] = e["eventId"]
        if child is not None:
            child.cancel_requested = True

    def child_cancel_failed(self, e: Event) -> None:
        a = e["requestCancelExternalWorkflowExecutionFailedEventAttributes"]
        wid = str(a.get("workflowId", "?"))
        self.state.child_cancels_refused.setdefault(wid, []).append(Refusal(
            e["eventId"], "RequestCancelExternalWorkflowExecution", str(a.get("cause", "?")), wid))

    def timer_started(self, e: Event) -> None:
        a = e["timerStartedEventAttributes"]
        self.state.timers[a["timerId"]] = TimerState(a["timerId"], False, e.get("eventTimestamp"),
                                                     a.get("startToFireTimeout", "0"))
        if is_error_timer(a["timerId"]):
            self._decider_error(a, None)

    def timer_fired(self, e: Event) -> None:
        a = e["timerFiredEventAttributes"]
        timer = self.state.timers.get(a["timerId"])
        if timer is None:
            raise KeyError(f"timer {a['timerId']!r} was never started")
        timer.fired = True

    def timer_canceled(self, e: Event) -> None:
        a = e["timerCanceledEventAttributes"]
        self.state.timers.pop(a["timerId"], None)

    def timer_failed(self, e: Event) -> None:
        a = e["startTimerFailedEventAttributes"]
        timer_id = str(a.get("timerId", "?"))
        refusal = Refusal(e["eventId"], "StartTimer", str(a.get("cause", "?")), timer_id)
        self.state.refused.setdefault(attempt_of_timer(timer_id), []).append(refusal)
        if is_error_timer(timer_id):
            self._decider_error(a, None)

    def timer_cancel_failed(self, e: Event) -> None:
        a = e["cancelTimerFailedEventAttributes"]
        timer_id = str(a.get("timerId", "?"))
        self.state.timer_cancels_refused[timer_id] = Refusal(e["eventId"], "CancelTimer", str(a.get("cause", "?")),
                                                             timer_id)

    def activity_cancel_failed(self, e: Event) -> None:
        a = e["requestCancelActivityTaskFailedEventAttributes"]
        aid = str(a.get("activityId", "?"))
        self.state.activity_cancels_refused[aid] = Refusal(e["eventId"], "RequestCancelActivityTask",
                                                           str(a.get("cause", "?")), aid)

    def cancel_requested(self, e: Event) -> None:
        a = e.get("workflowExecutionCancelRequestedEventAttributes") or {}
        self.state.cancel_requested = True
        self.state.cancel_cause = a.get("cause")

    def signaled(self, e: Event) -> None:
        a = e["workflowExecutionSignaledEventAttributes"]
        self.state.signals.append((a.get("signalName", ""), _text(a, "input")))
        self.state.signal_ids.append(e["eventId"])
        self.state.decider_errors.clear()  # progress

    def marker(self, e: Event) -> None:
        a = e["markerRecordedEventAttributes"]
        self.state.markers.append((a.get("markerName", ""), a.get("details")))
        if a.get("markerName") == DECIDER_ERROR:
            self._decider_error(a, str(a.get("details") or "no details"))

    def marker_failed(self, e: Event) -> None:
        a = e["recordMarkerFailedEventAttributes"]
        self.state.markers_refused.append(Refusal(e["eventId"], "RecordMarker", str(a.get("cause", "?")),
                                                  str(a.get("markerName", ""))))
        if a.get("markerName") == DECIDER_ERROR:
            self._decider_error(a, f"its marker was refused ({a.get('cause', '?')})")

    def _decider_error(self, a: dict[str, Any], details: str | None) -> None:
        """One error per decision task that answered with one, whichever of its marker and timer SWF refused."""
        task = a.get("decisionTaskCompletedEventId")
        errors = self.state.decider_errors
        if task is not None and task == self.error_task and errors:
            if details is not None:  # the marker says what went wrong; its timer does not
                errors[-1] = details
            return
        self.error_task = task
        errors.append(details or "no details")

    def decision_completed(self, e: Event) -> None:
        self.state.decision_timeouts_in_a_row = 0

    def decision_timed_out(self, e: Event) -> None:
        a = e.get("decisionTaskTimedOutEventAttributes") or {}
        if a.get("timeoutType") == "SCHEDULE_TO_START":  # no decider took it: not one too slow
            self.state.unpolled_decisions.append(e["eventId"])
        else:
            self.state.decision_timeouts_in_a_row += 1

    def close_refused(self, e: Event, *, decision: str) -> None:
        a = e.get(attributes_key(f"{decision}Failed", "Event")) or {}
        self.state.close_refusals.append(Refusal(e["eventId"], decision, str(a.get("cause", "?"))))

    def _closed(self, e: Event, *, status: Closed, key: str) -> None:
        a = e.get(key) or {}
        self.state.close_status, self.state.closed_at = status, e.get("eventTimestamp")
        self.state.close_result = a.get("result")
        self.state.close_reason = a.get("reason") or a.get("cause") or a.get("timeoutType")

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        closed = {
            "WorkflowExecutionCompleted": Closed.COMPLETED, "WorkflowExecutionFailed": Closed.FAILED,
            "WorkflowExecutionCanceled": Closed.CANCELED, "WorkflowExecutionTerminated": Closed.TERMINATED,
            "WorkflowExecutionTimedOut": Closed.TIMED_OUT, "WorkflowExecutionContinuedAsNew": Closed.CONTINUED_AS_NEW,
        }
        table: dict[str, Callable[[Event], None]] = {
            "WorkflowExecutionStarted": self.started,
            "ActivityTaskScheduled": self.scheduled,
            "ScheduleActivityTaskFailed": self.schedule_failed,
            "ActivityTaskStarted": self.activity_started,
            "ActivityTaskCompleted": self.completed,
            "ActivityTaskFailed": self.failed,
            "ActivityTaskTimedOut": self.timed_out,
            "ActivityTaskCanceled": self.canceled,
            "TimerStarted": self.timer_started,
            "TimerFired": self.timer_fired,
            "TimerCanceled": self.timer_canceled,
            "StartTimerFailed": self.timer_failed,
            "CancelTimerFailed": self.timer_cancel_failed,
            "RequestCancelActivityTaskFailed": self.activity_cancel_failed,
            "RecordMarkerFailed": self.marker_failed,
            "WorkflowExecutionCancelRequested": self.cancel_requested,
            "ActivityTaskCancelRequested": self.cancel_requested_activity,
            "WorkflowExecutionSignaled": self.signaled,
            "MarkerRecorded": self.marker,
            "DecisionTaskCompleted": self.decision_completed,
            "DecisionTaskTimedOut": self.decision_timed_out,
        }
        table.update(self.child_handlers())
        for decision in ("CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution",
                         "ContinueAsNewWorkflowExecution"):
            table[f"{decision}Failed"] = functools.partial(self.close_refused, decision=decision)
        for event_type, status in closed.items():
            key = attributes_key(event_type, "Event")
            table[event_type] = functools.partial(self._closed, status=status, key=key)
        return table

    def child_handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events of child executions and of the decider's requests to cancel them."""
        table: dict[str, Callable[[Event], None]] = {
            "StartChildWorkflowExecutionInitiated": self.child_initiated,
            "StartChildWorkflowExecutionFailed": self.child_failed_to_start,
            "ChildWorkflowExecutionStarted": self.child_started,
            "RequestCancelExternalWorkflowExecutionInitiated": self.child_cancel_initiated,
            "RequestCancelExternalWorkflowExecutionFailed": self.child_cancel_failed,
        }
        closed = {"Completed": ActivityStatus.COMPLETED, "Failed": ActivityStatus.FAILED,
                  "TimedOut": ActivityStatus.TIMED_OUT, "Canceled": ActivityStatus.CANCELED,
                  "Terminated": ActivityStatus.FAILED}
        for suffix, status in closed.items():
            table[f"ChildWorkflowExecution{suffix}"] = functools.partial(self.child_closed, status=status)
        return table


# Events that carry nothing the decider needs: seen often, so they cost one set lookup.
PASSIVE = frozenset({
    "DecisionTaskScheduled", "DecisionTaskStarted", "ExternalWorkflowExecutionCancelRequested",
    "SignalExternalWorkflowExecutionInitiated", "ExternalWorkflowExecutionSignaled",
    "SignalExternalWorkflowExecutionFailed",
})


def fold(events: list[Event], _sorted: bool = False) -> ExecutionState:
    """Reduce a history, oldest event first (out-of-order ids are sorted), to one ExecutionState."""
    folder = _Folder()
    table: dict[str, Callable[[Event], None] | None] = {**dict.fromkeys(PASSIVE), **folder.handlers()}
    state = folder.state
    last_id = 0
    for event in events:
        try:
            event_id = event["eventId"]
            if event_id < last_id:  # out of order: SWF never does this, but sort and start again
                if not _sorted:
                    return fold(sorted(events, key=_event_id), _sorted=True)
                raise ValueError(f"event id {event_id!r} out of order")
            last_id = event_id
            event_type = event["eventType"]
            handler = table.get(event_type, _unknown)
            if handler is None:
                continue
            if handler is _unknown:
                state.unknown_events.append(str(event_type))
                continue
            handler(event)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            eid = event.get("eventId", "?") if isinstance(event, dict) else "?"
            etype = event.get("eventType", "?") if isinstance(event, dict) else "?"
            state.problems.append(f"history event {eid} ({etype}) cannot be read: {exc!r}")
    state.event_count = len(events)
    state.last_event_id = last_id
    if events and isinstance(events[-1], dict):
        state.now = events[-1].get("eventTimestamp")
    return state


def _unknown(event: Event) -> None:
    """Marks an event type the decider does not know."""


def _event_id(event: Any) -> int:
    try:
        return int(event["eventId"])
    except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: an infinite id
        return 0
