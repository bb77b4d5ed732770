"""decide(workflow, state) -> list[decision]: the flow chart's next move, as SWF decisions.

Pure: no boto3, no clock, no randomness; the same history always gives the same decisions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .config import Activity, Step, Workflow
from .history import (
    CANCELED,
    COMPLETED,
    OPEN,
    TIMED_OUT,
    ActivityState,
    ExecutionState,
    activity_id,
    parse_activity_id,
)

MAX_DATA = 32_768  # SWF's limit for input, result, details (characters)
MAX_REASON = 256

# A step's place in the flow chart, as decide sees it.
DONE = "completed"
SKIPPED = "skipped"
RUNNING = "running"
WAITING = "waiting"  # its retry timer is running
READY = "ready"
RETRY = "retry"  # failed, with retries left: start the timer
GAVE_UP = "failed"
PENDING = "pending"

Decision = dict[str, Any]


@dataclass(frozen=True)
class StepStatus:
    """Where one step stands: status, the attempt concerned, and for a retry its delay."""

    status: str
    attempt: int = 0
    delay: int = 0
    latest: ActivityState | None = None


def retry_delay(activity: Activity, retry: int) -> int:
    """Seconds before retry number `retry` (1 for the first): retry_delay doubled each time, capped."""
    if activity.retry_delay <= 0:
        return 0
    return int(min(activity.retry_delay * 2 ** min(retry - 1, 64), activity.retry_max_delay))


def _when_holds(step: Step, latest: dict[str, ActivityState]) -> bool:
    for dep, pattern in step.when:
        act = latest.get(dep)
        if act is None or act.status != COMPLETED or not pattern.fullmatch((act.result or "").strip()):
            return False
    return True


def plan(workflow: Workflow, state: ExecutionState) -> dict[str, StepStatus]:
    """The status of every step, in the flow chart's dependency order."""
    result: dict[str, StepStatus] = {}
    latest: dict[str, ActivityState] = {}
    for step in workflow.steps:
        act = state.by_step.get(step.id)
        if act is not None:
            latest[step.id] = act
            result[step.id] = _attempted(workflow.activities[step.activity], step, act, state)
            continue
        deps = [result[d].status for d in step.after]
        if not all(s in (DONE, SKIPPED) for s in deps):
            result[step.id] = StepStatus(PENDING)
        elif deps and DONE not in deps or not _when_holds(step, latest):
            result[step.id] = StepStatus(SKIPPED)
        else:
            result[step.id] = StepStatus(READY, attempt=1)
    return result


def _attempted(activity: Activity, step: Step, act: ActivityState, state: ExecutionState) -> StepStatus:
    if act.status == COMPLETED:
        return StepStatus(DONE, act.attempt, latest=act)
    if act.status in OPEN:
        return StepStatus(RUNNING, act.attempt, latest=act)
    if act.attempt > activity.retries:
        return StepStatus(GAVE_UP, act.attempt, latest=act)
    nxt = act.attempt + 1
    delay = retry_delay(activity, act.attempt)
    timer = state.timers.get(activity_id(step.id, nxt))
    if delay == 0 or (timer is not None and timer.fired):
        return StepStatus(READY, nxt, latest=act)
    if timer is not None:
        return StepStatus(WAITING, nxt, delay, latest=act)
    return StepStatus(RETRY, nxt, delay, latest=act)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fail(reason: str, details: str | None = None) -> Decision:
    """A FailWorkflowExecution decision, reason and details cut to SWF's limits."""
    attrs = {"reason": _cut(reason, MAX_REASON)}
    if details:
        attrs["details"] = details[-MAX_DATA:]
    return {"decisionType": "FailWorkflowExecution", "failWorkflowExecutionDecisionAttributes": attrs}


def complete(result: str | None) -> Decision:
    """A CompleteWorkflowExecution decision."""
    attrs = {} if result is None else {"result": result}
    return {"decisionType": "CompleteWorkflowExecution", "completeWorkflowExecutionDecisionAttributes": attrs}


def cancel(details: str | None = None) -> Decision:
    """A CancelWorkflowExecution decision."""
    attrs = {} if details is None else {"details": _cut(details, MAX_DATA)}
    return {"decisionType": "CancelWorkflowExecution", "cancelWorkflowExecutionDecisionAttributes": attrs}


def start_timer(timer_id: str, delay: int) -> Decision:
    """A StartTimer decision: the decider waits through SWF, never by sleeping."""
    return {
        "decisionType": "StartTimer",
        "startTimerDecisionAttributes": {"timerId": timer_id, "startToFireTimeout": str(delay)},
    }


def _timeout(value: int | None) -> str:
    return "NONE" if value is None else str(value)


