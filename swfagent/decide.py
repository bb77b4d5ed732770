"""decide(workflow, state) -> Answer: the flow chart's next move, as SWF decisions, with the plan behind it.

Pure: no boto3, no clock, no randomness; the same history always gives the same answer. Every delay
(a retry's, a wait after SWF refused a decision for a passing cause) and every timer id comes from the
history, so deciding twice on the same history never schedules anything twice.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .config import Activity, ChildType, Step, StepKind, Workflow, parse_time
from .cron import next_time
from .decisions import (
    Decision,
    DecisionType,
    cancel,
    cancel_timer,
    complete,
    continue_as_new,
    fail,
    marker,
    request_cancel,
    request_cancel_external,
    schedule_activity,
    start_timer,
    to_swf,
)
from .decisions import start_child as start_child_decision
from .history import ActivityState, Batch, ExecutionState, Refusal, batch_input, carry_input
from .ids import (
    CANCEL_WAIT,
    CLOSING,
    DECIDER_ERROR,
    SIGNAL_TAKEN,
    TimerKind,
    activity_id,
    batch_step_id,
    child_workflow_id,
    error_timer_id,
    item_step_id,
    more_timer_id,
    parse_activity_id,
    parse_batch,
    parse_item,
    parse_timer,
    repeat_timer_id,
    signal_timer_id,
    wait_step_timer_id,
    wait_timer_id,
)
from .limits import (
    DECISIONS_PER_RESPONSE,
    MAX_DATA,
    MAX_HISTORY_EVENTS,
    MAX_OPEN_CHILDREN,
    MAX_REASON,
    MAX_TIMEOUT,
    RESPONSE_BYTES,
    cut,
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
    # StartChildWorkflowExecutionFailed (DEFAULT_TASK_LIST_UNDEFINED is above)
    "CHILD_CREATION_RATE_EXCEEDED": Lasts.PASSING, "OPEN_CHILDREN_LIMIT_EXCEEDED": Lasts.PASSING,
    "OPEN_WORKFLOWS_LIMIT_EXCEEDED": Lasts.PASSING,
    "WORKFLOW_TYPE_DOES_NOT_EXIST": Lasts.LASTING, "WORKFLOW_TYPE_DEPRECATED": Lasts.LASTING,
    "WORKFLOW_ALREADY_RUNNING": Lasts.LASTING, "DEFAULT_CHILD_POLICY_UNDEFINED": Lasts.LASTING,
    "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED": Lasts.LASTING,
    "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED": Lasts.LASTING,
    # ContinueAsNewWorkflowExecutionFailed (and the causes of the other closing decisions)
    "CONTINUE_AS_NEW_WORKFLOW_EXECUTION_RATE_EXCEEDED": Lasts.PASSING,
    # RequestCancel- and SignalExternalWorkflowExecutionFailed: the child closed meanwhile, or a rate
    "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION": Lasts.MOOT,
    "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_RATE_EXCEEDED": Lasts.PASSING,
    "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_RATE_EXCEEDED": Lasts.PASSING,
    # CancelTimerFailed, RequestCancelActivityTaskFailed: the timer fired or the activity closed meanwhile
    "TIMER_ID_UNKNOWN": Lasts.MOOT, "ACTIVITY_ID_UNKNOWN": Lasts.MOOT,
    # Complete-, Fail-, CancelWorkflowExecutionFailed: events came in while the decider was deciding
    "UNHANDLED_DECISION": Lasts.RACE,
    # any of them: the decider's IAM policy does not allow the decision
    "OPERATION_NOT_PERMITTED": Lasts.LASTING,
}
# SWF's causes that pass by themselves (rates, open limits): the step waits and tries again, its retries untouched.
PASSING = frozenset(cause for cause, lasts in CAUSES.items() if lasts is Lasts.PASSING)


TYPED = ("ScheduleActivityTask", "StartChildWorkflowExecution")  # refusals whose target is a type's name and version


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
    reason: str | None = None  # FAILED, CAUGHT or SKIPPED: why
    result: str | None = None  # COMPLETED: its result (a map's JSON array, a signal's input, a wait's input)
    input: str | None = None  # READY: the input it gets when not its after: steps' results (a catch target's)
    items: MapProgress | None = None  # a map step's items
    signal_event: int | None = None  # a signal step: the signal's event id that completed it
    new_signal: bool = False  # ...taken by this answer: its marker goes with it
    signal: str | None = None  # a signal step: the signal's name
    handler: str | None = None  # CAUGHT: its catch target


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


def retry_delay(activity: Retries, retry: int) -> int:
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
                                   f"{what if refusal.decision in TYPED else 'its timers'}: "
                                   "see python -m swfagent policies",
        "WORKFLOW_TYPE_DOES_NOT_EXIST": f"workflow type {what} is not registered: run python register_swf.py",
        "WORKFLOW_TYPE_DEPRECATED": f"workflow type {what} is deprecated in SWF: give it a new version in config.yaml "
                                    "and run python register_swf.py",
        "WORKFLOW_ALREADY_RUNNING": "its child workflow id is in use: a child of an earlier run still open, or another "
                                    "decider with another config.yaml?",
        "ACTIVITY_ID_ALREADY_IN_USE": "its activity id is in use: another decider with another config.yaml?",
        "TIMER_ID_ALREADY_IN_USE": f"timer {what} is in use: another decider with another config.yaml?",
    }
    hint = hints.get(cause) or ("SWF has no default for it: run python register_swf.py" if cause.startswith("DEFAULT_")
                                else f"{refusal.decision} refused")
    return cut_middle(f"{step_id} could not be scheduled ({cause}): {hint}", MAX_REASON)


def _unmet(step: Step, steps: dict[str, StepPlan], state: ExecutionState) -> str | None:
    """Why a step's `when` or `unless` does not hold, or None when both hold."""
    for negate, conditions in ((False, step.when), (True, step.unless)):
        for dep, condition in conditions:
            st = steps.get(dep)
            if st is None or st.status != StepStatus.COMPLETED:
                return f"{dep} was skipped" if st is None or st.status == StepStatus.SKIPPED else f"{dep} failed"
            problem = condition.unmet(readable(st, state))
            if negate and problem is None:
                return f"{dep}'s {condition} (unless)"
            if not negate and problem is not None:
                return f"{dep}'s {problem}"
    return None


def readable(st: StepPlan, state: ExecutionState) -> str:
    """A completed step's result as text: a result kept in S3 as the decider fetched it (a carried one by its
    reference)."""
    if st.latest is not None and st.result is not None and st.latest.activity_id in state.texts:
        return state.texts[st.latest.activity_id]
    if st.latest is None and st.result is not None and "://" in st.result and st.result in state.texts:  # never an id
        return state.texts[st.result]
    return st.result or ""


