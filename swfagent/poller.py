"""The poll loop shared by the decider and the worker: once, loop, until idle; a stop flag; pauses from retrying.py."""

from __future__ import annotations

import enum
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .client import describe_error, is_transient
from .errors import TaskError
from .limits import MAX_NAME
from .logs import log
from .retrying import AFTER_ERROR, REAL, Backoff, Timing


class Mode(enum.Enum):
    """How long a poller runs."""

    ONCE = "once"  # one task, as the article's scripts: polls until it has it
    LOOP = "loop"  # until stopped (a service)
    UNTIL_IDLE = "until-idle"  # until nothing is queued (cron)



class Poll(enum.Enum):
    """What one pass of a poll loop came to."""

    HANDLED = "handled"  # a task came and was handled
    EMPTY = "empty"  # nothing came (or, for a cron run, nothing was queued)
    DROPPED = "dropped"  # a task came and was left to SWF, which hands it out again after its timeout


# A single or cron run gives up after this many errors in a row (about 30 s of backoff): SWF is out of reach.
GIVE_UP_AFTER = 5

# An empty poll answered faster than this did not hold: back off instead of spinning.
FAST_EMPTY_POLL = 0.5
AFTER_FAST_EMPTY = Backoff(base=0.5, cap=10.0)


def identity() -> str:
    """host:pid, as SWF records who took a task (at most 256 characters)."""
    return f"{socket.gethostname()}:{os.getpid()}"[-MAX_NAME:]


class Stop:
    """The stop flag: the first request finishes the task under way, a second one means now."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.requests = 0

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def request(self) -> int:
        """Ask the loop to stop; returns how many times it has been asked."""
        self.requests += 1
        self.event.set()
        return self.requests

    def wait(self, seconds: float) -> None:
        """Sleep, but wake as soon as a stop is requested."""
        self.event.wait(seconds)


@dataclass
class LoopOptions:
    """How long a poller runs: mode, and the bounds on a run."""

    mode: Mode = Mode.ONCE
    max_tasks: int | None = None
    max_seconds: float | None = None


class Budget:
    """The tasks a run may still take, shared by its poll threads: one is taken before each poll."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.taken = 0
        self.lock = threading.Lock()
        self.done = threading.Event()  # set when the run is over for every thread (until-idle saw an empty poll)

    @classmethod
    def of(cls, options: LoopOptions) -> Budget:
        """One task for a single run, --max-tasks otherwise."""
        return cls(1 if options.mode is Mode.ONCE else options.max_tasks)

    def take(self) -> bool:
        """Reserve a task before polling; False when the run has had all it may."""
        with self.lock:
            if self.done.is_set() or (self.limit is not None and self.taken >= self.limit):
                return False
            self.taken += 1
            return True

    def give_back(self) -> None:
        """The poll brought no task: the reservation is free again."""
        with self.lock:
            self.taken -= 1


def run_loop(
    poll_and_handle: Callable[[], Poll],
    options: LoopOptions,
    stop: Stop,
    *,
    timing: Timing = REAL,
    budget: Budget | None = None,
) -> int:
    """Call poll_and_handle until the run is over; the count of tasks handled. Its pauses are stop.wait (a stop ends
    them at once); their length and the run's time come from timing."""
    clock = timing.clock
    budget = budget or Budget.of(options)
    started = clock()
    handled = 0
    errors = 0
    fast_empty = 0
    while not stop.requested:
        if options.max_seconds is not None and clock() - started >= options.max_seconds:
            break
        if not budget.take():
            break
        poll_started = clock()
        try:
            got = poll_and_handle()
        except Exception as exc:  # the loop outlives anything one task throws
            budget.give_back()
            # A single run or a cron run ends on a lasting error (access denied, unknown domain) or when
            # SWF stays out of reach; a service goes on, and so does a cron run past one task's trouble.
            errors += 1
            lasting = not is_transient(exc) and not isinstance(exc, TaskError)
            if options.mode is not Mode.LOOP and (lasting or errors >= GIVE_UP_AFTER or (
                    options.mode is Mode.ONCE and isinstance(exc, TaskError))):
                raise
            delay = timing.delay(errors, AFTER_ERROR)
            log.error(f"{describe_error(exc)}; going on in {delay:.1f} s", exc_info=log.isEnabledFor(logging.DEBUG))
            stop.wait(delay)
            continue
        errors = 0
        if got is Poll.HANDLED:
            handled += 1
            fast_empty = 0
            continue
        budget.give_back()
        if got is Poll.DROPPED:
            continue
        if options.mode is Mode.UNTIL_IDLE:
            budget.done.set()
            break
        if clock() - poll_started < FAST_EMPTY_POLL:
            fast_empty += 1
            stop.wait(timing.delay(fast_empty, AFTER_FAST_EMPTY))
        else:
            fast_empty = 0
    return handled


def run_threads(poll_and_handle: Callable[[], Poll], options: LoopOptions, stop: Stop, threads: int) -> int:
    """run_loop in `threads` poll threads sharing one budget (as many pollers in one process); the count handled."""
    if threads <= 1:
        return run_loop(poll_and_handle, options, stop)
    return run_each([poll_and_handle] * threads, options, stop)


def run_each(polls: Sequence[Callable[[], Poll]], options: LoopOptions, stop: Stop) -> int:
    """run_loop in a poll thread for each of `polls`, sharing one budget; the count handled."""
    budget = Budget.of(options)
    counts: list[int] = []
    errors: list[BaseException] = []

    def one(poll_and_handle: Callable[[], Poll]) -> None:
        try:
            counts.append(run_loop(poll_and_handle, options, stop, budget=budget))
        except BaseException as exc:
            errors.append(exc)
            budget.done.set()  # a lasting error ends the run for every thread

    pool = [threading.Thread(target=one, args=(p,), name=f"poller-{i}", daemon=True) for i, p in enumerate(polls)]
    for t in pool:
        t.start()
    for t in pool:
        while t.is_alive():
            t.join(0.5)  # a timed join lets the main thread take signals
    if errors:
        raise errors[0]
    return sum(counts)
