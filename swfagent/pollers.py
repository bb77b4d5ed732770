"""The two poller roles and the poller that drives either: as temporalio's _WorkflowWorker and _ActivityWorker.

A role knows what it polls and how it handles what comes: DeciderRole decision tasks, WorkerRole activity tasks.
A Poller holds the rest, the same for both: the config as the file is now, a cron run's look at what is queued,
a single run's waiting line, and the poll loop (poller.run_threads) in its threads.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .activity_tasks import handle_activity_task, pending_activity_tasks, poll_activity_task
from .client import CallStats, boundary
from .config import Config, load_config
from .decision_tasks import foreign, handle_decision_task, pending_decision_tasks, poll_decision_task
from .errors import Exit
from .live import LiveConfig
from .logs import NOTICE, log, setup_logging
from .poller import LoopOptions, Mode, Poll, Stop, identity, run_threads
from .runner import RunningTasks
from .runtime import Runtime

Task = dict[str, Any]

# A single run says it waits when its poll has not answered within this long (a poll is held up to 60 s).
WAIT_NOTICE = 1.0


class Role(Protocol):
    """What one kind of poller polls, and how it handles a task."""

    label: str  # what it waits for, in the waiting line: "a decision task"

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
        handle_decision_task(self.client, config, task, self.live.store(config))
        return Poll.HANDLED


class WorkerRole:
    """Activity tasks: run the step's command, heartbeat, report (activity_tasks.py)."""

    label = "an activity task"

    def __init__(self, client: Any, live: LiveConfig, me: str, running: RunningTasks):
        self.client, self.live, self.me, self.running = client, live, me, running

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
    task_list: str | None = None  # None: the workflow's
    concurrency: int = 1


class Poller:
    """One decider or worker: a role, config.yaml as it is now, and how long to run."""

    def __init__(self, role: Role, live: LiveConfig, options: PollerOptions, notice: float = WAIT_NOTICE):
        self.role, self.live, self.options, self.notice = role, live, options, notice
        self._waiting_said = False
        self._lock = threading.Lock()

    def say_config(self) -> None:
        """The first line: the config it runs, on stderr, so that stdout stays the article's lines."""
        config = self.live.config
        log.info(f"Config: {config.path.resolve()} ({config.summary})", extra=NOTICE)

    def once(self) -> Poll:
        """One pass: a cron run asks first what is queued; then a poll, and the task handled."""
        config = self.live.current()
        task_list = self.options.task_list or config.workflow.task_list
        if self.options.loop.mode is Mode.UNTIL_IDLE and self.role.count_pending(config, task_list) == 0:
            return Poll.EMPTY
        with self._waiting(task_list):
            task = self.role.poll(config, task_list)
        if task is None or isinstance(task, Poll):
            return task or Poll.EMPTY
        return self.role.handle(self.live.current(), task)  # as the file is now: a long poll may outlast an edit

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
            log.info(f"Waiting for {self.role.label} on task list {task_list} (Ctrl-C stops)")

    def run(self, stop: Stop) -> int:
        """Poll until the run is over; the count of tasks handled."""
        return run_threads(self.once, self.options.loop, stop, self.options.concurrency)


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