@dataclass(frozen=True)
class MapProgress:
    """A map step's items: counts for the chart, and what to do now."""

    total: int
    completed: int = 0
    failed: int = 0
    running: int = 0
    waiting: int = 0
    schedule: tuple[tuple[int, int, str | None], ...] = ()  # (item, attempt, input) to schedule now
    timers: tuple[tuple[str, int], ...] = ()  # (timer id, delay) to start now

    def __str__(self) -> str:
        text = f"{self.completed}/{self.total} done"
        if self.failed:
            text += f" · {self.failed} failed"
        if self.running:
            text += f" · {self.running} running"
        if self.waiting:
            text += f" · {self.waiting} waiting"
        return text


def map_items(text: str) -> list[str]:
    """A map's items, each as its activity's stdin: a JSON array's values (strings as they are), or else the
    non-empty lines."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value]
    return [line.strip() for line in text.splitlines() if line.strip()]


def _item_value(text: str | None) -> Any:
    """An item's result in the map's result array: its JSON value, or else its text."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


EVENTS_PER_ITEM = 6  # a map's item puts about this many in a history: scheduled, started, closed, and a decision task


def _map(workflow: Workflow, step: Step, source: StepPlan, state: ExecutionState) -> StepPlan:
    items = map_items(readable(source, state))
    per_run = len(items) if step.batch_size is None else min(step.batch_size, len(items))
    if EVENTS_PER_ITEM * per_run > workflow.max_history_events:
        what = f"{step.id} has {len(items)} items" if step.batch_size is None else \
            f"{step.id}'s batch_size {step.batch_size}"
        return StepPlan(StepStatus.FAILED, reason=f"{what}: at about {EVENTS_PER_ITEM} events an item, a history "
                        f"would pass max_history_events ({workflow.max_history_events}): set batch_size: (at most "
                        f"{workflow.max_history_events // EVENTS_PER_ITEM}) to run the items in child executions")
    if step.batch_size is not None and EVENTS_PER_ITEM * math.ceil(len(items) / step.batch_size) > \
            workflow.max_history_events:  # a batch puts about as many events in the parent's history as an item
        return StepPlan(StepStatus.FAILED, reason=f"{step.id} has {len(items)} items: in batches of {step.batch_size}, "
                        f"its own history would pass max_history_events ({workflow.max_history_events}): raise "
                        "batch_size")
    if step.batch_size is not None:
        return _batches(workflow, step, items, state)
    return _items(workflow, step, items, state)


def _items(workflow: Workflow, step: Step, items: list[str], state: ExecutionState, first: int = 1) -> StepPlan:
    """A map's items (numbered from `first`) as its history has them, and which to schedule now."""
    activity = workflow.activities[step.activity]
    slots = len(items) if step.max_concurrency is None else step.max_concurrency
    completed = failed = running = waiting = 0
    first_failure = ""
    results: list[str | None] = []
    retries: list[tuple[int, int, str | None]] = []
    fresh: list[int] = []
    timers: list[tuple[str, int]] = []
    for i, item in enumerate(items, first):
        item_id = item_step_id(step.id, i)
        act = state.by_step.get(item_id)
        st = _attempted(activity, item_id, act, state) if act is not None else StepPlan(StepStatus.READY, 1)
        if st.status in (StepStatus.READY, StepStatus.RETRY):
            st = _refused(item_id, st, state)
        status = st.status
        results.append(act.result if status == StepStatus.COMPLETED and act is not None else None)
        if status == StepStatus.COMPLETED:
            completed += 1
        elif status == StepStatus.FAILED:
            failed += 1
            first_failure = first_failure or st.reason or item_id
        elif status == StepStatus.RUNNING:
            running += 1
        elif status == StepStatus.READY and act is None:
            fresh.append(i)
        elif status == StepStatus.READY:
            retries.append((i, st.attempt, act.input if act is not None else item))
        else:  # WAITING, RETRY, HELD: it keeps its place among the open ones
            waiting += 1
            if status in (StepStatus.RETRY, StepStatus.HELD) and st.timer_id is not None:
                timers.append((st.timer_id, st.delay))
    if not step.tolerates(failed, len(items)):
        shown = f"{step.tolerated_percent:g}%" if step.tolerated_percent is not None else str(step.tolerated_failures)
        return StepPlan(StepStatus.FAILED, reason=cut_middle(
            f"{step.id}: {failed} of {len(items)} items failed, past tolerated_failures {shown}: {first_failure}",
            MAX_REASON), items=MapProgress(len(items), completed, failed, running, waiting))
    if completed + failed == len(items):
        return _map_result(workflow, step, [_item_value(r) for r in results], MapProgress(len(items), completed, failed),
                           first_failure)
    room = max(0, slots - running - waiting - len(retries))
    new = tuple((i, 1, items[i - first]) for i in fresh[:room])
    progress = MapProgress(len(items), completed, failed, running, waiting, (*retries, *new), tuple(timers))
    return StepPlan(StepStatus.RUNNING, items=progress)


def _too_large(workflow: Workflow, what: str, text: str | None, advice: str = "") -> str | None:
    """Why a value is over SWF's limit with no S3 to pass it through (`what` names it, with its verb), or None."""
    if text is None or len(text) <= MAX_DATA or workflow.results_s3:
        return None
    return (f"{what} {len(text)} characters, over SWF's {MAX_DATA}: {advice}set results: {{s3: s3://BUCKET/PREFIX}} "
            "in config.yaml to pass large values")


def _map_result(workflow: Workflow, step: Step, values: list[Any], progress: MapProgress, first_failure: str) -> StepPlan:
    """A map that ended within its tolerated failures: the JSON array of its items' results, in order."""
    text = json.dumps(values, ensure_ascii=False)
    too_large = _too_large(workflow, f"{step.id}'s result is", text)
    if too_large is not None:
        return StepPlan(StepStatus.FAILED, reason=too_large)
    return StepPlan(StepStatus.COMPLETED, result=text, items=progress, reason=first_failure or None)


def _batch_outcome(st: StepPlan, state: ExecutionState, size: int) -> tuple[list[Any], int, str]:
    """A closed batch's item values, failed count and first failure: its child's result, or all failed with it."""
    if st.status != StepStatus.COMPLETED:
        return [None] * size, size, st.reason or "its child failed"
    text = state.texts.get(st.latest.activity_id, st.result or "") if st.latest is not None else st.result or ""
    try:
        value = json.loads(text)
        got = list(value["results"])
        if len(got) != size:
            raise ValueError(f"{len(got)} results for {size} items")
        return got, int(value["failed"]), str(value.get("reason") or "")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # not a batch's result: its items failed
        return [None] * size, size, f"a batch's result cannot be read ({exc}): {shorten(text, 60)!r}"


