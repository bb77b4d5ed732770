"""moto's SWF models, corrected where moto answers other than SWF; each correction is a row of the README's table.

moto keeps the state machine (events, decisions, validation). These subclasses change what must live in
the models: event types moto refuses, one scheduled decision task at most, UNHANDLED_DECISION, timers
and timeouts driven by the engine's clock instead of threads and lazy checks, activity cancellation,
real start and close times, and lookups by index instead of scans of everything ever started.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..limits import MAX_TAGS
from .faults import Faults
from .moto_adapter import (
    EVENT_STAND_IN,
    ActivityTask,
    ActivityType,
    DecisionTask,
    Domain,
    HistoryEvent,
    SWFBackend,
    SWFClientError,
    SWFDomainAlreadyExistsFault,
    SWFDomainDeprecatedFault,
    SWFTypeDeprecatedFault,
    SWFUnknownResourceFault,
    SWFValidationException,
    WorkflowExecution,
    WorkflowType,
    camelcase_to_underscores,
    decapitalize,
    underscores_to_camelcase,
    unix_time,
)


class EngineHooks(Protocol):
    """What the models ask of the engine that runs them (engine.Engine is one): its clock, queues and tokens."""

    faults: Faults
    tokens: dict[str, Any]
    clock: Callable[[], float]

    def at(self, due: float, action: Callable[..., None], *args: Any) -> None: ...
    def execution_started(self, wfe: Any) -> None: ...
    def execution_closed(self, wfe: Any) -> None: ...
    def activity_scheduled(self, domain: Any, task_list: str, task: Any) -> None: ...
    def decision_scheduled(self, domain: Any, task_list: str, task: Any) -> None: ...
    def decisions_unblocked(self, wfe: Any) -> None: ...
    def count_pending(self, domain: Any, kind: str, name: str) -> int: ...


FAULT = "com.amazonaws.swf.base.model#"


class AlreadyStarted(SWFClientError):
    """WorkflowExecutionAlreadyStartedFault with SWF's empty message (moto's: "Already Started")."""

    def __init__(self) -> None:
        super().__init__(f"{FAULT}WorkflowExecutionAlreadyStartedFault", "")


class TypeNotDeprecated(SWFClientError):
    """TypeNotDeprecatedFault: a type is deleted only once deprecated (moto has no DeleteWorkflowType)."""

    def __init__(self, kind: str, name: str, version: str) -> None:
        super().__init__(f"{FAULT}TypeNotDeprecatedFault", f"{kind.capitalize()}Type=[name={name}, version={version}]")


class LimitExceeded(SWFClientError):
    """LimitExceededFault: a limit of SWF's was reached (moto never answers it)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{FAULT}LimitExceededFault", message)


class TooManyTags(SWFClientError):
    """TooManyTagsFault: more tags on a domain than SWF keeps."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{FAULT}TooManyTagsFault", message)


class UnknownToken(SWFClientError):
    """A task token this SWF never handed out (moto: ValidationException "Invalid token")."""

    def __init__(self) -> None:
        super().__init__(f"{FAULT}UnknownResourceFault", "Unknown task token")


# Members SWF writes as 0 or NONE where moto writes nothing (moto's HistoryEvent drops every falsy value).
EVENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "WorkflowExecutionStarted": {"parent_initiated_event_id": 0},
    "DecisionTaskScheduled": {"schedule_to_start_timeout": "NONE"},
    "ActivityTaskTimedOut": {"started_event_id": 0},
    "ActivityTaskCanceled": {"started_event_id": 0},
}

# Decisions moto carries out (its own code) and the ones this layer adds; the rest are refused up front.
SUPPORTED_DECISIONS = frozenset({
    "ScheduleActivityTask", "RequestCancelActivityTask", "StartTimer", "CancelTimer", "RecordMarker",
    "CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution", "StartChildWorkflowExecution",
    "ContinueAsNewWorkflowExecution", "SignalExternalWorkflowExecution", "RequestCancelExternalWorkflowExecution",
})
CLOSING_DECISIONS = ("CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution")
SECONDS_PER_DAY = 86_400.0

# What a new execution (a child, a run continued as new) takes from its decision, else from its type's defaults:
# (the decision's member, moto's keyword, the type's attribute, the cause when neither gives it), in SWF's order.
DEFAULTED = (
    ("executionStartToCloseTimeout", "execution_start_to_close_timeout", "default_execution_start_to_close_timeout",
     "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
    ("taskList", "task_list", "task_list", "DEFAULT_TASK_LIST_UNDEFINED"),
    ("taskStartToCloseTimeout", "task_start_to_close_timeout", "default_task_start_to_close_timeout",
     "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
    ("childPolicy", "child_policy", "default_child_policy", "DEFAULT_CHILD_POLICY_UNDEFINED"),
)

# A child's close status -> the event its parent gets, and the members of the child's closing event it carries.
CHILD_CLOSED = {
    "COMPLETED": ("ChildWorkflowExecutionCompleted", ("result",)),
    "FAILED": ("ChildWorkflowExecutionFailed", ("reason", "details")),
    "CANCELED": ("ChildWorkflowExecutionCanceled", ("details",)),
    "TERMINATED": ("ChildWorkflowExecutionTerminated", ()),
    "TIMED_OUT": ("ChildWorkflowExecutionTimedOut", ("timeoutType",)),
}
EXTERNAL_DECISIONS = ("StartChildWorkflowExecution", "SignalExternalWorkflowExecution",
                      "RequestCancelExternalWorkflowExecution")


def workflow_type_cause(registered: WorkflowType | None) -> str | None:
    """Why a new execution of this type cannot start (None: it can)."""
    if registered is None:
        return "WORKFLOW_TYPE_DOES_NOT_EXIST"
    return "WORKFLOW_TYPE_DEPRECATED" if registered.status == "DEPRECATED" else None


def new_run_settings(registered: WorkflowType, attrs: dict[str, Any]) -> dict[str, Any] | str:
    """A new execution's settings (moto's keywords) from a decision and its type's defaults, or the DEFAULT_* cause."""
    found: dict[str, Any] = {}
    for member, key, default, cause in DEFAULTED:
        value = attrs.get(member)
        if member == "taskList":
            value = (value or {}).get("name")
        value = value or getattr(registered, default, None)
        if not value:
            return cause
        found[key] = value
    found["task_priority"] = attrs.get("taskPriority") or getattr(registered, "default_task_priority", None)
    found["tag_list"] = attrs.get("tagList")
    found["workflow_input"] = attrs.get("input")
    return found


