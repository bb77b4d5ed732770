"""decide(workflow, state) -> Answer: the flow chart's next move, as SWF decisions, with the plan behind it.

Pure: no boto3, no clock, no randomness; the same history always gives the same answer. Every delay
(a retry's, a wait after SWF refused a decision for a passing cause) and every timer id comes from the
history, so deciding twice on the same history never schedules anything twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .config import Activity, Step, Workflow
from .decisions import (
    Decision,
    DecisionType,
    cancel,
    cancel_timer,
    complete,
    fail,
    marker,
    request_cancel,
    schedule_activity,
    start_timer,
    to_swf,
)
from .history import ActivityState, ExecutionState, Refusal
from .ids import (
    DECIDER_ERROR,
    TimerKind,
    activity_id,
    error_timer_id,
    more_timer_id,
    parse_activity_id,
    parse_timer,
    wait_timer_id,
)
from .limits import (
    DECISIONS_PER_RESPONSE,
    MAX_DATA,
    MAX_HISTORY_EVENTS,
    MAX_REASON,
    RESPONSE_BYTES,
    cut_middle,
    duration_text,
    shorten,
)
from .retrying import doubling
from .status import ActivityStatus, Closed, Lasts, StepStatus

# Every cause of every *Failed event of a decision the decider sends (botocore's SWF model; a test keeps this table
# complete), and how long it lasts. A refusal never makes the decider send the same decision on every decision task.
CAUSES: dict[str, Lasts] = {
    # ScheduleActivityTaskFailed
    "ACTIVITY_CREATION_RATE_EXCEEDED": Lasts.PASSING, "OPEN_ACTIVITIES_LIMIT_EXCEEDED": Lasts.PASSING,
    "ACTIVITY_TYPE_DEPRECATED": Lasts.LASTING, "ACTIVITY_TYPE_DOES_NOT_EXIST": Lasts.LASTING,
    "ACTIVITY_ID_ALREADY_IN_USE": Lasts.LASTING,
    "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED": Lasts.LASTING, "DEFAULT_TASK_LIST_UNDEFINED": Lasts.LASTING,
    "DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED": Lasts.LASTING, "DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED": Lasts.LASTING,
    "DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED": Lasts.LASTING,
    # StartTimerFailed
    "TIMER_CREATION_RATE_EXCEEDED": Lasts.PASSING, "OPEN_TIMERS_LIMIT_EXCEEDED": Lasts.PASSING,
    "TIMER_ID_ALREADY_IN_USE": Lasts.LASTING,
    # CancelTimerFailed, RequestCancelActivityTaskFailed: the timer fired or the activity closed meanwhile
    "TIMER_ID_UNKNOWN": Lasts.MOOT, "ACTIVITY_ID_UNKNOWN": Lasts.MOOT,
    # Complete-, Fail-, CancelWorkflowExecutionFailed: events came in while the decider was deciding
    "UNHANDLED_DECISION": Lasts.RACE,
    # any of them: the decider's IAM policy does not allow the decision
    "OPERATION_NOT_PERMITTED": Lasts.LASTING,
}
# SWF's causes that pass by themselves (rates, open limits): the step waits and tries again, its retries untouched.
PASSING = frozenset(cause for cause, lasts in CAUSES.items() if lasts is Lasts.PASSING)


def lasts(cause: str) -> Lasts:
    """How long a refusal's cause lasts; a cause this table does not know yet lasts (the decider stops asking)."""
    return CAUSES.get(cause, Lasts.LASTING)

MAX_WAITS = 10  # refusals in a row for passing causes before the step fails: about 6 minutes of waiting
WAIT_BASE, WAIT_CAP = 2, 60  # seconds: the first wait, doubled each time, capped
DECIDER_ERRORS = 3  # the decider failed to decide this many times in a row: fail the execution
DECISION_TIMEOUTS = 3  # decision tasks timed out this many times in a row: fail the execution


@dataclass(frozen=True)
class StepPlan:
    """Where one step stands: status, the attempt concerned, and for a timer to start its id and delay."""

    status: StepStatus
    attempt: int = 0
    delay: int = 0
    latest: ActivityState | None = None
    timer_id: str | None = None
    reason: str | None = None  # FAILED or SKIPPED: why


