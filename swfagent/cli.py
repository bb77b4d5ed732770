"""What the entry scripts share: their options, signal handlers, and one-line errors."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from . import runner
from .client import CallStats, boundary, make_client
from .config import DEFAULT_CONFIG, Config, load_config
from .decider import handle_decision_task, pending_decision_tasks, poll_decision_task
from .errors import SwfAgentError
from .logs import log, setup_logging
from .poller import LOOP, ONCE, UNTIL_IDLE, LoopOptions, Poll, Stop, identity, run_threads
from .worker import handle_activity_task, pending_activity_tasks, poll_activity_task, store_for


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0: {value}")
    return value


def poller_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options decider.py and worker.py both take."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default: config.yaml beside the scripts)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--loop", dest="mode", action="store_const", const=LOOP, help="keep handling tasks until stopped")
    mode.add_argument("--until-idle", dest="mode", action="store_const", const=UNTIL_IDLE,
                      help="handle tasks until a poll comes back empty, then exit 0 (for cron)")
    p.set_defaults(mode=ONCE)
    p.add_argument("--max-tasks", type=positive_int, help="stop after this many tasks")
    p.add_argument("--max-seconds", type=positive_float, help="stop polling after this many seconds")
    p.add_argument("--task-list", help="task list to poll (default: the workflow's task list)")
    p.add_argument("--concurrency", type=positive_int, default=1,
                   help="poll threads, each handling its own task: up to N tasks at once (default 1)")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--stats", action="store_true", help="print the API calls made, by operation, at exit")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def install_signal_handlers(stop: Stop) -> None:
    """First SIGTERM/SIGINT: finish the task under way, then exit 0. Second: kill the tasks, exit now."""

    def handler(signum: int, _frame: Any) -> None:
        if stop.request() == 1:
            log.warning(
                f"{signal.Signals(signum).name}: stopping after the task or poll under way "
                "(send it again to stop at once)"
            )
            return
        runner.kill_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def fail_line(prog: str, exc: SwfAgentError) -> int:
    """Print the one line for an error and return its exit code."""
    print(f"{prog}: error: {exc}", file=sys.stderr)
    return exc.exit_code


def _prepare(args: argparse.Namespace) -> tuple[Config, Any, CallStats]:
    setup_logging(args.log_format, args.verbose)
    config = load_config(args.config)
    client = make_client()
    stats = CallStats()
    stats.attach(client)
    return config, client, stats


def _options(args: argparse.Namespace) -> LoopOptions:
    # a bound alone (`worker.py --max-tasks 2`) means a loop with that bound, not one task
    bounded = args.max_tasks is not None or args.max_seconds is not None
    mode = LOOP if args.mode == ONCE and bounded else args.mode
    return LoopOptions(mode=mode, max_tasks=args.max_tasks, max_seconds=args.max_seconds)


class BeforePoll:
    """What a run does before each long poll: a cron run asks what is queued and ends when nothing is; a single
    run says once that it waits (a poll is held up to 60 s on SWF, and a single run polls until it has a task)."""

    def __init__(self, mode: str, count: Callable[[], int], what: str, task_list: str):
        self.mode, self.count, self.what, self.task_list = mode, count, what, task_list
        self.said = False

    def go(self) -> bool:
        """False when the poll is not worth making: a cron run with nothing queued."""
        if self.mode == UNTIL_IDLE:
            return self.count() > 0
        if self.mode == ONCE and not self.said:
            self.said = True
            if self.count() == 0:
                log.info(f"Waiting for {self.what} on task list {self.task_list} (Ctrl-C stops)")
        return True


def run_decider(args: argparse.Namespace, stop: Stop) -> int:
    """The decider's poll loop, in --concurrency poll threads."""
    config, client, stats = _prepare(args)
    task_list = args.task_list or config.workflow.task_list
    me = identity()
    options = _options(args)
    before = BeforePoll(options.mode, lambda: pending_decision_tasks(client, config, task_list), "a decision task", task_list)
    store = store_for(config)

    def once() -> Poll:
        if not before.go():
            return Poll.EMPTY
        task = poll_decision_task(client, config, task_list, me)
        if task is None:
            return Poll.EMPTY
        if isinstance(task, Poll):
            return task
        handle_decision_task(client, config, task, store)
        return Poll.HANDLED

    try:
        with boundary():
            run_threads(once, options, stop, args.concurrency)
    finally:
        if args.stats:
            print(stats.summary(), file=sys.stderr)
    return 0


def run_worker(args: argparse.Namespace, stop: Stop) -> int:
    """The worker's poll loop: up to --concurrency tasks at once, each poll thread running its own."""
    config, client, stats = _prepare(args)
    task_list = args.task_list or config.workflow.task_list
    me = identity()
    options = _options(args)
    before = BeforePoll(options.mode, lambda: pending_activity_tasks(client, config, task_list), "an activity task", task_list)
    store = store_for(config)

    def once() -> Poll:
        if not before.go():
            return Poll.EMPTY
        task = poll_activity_task(client, config, task_list, me)
        if task is None:
            return Poll.EMPTY
        handle_activity_task(client, config, task, store)
        return Poll.HANDLED

    try:
        with boundary():
            run_threads(once, options, stop, args.concurrency)
    finally:
        if args.stats:
            print(stats.summary(), file=sys.stderr)
    return 0


DESCRIPTIONS = {
    "decider": "Poll SWF for decision tasks, walk the whole history, and decide what runs next (the article's decider.py).",
    "worker": "Poll SWF for activity tasks and run each one's command from config.yaml (the article's worker.py).",
}


def poller_main(role: str, argv: list[str] | None = None, *, signals: bool = True) -> int:
    """decider.py or worker.py: one task by default, or --loop / --until-idle; errors are one line.

    signals=False leaves the process's signal handlers alone (the demo runs the scripts in its own process).
    """
    prog = f"{role}.py"
    args = poller_parser(prog, DESCRIPTIONS[role]).parse_args(argv)
    stop = Stop()
    if signals:
        install_signal_handlers(stop)
    try:
        return run_decider(args, stop) if role == "decider" else run_worker(args, stop)
    except SwfAgentError as exc:
        return fail_line(prog, exc)