def seconds(value: Any) -> float | None:
    """A timeout as SWF writes it ('30', 'NONE') in seconds; None for NONE."""
    if value is None or str(value).upper() == "NONE":
        return None
    return float(value)


class Event(HistoryEvent):
    """A history event of any SWF type; moto's own class refuses the types it does not know (cancellation's)."""

    def __init__(self, event_id: int, event_type: str, event_timestamp: float | None = None, **kwargs: Any):
        # moto builds the attributes the same way whatever the type: build it as a type moto knows, then name it.
        super().__init__(event_id, EVENT_STAND_IN, event_timestamp, **kwargs)
        self.event_type = event_type
        for key, value in kwargs.items():  # moto drops falsy values; SWF writes a 0 id
            if value == 0 and type(value) is int:
                self.event_attributes[underscores_to_camelcase(key)] = 0


class Execution(WorkflowExecution):
    """One workflow execution, as SWF runs it."""

    def __init__(self, engine: EngineHooks, domain: SwfDomain, workflow_type: WorkflowType, workflow_id: str, **kwargs: Any):
        super().__init__(domain, workflow_type, workflow_id, **kwargs)
        self.engine = engine
        self.own_activity_tasks: list[ActivityTask] = []
        self.own_decision_tasks: list[DecisionTask] = []  # the open ones: scheduled or started
        self.timers: dict[str, int] = {}  # open timer id -> its TimerStarted event id
        self.issued_tokens: list[str] = []  # every task token handed out for it, dropped with it
        self.answered_started_event_id = 0  # the DecisionTaskStarted of the last decision task answered
        self.should_schedule_decision_next = False
        self.closing = False  # terminating for its history's size: no further event limit check
        self.children: dict[str, Execution] = {}  # its open child executions, by run id
        self.parent_link: tuple[Execution, int] | None = None  # the parent and its StartChild...Initiated event id
        self.parent_started_event_id = 0  # the parent's ChildWorkflowExecutionStarted for this child
        self.continued_from: str | None = None  # the run this one continues as new
        self.after_decisions: list[Callable[[], None]] = []  # what SWF does once a decision task's decisions are in
        self.task_priority = str(kwargs.get("task_priority") or getattr(workflow_type, "default_task_priority", None) or "0")

    # -- indexes instead of scans of the whole domain ---------------------------------------------

    @property
    def activity_tasks(self) -> list[ActivityTask]:
        return self.own_activity_tasks

    @property
    def decision_tasks(self) -> list[DecisionTask]:
        return self.own_decision_tasks

    def next_event_id(self) -> int:
        return len(self._events) + 1

    def _add_event(self, event_type: str, *args: Any, **kwargs: Any) -> HistoryEvent:
        if event_type in ("WorkflowExecutionStarted", "DecisionTaskScheduled"):
            kwargs.setdefault("task_priority", self.task_priority)  # moto leaves it out
        for key, value in EVENT_DEFAULTS.get(event_type, {}).items():
            if kwargs.get(key) is None:
                kwargs[key] = value
        event = Event(len(self._events) + 1, event_type, *args, **kwargs)
        self._events.append(event)
        if self.open and not self.closing and len(self._events) >= self.engine.faults.limits.history_events - 1:
            self.closing = True  # room for one last event: the termination's
            self.terminate(details=None, reason=None, cause="EVENT_LIMIT_EXCEEDED")
        return event

    def _process_timeouts(self) -> None:
        """Timeouts are the engine's: on time, from its clock, never from a scan on the next call."""

    # -- what describe and list answer --------------------------------------------------------------

    def to_medium_dict(self) -> dict[str, Any]:
        info = super().to_medium_dict()
        info["startTimestamp"] = self.start_timestamp  # moto answers a fixed 2014 time here
        if self.parent:
            info["parent"] = self.parent
        return info

    def to_full_dict(self) -> dict[str, Any]:
        info = super().to_full_dict()
        info["openCounts"] = {**self.open_counts, "openTimers": len(self.timers),
                              "openChildWorkflowExecutions": len(self.children)}
        return info

    # -- starting -----------------------------------------------------------------------------------

    def start(self) -> None:
        """WorkflowExecutionStarted with its parent, the run it continues and its tags (moto writes none of them)."""
        self.start_timestamp = unix_time()
        parent, initiated = self.parent_link or (None, 0)
        self._add_event(
            "WorkflowExecutionStarted", child_policy=self.child_policy, task_list=self.task_list,
            execution_start_to_close_timeout=self.execution_start_to_close_timeout,
            task_start_to_close_timeout=self.task_start_to_close_timeout, workflow_type=self.workflow_type,
            input=self.input, tag_list=self.tag_list or None, continued_execution_run_id=self.continued_from,
            parent_workflow_execution=parent.to_short_dict() if parent else None, parent_initiated_event_id=initiated)
        self.schedule_decision_task()

    def begin(self) -> None:
        """Add it to its domain and start it: all or nothing (a start that failed leaves no execution behind)."""
        domain: SwfDomain = self.domain  # type: ignore[assignment]
        domain.add_workflow_execution(self)
        try:
            self.start()
            self.engine.execution_started(self)
        except Exception:
            domain.runs.pop(self.run_id, None)
            domain.open_runs.pop(self.workflow_id, None)
            raise

    # -- decision tasks -----------------------------------------------------------------------------

    def _schedule_decision_task(self) -> None:
        if not self.open:
            return  # closed meanwhile (its history's limit): nothing more to decide
        if any(t.state == "SCHEDULED" for t in self.own_decision_tasks):
            return  # SWF keeps one decision task scheduled at most; moto adds one per event
        super()._schedule_decision_task()

    def start_decision_task(self, task_token: str, identity: str | None = None) -> None:
        """previousStartedEventId is the last decision task the decider answered (moto: the last started, even one that
        timed out, whose news would then never be told)."""
        task = self._find_decision_task(task_token)
        event = self._add_event("DecisionTaskStarted", scheduled_event_id=task.scheduled_event_id, identity=identity)
        task.start(event.event_id, self.answered_started_event_id)

    def decision_task_ended(self, task: DecisionTask) -> None:
        """A decision task completed or timed out: the next one may now be handed out."""
        if task in self.own_decision_tasks:
            self.own_decision_tasks.remove(task)
        self.engine.decisions_unblocked(self)

    def complete_decision_task(self, task_token: str, decisions: list[dict[str, Any]] | None = None,
                               execution_context: str | None = None) -> None:
        task = self._find_decision_task(task_token)
        super().complete_decision_task(task_token, decisions, execution_context)
        self.answered_started_event_id = task.started_event_id or 0
        self.decision_task_ended(task)

    def handle_decisions(self, event_id: int, decisions: list[dict[str, Any]]) -> None:
        for decision in decisions:
            if not self.open:
                break  # terminated meanwhile (its history's limit)
            kind = decision["decisionType"]
            attrs = decision.get(f"{decapitalize(kind)}DecisionAttributes", {})
            if kind in self.engine.faults.limits.deny:
                self._not_permitted(event_id, kind, attrs)
            elif kind == "CompleteWorkflowExecution":
                self.complete(event_id, attrs.get("result"))
            elif kind == "FailWorkflowExecution":
                self.fail(event_id, attrs.get("details"), attrs.get("reason"))
            elif kind == "CancelWorkflowExecution":
                self.cancel(event_id, attrs.get("details"))
            elif kind == "ScheduleActivityTask":
                self.schedule_activity_task(event_id, attrs)
            elif kind == "RequestCancelActivityTask":
                self.request_cancel_activity(event_id, attrs["activityId"])
            elif kind == "StartTimer":
                self.start_timer(event_id, attrs)
            elif kind == "CancelTimer":
                self.cancel_timer(event_id, attrs["timerId"])
            elif kind == "RecordMarker":
                self.record_marker(event_id, attrs)
            elif kind == "StartChildWorkflowExecution":
                self.start_child(event_id, attrs)
            elif kind == "ContinueAsNewWorkflowExecution":
                self.continue_as_new(event_id, attrs)
            elif kind in ("SignalExternalWorkflowExecution", "RequestCancelExternalWorkflowExecution"):
                self.initiate_external(event_id, kind, attrs)
        after, self.after_decisions = self.after_decisions, []
        for action in after:
            action()
        self.open_counts["openDecisionTasks"] -= 1

    def _not_permitted(self, event_id: int, kind: str, attrs: dict[str, Any]) -> None:
        """A decision refused as SWF refuses one the decider's IAM policy does not allow (--faults deny=)."""
        extra: dict[str, Any] = {camelcase_to_underscores(k): attrs[k] for k in ("activityId", "timerId", "markerName")
                                 if k in attrs}
        if "activityType" in attrs:
            extra["activity_type"] = ActivityType(attrs["activityType"]["name"], attrs["activityType"]["version"])
        if kind in EXTERNAL_DECISIONS:  # refused before any Initiated event: SWF writes initiatedEventId 0
            extra.update(workflow_id=attrs.get("workflowId"), control=attrs.get("control"), initiated_event_id=0)
            if "workflowType" in attrs:
                extra["workflow_type"] = WorkflowType(attrs["workflowType"]["name"], attrs["workflowType"]["version"])
            else:
                extra["run_id"] = attrs.get("runId")
        self._add_event(f"{kind}Failed", cause="OPERATION_NOT_PERMITTED", decision_task_completed_event_id=event_id,
                        **extra)
        self.should_schedule_decision_next = True

    # -- closing ------------------------------------------------------------------------------------

    def _unhandled(self, event_id: int, event_type: str) -> bool:
        """True (and the refusal recorded) when events came in while the decision task was under way."""
        if not any(t.state == "SCHEDULED" for t in self.own_decision_tasks):
            return False
        self._add_event(event_type, cause="UNHANDLED_DECISION", decision_task_completed_event_id=event_id)
        return True

    def closed(self, child_policy: str | None = None, *, apply_policy: bool = False) -> None:
        """It has closed: the engine told, the parent told; on terminate or timeout only, the child policy applied."""
        self.engine.execution_closed(self)
        self.tell_parent()
        children, self.children = list(self.children.values()), {}
        if not apply_policy:  # SWF: the policy is for "terminated ... or due to an expired timeout"; else they run on
            return
        policy = child_policy or self.child_policy
        for child in children:
            if not child.open:
                continue
            if policy == "TERMINATE":
                child.terminate(cause="CHILD_POLICY_APPLIED")
            elif policy == "REQUEST_CANCEL":
                child.request_cancel(cause="CHILD_POLICY_APPLIED")

    def tell_parent(self) -> None:
        """A child closed: its parent, while open, gets ChildWorkflowExecution<Status> and a decision task."""
        if self.parent_link is None:
            return
        parent, initiated = self.parent_link
        parent.children.pop(self.run_id, None)
        found = CHILD_CLOSED.get(str(self.close_status))
        if not parent.open or found is None:
            return
        event_type, members = found
        closing = self._events[-1].event_attributes  # the child's own closing event
        parent._add_event(
            event_type, workflow_execution=self.to_short_dict(), workflow_type=self.workflow_type,
            initiated_event_id=initiated, started_event_id=self.parent_started_event_id,
            **{camelcase_to_underscores(m): closing.get(m) for m in members})
        parent.schedule_decision_task()

    def complete(self, event_id: int, result: Any = None) -> None:
        if not self._unhandled(event_id, "CompleteWorkflowExecutionFailed"):
            super().complete(event_id, result)
            self.closed()

    def fail(self, event_id: int, details: Any = None, reason: str | None = None) -> None:
        if not self._unhandled(event_id, "FailWorkflowExecutionFailed"):
            super().fail(event_id, details, reason)
            self.closed()

    def cancel(self, event_id: int, details: Any = None) -> None:
        if self._unhandled(event_id, "CancelWorkflowExecutionFailed"):
            return
        self.execution_status, self.close_status, self.close_timestamp = "CLOSED", "CANCELED", unix_time()
        self._add_event("WorkflowExecutionCanceled", decision_task_completed_event_id=event_id, details=details)
        self.closed()

    def terminate(self, child_policy: str | None = None, details: Any = None, reason: str | None = None,
                  cause: str | None = None) -> None:
        self.closing = True
        if cause is None:
            super().terminate(child_policy, details, reason)
        else:  # moto writes no cause
            self.execution_status, self.close_status = "CLOSED", "TERMINATED"
            self.close_cause = cause
            self._add_event("WorkflowExecutionTerminated", child_policy=child_policy or self.child_policy,
                            details=details, reason=reason, cause=cause)
        self.close_timestamp = unix_time()  # moto leaves it out
        self.closed(child_policy, apply_policy=True)

    def timeout(self, timeout: Any) -> None:
        super().timeout(timeout)
        self.close_timestamp = timeout.timestamp  # moto leaves it out
        self.closed(apply_policy=True)

    def request_cancel(self, cause: str | None = None, external: dict[str, str] | None = None,
                       initiated_event_id: int | None = None) -> None:
        """A cancel request (the API's, a child policy's, another execution's): recorded, and the decider asked."""
        self.cancel_requested = True
        self._add_event("WorkflowExecutionCancelRequested", cause=cause, external_workflow_execution=external,
                        external_initiated_event_id=initiated_event_id)
        self.schedule_decision_task()

    # -- child executions ---------------------------------------------------------------------------

    def start_child(self, event_id: int, attrs: dict[str, Any]) -> None:
        """The StartChildWorkflowExecution decision: Initiated, the child started, ChildWorkflowExecutionStarted."""
        wanted = attrs["workflowType"]
        registered: WorkflowType | None = self.domain.get_type(  # type: ignore[assignment]
            "workflow", str(wanted["name"]), str(wanted["version"]), ignore_empty=True)
        cause = workflow_type_cause(registered)
        settings = new_run_settings(registered, attrs) if registered is not None and cause is None else {}
        if isinstance(settings, str):
            cause = settings
        elif cause is None and len(self.children) >= self.engine.faults.limits.open_children:
            cause = "OPEN_CHILDREN_LIMIT_EXCEEDED"
        if cause is not None or registered is None or isinstance(settings, str):
            self.child_failed(event_id, attrs, str(cause), 0)
            return
        initiated = self._add_event(
            "StartChildWorkflowExecutionInitiated", workflow_id=attrs["workflowId"], workflow_type=registered,
            control=attrs.get("control"), input=settings["workflow_input"], task_list=settings["task_list"],
            execution_start_to_close_timeout=settings["execution_start_to_close_timeout"],
            task_start_to_close_timeout=settings["task_start_to_close_timeout"], child_policy=settings["child_policy"],
            task_priority=str(settings["task_priority"] or "0"), tag_list=settings["tag_list"],
            decision_task_completed_event_id=event_id).event_id
        if attrs["workflowId"] in self.domain.open_runs:  # type: ignore[attr-defined]
            self.child_failed(event_id, attrs, "WORKFLOW_ALREADY_RUNNING", initiated)
            return
        child = Execution(self.engine, self.domain, registered, attrs["workflowId"], **settings)  # type: ignore[arg-type]
        child.parent_link, child.parent = (self, initiated), self.to_short_dict()  # type: ignore[assignment]
        child.begin()
        self.children[child.run_id] = child
        self.after_decisions.append(lambda: self.child_started(child, initiated))
        self.should_schedule_decision_next = True

    def child_failed(self, event_id: int, attrs: dict[str, Any], cause: str, initiated: int) -> None:
        """StartChildWorkflowExecutionFailed, and the decider asked again."""
        wanted = attrs["workflowType"]
        self._add_event(
            "StartChildWorkflowExecutionFailed", workflow_type=WorkflowType(wanted["name"], wanted["version"]),
            workflow_id=attrs["workflowId"], cause=cause, initiated_event_id=initiated, control=attrs.get("control"),
            decision_task_completed_event_id=event_id)
        self.should_schedule_decision_next = True

    def child_started(self, child: Execution, initiated: int) -> None:
        """ChildWorkflowExecutionStarted, once the decision task's own events are in (SWF writes it after them)."""
        if self.open and child.run_id in self.children:
            child.parent_started_event_id = self._add_event(
                "ChildWorkflowExecutionStarted", workflow_execution=child.to_short_dict(),
                workflow_type=child.workflow_type, initiated_event_id=initiated).event_id

    # -- continue as new ----------------------------------------------------------------------------

    def continue_as_new(self, event_id: int, attrs: dict[str, Any]) -> None:
        """The ContinueAsNewWorkflowExecution decision: this run closes CONTINUED_AS_NEW, a new one starts."""
        if self._unhandled(event_id, "ContinueAsNewWorkflowExecutionFailed"):
            return
        version = attrs.get("workflowTypeVersion") or self.workflow_type.version
        registered: WorkflowType | None = self.domain.get_type(  # type: ignore[assignment]
            "workflow", self.workflow_type.name, str(version), ignore_empty=True)
        cause = workflow_type_cause(registered)
        settings = new_run_settings(registered, attrs) if registered is not None and cause is None else {}
        if cause is not None or isinstance(settings, str) or registered is None:
            self._add_event("ContinueAsNewWorkflowExecutionFailed", cause=cause or settings,
                            decision_task_completed_event_id=event_id)
            self.should_schedule_decision_next = True
            return
        new = Execution(self.engine, self.domain, registered, self.workflow_id, **settings)  # type: ignore[arg-type]
        new.continued_from = self.run_id
        # a child that continues as new is still its parent's child: the new run is the one the parent hears from
        new.parent_link, new.parent, new.parent_started_event_id = self.parent_link, self.parent, self.parent_started_event_id
        if self.parent_link is not None:
            parent = self.parent_link[0]
            parent.children.pop(self.run_id, None)
            parent.children[new.run_id] = new
            self.parent_link = None
        self._add_event(
            "WorkflowExecutionContinuedAsNew", decision_task_completed_event_id=event_id, new_execution_run_id=new.run_id,
            input=settings["workflow_input"], task_list=settings["task_list"], workflow_type=registered,
            execution_start_to_close_timeout=settings["execution_start_to_close_timeout"],
            task_start_to_close_timeout=settings["task_start_to_close_timeout"], child_policy=settings["child_policy"],
            task_priority=str(settings["task_priority"] or "0"), tag_list=settings["tag_list"])
        self.execution_status, self.close_status, self.close_timestamp = "CLOSED", "CONTINUED_AS_NEW", unix_time()
        self.closed()
        new.begin()

    # -- signals and cancellations of other executions ------------------------------------------------

    def initiate_external(self, event_id: int, kind: str, attrs: dict[str, Any]) -> None:
        """Signal or RequestCancel External: Initiated now, carried out once the decision task's own events are in."""
        signal = kind == "SignalExternalWorkflowExecution"
        extra = {"signal_name": attrs.get("signalName"), "input": attrs.get("input")} if signal else {}
        initiated = self._add_event(
            f"{kind}Initiated", workflow_id=attrs["workflowId"], run_id=attrs.get("runId"), control=attrs.get("control"),
            decision_task_completed_event_id=event_id, **extra).event_id
        self.after_decisions.append(lambda: self.carry_out_external(event_id, kind, attrs, initiated))
        self.should_schedule_decision_next = True

    def carry_out_external(self, event_id: int, kind: str, attrs: dict[str, Any], initiated: int) -> None:
        """The target signaled or asked to cancel, and this execution told how it went."""
        target: Execution | None = self.domain.get_workflow_execution(  # type: ignore[assignment]
            attrs["workflowId"], run_id=attrs.get("runId"), raise_if_none=False, raise_if_closed=True)
        signal = kind == "SignalExternalWorkflowExecution"
        if target is not None:
            if signal:
                target._add_event("WorkflowExecutionSignaled", signal_name=attrs["signalName"], input=attrs.get("input"),
                                  external_workflow_execution=self.to_short_dict(), external_initiated_event_id=initiated)
                target.schedule_decision_task()
            else:
                target.request_cancel(external=self.to_short_dict(), initiated_event_id=initiated)
        if not self.open:
            return
        if target is None:
            self._add_event(
                f"{kind}Failed", workflow_id=attrs["workflowId"], run_id=attrs.get("runId"),
                cause="UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION", initiated_event_id=initiated,
                decision_task_completed_event_id=event_id, control=attrs.get("control"))
        else:
            done = "ExternalWorkflowExecutionSignaled" if signal else "ExternalWorkflowExecutionCancelRequested"
            self._add_event(done, workflow_execution=target.to_short_dict(), initiated_event_id=initiated)

    # -- activities ---------------------------------------------------------------------------------

    def schedule_activity_task(self, event_id: int, attributes: dict[str, Any]) -> None:
        atype = attributes.get("activityType") or {}
        registered = self.domain.get_type("activity", str(atype.get("name")), str(atype.get("version")), ignore_empty=True)
        if registered is not None and registered.status == "REGISTERED":
            task_list = (attributes.get("taskList") or {}).get("name") or registered.task_list
            cause = self.engine.faults.schedule_refused(
                self.open_counts["openActivityTasks"], (self.domain.name, task_list), self.engine.clock())
            if cause is not None:
                self._add_event(
                    "ScheduleActivityTaskFailed", activity_id=attributes["activityId"], activity_type=registered,
                    cause=cause, decision_task_completed_event_id=event_id)
                self.should_schedule_decision_next = True
                return
        count = len(self._events)
        super().schedule_activity_task(event_id, attributes)
        scheduled = [e for e in self._events[count:] if e.event_type == "ActivityTaskScheduled"]
        if scheduled and registered is not None:  # moto writes only the timeouts given, not the type's defaults
            task = self.own_activity_tasks[-1]
            priority = attributes.get("taskPriority") or getattr(registered, "default_task_priority", None) or "0"
            task.task_priority = str(priority)  # type: ignore[attr-defined]
            scheduled[0].event_attributes.update({**task.timeouts, "taskPriority": str(priority)})

    def request_cancel_activity(self, event_id: int, activity_id: str) -> None:
        """The RequestCancelActivityTask decision (moto has none)."""
        task = next((t for t in self.own_activity_tasks if t.activity_id == activity_id and t.open), None)
        if task is None:
            self._add_event("RequestCancelActivityTaskFailed", activity_id=activity_id, cause="ACTIVITY_ID_UNKNOWN",
                            decision_task_completed_event_id=event_id)
            self.should_schedule_decision_next = True
            return
        event = self._add_event("ActivityTaskCancelRequested", activity_id=activity_id,
                                decision_task_completed_event_id=event_id)
        task.cancel_requested_event_id = event.event_id  # type: ignore[attr-defined]
        if task.state == "SCHEDULED":  # no worker has it: canceled at once
            self.cancel_activity(task, None, from_decision=True)

    def cancel_activity(self, task: ActivityTask, details: str | None, *, from_decision: bool = False) -> None:
        """Close an activity as CANCELED (the worker answered RespondActivityTaskCanceled, or nobody had it)."""
        task.state = "CANCELED"
        self._add_event(
            "ActivityTaskCanceled", details=details, scheduled_event_id=task.scheduled_event_id,
            started_event_id=task.started_event_id,
            latest_cancel_requested_event_id=getattr(task, "cancel_requested_event_id", None))
        self.open_counts["openActivityTasks"] -= 1
        if from_decision:
            self.should_schedule_decision_next = True
        else:
            self.schedule_decision_task()

    def activity_timed_out(self, task: ActivityTask, timeout: Any) -> None:
        """An activity's timeout came: recorded, counted, and the decider asked."""
        self.timeout_activity_task(timeout)
        self.open_counts["openActivityTasks"] -= 1  # moto forgets this
        self.schedule_decision_task()

    def decision_timed_out(self, task: DecisionTask, timeout: Any) -> None:
        """A decision task's START_TO_CLOSE timeout came: recorded, and a new decision task."""
        self.timeout_decision_task(timeout)
        self.open_counts["openDecisionTasks"] -= 1  # moto forgets this
        self.decision_task_ended(task)
        self.schedule_decision_task()

    # -- timers: on the engine's clock, not one thread each -----------------------------------------

    def start_timer(self, event_id: int, attributes: dict[str, Any]) -> None:
        timer_id = attributes["timerId"]
        cause = "TIMER_ID_ALREADY_IN_USE" if timer_id in self.timers else self.engine.faults.timer_refused(
            len(self.timers), self.run_id, self.engine.clock())
        if cause is not None:
            self._add_event("StartTimerFailed", cause=cause, decision_task_completed_event_id=event_id, timer_id=timer_id)
            self.should_schedule_decision_next = True
            return
        delay = attributes["startToFireTimeout"]
        started = self._add_event(
            "TimerStarted", control=attributes.get("control"), decision_task_completed_event_id=event_id,
            start_to_fire_timeout=delay, timer_id=timer_id).event_id
        self.timers[timer_id] = started
        self.open_counts["openTimers"] = len(self.timers)
        self.engine.at(self.engine.clock() + float(delay), self.fire_timer, timer_id, started)

    def fire_timer(self, due: float, timer_id: str, started_event_id: int) -> None:
        """The engine's clock reached the timer: TimerFired and a decision task, unless it was canceled."""
        if not self.open or self.timers.get(timer_id) != started_event_id:
            return
        del self.timers[timer_id]
        self.open_counts["openTimers"] = len(self.timers)
        self._add_event("TimerFired", started_event_id=started_event_id, timer_id=timer_id)
        self.schedule_decision_task()

    def cancel_timer(self, event_id: int, timer_id: str) -> None:
        started = self.timers.pop(timer_id, None)
        self.open_counts["openTimers"] = len(self.timers)
        if started is None:
            self._add_event("CancelTimerFailed", cause="TIMER_ID_UNKNOWN", timer_id=timer_id,
                            decision_task_completed_event_id=event_id)
            self.should_schedule_decision_next = True
            return
        # SWF's event is TimerCanceled; moto writes TimerCancelled
        self._add_event("TimerCanceled", decision_task_completed_event_id=event_id, started_event_id=started,
                        timer_id=timer_id)