@dataclass(frozen=True)
class Closing:
    """What an alert says of an execution this answer fails or cancels."""

    status: Closed  # FAILED or CANCELED
    reason: str
    step: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class Answer:
    """The decider's answer to one decision task: the decisions, the plan behind them, what people must hear."""

    decisions: list[Decision]
    steps: dict[str, StepPlan] = field(default_factory=dict)
    closing: Closing | None = None  # the decisions fail or cancel the execution
    # SWF refused to close the execution, or to cancel an activity of a canceling one, for a cause that lasts: no
    # more tries; the execution waits for a person (or for the activity to end by itself)
    refused: Refusal | None = None

    @property
    def swf(self) -> list[dict[str, Any]]:
        """The decisions as RespondDecisionTaskCompleted takes them."""
        return to_swf(self.decisions)


def retry_delay(activity: Activity, retry: int) -> int:
    """Seconds before retry number `retry` (1 for the first): retry_delay doubled each time, capped."""
    return int(doubling(retry, activity.retry_delay, activity.retry_max_delay)) if activity.retry_delay > 0 else 0


def wait_delay(waits: int) -> int:
    """Seconds to wait after SWF refused an attempt for a passing cause `waits` times in a row."""
    return int(doubling(waits, WAIT_BASE, WAIT_CAP))


def refusal_reason(step_id: str, refusal: Refusal) -> str:
    """Why a step cannot be scheduled, for a cause that will not pass, with what to do about it."""
    cause, what = refusal.cause, refusal.target
    hints = {
        "ACTIVITY_TYPE_DOES_NOT_EXIST": f"activity type {what} is not registered: run python register_swf.py",
        "ACTIVITY_TYPE_DEPRECATED": f"activity type {what} is deprecated in SWF: give it a new version in config.yaml "
                                    "and run python register_swf.py",
        "OPERATION_NOT_PERMITTED": f"the decider's IAM policy does not allow {refusal.decision} for "
                                   f"{what if refusal.decision == 'ScheduleActivityTask' else 'its timers'}: "
                                   "see python -m swfagent policies",
        "ACTIVITY_ID_ALREADY_IN_USE": "its activity id is in use: another decider with another config.yaml?",
        "TIMER_ID_ALREADY_IN_USE": f"timer {what} is in use: another decider with another config.yaml?",
    }
    hint = hints.get(cause) or ("SWF has no default for it: run python register_swf.py" if cause.startswith("DEFAULT_")
                                else f"{refusal.decision} refused")
    return cut_middle(f"{step_id} could not be scheduled ({cause}): {hint}", MAX_REASON)


def _unmet(step: Step, latest: dict[str, ActivityState], texts: dict[str, str]) -> str | None:
    """Why a step's `when` does not hold, or None when it holds."""
    for dep, pattern in step.when:
        act = latest.get(dep)
        if act is None or act.status != ActivityStatus.COMPLETED:
            return f"{dep} was skipped"
        text = texts.get(act.activity_id, act.result or "").strip()
        if not pattern.fullmatch(text):
            return f"{dep}'s result {shorten(text, 40)!r} does not match {pattern.pattern}"
    return None


def plan(workflow: Workflow, state: ExecutionState) -> dict[str, StepPlan]:
    """The status of every step, in the flow chart's dependency order."""
    result: dict[str, StepPlan] = {}
    latest: dict[str, ActivityState] = {}
    for step in workflow.steps:
        act = state.by_step.get(step.id)
        if act is not None:
            latest[step.id] = act
            st = _attempted(workflow.activities[step.activity], step, act, state)
        else:
            deps = [result[d].status for d in step.after]
            if not all(s in (StepStatus.COMPLETED, StepStatus.SKIPPED) for s in deps):
                st = StepPlan(StepStatus.PENDING)
            elif deps and StepStatus.COMPLETED not in deps:
                st = StepPlan(StepStatus.SKIPPED, reason=f"{' and '.join(step.after)} skipped")
            elif (unmet := _unmet(step, latest, state.texts)) is not None:
                st = StepPlan(StepStatus.SKIPPED, reason=unmet)
            else:
                st = StepPlan(StepStatus.READY, attempt=1)
        result[step.id] = _refused(step, st, state) if st.status in (StepStatus.READY, StepStatus.RETRY) else st
    return result


