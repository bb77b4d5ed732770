"""SWF's limits and faults, on demand: `python -m swfagent local --faults throttle=0.05,open-activities=5`.

The defaults are SWF's own quotas; a fault spec lowers them or adds throttling, so that what real SWF
does under load can be rehearsed here.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import UsageError
from ..limits import (
    ACTIVITY_RATE,
    MAX_HISTORY_EVENTS,
    MAX_OPEN_ACTIVITIES,
    MAX_OPEN_CHILDREN,
    MAX_OPEN_TIMERS,
    MAX_REQUEST_BYTES,
)


@dataclass(frozen=True)
class Limits:
    """What the embedded SWF refuses, and how often it throttles."""

    throttle: float = 0.0  # share of calls answered with ThrottlingException
    throttle_only: frozenset[str] = frozenset()  # those operations only (empty: every operation)
    errors: float = 0.0  # share of calls answered with InternalFailure, HTTP 500
    errors_only: frozenset[str] = frozenset()
    open_activities: int = MAX_OPEN_ACTIVITIES  # per execution: ScheduleActivityTaskFailed OPEN_ACTIVITIES_LIMIT_EXCEEDED
    activity_rate: int = ACTIVITY_RATE  # schedules per second per task list: ACTIVITY_CREATION_RATE_EXCEEDED
    open_timers: int = MAX_OPEN_TIMERS  # per execution: StartTimerFailed OPEN_TIMERS_LIMIT_EXCEEDED
    timer_rate: int | None = None  # timers per second per execution: TIMER_CREATION_RATE_EXCEEDED
    open_children: int = MAX_OPEN_CHILDREN  # per execution: StartChildWorkflowExecutionFailed OPEN_CHILDREN_LIMIT_EXCEEDED
    max_decisions: int | None = None  # decisions in one RespondDecisionTaskCompleted
    deny: frozenset[str] = frozenset()  # decision types refused with OPERATION_NOT_PERMITTED (a policy without them)
    page_errors: float = 0.0  # share of further history pages (PollForDecisionTask with nextPageToken) failed: HTTP 500
    max_request: int = MAX_REQUEST_BYTES  # bytes in one request body
    pollers: int | None = None  # polls waiting at once on one task list: LimitExceededFault past it
    history_events: int = MAX_HISTORY_EVENTS  # events in one history: terminated with EVENT_LIMIT_EXCEEDED past it
    seed: int | None = None


# spec key -> (field, parser, help)
_KEYS = {
    "throttle": ("throttle", float, "SHARE[@Operation+Operation]: that share of calls answered ThrottlingException"),
    "errors": ("errors", float, "SHARE[@Operation+Operation]: that share of calls answered InternalFailure (HTTP 500)"),
    "open-activities": ("open_activities", int, f"N: ScheduleActivityTask fails past N open activities (SWF: {MAX_OPEN_ACTIVITIES})"),
    "activity-rate": ("activity_rate", int, f"N: ScheduleActivityTask fails past N a second per task list (SWF: {ACTIVITY_RATE})"),
    "open-timers": ("open_timers", int, f"N: StartTimer fails past N open timers (SWF: {MAX_OPEN_TIMERS})"),
    "timer-rate": ("timer_rate", int, "N: StartTimer fails past N a second per execution"),
    "open-children": ("open_children", int, f"N: StartChildWorkflowExecution fails past N open children "
                                            f"(SWF: {MAX_OPEN_CHILDREN})"),
    "max-decisions": ("max_decisions", int, "N: a decision response with more than N decisions is refused"),
    "deny": ("deny", str, "Decision+Decision: those decisions fail with OPERATION_NOT_PERMITTED, as under an IAM "
                          "policy without them"),
    "page-errors": ("page_errors", float, "SHARE: that share of a decision task's further history pages fail (HTTP 500)"),
    "max-request": ("max_request", int, "BYTES: a request larger than this is refused (SWF: 1 MB)"),
    "pollers": ("pollers", int, "N: a poll is refused with LimitExceededFault while N polls wait on its task list"),
    "history-events": ("history_events", int, f"N: an execution whose history reaches N events is terminated "
                                              f"(EVENT_LIMIT_EXCEEDED; SWF: {MAX_HISTORY_EVENTS})"),
    "seed": ("seed", int, "N: the same random choices on every run"),
}

SHARES = ("throttle", "errors")  # the items that take a share of calls, and maybe the operations concerned

FAULTS_HELP = "comma-separated KEY=VALUE: " + "; ".join(f"{k}={h}" for k, (_, _, h) in _KEYS.items())


def parse_faults(text: str | None) -> Limits:
    """Limits from a spec such as 'throttle=0.05,open-activities=5'; UsageError with one line if it is wrong."""
    limits = Limits()
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        if key not in _KEYS or not sep:
            raise UsageError(f"--faults: unknown item {item.strip()!r} (known: {', '.join(_KEYS)})")
        name, kind, _ = _KEYS[key]
        if key == "deny":
            limits = replace(limits, deny=frozenset(d for d in value.split("+") if d))
            continue
        share = key in SHARES
        only: frozenset[str] = frozenset()
        if share and "@" in value:
            value, _, ops = value.partition("@")
            only = frozenset(op for op in ops.split("+") if op)
        try:
            number = kind(value)
        except ValueError:
            raise UsageError(f"--faults: {key} needs a number, not {value!r}") from None
        if (share or key == "page-errors") and not 0 <= number <= 1:
            raise UsageError(f"--faults: {key} is a share between 0 and 1, not {value}")
        if not share and key not in ("seed", "page-errors") and number < 0:
            raise UsageError(f"--faults: {key} cannot be negative")
        changes: dict[str, Any] = {name: number}
        if share:
            changes[f"{name}_only"] = only
        limits = replace(limits, **changes)
    return limits


def describe_limits(limits: Limits) -> str:
    """The spec that gives these limits back: only what differs from SWF's own."""
    default = Limits()
    parts = []
    for key, (name, _, _) in _KEYS.items():
        value = getattr(limits, name)
        if value != getattr(default, name):
            if key == "deny":
                parts.append(f"deny={'+'.join(sorted(value))}")
                continue
            only = getattr(limits, f"{name}_only", None)
            extra = "@" + "+".join(sorted(only)) if only else ""
            parts.append(f"{key}={value}{extra}")
    return ",".join(parts)


