"""The project's one vocabulary of states: each is an enum defined here, and compared nowhere as a bare string.

Pure: no imports beyond the standard library. Members are strings too, so they print and serialize as
their values ("COMPLETED", "running").
"""

from __future__ import annotations

import enum


class Word(str, enum.Enum):
    """A state that prints as its value."""

    def __str__(self) -> str:
        return str(self.value)


class ActivityStatus(Word):
    """An activity attempt, as SWF's history records it."""

    SCHEDULED = "SCHEDULED"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    CANCELED = "CANCELED"

    @property
    def open(self) -> bool:
        """Scheduled or started: not closed yet."""
        return self in (ActivityStatus.SCHEDULED, ActivityStatus.STARTED)


class StepStatus(Word):
    """A step of the flow chart, as the decider sees it."""

    COMPLETED = "completed"
    SKIPPED = "skipped"
    RUNNING = "running"
    WAITING = "waiting"  # a timer of its runs: a retry's delay, or a wait after SWF refused it for a passing cause
    READY = "ready"  # to be scheduled now
    RETRY = "retry"  # failed with retries left: its retry timer is to start
    HELD = "held"  # SWF refused it for a passing cause: a wait timer is to start
    FAILED = "failed"
    PENDING = "pending"  # its `after` steps are not done
    CAUGHT = "caught"  # failed for good, and its `catch:` step runs instead of what follows it
    SIGNAL = "signal"  # a `signal:` step waiting for its signal (its timeout's timer is to start when timer_id is set)
    SLEEP = "sleep"  # a `wait:` step whose timer is to start

    @property
    def shown(self) -> Shown:
        """What the flow chart, `show` and `check` call it."""
        return _SHOWN[self]


class Shown(Word):
    """A step's state as people see it: the flow chart's colours, show's progress line."""

    COMPLETED = "completed"
    RUNNING = "running"
    WAITING = "waiting"  # for a retry, or after SWF refused it for a passing cause
    FAILED = "failed"
    SKIPPED = "skipped"
    PENDING = "pending"


_SHOWN = {
    StepStatus.COMPLETED: Shown.COMPLETED, StepStatus.SKIPPED: Shown.SKIPPED, StepStatus.FAILED: Shown.FAILED,
    StepStatus.RUNNING: Shown.RUNNING, StepStatus.WAITING: Shown.WAITING, StepStatus.RETRY: Shown.WAITING,
    StepStatus.HELD: Shown.WAITING, StepStatus.READY: Shown.PENDING, StepStatus.PENDING: Shown.PENDING,
    StepStatus.CAUGHT: Shown.FAILED, StepStatus.SIGNAL: Shown.WAITING, StepStatus.SLEEP: Shown.WAITING,
}


class TaskOutcome(Word):
    """How one task run by the worker ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"  # SWF asked, the task was stopped
    GONE = "gone"  # SWF no longer wants it (timed out, execution closed): nothing to report


class Beat(Word):
    """What a heartbeat learned."""

    OK = "ok"
    CANCEL = "cancel"  # SWF asks for the task to be canceled
    GONE = "gone"  # the task timed out or its execution closed


class Lasts(Word):
    """How long the cause of a refused decision lasts, which says what the decider does next."""

    PASSING = "passing"  # a rate or an open limit: wait on a backed-off timer, then the same decision again
    RACE = "race"  # UNHANDLED_DECISION: events came in meanwhile; decide again on them at once
    MOOT = "moot"  # the activity or timer closed meanwhile: nothing is left to ask
    LASTING = "lasting"  # never asked again: fail the execution saying what to do, or wait for a person


class Closed(Word):
    """How a workflow execution closed (SWF's close statuses), and the alerts' CLOSE_REFUSED and CANCEL_REFUSED."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    TERMINATED = "TERMINATED"
    CONTINUED_AS_NEW = "CONTINUED_AS_NEW"
    TIMED_OUT = "TIMED_OUT"
    CLOSE_REFUSED = "CLOSE_REFUSED"  # not SWF's: an alert that SWF refused to close it
    CANCEL_REFUSED = "CANCEL_REFUSED"  # not SWF's: an alert that SWF refused to cancel an activity of a canceling one


class ExecutionStatus(Word):
    """An execution's status in SWF: open, or closed (its close status says how)."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


class Registration(Word):
    """A domain's or type's registration status in SWF."""

    REGISTERED = "REGISTERED"
    DEPRECATED = "DEPRECATED"


class Which(Word):
    """Which executions a list shows: all, the open ones, the closed ones."""

    ALL = "all"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def kinds(self) -> tuple[Which, ...]:
        """The lists SWF keeps that it reads: open, closed, or both."""
        return (Which.OPEN, Which.CLOSED) if self is Which.ALL else (self,)