def _attempted(activity: Activity, step: Step, act: ActivityState, state: ExecutionState) -> StepPlan:
    if act.status == ActivityStatus.COMPLETED:
        return StepPlan(StepStatus.COMPLETED, act.attempt, latest=act)
    if act.status.open:
        return StepPlan(StepStatus.RUNNING, act.attempt, latest=act)
    if act.attempt > activity.retries:
        return StepPlan(StepStatus.FAILED, act.attempt, latest=act, reason=failure_reason(step.id, act))
    nxt = act.attempt + 1
    delay = retry_delay(activity, act.attempt)
    timer_id = activity_id(step.id, nxt)
    timer = state.timers.get(timer_id)
    if delay == 0 or (timer is not None and timer.fired):
        return StepPlan(StepStatus.READY, nxt, latest=act)
    if timer is not None:
        return StepPlan(StepStatus.WAITING, nxt, delay, latest=act, timer_id=timer_id)
    return StepPlan(StepStatus.RETRY, nxt, delay, latest=act, timer_id=timer_id)


def _refused(step: Step, st: StepPlan, state: ExecutionState) -> StepPlan:
    """A step about to be scheduled (or to start its retry timer), after what SWF refused of this attempt."""
    refusals = state.refused.get(activity_id(step.id, st.attempt))
    if not refusals:
        return st
    lasting = next((r for r in refusals if lasts(r.cause) is not Lasts.PASSING), None)
    if lasting is not None:
        return StepPlan(StepStatus.FAILED, st.attempt, latest=st.latest, reason=refusal_reason(step.id, lasting))
    waits = len(refusals)
    if waits >= MAX_WAITS:
        waited = sum(wait_delay(k) for k in range(1, waits))
        return StepPlan(StepStatus.FAILED, st.attempt, latest=st.latest, reason=cut_middle(
            f"{step.id} could not be scheduled: SWF refused it {waits} times in a row over {waited} s "
            f"({refusals[-1].cause}, which passes by itself): run fewer at once, or ask AWS for a higher quota",
            MAX_REASON))
    timer_id = wait_timer_id(activity_id(step.id, st.attempt), waits)
    timer = state.timers.get(timer_id)
    if timer is not None and timer.fired:
        return StepPlan(StepStatus.READY, st.attempt, latest=st.latest)  # the wait stands for the retry's delay too
    if timer is not None:
        return StepPlan(StepStatus.WAITING, st.attempt, latest=st.latest, timer_id=timer_id)
    return StepPlan(StepStatus.HELD, st.attempt, wait_delay(waits), latest=st.latest, timer_id=timer_id)


# ---- decisions ---------------------------------------------------------------------------------------


def schedule(step: Step, activity: Activity, attempt: int, input: str | None) -> Decision:
    """A ScheduleActivityTask decision carrying every timeout, so config.yaml is the truth."""
    attrs: dict[str, Any] = {
        "activityType": {"name": activity.name, "version": activity.version},
        "activityId": activity_id(step.id, attempt),
        "taskList": {"name": activity.task_list},
        "startToCloseTimeout": str(activity.timeout),
        "heartbeatTimeout": duration_text(activity.heartbeat_timeout),
        "scheduleToStartTimeout": duration_text(activity.schedule_to_start_timeout),
        "scheduleToCloseTimeout": "NONE",
    }
    if input is not None:
        attrs["input"] = input
    return schedule_activity(attrs)


def step_input(step: Step, state: ExecutionState) -> str | None:
    """No after: the execution's input; one: its result; several: a JSON object of their results."""
    if not step.after:
        return state.input
    done = {d: state.by_step[d] for d in step.after if d in state.by_step and state.by_step[d].status == ActivityStatus.COMPLETED}
    if len(step.after) == 1:
        return next((a.result or "" for a in done.values()), "")
    return json.dumps({d: a.result or "" for d, a in done.items()}, ensure_ascii=False)


def failure_reason(step_id: str, act: ActivityState) -> str:
    """Why a step gave up, e.g. 'Test_Task_B failed: exit code 1'."""
    if act.status == ActivityStatus.TIMED_OUT:
        text = f"{step_id} timed out: {act.timeout_type or 'unknown timeout'}"
    elif act.status == ActivityStatus.CANCELED:
        text = f"{step_id} was canceled"
    else:
        text = f"{step_id} failed: {act.reason or 'no reason given'}"
    return text if act.attempt <= 1 else f"{text} (after {act.attempt} attempts)"


def _failing(reason: str, details: str | None = None, step: str | None = None,
             steps: dict[str, StepPlan] | None = None) -> Answer:
    return Answer([fail(reason, details)], steps or {}, Closing(Closed.FAILED, cut_middle(reason, MAX_REASON), step, details))


