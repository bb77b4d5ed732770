"""The embedded SWF's engine: one lock over every SWF operation, task-list queues with long polls, one clock.

- One lock: every SWF request runs under it, so a task is handed to one poller (moto's poll is
  check-then-act on a threaded server).
- Task lists are queues of what is scheduled; a poll takes the first task or waits, up to
  `poll_seconds`, on its task list's condition, which scheduling notifies.
- One clock thread fires what is due (activity and decision timeouts as SWF runs them, timers,
  execution timeouts, retention) at its time, from a heap, instead of moto's scan of every execution
  ever started on every call.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import botocore.session

from .faults import Faults, Limits
from .models import Backend, Execution, LimitExceeded, SwfDomain, seconds
from .moto_adapter import ActivityTask, DecisionTask, Timeout, pinned_now

log = logging.getLogger("swfagent.local")

ACTIVITY = "activity"
DECISION = "decision"

# An activity's timeout types and where each is kept in moto's task.timeouts.
TIMEOUT_KEYS = {
    "SCHEDULE_TO_START": "scheduleToStartTimeout", "SCHEDULE_TO_CLOSE": "scheduleToCloseTimeout",
    "START_TO_CLOSE": "startToCloseTimeout", "HEARTBEAT": "heartbeatTimeout",
}


def _swf_regions() -> frozenset[str]:
    session = botocore.session.get_session()
    return frozenset(
        region for partition in session.get_available_partitions()
        for region in session.get_available_regions("swf", partition_name=partition))


class UnknownRegion(Exception):
    """A request signed for a region SWF does not have."""


def priority(task: Any) -> int:
    """A task's priority: the activity's, or its execution's for a decision task (higher goes first)."""
    value = getattr(task, "task_priority", None) or getattr(task.workflow_execution, "task_priority", None) or 0
    try:
        return int(value)
    except ValueError:
        return 0


class Recorder(Protocol):
    """Where the engine writes each change it makes (durable.Journal is one); None: in memory only."""

    appended: int  # records so far: an answer leaves once that many are on disk

    def wait(self, seq: int) -> None: ...
    def maybe_snapshot(self) -> None: ...
    def change(self, now: float | None = None) -> contextlib.AbstractContextManager[list[Any]]: ...


def pinned_clock(base: Callable[[], float]) -> Callable[[], float]:
    """A clock that reads the time pinned on this thread (a journaled change, live or replayed), else `base`."""

    def clock() -> float:
        now = pinned_now()
        return base() if now is None else now

    return clock


class TaskList:
    """What is scheduled on one task list, highest priority first then oldest, and the condition its polls wait on."""

    def __init__(self, lock: threading.RLock):
        self.queue: deque[Any] = deque()
        self.ready = threading.Condition(lock)
        self.polling = 0  # polls waiting on it now

    def __getstate__(self) -> dict[str, Any]:
        return {"queue": self.queue}  # a snapshot keeps what is queued; the engine gives it a condition again

    def add(self, task: Any) -> None:
        """Queued behind every task of its priority or higher (SWF: best effort)."""
        rank = priority(task)
        if not self.queue or priority(self.queue[-1]) >= rank:
            self.queue.append(task)
        else:
            at = next(i for i, t in enumerate(self.queue) if priority(t) < rank)
            self.queue.insert(at, task)
        self.ready.notify()


def task_list_key(domain: SwfDomain, kind: str, name: str) -> tuple[str, str, str, str, str]:
    """Where a task list is kept: its account, region, domain, kind and name."""
    return domain.account_id, domain.region_name, domain.name, kind, name