def _batches(workflow: Workflow, step: Step, items: list[str], state: ExecutionState) -> StepPlan:
    """A map with batch_size: its items in child executions of at most batch_size items each, max_concurrency counted
    over all items (each child runs its share of it)."""
    size = int(step.batch_size or 1)
    batches = [items[k:k + size] for k in range(0, len(items), size)]
    concurrency = step.max_concurrency or len(items)
    open_slots = min(max(1, concurrency // size), MAX_OPEN_CHILDREN)  # SWF refuses more open children
    values: list[Any] = []
    failed = running = waiting = done = 0
    first_failure = ""
    start: list[tuple[int, int, str | None]] = []
    timers: list[tuple[str, int]] = []
    for b, chunk in enumerate(batches, 1):
        batch_id = batch_step_id(step.id, b)
        act = state.by_step.get(batch_id)
        st = _attempted(step, batch_id, act, state) if act is not None else StepPlan(StepStatus.READY, 1)
        if st.status in (StepStatus.READY, StepStatus.RETRY):
            st = _refused(batch_id, st, state)
        if st.status in (StepStatus.COMPLETED, StepStatus.FAILED):
            got, lost, why = _batch_outcome(st, state, len(chunk))
            values += got
            failed, done = failed + lost, done + len(chunk)
            first_failure = first_failure or why
        elif st.status == StepStatus.RUNNING:
            running += 1
        elif st.status == StepStatus.READY:
            text = batch_input(Batch(step.id, (b - 1) * size + 1, tuple(chunk), min(concurrency, size)))
            too_large = _too_large(workflow, f"{step.id}: batch {b}'s input is", text, "lower batch_size, or ")
            if too_large is not None:
                return StepPlan(StepStatus.FAILED, reason=cut_middle(too_large, MAX_REASON))
            start.append((b, st.attempt, text))
        else:
            waiting += 1
            if st.status in (StepStatus.RETRY, StepStatus.HELD) and st.timer_id is not None:
                timers.append((st.timer_id, st.delay))
    progress = MapProgress(len(items), done - failed, failed, running, waiting)
    if not step.tolerates(failed, len(items)):
        return StepPlan(StepStatus.FAILED, items=progress, reason=cut_middle(
            f"{step.id}: {failed} of {len(items)} items failed, past tolerated_failures: {first_failure}", MAX_REASON))
    if done == len(items):
        return _map_result(workflow, step, values, progress, first_failure)
    room = max(0, open_slots - running - waiting)
    return StepPlan(StepStatus.RUNNING, items=replace(progress, schedule=tuple(start[:room]), timers=tuple(timers)))


def _batch_step(workflow: Workflow, batch: Batch) -> Step:
    """The map step as a batch's child runs it: its share of the concurrency, every failure left to the parent."""
    return replace(workflow.step(batch.step), max_concurrency=batch.max_concurrency, tolerated_percent=100.0,
                   batch_size=None)


def _batch_plan(workflow: Workflow, state: ExecutionState, batch: Batch) -> dict[str, StepPlan]:
    """A batch's child: its map step over its items; the chart's other steps are its parent's to run."""
    step = _batch_step(workflow, batch)
    st = _items(workflow, step, list(batch.items), state, batch.first)
    return {s.id: st if s.id == step.id else StepPlan(StepStatus.SKIPPED, reason="its parent runs it")
            for s in workflow.steps}


def decide_batch(workflow: Workflow, state: ExecutionState) -> Answer:
    """A child that runs a batch of a map's items: the map alone, over them; it completes with their results and the
    count that failed, and the parent judges the failures over all items."""
    batch = state.batch
    assert batch is not None
    step = _batch_step(workflow, batch)
    steps = _batch_plan(workflow, state, batch)
    st = steps[step.id]
    if st.status == StepStatus.FAILED:
        return _failing(st.reason or step.id, step=step.id, steps=steps)
    if st.status == StepStatus.COMPLETED:
        assert st.items is not None
        text = json.dumps({"results": json.loads(st.result or "[]"), "failed": st.items.failed,
                           "reason": st.reason or ""}, ensure_ascii=False)
        return Answer([complete(text)], steps)
    assert st.items is not None
    return Answer(fit(_map_moves(workflow, step, state, st.items), state), steps)


def _timer_step(step: Step, timer_id: str, state: ExecutionState) -> StepPlan | None:
    """A wait or signal step's timer as the history has it: fired (COMPLETED), running (WAITING), refused (FAILED)."""
    refusals = state.refused.get(timer_id)
    if refusals:
        return StepPlan(StepStatus.FAILED, reason=refusal_reason(step.id, refusals[-1]))
    timer = state.timers.get(timer_id)
    if timer is None:
        return None
    return StepPlan(StepStatus.COMPLETED if timer.fired else StepStatus.WAITING, timer_id=timer_id)


def _when(now: Any) -> dt.datetime | None:
    """The history's time as an aware datetime (None when it has none)."""
    if isinstance(now, (int, float)):
        return dt.datetime.fromtimestamp(now, dt.timezone.utc)
    if isinstance(now, dt.datetime):
        return now if now.tzinfo is not None else now.replace(tzinfo=dt.timezone.utc)
    return None


def _seconds_until(until: dt.datetime, now: Any) -> int:
    """Whole seconds from the history's now to `until` (0 when past, or when the history has no time)."""
    when = _when(now)
    if when is None:
        return 0
    return max(0, math.ceil((until - when).total_seconds()))


def _wait(step: Step, steps: dict[str, StepPlan], state: ExecutionState, input: str | None) -> StepPlan:
    timer_id = wait_step_timer_id(step.id)
    timed = _timer_step(step, timer_id, state)
    if timed is not None:
        return replace(timed, result=input) if timed.status == StepStatus.COMPLETED else timed
    if step.wait_seconds is not None:
        delay = step.wait_seconds
    else:
        until = step.wait_until
        if step.wait_until_step is not None:
            source = steps[step.wait_until_step]
            if source.status != StepStatus.COMPLETED:
                return StepPlan(StepStatus.SKIPPED, reason=f"{step.wait_until_step} was skipped: no time to wait until")
            text = readable(source, state).strip()
            until = parse_time(text)
            if until is None:
                return StepPlan(StepStatus.FAILED, reason=f"{step.id}: {step.wait_until_step}'s result "
                                f"{shorten(text, 40)!r} is not an ISO 8601 time with its zone (such as 2026-12-24T06:00:00Z)")
        assert until is not None
        delay = min(_seconds_until(until, state.now), MAX_TIMEOUT)
    if delay <= 0:
        return StepPlan(StepStatus.COMPLETED, result=input)
    return StepPlan(StepStatus.SLEEP, delay=delay, timer_id=timer_id)


def _taken_signals(state: ExecutionState) -> dict[str, int]:
    """Each signal step that took a signal -> that signal's event id, from the decider's markers."""
    taken: dict[str, int] = {}
    for name, details in state.markers:
        if name == SIGNAL_TAKEN and details:
            try:
                mark = json.loads(details)
                taken.setdefault(str(mark["step"]), int(mark["event"]))
            except (ValueError, KeyError, TypeError):
                continue
    return taken


def _signal(step: Step, state: ExecutionState, taken: dict[str, int], used: set[int]) -> StepPlan:
    events = dict(zip(state.signal_ids, state.signals, strict=True))
    event = taken.get(step.id)
    new = False
    if event is None:
        event = next((e for e, (name, _) in events.items() if name == step.signal and e not in used), None)
        new = event is not None
    refused = next((r for r in state.markers_refused if r.target == SIGNAL_TAKEN), None) if new else None
    if refused is not None:  # the marker is never sent again: a lasting refusal is not re-sent each decision task
        hint = ": see python -m swfagent policies" if refused.cause == "OPERATION_NOT_PERMITTED" else ""
        return StepPlan(StepStatus.FAILED, reason=f"{step.id}: SWF refused the marker of the signal it took "
                        f"({refused.cause}){hint}")
    if event is not None and event in events:
        used.add(event)
        return StepPlan(StepStatus.COMPLETED, result=events[event][1] or "", signal_event=event, new_signal=new)
    if step.timeout is None:
        return StepPlan(StepStatus.SIGNAL)
    timer_id = signal_timer_id(step.id)
    timed = _timer_step(step, timer_id, state)
    if timed is None:
        return StepPlan(StepStatus.SIGNAL, delay=step.timeout, timer_id=timer_id)
    if timed.status == StepStatus.COMPLETED:  # the timer fired first
        return StepPlan(StepStatus.FAILED, reason=f"{step.id}: no signal {step.signal} within {step.timeout} s")
    return replace(timed, status=StepStatus.SIGNAL) if timed.status == StepStatus.WAITING else timed


def _ready(workflow: Workflow, step: Step, steps: dict[str, StepPlan], state: ExecutionState, taken: dict[str, int],
           used: set[int]) -> StepPlan:
    """A step whose steps before it are done and whose conditions hold: what it does now."""
    if step.kind is StepKind.MAP:
        assert step.for_each is not None
        source = steps[step.for_each]
        if source.status != StepStatus.COMPLETED:
            return StepPlan(StepStatus.SKIPPED, reason=f"{step.for_each} was skipped: no items")
        return _map(workflow, step, source, state)
    if step.kind is StepKind.SIGNAL:
        return _signal(step, state, taken, used)
    if step.kind is StepKind.WAIT:
        return _wait(step, steps, state, step_input(step, state, steps))
    if step.kind is StepKind.FAIL:
        return StepPlan(StepStatus.FAILED, reason=step.fail)
    if step.caught_by is not None:
        failed = steps[step.caught_by]
        details = failed.latest.details if failed.latest is not None else None
        text = json.dumps({"step": step.caught_by, "reason": failed.reason, "details": details}, ensure_ascii=False)
        return StepPlan(StepStatus.READY, attempt=1, input=text)
    return StepPlan(StepStatus.READY, attempt=1)


DONE = (StepStatus.COMPLETED, StepStatus.SKIPPED, StepStatus.CAUGHT)


def plan(workflow: Workflow, state: ExecutionState) -> dict[str, StepPlan]:
    """The status of every step, in the flow chart's dependency order."""
    if state.batch is not None:
        return _batch_plan(workflow, state, state.batch)
    result: dict[str, StepPlan] = {}
    taken = _taken_signals(state)
    used = set(taken.values())
    for step in workflow.steps:
        act = state.by_step.get(step.id) if step.kind in (StepKind.TASK, StepKind.CHILD) else None
        carried = state.carried.get(step.id) if act is None else None
        if carried is not None:  # completed in a run before this one (continued as new)
            st = StepPlan(StepStatus.COMPLETED, result=carried)
        elif act is None and step.id in state.carried_caught:  # failed and caught in a run before this one
            st = StepPlan(StepStatus.FAILED, reason=state.carried_caught[step.id])
        elif act is not None:
            st = _attempted(retries_of(workflow, step), step.id, act, state)
        else:
            deps = [result[d].status for d in step.needs]
            if not all(s in DONE for s in deps):
                st = StepPlan(StepStatus.PENDING)
            elif step.caught_by is not None and deps[0] != StepStatus.CAUGHT:
                st = StepPlan(StepStatus.SKIPPED, reason=f"{step.caught_by} did not fail")
            elif step.caught_by is None and deps and StepStatus.COMPLETED not in deps:
                st = StepPlan(StepStatus.SKIPPED, reason=f"{' and '.join(step.after)} skipped")
            elif (unmet := _unmet(step, result, state)) is not None:
                st = StepPlan(StepStatus.SKIPPED, reason=unmet)
            else:
                st = _ready(workflow, step, result, state, taken, used)
        if st.status in (StepStatus.READY, StepStatus.RETRY):
            st = _refused(step.id, st, state)
        if st.status == StepStatus.FAILED and step.catch is not None:
            st = replace(st, status=StepStatus.CAUGHT, handler=step.catch)
        if step.signal is not None:
            st = replace(st, signal=step.signal)
        result[step.id] = st
    return result


class Retries(Protocol):
    """What a step's retries are: an activity's (under activities:), or a child step's own."""

    @property
    def retries(self) -> int: ...
    @property
    def retry_delay(self) -> int: ...
    @property
    def retry_max_delay(self) -> int: ...


def retries_of(workflow: Workflow, step: Step) -> Retries:
    """The retries of a step: its activity's, or for a child step its own."""
    return step if step.kind is StepKind.CHILD else workflow.activities[step.activity]


def _attempted(activity: Retries, step_id: str, act: ActivityState, state: ExecutionState) -> StepPlan:
    if act.status == ActivityStatus.COMPLETED:
        return StepPlan(StepStatus.COMPLETED, act.attempt, latest=act, result=act.result)
    if act.status.open:
        return StepPlan(StepStatus.RUNNING, act.attempt, latest=act)
    if act.attempt > activity.retries:
        return StepPlan(StepStatus.FAILED, act.attempt, latest=act, reason=failure_reason(step_id, act))
    nxt = act.attempt + 1
    delay = retry_delay(activity, act.attempt)
    timer_id = activity_id(step_id, nxt)
    timer = state.timers.get(timer_id)
    if delay == 0 or (timer is not None and timer.fired):
        return StepPlan(StepStatus.READY, nxt, latest=act)
    if timer is not None:
        return StepPlan(StepStatus.WAITING, nxt, delay, latest=act, timer_id=timer_id)
    return StepPlan(StepStatus.RETRY, nxt, delay, latest=act, timer_id=timer_id)


def _refused(step_id: str, st: StepPlan, state: ExecutionState) -> StepPlan:
    """A step about to be scheduled (or to start its retry timer), after what SWF refused of this attempt."""
    refusals = state.refused.get(activity_id(step_id, st.attempt))
    if not refusals:
        return st
    lasting = next((r for r in refusals if lasts(r.cause) is not Lasts.PASSING), None)
    if lasting is not None:
        return StepPlan(StepStatus.FAILED, st.attempt, latest=st.latest, reason=refusal_reason(step_id, lasting))
    waits = len(refusals)
    if waits >= MAX_WAITS:
        waited = sum(wait_delay(k) for k in range(1, waits))
        return StepPlan(StepStatus.FAILED, st.attempt, latest=st.latest, reason=cut_middle(
            f"{step_id} could not be scheduled: SWF refused it {waits} times in a row over {waited} s "
            f"({refusals[-1].cause}, which passes by itself): run fewer at once, or ask AWS for a higher quota",
            MAX_REASON))
    timer_id = wait_timer_id(activity_id(step_id, st.attempt), waits)
    timer = state.timers.get(timer_id)
    if timer is not None and timer.fired:
        return replace(st, status=StepStatus.READY, delay=0, timer_id=None)  # the wait stands for the retry's delay too
    if timer is not None:
        return StepPlan(StepStatus.WAITING, st.attempt, latest=st.latest, timer_id=timer_id)
    return replace(st, status=StepStatus.HELD, delay=wait_delay(waits), timer_id=timer_id)


# ---- decisions ---------------------------------------------------------------------------------------


def schedule(step_id: str, activity: Activity, attempt: int, input: str | None) -> Decision:
    """A ScheduleActivityTask decision carrying every timeout, so config.yaml is the truth."""
    attrs: dict[str, Any] = {
        "activityType": {"name": activity.name, "version": activity.version},
        "activityId": activity_id(step_id, attempt),
        "taskList": {"name": activity.task_list},
        "startToCloseTimeout": str(activity.timeout),
        "heartbeatTimeout": duration_text(activity.heartbeat_timeout),
        "scheduleToStartTimeout": duration_text(activity.schedule_to_start_timeout),
        "scheduleToCloseTimeout": "NONE",
    }
    if input is not None:
        attrs["input"] = input
    return schedule_activity(attrs)


def start_child(kind: ChildType, workflow_id: str, attempt_id: str, input: str | None) -> Decision:
    """A StartChildWorkflowExecution decision carrying every timeout and the task list, so config.yaml is the truth;
    its control is the attempt id, which each of the child's events in the parent's history leads back to."""
    attrs: dict[str, Any] = {
        "workflowType": {"name": kind.name, "version": kind.version},
        "workflowId": workflow_id,
        "control": attempt_id,
        "taskList": {"name": kind.task_list},
        "executionStartToCloseTimeout": str(kind.execution_timeout),
        "taskStartToCloseTimeout": str(kind.decision_timeout),
        "childPolicy": kind.child_policy,
    }
    if input is not None:
        attrs["input"] = input
    return start_child_decision(attrs)


def start_batch(workflow: Workflow, step: Step, state: ExecutionState, batch: int, attempt: int,
                input: str | None) -> Decision:
    """The StartChildWorkflowExecution of a batch of a map's items: a child of the workflow's own type."""
    attempt_id = activity_id(batch_step_id(step.id, batch), attempt)
    return start_child(workflow.own_type, child_workflow_id(parent_id(state), attempt_id), attempt_id, input)


def start_child_step(workflow: Workflow, step: Step, state: ExecutionState, attempt: int, input: str | None) -> Decision:
    """The StartChildWorkflowExecution of a child step's attempt, its workflow id made from the parent's."""
    attempt_id = activity_id(step.id, attempt)
    return start_child(workflow.child_types[str(step.workflow)], child_workflow_id(parent_id(state), attempt_id),
                       attempt_id, input)


def parent_id(state: ExecutionState) -> str:
    """The execution's own workflow id, which its children's are made from."""
    return state.workflow_id or "swfagent-parent"


def step_input(step: Step, state: ExecutionState, steps: dict[str, StepPlan]) -> str | None:
    """No after: the execution's input; one: its result; several: a JSON object of their results."""
    if not step.after:
        return state.input
    done = {d: steps[d].result for d in step.after if d in steps and steps[d].status == StepStatus.COMPLETED}
    if len(step.after) == 1:
        return next((r or "" for r in done.values()), "")
    return json.dumps({d: r or "" for d, r in done.items()}, ensure_ascii=False)


def signal_marker(step_id: str, signal: str, event_id: int) -> Decision:
    """The marker that records which signal a signal step took, so a later decision task sees the same."""
    return marker(SIGNAL_TAKEN, json.dumps({"step": step_id, "signal": signal, "event": event_id}))


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


def _guard(workflow: Workflow, state: ExecutionState) -> Answer | None:
    """The answer when the execution cannot go on as its chart says (closed, refused, unreadable, too long, a decider
    that keeps failing, a cancel asked for), or None when it can."""
    if state.close_status is not None:
        return Answer([])
    passing = [r for r in state.close_refusals if lasts(r.cause) is Lasts.PASSING]
    lasting = next((r for r in reversed(state.close_refusals) if lasts(r.cause) not in (Lasts.RACE, Lasts.PASSING)),
                   passing[-1] if len(passing) >= MAX_WAITS else None)
    if lasting is not None:  # SWF will not let it close: leave it to a person or its timeout, never re-send
        return Answer([], plan(workflow, state), refused=lasting)
    if state.problems:
        return _failing(state.problems[0], "\n".join(state.problems))
    if state.event_count > workflow.max_history_events:
        return _stopping(state, f"history has {state.event_count} events, past max_history_events "
                         f"({workflow.max_history_events}); SWF's own limit is {MAX_HISTORY_EVENTS:,}")
    if len(state.decider_errors) >= DECIDER_ERRORS:
        return _stopping(state, f"the decider failed {len(state.decider_errors)} times in a row: "
                         f"{state.decider_errors[-1]}", "\n".join(state.decider_errors))
    if state.decision_timeouts_in_a_row >= DECISION_TIMEOUTS:
        return _stopping(state, f"{state.decision_timeouts_in_a_row} decision tasks in a row timed out without an "
                         f"answer (decision_timeout {workflow.decision_timeout} s): see the decider's log")
    if state.cancel_requested:
        return _cancelling(state)
    return None


def _stopping(state: ExecutionState, reason: str, details: str | None = None) -> Answer:
    """A failure of the execution itself (not of a step), once its open children closed."""
    return _after_children(state, _failing(reason, details), (None, reason, details))


def decide(workflow: Workflow, state: ExecutionState) -> Answer:
    """The decisions that move the execution on from the state its history describes."""
    guarded = _guard(workflow, state)
    if guarded is not None:
        return guarded
    if state.batch is not None:
        return decide_batch(workflow, state)
    waiting = _not_yet(state)
    if waiting is not None:
        return waiting
    statuses = plan(workflow, state)
    failure = _closing_mark(state) or next(((step_id, st.reason or step_id, st.latest.details if st.latest else None)
                                            for step_id, st in statuses.items() if st.status == StepStatus.FAILED), None)
    if failure is not None:
        step_id, reason, details = failure
        return _after_children(state, _ending(workflow, state, _failing(reason, details, step_id, statuses),
                                              failed=True), failure)
    decisions = _moves(workflow, state, statuses)
    if isinstance(decisions, Answer):
        return decisions
    if state.event_count > workflow.continue_after_events and all(st.status in RESTING for st in statuses.values()) \
            and not all(st.status in DONE for st in statuses.values()) and not _signal_waiting(workflow, state, statuses):
        return _after_children(state, carry_on(workflow, state, statuses,
                                               [d for d in decisions if d.type is DecisionType.RECORD_MARKER]))
    if any(d.type is not DecisionType.RECORD_MARKER for d in decisions):
        return Answer(fit(decisions, state), statuses)
    if all(st.status in DONE for st in statuses.values()):
        # the result of the last completed step as the chart is written
        last = max((s for s in workflow.steps if statuses[s.id].status == StepStatus.COMPLETED), key=lambda s: s.index,
                   default=None)
        return _after_children(state, _ending(workflow, state, Answer(
            [*decisions, complete(None if last is None else statuses[last.id].result)], statuses), failed=False))
    return Answer(decisions, statuses)


CLOSES = (DecisionType.COMPLETE_WORKFLOW_EXECUTION, DecisionType.FAIL_WORKFLOW_EXECUTION,
          DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION)
Failure = tuple[str | None, str, str | None]  # the failed step (None: the execution itself), why, its details


def _closing_mark(state: ExecutionState) -> Failure | None:
    """The failure the execution closes with once its children closed, as its marker recorded it."""
    details = next((d for name, d in reversed(state.markers) if name == CLOSING and d), None)
    return None if details is None else _read_closing(details)


def _read_closing(text: str) -> Failure | None:
    """The failure a closing marker's details hold, or None when they cannot be read."""
    try:
        mark = json.loads(text)
        step, details = mark.get("step"), mark.get("details")
        return None if step is None else str(step), str(mark["reason"]), None if details is None else str(details)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # AttributeError: not a JSON object
        return None


def _after_children(state: ExecutionState, answer: Answer, failure: Failure | None = None) -> Answer:
    """An answer that closes the execution (fails, completes or continues it), once its open children closed: until
    then each is asked to cancel (once) and waited for, the failure recorded so the close is the same afterwards.

    SWF applies a child policy only when the parent is terminated or times out. A child SWF will not ask to cancel
    is not waited for; without the marker (refused) the execution closes at once."""
    if not answer.decisions or answer.decisions[-1].type not in CLOSES:
        return answer
    cancels, waiting = _cancel_children(state)
    if not waiting or any(r.target == CLOSING for r in state.markers_refused):
        return answer
    kept = [d for d in answer.decisions if d.type is DecisionType.RECORD_MARKER]
    if failure is not None and _closing_mark(state) is None:
        step, reason, details = failure
        kept.append(marker(CLOSING, json.dumps({"step": step, "reason": reason,
                                                "details": None if details is None else cut(details, MAX_DATA // 2)},
                                               ensure_ascii=False)))
    return Answer(fit([*kept, *cancels], state), answer.steps)


def _cancel_children(state: ExecutionState) -> tuple[list[Decision], bool]:
    """The open children asked to cancel, each once: the decisions for it now, and whether any is still waited for.

    A cancel SWF refused for a passing cause (its rate) is asked again after a wait, at most MAX_WAITS times; one
    refused for any other cause is not asked again, and its child is not waited for (the child policy, when the
    parent is terminated or times out, is all that is left)."""
    decisions: list[Decision] = []
    waiting = False
    for c in state.children.values():
        wid = str(c.workflow_id)
        refusals = state.child_cancels_refused.get(wid, [])
        if not c.status.open or (refusals and (lasts(refusals[-1].cause) is not Lasts.PASSING
                                               or len(refusals) >= MAX_WAITS)):
            continue
        waiting = True
        if state.child_cancel_asked.get(wid, 0) > (refusals[-1].event_id if refusals else 0):  # asked; not refused
            continue
        wait_id = wait_timer_id(f"{CANCEL_WAIT}{c.activity_id}", len(refusals))
        if refusals and wait_id not in state.timers:
            decisions.append(start_timer(wait_id, wait_delay(len(refusals))))
        elif not refusals or state.timers[wait_id].fired:
            decisions.append(request_cancel_external(wid, c.run_id, c.activity_id))
    return decisions, waiting


def _moves(workflow: Workflow, state: ExecutionState, statuses: dict[str, StepPlan]) -> list[Decision] | Answer:
    """The decisions that start what is ready (steps, items, timers, signal markers); an Answer when a step's input
    cannot be sent."""
    decisions: list[Decision] = []
    for step in workflow.steps:
        st = statuses[step.id]
        if st.status == StepStatus.READY:
            # a retry gets the input its first attempt got, even if the flow chart changed since
            text = st.latest.input if st.latest is not None else st.input if st.input is not None else \
                step_input(step, state, statuses)
            too_large = _too_large(workflow, f"input for {step.id} is", text)
            if too_large is not None:
                return _failing(too_large, step=step.id, steps=statuses)
            decisions.append(start_child_step(workflow, step, state, st.attempt, text) if step.kind is StepKind.CHILD
                             else schedule(step.id, workflow.activities[step.activity], st.attempt, text))
        elif st.items is not None and st.status == StepStatus.RUNNING:
            decisions += _map_moves(workflow, step, state, st.items)
        elif st.new_signal and st.signal_event is not None:
            decisions.append(signal_marker(step.id, str(step.signal), st.signal_event))
        elif st.status in (StepStatus.RETRY, StepStatus.HELD, StepStatus.SLEEP, StepStatus.SIGNAL) \
                and st.timer_id is not None and st.timer_id not in state.timers:
            decisions.append(start_timer(st.timer_id, st.delay))
    return decisions


def _map_moves(workflow: Workflow, step: Step, state: ExecutionState, items: MapProgress) -> list[Decision]:
    """A running map's items to schedule (or, with batch_size, its batches to start) and its timers to start."""
    if step.batch_size is not None:
        moves = [start_batch(workflow, step, state, b, attempt, text) for b, attempt, text in items.schedule]
    else:
        activity = workflow.activities[step.activity]
        moves = [schedule(item_step_id(step.id, i), activity, attempt, text) for i, attempt, text in items.schedule]
    return moves + [start_timer(timer_id, delay) for timer_id, delay in items.timers]


# the statuses of a step at a point where the execution may continue as new: nothing of it open
RESTING = (StepStatus.COMPLETED, StepStatus.SKIPPED, StepStatus.CAUGHT, StepStatus.PENDING, StepStatus.READY)


def _signal_waiting(workflow: Workflow, state: ExecutionState, statuses: dict[str, StepPlan]) -> bool:
    """True when a signal came that a signal step not done yet will take: the run goes on until it takes it, for a new
    run would not have it."""
    used = {st.signal_event for st in statuses.values() if st.signal_event is not None}
    wanted = {str(s.signal) for s in workflow.steps if s.kind is StepKind.SIGNAL and statuses[s.id].status not in DONE}
    return any(name in wanted and e not in used for e, (name, _) in zip(state.signal_ids, state.signals, strict=True))


def carry_on(workflow: Workflow, state: ExecutionState, statuses: dict[str, StepPlan],
             markers: list[Decision]) -> Answer:
    """Past continue_after_events with no step open: continue as new, every completed step's result (an activity's, a
    child's, a map's, a wait's, a signal's) as the new run's input, so its history starts short; the signal markers
    of this answer are recorded with it."""
    results = {**state.carried, **{s: st.result or "" for s, st in statuses.items()
                                   if st.status == StepStatus.COMPLETED}}
    caught = {**state.carried_caught, **{s: st.reason or "" for s, st in statuses.items()
                                         if st.status == StepStatus.CAUGHT}}
    text = carry_input(state.input, results, state.runs + 1, caught)
    too_large = _too_large(workflow, f"the history passed continue_after_events ({workflow.continue_after_events}), "
                           "and the results it carries to its next run are", text)
    if too_large is not None:
        return _failing(too_large, steps=statuses)
    return _continue(workflow, state, text, markers, statuses)


def _continue_attributes(workflow: Workflow, wait: int = 0) -> dict[str, Any]:
    """What a ContinueAsNewWorkflowExecution carries besides its input: the config's, not the type's defaults; a run
    that first waits `wait` seconds for its time gets them on top of its execution_timeout."""
    return {"workflowTypeVersion": workflow.version, "taskList": {"name": workflow.task_list},
            "executionStartToCloseTimeout": str(min(wait + workflow.execution_timeout, MAX_TIMEOUT)),
            "taskStartToCloseTimeout": str(workflow.decision_timeout), "childPolicy": workflow.child_policy}


def _ending(workflow: Workflow, state: ExecutionState, answer: Answer, failed: bool) -> Answer:
    """The answer that completes or fails the execution; for a workflow that repeats, its next run at once
    (ContinueAsNew) with the same input and the time it may start, which it waits for through a timer."""
    repeat = workflow.repeat
    if repeat is None or (failed and repeat.on_failure == "stop"):
        return answer
    kept = [d for d in answer.decisions if d.type is DecisionType.RECORD_MARKER]
    wait = repeat_delay(workflow, state)
    now = _when(state.now)
    not_before = None if now is None else (now + dt.timedelta(seconds=wait)).isoformat()
    text = carry_input(state.input, {}, 1, not_before=not_before)
    too_large = _too_large(workflow, "the input of the next run is", text)
    if too_large is not None:
        return _failing(too_large, steps=answer.steps)
    return _continue(workflow, state, text, kept, answer.steps, wait)


def _continue(workflow: Workflow, state: ExecutionState, input: str | None, kept: list[Decision],
              steps: dict[str, StepPlan], wait: int = 0) -> Answer:
    """ContinueAsNew with this input; after SWF refused it for a passing cause (its rate), a wait first."""
    waits = len([r for r in state.close_refusals if lasts(r.cause) is Lasts.PASSING])
    wait_id = wait_timer_id(repeat_timer_id(), len(_repeat_refusals(state)) + waits)  # after the run's start's waits
    if waits and wait_id not in state.timers:
        return Answer([*kept, start_timer(wait_id, wait_delay(waits))], steps)
    if waits and not state.timers[wait_id].fired:
        return Answer(kept, steps)
    return Answer([*kept, continue_as_new(input, _continue_attributes(workflow, wait))], steps)


def _repeat_refusals(state: ExecutionState) -> list[Refusal]:
    """SWF's refusals of the timers of a repeating workflow's run waiting for its time: its own, and its waits'."""
    prefix = repeat_timer_id()
    return [r for key, refusals in state.refused.items() if key == prefix or key.startswith(prefix + ".wait")
            for r in refusals]


def _not_yet(state: ExecutionState) -> Answer | None:
    """A repeating workflow's run before its time: the timer until then (after a refusal for a passing cause, a wait
    first; for a lasting one, the execution fails saying why); None once its time has come."""
    until = parse_time(state.not_before or "")
    timer = state.timers.get(repeat_timer_id())
    if until is None or (timer is not None and timer.fired):
        return None
    if timer is not None:
        return Answer([])
    refusals = _repeat_refusals(state)
    lasting = next((r for r in refusals if lasts(r.cause) is not Lasts.PASSING), None)
    if lasting is not None:  # never sent again: the chain ends here, saying why
        return _failing(refusal_reason("repeat", lasting).replace("could not be scheduled", "could not wait for its "
                                                                  "time"))
    if len(refusals) >= MAX_WAITS:
        return _failing(f"repeat could not wait for its time: SWF refused its timer {len(refusals)} times in a row "
                        f"({refusals[-1].cause}, which passes by itself): ask AWS for a higher quota")
    wait_id = wait_timer_id(repeat_timer_id(), len(refusals))
    if refusals and wait_id not in state.timers:
        return Answer([start_timer(wait_id, wait_delay(len(refusals)))])
    if refusals and not state.timers[wait_id].fired:
        return Answer([])
    delay = min(_seconds_until(until, state.now), MAX_TIMEOUT)
    return Answer([start_timer(repeat_timer_id(), delay)]) if delay > 0 else None


def repeat_delay(workflow: Workflow, state: ExecutionState) -> int:
    """Seconds until a repeating workflow's next run: every, or until its cron schedule's next time."""
    repeat = workflow.repeat
    assert repeat is not None
    if repeat.every is not None:
        return repeat.every
    now = _when(state.now) or dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    at = next_time(str(repeat.cron), now)
    return MAX_TIMEOUT if at is None else min(max(1, _seconds_until(at, state.now)), MAX_TIMEOUT)


def step_notes(workflow: Workflow, state: ExecutionState, steps: dict[str, StepPlan]) -> dict[str, str]:
    """A line per step beyond its state, for the chart and `show`: a map's items, a signal, when a wait fires."""
    notes: dict[str, str] = {}
    for step in workflow.steps:
        st = steps.get(step.id)
        if st is None:
            continue
        if st.items is not None:
            notes[step.id] = str(st.items)
        elif step.kind is StepKind.CHILD and st.latest is not None:
            notes[step.id] = f"child workflow {st.latest.workflow_id}"
        elif st.status == StepStatus.CAUGHT:
            notes[step.id] = f"failed: caught by {st.handler}"
        elif st.status == StepStatus.SIGNAL:
            notes[step.id] = f"waiting for signal {step.signal}"
        elif step.kind is StepKind.SIGNAL and st.signal_event is not None:
            notes[step.id] = f"signal {step.signal} taken (event {st.signal_event})"
        elif st.status == StepStatus.SLEEP:
            notes[step.id] = f"fires {st.delay} s after it starts"
        elif step.kind is StepKind.WAIT and st.status == StepStatus.WAITING and st.timer_id in state.timers:
            timer = state.timers[str(st.timer_id)]
            if isinstance(timer.started_at, dt.datetime) and str(timer.delay).isdigit():
                at = timer.started_at + dt.timedelta(seconds=int(timer.delay))
                notes[step.id] = f"fires at {at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
            else:
                notes[step.id] = f"fires {timer.delay} s after it started"
    return notes


def _cancelling(state: ExecutionState) -> Answer:
    """A cancel was asked for: cancel the open activities, children and timers, then the execution once none is open.

    A cancel SWF refused is not asked again, whatever the cause: an activity SWF will not cancel is waited for
    until it ends by itself (the answer names the refusal), a timer SWF will not cancel goes with the execution.
    """
    running = [a for a in state.activities.values() if a.status.open]
    refused = state.activity_cancels_refused
    decisions = [request_cancel(a.activity_id) for a in running if not a.cancel_requested and a.activity_id not in refused]
    decisions += [cancel_timer(t.timer_id) for t in state.timers.values()  # a child's cancel's wait is kept
                  if not t.fired and t.timer_id not in state.timer_cancels_refused and not t.timer_id.startswith(CANCEL_WAIT)]
    # open children are asked to cancel, and waited for; one SWF will not ask is left to the child policy
    child_moves, children = _cancel_children(state)
    decisions += child_moves
    if children and not running:
        return Answer(fit(decisions, state))
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
    if not decisions or all(d.type is DecisionType.RECORD_MARKER for d in decisions):
        return _waiting(answer)
    last = decisions[-1]
    caught = [f"{failed} failed: caught by {st.handler}" for failed, st in _newly_caught(answer)]
    if last.type is DecisionType.COMPLETE_WORKFLOW_EXECUTION:
        return "; ".join([*caught, "Complete the workflow execution"])
    if last.type is DecisionType.FAIL_WORKFLOW_EXECUTION:
        return "; ".join([*caught, "Fail the workflow execution -- " + str(last.get("reason"))])
    if last.type is DecisionType.CANCEL_WORKFLOW_EXECUTION:
        return "Cancel the workflow execution"
    if last.type is DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
        return "; ".join([*caught, "Continue as new"])
    parts: list[str] = []
    scheduled: list[str] = []
    items: dict[str, list[int]] = {}
    for d in decisions:
        if d.type is DecisionType.SCHEDULE_ACTIVITY_TASK:
            step, attempt = parse_activity_id(d.get("activityId"))
            item = parse_item(step) if step is not None else None
            if item is not None:
                items.setdefault(item[0], []).append(item[1])
            else:
                scheduled.append(f"{step} (attempt {attempt})" if attempt > 1 else str(step))
        elif d.type is DecisionType.START_TIMER:
            parts.append(_timer_text(d.get("timerId"), d.get("startToFireTimeout")))
        elif d.type is DecisionType.REQUEST_CANCEL_ACTIVITY_TASK:
            parts.append("Cancel activity -- " + d.get("activityId"))
        elif d.type in CHILD_TEXTS:
            parts.append(_child_text(d))
        elif d.type is DecisionType.RECORD_MARKER and d.get("markerName") == SIGNAL_TAKEN:
            parts.append(_signal_text(d.get("details", "")))
        elif d.type is DecisionType.RECORD_MARKER and d.get("markerName") == CLOSING:
            closing = _read_closing(d.get("details", ""))
            parts.append("Close once the open children closed -- " + shorten(str(closing and closing[1]), 200))
        elif d.type is DecisionType.RECORD_MARKER:
            parts.append("Record -- " + shorten(d.get("details", ""), 200))
    for step, numbers in items.items():
        progress = answer.steps[step].items if step in answer.steps else None
        of = f" of {progress.total}" if progress is not None else ""
        scheduled.append(f"{step} (item{'s' if len(numbers) > 1 else ''} {_ranges(numbers)}{of})")
    if scheduled:
        parts.insert(0, "Schedule activity -- " + ", ".join(scheduled))
    signals = [f"Waiting for signal {st.signal} -- {s}" for s, st in answer.steps.items() if st.status == StepStatus.SIGNAL]
    return "; ".join(dict.fromkeys(p for p in [*caught, *parts, *signals] if p))


CHILD_TEXTS = (DecisionType.START_CHILD_WORKFLOW_EXECUTION, DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION)


def _child_text(d: Decision) -> str:
    """A child's start or cancel, as the decider's log says it."""
    if d.type is DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
        return "Cancel child workflow -- " + str(d.get("workflowId"))
    step, attempt = parse_activity_id(str(d.get("control", "")))
    batch = parse_batch(step) if step is not None else None
    name = f"{batch[0]} (batch {batch[1]})" if batch is not None else f"{step} ({d.get('workflowType', {}).get('name')})"
    return "Start child workflow -- " + name + (f" (attempt {attempt})" if attempt > 1 else "")


def _waiting(answer: Answer) -> str:
    signals = [f"Waiting for signal {st.signal} -- {s}" for s, st in answer.steps.items() if st.status == StepStatus.SIGNAL]
    marked = [_signal_text(d.get("details", "")) for d in answer.decisions if d.get("markerName") == SIGNAL_TAKEN]
    waiting = [s for s, st in answer.steps.items() if st.status in (StepStatus.RUNNING, StepStatus.WAITING)]
    under_way = ["Wait -- " + ", ".join(waiting) + " under way"] if waiting else []
    return "; ".join([*marked, *signals, *under_way]) or "Wait"


def _newly_caught(answer: Answer) -> list[tuple[str, StepPlan]]:
    """The failed steps whose catch target starts with this answer."""
    return [(s, st) for s, st in answer.steps.items() if st.status == StepStatus.CAUGHT and st.handler is not None
            and (h := answer.steps.get(st.handler)) is not None and h.latest is None
            and h.status in (StepStatus.READY, StepStatus.FAILED, StepStatus.SLEEP, StepStatus.SIGNAL)]


def _signal_text(details: str) -> str:
    try:
        mark = json.loads(details)
        return f"Signal {mark['signal']} taken -- {mark['step']} (event {mark['event']})"
    except (ValueError, KeyError, TypeError):
        return "Signal taken"


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5 -> '1-3, 5'."""
    out: list[str] = []
    numbers = sorted(numbers)
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


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
    if timer.kind is TimerKind.STEP_WAIT:
        return f"Start timer -- {timer.step} ({delay} s)"
    if timer.kind is TimerKind.REPEAT:
        return f"Wait {delay} s for this run's time (repeat)"
    if timer.kind is TimerKind.SIGNAL:
        return f"Start timer -- {timer.step} ({delay} s for its signal)"
    if timer_id.startswith(CANCEL_WAIT):
        return f"Wait {delay} s for SWF's capacity, then cancel child {timer_id[len(CANCEL_WAIT):].rpartition('.')[0]}"
    return f"Timer {timer_id} ({delay} s)"

