"""The two poller roles and the poller that drives either: as temporalio's _WorkflowWorker and _ActivityWorker.

A role knows what it polls and how it handles what comes: DeciderRole decision tasks, WorkerRole activity tasks.
A Poller holds the rest, the same for both: the config as the file is now, a cron run's look at what is queued,
a single run's waiting line, and the poll loop (poller.run_threads) in its threads.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .activity_tasks import handle_activity_task, pending_activity_tasks, poll_activity_task
from .client import CallStats, boundary
from .config import Config, load_config
from .decision_tasks import about_task, foreign, handle_decision_task, pending_decision_tasks, poll_decision_task
from .errors import Exit
from .live import LiveConfig
from .logs import NOTICE, log, setup_logging
from .poller import LoopOptions, Mode, Poll, Stop, identity, run_each, run_threads
from .runner import RunningTasks
from .runtime import Runtime

Task = dict[str, Any]

# A single run says it waits when its poll has not answered within this long (a poll is held up to 60 s).
WAIT_NOTICE = 1.0


class Role(Protocol):
    """What one kind of poller polls, and how it handles a task."""

    label: str  # what it waits for, in the waiting line: "a decision task"

    def task_lists(self, config: Config) -> tuple[str, ...]:
        """The task lists it polls unless --task-list says otherwise."""

    def count_pending(self, config: Config, task_list: str) -> int:
        """SWF's count of the tasks queued on the task list."""

    def poll(self, config: Config, task_list: str) -> Task | Poll | None:
        """One long poll: a task, None when it came back empty, or DROPPED."""

    def handle(self, config: Config, task: Task) -> Poll:
        """Handle one task: HANDLED, or DROPPED when it is left to SWF."""


class DeciderRole:
    """Decision tasks: fold the history, decide, respond (decision_tasks.py)."""

    label = "a decision task"

    def __init__(self, client: Any, live: LiveConfig, me: str):
        self.client, self.live, self.me = client, live, me
        self._said: set[str] = set()  # the foreign workflow types already reported

    def task_lists(self, config: Config) -> tuple[str, ...]:
        return config.task_lists  # one decider decides for every workflow in the file

    def count_pending(self, config: Config, task_list: str) -> int:
        return pending_decision_tasks(self.client, config, task_list)

    def poll(self, config: Config, task_list: str) -> Task | Poll | None:
        return poll_decision_task(self.client, config, task_list, self.me)

    def handle(self, config: Config, task: Task) -> Poll:
        why = foreign(config, task)
        if why is not None:  # left to SWF, which hands it to another decider after its timeout
            wtype = task.get("workflowType") or {}
            name = f"{wtype.get('name')} {wtype.get('version')}"
            if name not in self._said:
                self._said.add(name)
                log.error(why)
            return Poll.DROPPED
        handle_decision_task(self.client, about_task(config, task), task, self.live.store(config))
        return Poll.HANDLED


class WorkerRole:
    """Activity tasks: run the step's command, heartbeat, report (activity_tasks.py)."""

    label = "an activity task"

    def __init__(self, client: Any, live: LiveConfig, me: str, running: RunningTasks):
        self.client, self.live, self.me, self.running = client, live, me, running

    def task_lists(self, config: Config) -> tuple[str, ...]:
        return (config.workflow.task_list,)  # the activities' default task list: the first workflow's

    def count_pending(self, config: Config, task_list: str) -> int:
        return pending_activity_tasks(self.client, config, task_list)

    def poll(self, config: Config, task_list: str) -> Task | Poll | None:
        return poll_activity_task(self.client, config, task_list, self.me)

    def handle(self, config: Config, task: Task) -> Poll:
        handle_activity_task(self.client, config, task, self.live.store(config), self.running)
        return Poll.HANDLED


@dataclass
class PollerOptions:
    """How a poller runs, from its command line."""

    loop: LoopOptions
    task_list: str | None = None  # None: the role's (the decider: every workflow's)
    concurrency: int = 1