class SwfDomain(Domain):
    """A domain with its executions indexed by run id and open workflow id (its task lists are the engine's)."""

    def __init__(self, engine: EngineHooks, name: str, retention: Any, account_id: str, region_name: str,
                 description: str | None = None):
        super().__init__(name, retention, account_id=account_id, region_name=region_name, description=description)
        self.engine = engine
        self.runs: dict[str, Execution] = {}  # every execution still within retention, by run id
        self.open_runs: dict[str, Execution] = {}  # workflow id -> its open execution

    @property
    def retention_seconds(self) -> float:
        """How long a closed execution is kept ('NONE' or 0: not at all)."""
        text = str(self.retention)
        return float(text) * SECONDS_PER_DAY if text.isdigit() else 0.0

    def add_workflow_execution(self, workflow_execution: WorkflowExecution) -> None:
        wfe = workflow_execution
        if wfe.workflow_id in self.open_runs:
            raise AlreadyStarted()
        self.runs[wfe.run_id] = wfe  # type: ignore[assignment]
        self.open_runs[wfe.workflow_id] = wfe  # type: ignore[assignment]

    def get_workflow_execution(self, workflow_id: str, run_id: str | None = None, raise_if_none: bool = True,
                               raise_if_closed: bool = False) -> WorkflowExecution | None:
        if run_id:
            wfe: Execution | None = self.runs.get(run_id)
            if wfe is not None and wfe.workflow_id != workflow_id:
                wfe = None
        else:
            wfe = self.open_runs.get(workflow_id)
        if raise_if_closed and wfe is not None and not wfe.open:
            wfe = None
        if wfe is None and raise_if_none:
            if run_id:
                raise SWFUnknownResourceFault("execution", f"WorkflowExecution=[workflowId={workflow_id}, runId={run_id}]")
            raise SWFUnknownResourceFault(f"execution, workflowId = {workflow_id}")
        return wfe

    def add_to_activity_task_list(self, task_list: Any, obj: ActivityTask) -> None:
        wfe: Execution = obj.workflow_execution  # type: ignore[assignment]
        wfe.own_activity_tasks.append(obj)
        self.engine.activity_scheduled(self, str(task_list), obj)

    def add_to_decision_task_list(self, task_list: str, obj: DecisionTask) -> None:
        wfe: Execution = obj.workflow_execution  # type: ignore[assignment]
        wfe.own_decision_tasks.append(obj)
        self.engine.decision_scheduled(self, task_list, obj)

    @property
    def activity_tasks(self) -> list[ActivityTask]:
        return [t for wfe in self.runs.values() for t in wfe.own_activity_tasks]

    @property
    def decision_tasks(self) -> list[DecisionTask]:
        return [t for wfe in self.runs.values() for t in wfe.own_decision_tasks]