def decide(workflow: Workflow, state: ExecutionState) -> Answer:
    """The decisions that move the execution on from the state its history describes."""
    if state.close_status is not None:
        return Answer([])
    lasting = next((r for r in reversed(state.close_refusals) if lasts(r.cause) is not Lasts.RACE), None)
    if lasting is not None:  # SWF will not let it close: leave it to a person or its timeout, never re-send
        return Answer([], plan(workflow, state), refused=lasting)
    if state.problems:
        return _failing(state.problems[0], "\n".join(state.problems))
    if state.event_count > workflow.max_history_events:
        return _failing(f"history has {state.event_count} events, past max_history_events "
                        f"({workflow.max_history_events}); SWF's own limit is {MAX_HISTORY_EVENTS:,}")
    if len(state.decider_errors) >= DECIDER_ERRORS:
        return _failing(f"the decider failed {len(state.decider_errors)} times in a row: {state.decider_errors[-1]}",
                        "\n".join(state.decider_errors))
    if state.decision_timeouts_in_a_row >= DECISION_TIMEOUTS:
        return _failing(f"{state.decision_timeouts_in_a_row} decision tasks in a row timed out without an answer "
                        f"(decision_timeout {workflow.decision_timeout} s): see the decider's log")
    if state.cancel_requested:
        return _cancelling(state)
    statuses = plan(workflow, state)
    for step_id, st in statuses.items():
        if st.status == StepStatus.FAILED:
            details = st.latest.details if st.latest is not None else None
            return _failing(st.reason or step_id, details, step_id, statuses)
    decisions: list[Decision] = []
    for step in workflow.steps:
        st = statuses[step.id]
        if st.status == StepStatus.READY:
            # a retry gets the input its first attempt got, even if the flow chart changed since
            text = st.latest.input if st.latest is not None else step_input(step, state)
            if text is not None and len(text) > MAX_DATA and not workflow.results_s3:
                return _failing(f"input for {step.id} is {len(text)} characters, over SWF's {MAX_DATA}: set "
                                "results: {s3: s3://BUCKET/PREFIX} in config.yaml to pass large values", step=step.id,
                                steps=statuses)
            decisions.append(schedule(step, workflow.activities[step.activity], st.attempt, text))
        elif st.status in (StepStatus.RETRY, StepStatus.HELD) and st.timer_id is not None:
            decisions.append(start_timer(st.timer_id, st.delay))
    if decisions:
        return Answer(fit(decisions, state), statuses)
    if all(st.status in (StepStatus.COMPLETED, StepStatus.SKIPPED) for st in statuses.values()):
        # the result of the last completed step as the chart is written
        last = max((s for s in workflow.steps if statuses[s.id].status == StepStatus.COMPLETED), key=lambda s: s.index, default=None)
        return Answer([complete(None if last is None else state.by_step[last.id].result)], statuses)
    return Answer([], statuses)


def _cancelling(state: ExecutionState) -> Answer:
    """A cancel was asked for: cancel the open activities and timers, then the execution once none is open.

    A cancel SWF refused is not asked again, whatever the cause: an activity SWF will not cancel is waited for
    until it ends by itself (the answer names the refusal), a timer SWF will not cancel goes with the execution.
    """
    running = [a for a in state.activities.values() if a.status.open]
    refused = state.activity_cancels_refused
    decisions = [request_cancel(a.activity_id) for a in running if not a.cancel_requested and a.activity_id not in refused]
    decisions += [cancel_timer(t.timer_id) for t in state.timers.values()
                  if not t.fired and t.timer_id not in state.timer_cancels_refused]
    if running:
        waiting = [refused[a.activity_id] for a in running if a.activity_id in refused]
        lasting = max((r for r in waiting if lasts(r.cause) is Lasts.LASTING), key=lambda r: r.event_id, default=None)
        return Answer(fit(decisions, state), refused=lasting)
    return Answer([*decisions, cancel(state.cancel_cause)], closing=Closing(Closed.CANCELED, "cancel requested"))


