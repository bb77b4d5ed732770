"""SWF's decisions as values: a Decision knows its type and its attributes, and writes itself as the dict
RespondDecisionTaskCompleted takes (as simpleflow's decision models do). Pure, like decide and fold.

The rule "a type's attributes live under its camel-cased name" is written once, here (`attributes_key`).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .limits import MAX_DATA, MAX_REASON, cut, cut_middle


def attributes_key(name: str, kind: str) -> str:
    """Where SWF puts an object's attributes: ('ScheduleActivityTask', 'Decision') -> 'scheduleActivityTaskDecisionAttributes'."""
    return f"{name[:1].lower()}{name[1:]}{kind}Attributes"


class DecisionType(str, enum.Enum):
    """Every decision type in SWF's API (botocore's DecisionType)."""

    SCHEDULE_ACTIVITY_TASK = "ScheduleActivityTask"
    REQUEST_CANCEL_ACTIVITY_TASK = "RequestCancelActivityTask"
    COMPLETE_WORKFLOW_EXECUTION = "CompleteWorkflowExecution"
    FAIL_WORKFLOW_EXECUTION = "FailWorkflowExecution"
    CANCEL_WORKFLOW_EXECUTION = "CancelWorkflowExecution"
    CONTINUE_AS_NEW_WORKFLOW_EXECUTION = "ContinueAsNewWorkflowExecution"
    RECORD_MARKER = "RecordMarker"
    START_TIMER = "StartTimer"
    CANCEL_TIMER = "CancelTimer"
    SIGNAL_EXTERNAL_WORKFLOW_EXECUTION = "SignalExternalWorkflowExecution"
    REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION = "RequestCancelExternalWorkflowExecution"
    START_CHILD_WORKFLOW_EXECUTION = "StartChildWorkflowExecution"
    SCHEDULE_LAMBDA_FUNCTION = "ScheduleLambdaFunction"

    def __str__(self) -> str:
        return self.value

    @property
    def key(self) -> str:
        """The key of its attributes in a decision: 'startTimerDecisionAttributes'."""
        return attributes_key(self.value, "Decision")

    @property
    def failed_event(self) -> str:
        """The event SWF records when it refuses the decision: 'StartTimerFailed'."""
        return f"{self.value}Failed"

    @property
    def closes(self) -> bool:
        """True for the decisions that close the execution."""
        return self in CLOSING


CLOSING = frozenset({DecisionType.COMPLETE_WORKFLOW_EXECUTION, DecisionType.FAIL_WORKFLOW_EXECUTION,
                     DecisionType.CANCEL_WORKFLOW_EXECUTION, DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION})


@dataclass(frozen=True)
class Decision:
    """One decision: its type and its attributes."""

    type: DecisionType
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """One attribute, or `default`."""
        return self.attributes.get(name, default)

    def with_attributes(self, **changes: Any) -> Decision:
        """The same decision with these attributes changed: a new value, never this one changed in place."""
        return Decision(self.type, {**self.attributes, **changes})

    def to_swf(self) -> dict[str, Any]:
        """As RespondDecisionTaskCompleted takes it."""
        return {"decisionType": self.type.value, self.type.key: dict(self.attributes)}

    @classmethod
    def from_swf(cls, data: Mapping[str, Any]) -> Decision:
        """From the dict SWF takes (a test's, a recorded answer's)."""
        kind = DecisionType(data["decisionType"])
        return cls(kind, dict(data.get(kind.key) or {}))

    def size(self) -> int:
        """Its size in the request, in bytes of JSON (about: what SWF's 1 MB counts)."""
        return len(json.dumps(self.to_swf()))


def to_swf(decisions: list[Decision]) -> list[dict[str, Any]]:
    """Decisions as RespondDecisionTaskCompleted takes them."""
    return [d.to_swf() for d in decisions]


# ---- the decisions the decider makes ------------------------------------------------------------


def fail(reason: str, details: str | None = None) -> Decision:
    """A FailWorkflowExecution decision, reason and details cut to SWF's limits (a reason in its middle, so that
    what to do, at its end, is kept)."""
    attrs = {"reason": cut_middle(reason, MAX_REASON)}
    if details:
        attrs["details"] = cut(details, MAX_DATA)
    return Decision(DecisionType.FAIL_WORKFLOW_EXECUTION, attrs)


def complete(result: str | None) -> Decision:
    """A CompleteWorkflowExecution decision."""
    return Decision(DecisionType.COMPLETE_WORKFLOW_EXECUTION, {} if result is None else {"result": result})


def cancel(details: str | None = None) -> Decision:
    """A CancelWorkflowExecution decision."""
    return Decision(DecisionType.CANCEL_WORKFLOW_EXECUTION, {} if details is None else {"details": cut(details, MAX_DATA)})


def start_timer(timer_id: str, delay: int) -> Decision:
    """A StartTimer decision: the decider waits through SWF, never by sleeping."""
    return Decision(DecisionType.START_TIMER, {"timerId": timer_id, "startToFireTimeout": str(delay)})


def cancel_timer(timer_id: str) -> Decision:
    """A CancelTimer decision."""
    return Decision(DecisionType.CANCEL_TIMER, {"timerId": timer_id})


def request_cancel(activity: str) -> Decision:
    """A RequestCancelActivityTask decision: its worker hears of it on its next heartbeat."""
    return Decision(DecisionType.REQUEST_CANCEL_ACTIVITY_TASK, {"activityId": activity})


def marker(name: str, details: str) -> Decision:
    """A RecordMarker decision."""
    return Decision(DecisionType.RECORD_MARKER, {"markerName": name, "details": cut(details, MAX_DATA)})


def schedule_activity(attributes: Mapping[str, Any]) -> Decision:
    """A ScheduleActivityTask decision with these attributes."""
    return Decision(DecisionType.SCHEDULE_ACTIVITY_TASK, attributes)


def start_child(attributes: Mapping[str, Any]) -> Decision:
    """A StartChildWorkflowExecution decision with these attributes."""
    return Decision(DecisionType.START_CHILD_WORKFLOW_EXECUTION, attributes)


def request_cancel_external(workflow_id: str, run_id: str | None, control: str | None = None) -> Decision:
    """A RequestCancelExternalWorkflowExecution decision: a child's decider hears of it as a cancel request."""
    attrs = {"workflowId": workflow_id, **({"runId": run_id} if run_id else {}), **({"control": control} if control else {})}
    return Decision(DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION, attrs)


def continue_as_new(input: str | None, attributes: Mapping[str, Any] | None = None) -> Decision:
    """A ContinueAsNewWorkflowExecution decision: this run closes, a new one of the same workflow id starts."""
    attrs = dict(attributes or {})
    if input is not None:
        attrs["input"] = input
    return Decision(DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION, attrs)