class Backend(SWFBackend):
    """moto's SWF backend for one account and region, with this layer's models and indexes."""

    def __init__(self, region_name: str, account_id: str, engine: EngineHooks):
        super().__init__(region_name, account_id)
        self.engine = engine

    def _process_timeouts(self) -> None:
        """The engine's clock does this on time; moto scans every execution ever started on each call."""

    def _get_domain(self, name: str, ignore_empty: bool = False) -> SwfDomain:
        return super()._get_domain(name, ignore_empty)  # type: ignore[return-value]

    def register_domain(self, name: str, workflow_execution_retention_period_in_days: int,
                        description: str | None = None, tags: list[dict[str, str]] | None = None) -> None:
        if self._get_domain(name, ignore_empty=True):
            raise SWFDomainAlreadyExistsFault(name)
        domain = SwfDomain(self.engine, name, workflow_execution_retention_period_in_days,
                           account_id=self.account_id, region_name=self.region_name, description=description)
        self.domains.append(domain)
        if tags:
            self.tagger.tag_resource(domain.to_short_dict()["arn"], tags)

    def check_domain_tags(self, tags: list[dict[str, Any]]) -> None:
        """TooManyTagsFault for more tags than a domain keeps (checked before anything is registered)."""
        if len({t["key"] for t in tags}) > MAX_TAGS:
            raise TooManyTags(f"a domain has at most {MAX_TAGS} tags")

    def register_type(self, kind: str, domain_name: str, name: str, version: str, **kwargs: Any) -> None:
        if self._get_domain(domain_name).status == "DEPRECATED":  # moto registers it anyway
            raise SWFDomainDeprecatedFault(domain_name)
        super().register_type(kind, domain_name, name, version, **kwargs)

    def delete_type(self, kind: str, domain_name: str, name: str, version: str) -> None:
        """DeleteWorkflowType, DeleteActivityType (moto has neither): a deprecated type only."""
        domain = self._get_domain(domain_name)
        found = domain.get_type(kind, name, version)
        if found.status != "DEPRECATED":
            raise TypeNotDeprecated(kind, name, version)
        del domain.types[kind][name][version]

    def domain_for_arn(self, arn: str) -> SwfDomain:
        """The domain an ARN names (a domain is SWF's only taggable resource); UnknownResourceFault if none."""
        found = next((d for d in self.domains if d.to_short_dict()["arn"] == arn), None)
        if found is None:
            raise SWFUnknownResourceFault("resource", arn)
        return found  # type: ignore[return-value]

    def tag(self, arn: str, tags: list[dict[str, Any]]) -> None:
        """TagResource: tags on a domain that exists, the value optional, at most SWF's count."""
        self.domain_for_arn(arn)
        have = {t["Key"] for t in self.tagger.list_tags_for_resource(arn).get("Tags", [])}
        if len(have | {t["key"] for t in tags}) > MAX_TAGS:
            raise TooManyTags(f"a domain has at most {MAX_TAGS} tags")
        self.tagger.tag_resource(arn, [{"Key": t["key"], "Value": t.get("value", "")} for t in tags])

    def start_workflow_execution(self, domain_name: str, workflow_id: str, workflow_name: str,
                                 workflow_version: str, tag_list: Any = None, workflow_input: str | None = None,
                                 **kwargs: Any) -> WorkflowExecution:
        domain = self._get_domain(domain_name)
        if domain.status == "DEPRECATED":
            raise SWFDomainDeprecatedFault(domain_name)
        wf_type: WorkflowType = domain.get_type("workflow", workflow_name, workflow_version)  # type: ignore[assignment]
        if wf_type.status == "DEPRECATED":
            raise SWFTypeDeprecatedFault(wf_type)
        wfe = Execution(self.engine, domain, wf_type, workflow_id, tag_list=tag_list, workflow_input=workflow_input,
                        **kwargs)
        wfe.begin()
        return wfe

    def request_cancel_workflow_execution(self, domain_name: str, workflow_id: str, run_id: str | None) -> None:
        """RequestCancelWorkflowExecution (moto has none)."""
        domain = self._get_domain(domain_name)
        wfe = domain.get_workflow_execution(workflow_id, run_id=run_id, raise_if_closed=True)
        wfe.request_cancel()  # type: ignore[union-attr]

    # -- tasks by token ------------------------------------------------------------------------------

    def _task(self, task_token: str, kind: type[Any]) -> Any:
        task: Any = self.engine.tokens.get(task_token)
        if not isinstance(task, kind):
            raise UnknownToken()
        wfe = task.workflow_execution
        if not wfe.open:
            raise SWFUnknownResourceFault("execution", f"WorkflowExecution=[workflowId={wfe.workflow_id}, runId={wfe.run_id}]")
        if task.state != "STARTED":  # timed out, answered or canceled: moto answers a 500 for some of these
            what = "activity" if kind is ActivityTask else "decision task"
            raise SWFUnknownResourceFault(f"{what}, scheduledEventId = {task.scheduled_event_id}")
        return task

    def _find_activity_task_from_token(self, task_token: str) -> ActivityTask:
        return self._task(task_token, ActivityTask)  # type: ignore[no-any-return]

    def record_activity_task_heartbeat(self, task_token: str, details: Any = None) -> None:
        task = self._find_activity_task_from_token(task_token)
        task.last_heartbeat_timestamp = self.engine.clock()
        if details:
            task.details = details

    def respond_activity_task_canceled(self, task_token: str, details: str | None) -> None:
        """RespondActivityTaskCanceled (moto has none)."""
        task = self._find_activity_task_from_token(task_token)
        wfe: Execution = task.workflow_execution  # type: ignore[assignment]
        wfe.cancel_activity(task, details)

    def respond_decision_task_completed(self, task_token: str, decisions: list[dict[str, Any]] | None = None,
                                        execution_context: str | None = None) -> None:
        task: DecisionTask = self._task(task_token, DecisionTask)
        decisions = decisions or []
        refused = sorted({d.get("decisionType") for d in decisions} - SUPPORTED_DECISIONS, key=str)
        if refused:
            raise SWFValidationException(f"the embedded SWF does not carry out these decisions: {', '.join(map(str, refused))}")
        most = self.engine.faults.limits.max_decisions
        if most is not None and len(decisions) > most:
            raise SWFValidationException(
                f"1 validation error detected: Value at 'decisions' failed to satisfy constraint: "
                f"Member must have length less than or equal to {most}")
        task.workflow_execution.complete_decision_task(task_token, decisions, execution_context)

    # -- lists, counts ---------------------------------------------------------------------------------

    def count_pending_activity_tasks(self, domain_name: str, task_list: Any) -> int:
        return self.engine.count_pending(self._get_domain(domain_name), "activity", str(task_list))

    def count_pending_decision_tasks(self, domain_name: str, task_list: Any) -> int:
        return self.engine.count_pending(self._get_domain(domain_name), "decision", str(task_list))

    def executions(self, domain_name: str) -> list[Execution]:
        """Every execution of the domain still within its retention."""
        domain = self._get_domain(domain_name)
        if domain.status == "DEPRECATED":
            raise SWFDomainDeprecatedFault(domain_name)
        return list(domain.runs.values())