class Poller:
    """One decider or worker: a role, config.yaml as it is now, and how long to run."""

    def __init__(self, role: Role, live: LiveConfig, options: PollerOptions, notice: float = WAIT_NOTICE):
        self.role, self.live, self.options, self.notice = role, live, options, notice
        self._waiting_said = False
        self._lock = threading.Lock()
        self._turn = -1  # of several task lists, the one polled last when none had a task queued

    def say_config(self) -> None:
        """The first line: the config it runs, on stderr, so that stdout stays the article's lines."""
        config = self.live.config
        log.info(f"Config: {config.path.resolve()} ({config.summary})", extra=NOTICE)

    def task_lists(self, config: Config) -> tuple[str, ...]:
        """The task lists it polls: --task-list, or else the role's."""
        return (self.options.task_list,) if self.options.task_list else self.role.task_lists(config)

    def once(self, task_list: str | None = None) -> Poll:
        """One pass: a cron run asks first what is queued; then a poll (on `task_list`, or else on the one _choose
        picks), and the task handled."""
        config = self.live.current()
        lists = (task_list,) if task_list else self.task_lists(config)
        chosen = self._choose(config, lists)
        if chosen is None:
            return Poll.EMPTY
        with self._waiting(chosen if len(lists) == 1 else ", ".join(lists)):
            task = self.role.poll(config, chosen)
        if task is None or isinstance(task, Poll):
            return task or Poll.EMPTY
        return self.role.handle(self.live.current(), task)  # as the file is now: a long poll may outlast an edit

    def _choose(self, config: Config, lists: tuple[str, ...]) -> str | None:
        """The task list to poll: a cron run's first with a task queued (None: none has); of several, the first with
        a task queued, or else each in turn."""
        until_idle = self.options.loop.mode is Mode.UNTIL_IDLE
        if len(lists) == 1 and not until_idle:
            return lists[0]
        queued = next((t for t in lists if self.role.count_pending(config, t) > 0), None)
        if queued is not None or until_idle:
            return queued
        with self._lock:
            self._turn += 1
            return lists[self._turn % len(lists)]

    @contextlib.contextmanager
    def _waiting(self, task_list: str) -> Iterator[None]:
        """In a single run, the waiting line once, if the poll is still held after `notice` (no extra call)."""
        if self.options.loop.mode is not Mode.ONCE or self._waiting_said:
            yield
            return
        answered = threading.Event()
        timer = threading.Timer(self.notice, self._say_waiting, (task_list, answered))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            with self._lock:  # the line is said before the poll's answer is handled, or not at all
                answered.set()
            timer.cancel()

    def _say_waiting(self, task_list: str, answered: threading.Event) -> None:
        with self._lock:
            if answered.is_set():
                return
            self._waiting_said = True
            lists = "task lists" if ", " in task_list else "task list"
            log.info(f"Waiting for {self.role.label} on {lists} {task_list} (Ctrl-C stops)")

    def run(self, stop: Stop) -> int:
        """Poll until the run is over; the count of tasks handled. A loop polls each of several task lists in threads
        of its own (--concurrency each), so that a long poll on an idle one holds up none of the others."""
        lists = self.task_lists(self.live.current())
        if self.options.loop.mode is not Mode.LOOP or len(lists) == 1:
            return run_threads(self.once, self.options.loop, stop, self.options.concurrency)
        polls = [functools.partial(self.once, t) for t in lists for _ in range(self.options.concurrency)]
        return run_each(polls, self.options.loop, stop)


def make_poller(kind: str, client: Any, config: Config, options: PollerOptions, running: RunningTasks) -> Poller:
    """The decider's or the worker's poller, reading config.yaml again as it changes."""
    live = LiveConfig(config)
    me = identity()
    role: Role = DeciderRole(client, live, me) if kind == "decider" else WorkerRole(client, live, me, running)
    return Poller(role, live, options)


def loop_options(args: argparse.Namespace) -> LoopOptions:
    """How long the run lasts: a bound alone (`worker.py --max-tasks 2`) means a loop with that bound, not one task."""
    bounded = args.max_tasks is not None or args.max_seconds is not None
    mode = Mode.LOOP if args.mode is Mode.ONCE and bounded else args.mode
    return LoopOptions(mode=mode, max_tasks=args.max_tasks, max_seconds=args.max_seconds)


def cmd_poller(args: argparse.Namespace, rt: Runtime) -> int:
    """decider or worker: poll, handle, respond, in --concurrency poll threads."""
    setup_logging(args.log_format, args.verbose)
    config = load_config(args.config)
    client = rt.client()
    stats = CallStats()
    stats.attach(client)
    options = PollerOptions(loop_options(args), args.task_list, args.concurrency)
    poller = make_poller(args.command, client, config, options, rt.running)
    poller.say_config()
    try:
        with boundary():
            poller.run(rt.stop)
    finally:
        if args.stats:
            print(stats.summary(), file=sys.stderr)
    return Exit.OK