@dataclass
class Faults:
    """The limits in force, with the state they need: a random source and per-second counters."""

    limits: Limits = field(default_factory=Limits)
    _rand: random.Random = field(init=False, repr=False)
    _windows: dict[Hashable, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rand = random.Random(self.limits.seed)

    def throttled(self, operation: str) -> bool:
        """True when this call is to be answered with ThrottlingException."""
        return self._hit(self.limits.throttle, self.limits.throttle_only, operation)

    def failed(self, operation: str) -> bool:
        """True when this call is to be answered with InternalFailure (HTTP 500)."""
        return self._hit(self.limits.errors, self.limits.errors_only, operation)

    def page_failed(self) -> bool:
        """True when this further page of a decision task's history is to fail."""
        return self._hit(self.limits.page_errors, frozenset(), "")

    def _hit(self, share: float, only: frozenset[str], operation: str) -> bool:
        if not share or (only and operation not in only):
            return False
        return self._rand.random() < share

    def _over_rate(self, key: Hashable, per_second: int | None, now: float) -> bool:
        """Count one creation under `key` in the current second; True when that is past the rate."""
        if per_second is None:
            return False
        second = int(now)
        start, count = self._windows.get(key, (second, 0))
        count = count + 1 if start == second else 1
        self._windows[key] = (second, count)
        if len(self._windows) > 10_000:  # old keys: drop the stale windows
            self._windows = {k: v for k, v in self._windows.items() if v[0] == second}
        return count > per_second

    def schedule_refused(self, open_activities: int, task_list: Hashable, now: float) -> str | None:
        """The ScheduleActivityTaskFailed cause for one more activity, or None."""
        if open_activities >= self.limits.open_activities:
            return "OPEN_ACTIVITIES_LIMIT_EXCEEDED"
        if self._over_rate(("activity", task_list), self.limits.activity_rate, now):
            return "ACTIVITY_CREATION_RATE_EXCEEDED"
        return None

    def timer_refused(self, open_timers: int, execution: Hashable, now: float) -> str | None:
        """The StartTimerFailed cause for one more timer, or None."""
        if open_timers >= self.limits.open_timers:
            return "OPEN_TIMERS_LIMIT_EXCEEDED"
        if self._over_rate(("timer", execution), self.limits.timer_rate, now):
            return "TIMER_CREATION_RATE_EXCEEDED"
        return None

