#!/usr/bin/env python3
"""Restart time of the durable embedded SWF: `swfagent local --data DIR` holding many executions, stopped, started.

    python bench/restart.py [--closed 10000] [--open 1000] [--threads 8] [--kill]

It starts `python -m swfagent local --port 0 --no-console --data DIR`, registers a domain and types, and from
--threads clients makes --closed executions closed (start, decision task taken, CompleteWorkflowExecution) and
--open executions left open (start, decision task taken, an activity scheduled and taken by a worker: a started
task). Then it stops the server (SIGTERM, or kill -9 with --kill), starts it again on the same DIR, and prints:

- the restart time: from the new process's start to its first answer listing every open execution;
- what the server says it restored (snapshot, journaled changes replayed) and in how long;
- that the counts came back (closed and open executions) and the size of DIR.

Numbers only: nothing is asserted (the goal: within 5 s for 10,000 closed and 1,000 open). Stops only what it
started.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
TYPE = {"name": "W", "version": "1"}


def start_server(data: Path, log: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    """The server, its endpoint, and the lines it printed before it."""
    argv = [sys.executable, "-m", "swfagent", "local", "--port", "0", "--no-console", "--data", str(data)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("a"), text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the embedded SWF did not start: see {log}")
        lines.append(line.strip())
        if line.startswith("export AWS_ENDPOINT_URL_SWF="):
            return proc, line.strip().split("=", 1)[1], lines


def client(endpoint: str) -> Any:
    return boto3.client("swf", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def register(c: Any) -> None:
    c.register_domain(name="R", workflowExecutionRetentionPeriodInDays="30")
    c.register_workflow_type(domain="R", defaultTaskList={"name": "decide"}, defaultTaskStartToCloseTimeout="NONE",
                             defaultExecutionStartToCloseTimeout="86400", defaultChildPolicy="TERMINATE", **TYPE)
    c.register_activity_type(domain="R", name="A", version="1", defaultTaskList={"name": "work"},
                             defaultTaskStartToCloseTimeout="NONE", defaultTaskScheduleToStartTimeout="NONE",
                             defaultTaskScheduleToCloseTimeout="NONE", defaultTaskHeartbeatTimeout="NONE")


def one(c: Any, i: int, keep_open: bool) -> None:
    """One execution: closed by its decider, or left open with its activity started."""
    c.start_workflow_execution(domain="R", workflowId=f"{'open' if keep_open else 'closed'}-{i}", workflowType=TYPE,
                               input=f"input {i}")
    task = c.poll_for_decision_task(domain="R", taskList={"name": "decide"})
    if keep_open:
        decision = {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {
            "activityId": "a", "activityType": {"name": "A", "version": "1"}}}
    else:
        decision = {"decisionType": "CompleteWorkflowExecution",
                    "completeWorkflowExecutionDecisionAttributes": {"result": f"done {i}"}}
    c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[decision])
    if keep_open:
        c.poll_for_activity_task(domain="R", taskList={"name": "work"})


def load(endpoint: str, closed: int, open_: int, threads: int) -> float:
    jobs = [(i, False) for i in range(closed)] + [(i, True) for i in range(open_)]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run() -> None:
        c = client(endpoint)
        while True:
            with lock:
                if not jobs or errors:
                    return
                i, keep_open = jobs.pop()
            try:
                one(c, i, keep_open)
            except BaseException as exc:  # said once, at the end
                errors.append(exc)

    began = time.monotonic()
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise SystemExit(f"loading failed: {errors[0]!r}")
    return time.monotonic() - began


def count(c: Any, which: str) -> int:
    call = c.count_open_workflow_executions if which == "open" else c.count_closed_workflow_executions
    return int(call(domain="R", startTimeFilter={"oldestDate": 0})["count"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/restart.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--closed", type=int, default=10_000)
    p.add_argument("--open", type=int, default=1_000)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--kill", action="store_true", help="kill -9 the server instead of SIGTERM")
    p.add_argument("--keep", help="use this folder as DIR and keep it")
    args = p.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="swfagent-restart-"))
    data = Path(args.keep) if args.keep else folder / "data"
    log = folder / "server.log"
    proc, endpoint, _ = start_server(data, log)
    try:
        c = client(endpoint)
        register(c)
        took = load(endpoint, args.closed, args.open, args.threads)
        before = (count(c, "closed"), count(c, "open"))
        print(f"loaded {args.closed} closed and {args.open} open executions in {took:.1f} s "
              f"({(3 * args.closed + 4 * args.open) / took:.0f} requests/s, {args.threads} clients)", flush=True)
    finally:
        proc.kill() if args.kill else proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    size = sum(f.stat().st_size for f in data.iterdir()) / 1e6
    print(f"stopped ({'kill -9' if args.kill else 'SIGTERM'}); {data}: {size:.1f} MB "
          f"({', '.join(sorted(f.name for f in data.iterdir()))})", flush=True)
    began = time.monotonic()
    proc, endpoint, lines = start_server(data, log)
    try:
        c = client(endpoint)
        after = (count(c, "closed"), count(c, "open"))
        restart = time.monotonic() - began
        said = next((line for line in lines if line.startswith("Restored")), "Restored: nothing said")
        print(f"restart: {restart:.2f} s to the first answer (the server: {said})")
        print(f"executions before: {before[0]} closed, {before[1]} open; after: {after[0]} closed, {after[1]} open "
              f"({'the same' if before == after else 'DIFFERENT'})")
        print(f"goal: restart within 5 s for 10,000 closed and 1,000 open: {restart:.2f} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