def schedule(step: Step, activity: Activity, attempt: int, input: str | None) -> Decision:
    """A ScheduleActivityTask decision carrying every timeout, so config.yaml is the truth."""
    attrs: dict[str, Any] = {
        "activityType": {"name": activity.name, "version": activity.version},
        "activityId": activity_id(step.id, attempt),
        "taskList": {"name": activity.task_list},
        "startToCloseTimeout": str(activity.timeout),
        "heartbeatTimeout": _timeout(activity.heartbeat_timeout),
        "scheduleToStartTimeout": _timeout(activity.schedule_to_start_timeout),
        "scheduleToCloseTimeout": "NONE",
    }
    if input is not None:
        attrs["input"] = input
    return {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": attrs}


def step_input(step: Step, state: ExecutionState) -> str | None:
    """No after: the execution's input; one: its result; several: a JSON object of their results."""
    if not step.after:
        return state.input
    done = {d: state.by_step[d] for d in step.after if d in state.by_step and state.by_step[d].status == COMPLETED}
    if len(step.after) == 1:
        return next((a.result or "" for a in done.values()), "")
    return json.dumps({d: a.result or "" for d, a in done.items()}, ensure_ascii=False)


def failure_reason(step_id: str, act: ActivityState) -> str:
    """Why a step gave up, e.g. 'Test_Task_B failed: exit code 1'."""
    if act.status == TIMED_OUT:
        text = f"{step_id} timed out: {act.timeout_type or 'unknown timeout'}"
    elif act.status == CANCELED:
        text = f"{step_id} was canceled"
    else:
        text = f"{step_id} failed: {act.reason or 'no reason given'}"
    return text if act.attempt <= 1 else f"{text} (after {act.attempt} attempts)"


def decide(workflow: Workflow, state: ExecutionState) -> list[Decision]:
    """The decisions that move the execution on from the state its history describes."""
    if state.close_status is not None:
        return []
    if state.cancel_requested:
        return [cancel(state.cancel_cause)]
    if state.problems:
        return [fail(state.problems[0], "\n".join(state.problems))]
    if state.event_count > workflow.max_history_events:
        return [fail(
            f"history has {state.event_count} events, past max_history_events "
            f"({workflow.max_history_events}); SWF's own limit is 25,000"
        )]
    statuses = plan(workflow, state)
    for step_id, st in statuses.items():
        if st.status == GAVE_UP and st.latest is not None:
            return [fail(failure_reason(step_id, st.latest), st.latest.details)]
    decisions: list[Decision] = []
    for step in workflow.steps:
        st = statuses[step.id]
        if st.status == READY:
            # a retry gets the input its first attempt got, even if the flow chart changed since
            text = st.latest.input if st.latest is not None else step_input(step, state)
            if text is not None and len(text) > MAX_DATA:
                return [fail(f"input for {step.id} is {len(text)} characters, over SWF's limit of {MAX_DATA}")]
            decisions.append(schedule(step, workflow.activities[step.activity], st.attempt, text))
        elif st.status == RETRY:
            decisions.append(start_timer(activity_id(step.id, st.attempt), st.delay))
    if decisions:
        return decisions
    if all(st.status in (DONE, SKIPPED) for st in statuses.values()):
        # the result of the last completed step as the chart is written
        last = max((s for s in workflow.steps if statuses[s.id].status == DONE), key=lambda s: s.index, default=None)
        return [complete(None if last is None else state.by_step[last.id].result)]
    return []


def describe(decisions: list[Decision], statuses: dict[str, StepStatus] | None = None) -> str:
    """The article's 'Decision Made: ...' text for a list of decisions."""
    if not decisions:
        waiting = [s for s, st in (statuses or {}).items() if st.status in (RUNNING, WAITING)]
        return "Wait -- " + ", ".join(waiting) + " under way" if waiting else "Wait"
    first = decisions[0]
    kind = first["decisionType"]
    if kind == "CompleteWorkflowExecution":
        return "Complete the workflow execution"
    if kind == "FailWorkflowExecution":
        return "Fail the workflow execution -- " + str(first["failWorkflowExecutionDecisionAttributes"]["reason"])
    if kind == "CancelWorkflowExecution":
        return "Cancel the workflow execution"
    parts = []
    scheduled = []
    for d in decisions:
        if d["decisionType"] == "ScheduleActivityTask":
            step, attempt = parse_activity_id(d["scheduleActivityTaskDecisionAttributes"]["activityId"])
            scheduled.append(f"{step} (attempt {attempt})" if attempt > 1 else str(step))
        elif d["decisionType"] == "StartTimer":
            a = d["startTimerDecisionAttributes"]
            step, attempt = parse_activity_id(a["timerId"])
            parts.append(f"Retry {step} in {a['startToFireTimeout']} s (attempt {attempt})")
    if scheduled:
        parts.insert(0, "Schedule activity -- " + ", ".join(scheduled))
    return "; ".join(parts)