class Engine:
    """The state behind every SWF answer of the embedded server: backends, queues, tokens, the clock."""

    def __init__(self, *, poll_seconds: float = 60.0, limits: Limits | None = None,
                 clock: Callable[[], float] = time.time, run_clock: bool = True):
        self.lock = threading.RLock()
        self.base_clock = clock  # the time itself, never a pinned one
        self.clock = pinned_clock(clock)
        self.journal: Recorder | None = None  # with --data: every change written before its answer leaves
        self.poll_seconds = poll_seconds
        self.limits = limits or Limits()  # as configured: a reset comes back to these
        self.faults = Faults(self.limits)
        self.tokens: dict[str, ActivityTask | DecisionTask] = {}
        self.stopped = False
        self._backends: dict[tuple[str, str], Backend] = {}
        # (account, region, domain, kind, name) -> its queue: the engine's, as its tokens and clock are
        self._task_lists: dict[tuple[str, str, str, str, str], TaskList] = {}
        self._regions = _swf_regions()
        self._due: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition(self.lock)
        self._generation = 0  # a reset ends the polls waiting on what it dropped
        self._thread: threading.Thread | None = None
        if run_clock:
            self.start_clock()

    # -- a snapshot of the state (durable.py) ----------------------------------------------------------

    RUNTIME = ("lock", "clock", "base_clock", "journal", "stopped", "_wake", "_thread", "_regions")

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in self.RUNTIME}
        state["_seq"] = next(self._seq)  # itertools.count is not kept by pickle: where it had got to
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._seq = itertools.count(state["_seq"])
        self.lock = threading.RLock()
        self.base_clock = time.time
        self.clock = pinned_clock(time.time)
        self.journal = None
        self.stopped = False
        self._wake = threading.Condition(self.lock)
        self._thread = None
        self._regions = _swf_regions()
        for task_list in self._task_lists.values():
            task_list.ready, task_list.polling = threading.Condition(self.lock), 0

    def start_clock(self) -> None:
        """Start the clock's thread (an engine made with run_clock=False, or loaded from a snapshot)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run_clock, name="swf-clock", daemon=True)
            self._thread.start()

    # -- backends ------------------------------------------------------------------------------------

    def backend(self, account: str, region: str) -> Backend:
        """The SWF of one account and region, made on first use."""
        found = self._backends.get((account, region))
        if found is None:
            if region not in self._regions:
                raise UnknownRegion(region)
            found = self._backends[(account, region)] = Backend(region, account, self)
        return found

    def set_limits(self, limits: Limits, *, configured: bool = False) -> None:
        """Put other limits and faults in force (the configured ones come back on reset)."""
        with self.lock, self._change() as record:
            if configured:
                self.limits = limits
            self.faults = Faults(limits)
            record[:] = ["limits", limits, configured]

    def _change(self, now: float | None = None) -> contextlib.AbstractContextManager[list[Any]]:
        """Where a change is recorded: the journal's (with --data), else nowhere."""
        return self.journal.change(now) if self.journal is not None else contextlib.nullcontext([])

    def reset(self) -> None:
        """Forget everything, as moto's reset does; polls waiting now answer empty."""
        with self.lock, self._change() as record:
            record[:] = ["reset"]
            self._generation += 1
            self._notify_all()
            self._backends.clear()
            self._task_lists.clear()
            self._due.clear()
            self.tokens.clear()
            self.faults = Faults(self.limits)

    def stop(self) -> None:
        """End the clock and every waiting poll now."""
        with self.lock:
            self.stopped = True
            self._notify_all()
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _notify_all(self) -> None:
        for task_list in self._task_lists.values():
            task_list.ready.notify_all()

    # -- the clock -----------------------------------------------------------------------------------

    def at(self, due: float, action: Callable[..., None], *args: Any) -> None:
        """Call action(due, *args) once the clock reaches `due`."""
        with self.lock:
            heapq.heappush(self._due, (due, next(self._seq), action, args))
            if self._due[0][0] == due:
                self._wake.notify()

    def catch_up(self) -> None:
        """Fire everything that is due, oldest first."""
        with self.lock:
            now = self.clock()
            if not self._due or self._due[0][0] > now:
                return
            with self._change(now) as record:
                record[:] = ["tick"]
                self._fire(now)

    def _fire(self, now: float) -> None:
        with self.lock:
            while self._due and self._due[0][0] <= now:
                due, _, action, args = heapq.heappop(self._due)
                try:
                    action(due, *args)
                except Exception:  # one broken timeout must not stop the clock
                    log.exception("the embedded SWF's clock: %s failed", getattr(action, "__name__", action))

    def _run_clock(self) -> None:
        with self.lock:
            while not self.stopped:
                self.catch_up()
                wait = min(max(self._due[0][0] - self.clock(), 0.0), 1.0) if self._due else 1.0
                self._wake.wait(wait)

    # -- what the models tell the engine ------------------------------------------------------------

    def _task_list(self, domain: SwfDomain, kind: str, name: str) -> TaskList:
        return self._task_list_at(task_list_key(domain, kind, name))

    def _task_list_at(self, key: tuple[str, str, str, str, str]) -> TaskList:
        found = self._task_lists.get(key)
        if found is None:
            found = self._task_lists[key] = TaskList(self.lock)
        return found

    def task_list(self, domain: SwfDomain, kind: str, name: str) -> TaskList | None:
        """One task list's queue and polls, if anything was ever scheduled or polled on it."""
        return self._task_lists.get(task_list_key(domain, kind, name))

    def _issue(self, task: ActivityTask | DecisionTask) -> None:
        self.tokens[task.task_token] = task
        task.workflow_execution.issued_tokens.append(task.task_token)  # type: ignore[attr-defined]

    def execution_started(self, wfe: Execution) -> None:
        """Its START_TO_CLOSE timeout starts."""
        limit = seconds(wfe.execution_start_to_close_timeout)
        if limit is not None:
            self.at(self.clock() + limit, self._execution_due, wfe)

    def execution_closed(self, wfe: Execution) -> None:
        """Its workflow id is free again; it is kept for the domain's retention, then dropped."""
        domain: SwfDomain = wfe.domain  # type: ignore[assignment]
        if domain.open_runs.get(wfe.workflow_id) is wfe:
            del domain.open_runs[wfe.workflow_id]
        self.at(self.clock() + domain.retention_seconds, self._expire, wfe)

    def activity_scheduled(self, domain: SwfDomain, task_list: str, task: ActivityTask) -> None:
        """Queued; its SCHEDULE_TO_START and SCHEDULE_TO_CLOSE clocks start (never its heartbeat's)."""
        self._issue(task)
        self._task_list(domain, ACTIVITY, task_list).add(task)
        now = self.clock()
        for kind in ("SCHEDULE_TO_START", "SCHEDULE_TO_CLOSE"):
            limit = seconds(task.timeouts.get(TIMEOUT_KEYS[kind]))
            if limit is not None:
                self.at(now + limit, self._activity_due, task, kind, None)

    def _activity_started(self, task: ActivityTask) -> None:
        """Its START_TO_CLOSE and HEARTBEAT clocks start now."""
        now = self.clock()
        task.last_heartbeat_timestamp = now
        for kind in ("START_TO_CLOSE", "HEARTBEAT"):
            limit = seconds(task.timeouts.get(TIMEOUT_KEYS[kind]))
            if limit is not None:
                self.at(now + limit, self._activity_due, task, kind, task.started_event_id)

    def decision_scheduled(self, domain: SwfDomain, task_list: str, task: DecisionTask) -> None:
        """Queued for the deciders."""
        self._issue(task)
        self._task_list(domain, DECISION, task_list).add(task)

    def decisions_unblocked(self, wfe: Execution) -> None:
        """The execution's decision task ended: a scheduled one behind it may be handed out now."""
        self._task_list(wfe.domain, DECISION, wfe.task_list).ready.notify()  # type: ignore[arg-type]

    # -- polls ---------------------------------------------------------------------------------------

    def poll(self, domain: SwfDomain, kind: str, name: str, identity: str | None,
             gone: Callable[[], bool] | None = None) -> Any:
        """The next task on the task list, started for this poller; waits up to poll_seconds (lock held).

        `gone` tells whether the poller's connection has closed: such a poll takes nothing, and the
        task stays queued for the next poller.
        """
        key = task_list_key(domain, kind, name)
        task_list = self._task_list_at(key)
        most = self.faults.limits.pollers
        if most is not None and task_list.polling >= most:
            raise LimitExceeded(f"{most} polls already wait on task list {name} (--faults pollers={most})")
        task_list.polling += 1
        try:
            return self._poll(task_list, key, identity, gone)
        finally:
            task_list.polling -= 1

    def take(self, key: tuple[str, str, str, str, str], identity: str | None) -> Any:
        """The next task on a task list, started for this poller, or None (recorded with --data)."""
        task_list = self._task_list_at(key)
        if not task_list.queue:  # nothing to take: no change to record (each empty wake-up of a poll lands here)
            return None
        take = self._take_activity if key[3] == ACTIVITY else self._take_decision
        with self._change() as record:
            task = take(task_list, identity)
            if task is not None:
                record[:] = ["take", key, identity, task.task_token]
        return task

    def _poll(self, task_list: TaskList, key: tuple[str, str, str, str, str], identity: str | None,
              gone: Callable[[], bool] | None) -> Any:
        deadline = time.monotonic() + self.poll_seconds
        generation = self._generation
        while True:
            if task_list.queue and gone is not None and gone():
                task_list.ready.notify()  # it may have been this poll that was woken for the task: wake another
                return None
            task = self.take(key, identity)
            if task is not None:
                return task
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stopped or generation != self._generation:
                return None
            task_list.ready.wait(remaining)

    def _take_activity(self, task_list: TaskList, identity: str | None) -> ActivityTask | None:
        queue = task_list.queue
        while queue:
            task = queue.popleft()
            wfe = task.workflow_execution
            if task.state == "SCHEDULED" and wfe.open:
                wfe.start_activity_task(task.task_token, identity=identity)
                self._activity_started(task)
                return task  # type: ignore[no-any-return]
        return None

    def _take_decision(self, task_list: TaskList, identity: str | None) -> DecisionTask | None:
        queue = task_list.queue
        blocked: list[DecisionTask] = []  # their execution has a decision task under way: they wait their turn
        found = None
        while queue:
            task = queue.popleft()
            wfe = task.workflow_execution
            if task.state != "SCHEDULED" or not wfe.open:
                continue
            if any(t.state == "STARTED" for t in wfe.own_decision_tasks):
                blocked.append(task)
                continue
            found = task
            break
        queue.extendleft(reversed(blocked))
        if found is not None:
            wfe = found.workflow_execution
            wfe.start_decision_task(found.task_token, identity=identity)
            limit = seconds(found.start_to_close_timeout)
            if limit is not None:
                self.at(self.clock() + limit, self._decision_due, found, found.started_event_id)
        return found

    def count_pending(self, domain: SwfDomain, kind: str, name: str) -> int:
        """Tasks waiting in the task list: scheduled, not yet taken, their execution open."""
        task_list = self.task_list(domain, kind, name)
        if task_list is None:
            return 0
        return sum(1 for t in task_list.queue if t.state == "SCHEDULED" and t.workflow_execution.open)

    # -- what falls due ------------------------------------------------------------------------------

    def _activity_due(self, due: float, task: ActivityTask, kind: str, started_event_id: int | None) -> None:
        wfe: Execution = task.workflow_execution  # type: ignore[assignment]
        if not wfe.open or task.state not in ("SCHEDULED", "STARTED"):
            return
        if kind == "SCHEDULE_TO_START" and task.state != "SCHEDULED":
            return
        if kind in ("START_TO_CLOSE", "HEARTBEAT") and (task.state != "STARTED" or task.started_event_id != started_event_id):
            return
        if kind == "HEARTBEAT":
            later = task.last_heartbeat_timestamp + (seconds(task.timeouts[TIMEOUT_KEYS[kind]]) or 0)
            if later > due:  # it heartbeat since: the clock runs from then
                self.at(later, self._activity_due, task, kind, started_event_id)
                return
        wfe.activity_timed_out(task, Timeout(task, due, kind))

    def _decision_due(self, due: float, task: DecisionTask, started_event_id: int) -> None:
        wfe: Execution = task.workflow_execution  # type: ignore[assignment]
        if wfe.open and task.state == "STARTED" and task.started_event_id == started_event_id:
            wfe.decision_timed_out(task, Timeout(task, due, "START_TO_CLOSE"))

    def _execution_due(self, due: float, wfe: Execution) -> None:
        if wfe.open:
            wfe.timeout(Timeout(wfe, due, "START_TO_CLOSE"))

    def _expire(self, due: float, wfe: Execution) -> None:
        wfe.domain.runs.pop(wfe.run_id, None)  # type: ignore[attr-defined]
        for token in wfe.issued_tokens:
            self.tokens.pop(token, None)