def after_error(state: ExecutionState, error: str) -> Answer:
    """The decider could not decide (its own bug, or a history it cannot handle): record why and try again soon,
    through a timer; the third time in a row, fail the execution naming the error.

    The same history gives the same error, but a decider can be fixed and deployed while it waits; an
    event it cannot read (state.problems) fails at once, for no deployment makes it readable. The errors are
    counted per decision task whether SWF took their marker or not; a timer SWF refuses for good fails it at once.
    """
    errors = len(state.decider_errors) + 1
    if errors >= DECIDER_ERRORS:
        return _failing(f"the decider failed {errors} times in a row: {error}", "\n".join([*state.decider_errors, error]))
    timer_refused = next((r for key, refusals in state.refused.items() if parse_timer(key).kind is TimerKind.ERROR
                          for r in refusals if lasts(r.cause) is Lasts.LASTING), None)
    if timer_refused is not None:  # it cannot wait through SWF: no more tries
        hint = ": see python -m swfagent policies" if timer_refused.cause == "OPERATION_NOT_PERMITTED" else ""
        return _failing(f"the decider failed ({error}), and SWF refused the timer to decide again "
                        f"({timer_refused.cause}){hint}", "\n".join([*state.decider_errors, error]))
    # a marker refused for good is not asked again: the errors are counted from their timers then
    refused = any(r.target == DECIDER_ERROR and lasts(r.cause) is Lasts.LASTING for r in state.markers_refused)
    record = [] if refused else [marker(DECIDER_ERROR, error)]
    return Answer([*record, start_timer(error_timer_id(state.last_event_id), WAIT_CAP // 2 * errors)])


def fit(decisions: list[Decision], state: ExecutionState) -> list[Decision]:
    """What fits in one answer (SWF takes 1 MB; the agent sends at most 100 decisions); the rest follows in the
    next decision task, which a 0-second timer brings at once."""
    sizes = [d.size() for d in decisions]
    if len(decisions) <= DECISIONS_PER_RESPONSE and sum(sizes) <= RESPONSE_BYTES:
        return decisions
    more = start_timer(more_timer_id(state.last_event_id), 0)
    room, taken = RESPONSE_BYTES - more.size(), 0
    out: list[Decision] = []
    for d, size in zip(decisions, sizes, strict=True):
        if len(out) == DECISIONS_PER_RESPONSE - 1 or taken + size > room:
            break
        out.append(d)
        taken += size
    return [*out, more]


def describe(answer: Answer) -> str:
    """The article's 'Decision Made: ...' text for an answer."""
    decisions, refused = answer.decisions, answer.refused
    if refused is not None and refused.decision == "RequestCancelActivityTask" and not decisions:
        return f"Wait -- {refused.target} to end by itself: SWF refused to cancel it ({refused.cause})"
    if refused is not None and refused.decision != "RequestCancelActivityTask":
        return f"Wait -- SWF refused to close the execution ({refused.cause}): it waits for a person"
    if not decisions:
        waiting = [s for s, st in answer.steps.items() if st.status in (StepStatus.RUNNING, StepStatus.WAITING)]
        return "Wait -- " + ", ".join(waiting) + " under way" if waiting else "Wait"
    last = decisions[-1]
    if last.type is DecisionType.COMPLETE_WORKFLOW_EXECUTION:
        return "Complete the workflow execution"
    if last.type is DecisionType.FAIL_WORKFLOW_EXECUTION:
        return "Fail the workflow execution -- " + str(last.get("reason"))
    if last.type is DecisionType.CANCEL_WORKFLOW_EXECUTION:
        return "Cancel the workflow execution"
    parts: list[str] = []
    scheduled = []
    for d in decisions:
        if d.type is DecisionType.SCHEDULE_ACTIVITY_TASK:
            step, attempt = parse_activity_id(d.get("activityId"))
            scheduled.append(f"{step} (attempt {attempt})" if attempt > 1 else str(step))
        elif d.type is DecisionType.START_TIMER:
            parts.append(_timer_text(d.get("timerId"), d.get("startToFireTimeout")))
        elif d.type is DecisionType.REQUEST_CANCEL_ACTIVITY_TASK:
            parts.append("Cancel activity -- " + d.get("activityId"))
        elif d.type is DecisionType.RECORD_MARKER:
            parts.append("Record -- " + shorten(d.get("details", ""), 200))
    if scheduled:
        parts.insert(0, "Schedule activity -- " + ", ".join(scheduled))
    return "; ".join(dict.fromkeys(p for p in parts if p))


def _timer_text(timer_id: str, delay: str) -> str:
    timer = parse_timer(timer_id)
    if timer.kind is TimerKind.MORE:
        return "The rest in the next decision task"
    if timer.kind is TimerKind.ERROR:
        return f"Decide again in {delay} s"
    if timer.kind is TimerKind.WAIT:
        return f"Wait {delay} s for SWF's capacity, then {timer.step} (attempt {timer.attempt})"
    if timer.kind is TimerKind.RETRY:
        return f"Retry {timer.step} in {delay} s (attempt {timer.attempt})"
    return f"Timer {timer_id} ({delay} s)"

