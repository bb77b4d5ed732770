"""Helpers for end-to-end tests: pollers as background subprocesses, waiting for executions to close."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from swfagent.config import Config
from swfagent.decision_tasks import handle_decision_task, poll_decision_task
from swfagent.executions import fetch_history as history
from swfagent.executions import list_executions
from swfagent.history import ExecutionState, fold
from swfagent.register import register_all
from tests.support import HELPERS, ROOT, Server, start_script


class Pollers:
    """Background deciders and workers; stopped with SIGTERM on exit, their output kept."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []
        self.output: dict[int, tuple[str, str]] = {}

    def start(self, script: str, config: Config, *args: str, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
        proc = start_script(script, "--config", str(config.path), *args, env=env, **kwargs)
        self.procs.append((script, proc))
        return proc

    def loop(self, config: Config, env: dict[str, str]) -> None:
        """A decider and a worker, each polling in a loop."""
        self.start("decider.py", config, "--loop", env=env)
        self.start("worker.py", config, "--loop", env=env)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, then a second one: the work is done, and a long poll under way need not be waited for."""
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.procs:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            self.output[proc.pid] = (out, err)

    def all_output(self) -> str:
        return "\n".join((out or "") + (err or "") for out, err in self.output.values())  # None: sent to a file


class Local:
    """`python -m swfagent local --port 0 ARGS` as a subprocess: its environment, and its console's address (none
    with --no-console)."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "swfagent", "local", "--port", "0", *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"PYTHONUNBUFFERED": "1"}
        self.console = ""
        self.err: str | None = None
        with_console = "--no-console" not in args  # its line comes after the exports
        while not (self.console if with_console else "AWS_ENDPOINT_URL_SWF" in self.env):
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            assert line, self.proc.stderr.read()  # type: ignore[union-attr]
            if line.startswith("export "):
                key, value = line[len("export "):].strip().split("=", 1)
                self.env[key] = value
            elif line.startswith("Web console: "):
                self.console = line.split(": ", 1)[1].split()[0]

    def stop(self) -> str:
        """SIGTERM it; what it wrote on stderr (its terminal's log)."""
        if self.err is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            self.err = self.proc.communicate(timeout=15)[1]
        return self.err


@contextlib.contextmanager
def pollers() -> Iterator[Pollers]:
    p = Pollers()
    try:
        yield p
    finally:
        p.stop()


def register_and_start(server: Server, config: Config, *workflow_ids: str, input: str | None = None) -> None:
    """Registered in this process: register_swf.py as a script has its own tests (test_walkthrough, test_register)."""
    from swfagent.executions import start_execution

    client = server.client()
    register_all(client, config)
    for wid in workflow_ids:
        start_execution(client, config, wid, input)


def wait_for(predicate: Callable[[], object], timeout: float = 30, why: Callable[[], str] = lambda: "timed out waiting",
             every: float = 0.2) -> None:
    """Until predicate() holds; past `timeout`, fail with why() (say, the pollers' output)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, why()
        time.sleep(every)


def wait_closed(server: Server, config: Config, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    """Wait until `count` executions are closed; return them."""
    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        closed = list_executions(client, config, "closed")
        if len(closed) >= count or time.monotonic() > deadline:
            return closed
        time.sleep(0.3)


def final_state(server: Server, config: Config, workflow_id: str) -> ExecutionState:
    client = server.client()
    [run] = [e for e in list_executions(client, config, "all") if e["execution"]["workflowId"] == workflow_id]
    return fold(history(client, config, workflow_id, run["execution"]["runId"]))


def event_types(server: Server, config: Config, workflow_id: str) -> list[str]:
    client = server.client()
    [run] = [e for e in list_executions(client, config, "all") if e["execution"]["workflowId"] == workflow_id]
    return [e["eventType"] for e in history(client, config, workflow_id, run["execution"]["runId"])]


HOOKS = str(HELPERS / "hooks")


def digest(text: str) -> str:
    """What tests/helpers/digest.py prints for this stdin."""
    data = text.encode()
    return f"{len(data)} {hashlib.sha256(data).hexdigest()[:16]}"




def e2e_config(tmp_path: Any, steps: list[dict[str, Any]], activities: dict[str, dict[str, Any]],
               **workflow: Any) -> Config:
    """A config file in tmp_path; activity commands like ["echo.py", "x"] run tests/helpers scripts, "argv" any command."""
    from swfagent.config import load_config
    from tests.support import write_config

    acts = {}
    for name, spec in activities.items():
        spec = dict(spec)
        command = spec.pop("argv", None) or ["python", str(HELPERS / spec["command"][0]), *spec["command"][1:]]
        spec.pop("command", None)
        acts[name] = {"version": "1.0", "timeout": 60, "command": command, **spec}
    top = {key: workflow.pop(key) for key in ("results", "alerts") if key in workflow}  # top-level keys of config.yaml
    data = {
        "domain": {"name": "TEST_SWF"},
        "workflow": {"name": "TestWorkflow", "version": "1.0", "task_list": "TestTasks", "decision_timeout": 10,
                     "steps": steps, **workflow},
        "activities": acts,
        **top,
    }
    return load_config(write_config(tmp_path / "config.yaml", data))


APPEND = "import sys; print(sys.stdin.read().strip() + sys.argv[1])"  # a step appends its letter to its input


def two_workflows_config(tmp_path: Any) -> Config:
    """Two workflows in one file: Forwards runs A then B on ForwardTasks, Backwards (2.0) B then A on BackwardTasks;
    each step appends its letter to its input. The activities' task list is the first workflow's."""
    from swfagent.config import load_config
    from tests.support import write_config

    data = {
        "domain": {"name": "TEST_SWF"},
        "workflows": {
            "Forwards": {"version": "1.0", "task_list": "ForwardTasks", "decision_timeout": 10,
                         "steps": [{"activity": "A"}, {"activity": "B", "after": ["A"]}]},
            "Backwards": {"version": "2.0", "task_list": "BackwardTasks", "decision_timeout": 10,
                          "steps": [{"activity": "B"}, {"activity": "A", "after": ["B"]}]},
        },
        "activities": {name: {"version": "1.0", "timeout": 60, "command": [sys.executable, "-c", APPEND, name.lower()]}
                       for name in ("A", "B")},
    }
    return load_config(write_config(tmp_path / "config.yaml", data))


def run_to_close(server: Server, config: Config, count: int = 1, *, env: dict[str, str] | None = None,
                 worker_args: tuple[str, ...] = (), timeout: float = 60) -> tuple[list[dict[str, Any]], str]:
    """One decider and one worker in --loop until `count` executions closed: those executions, and what the pollers printed."""
    env = env or server.env
    with pollers() as p:
        p.start("decider.py", config, "--loop", env=env)
        p.start("worker.py", config, "--loop", *worker_args, env=env)
        closed = wait_closed(server, config, count, timeout)
    return closed, p.all_output()


class Driver:
    """Drives executions in this process: the real decide code for decisions, boto3 answers for activities."""

    def __init__(self, client: Any, config: Config):
        self.client, self.config = client, config
        register_all(client, config)

    def start(self, workflow_id: str, input: str | None = None, **extra: Any) -> str:
        w = self.config.workflow
        kwargs: dict[str, Any] = dict(domain=self.config.domain.name, workflowId=workflow_id,
                                      workflowType={"name": w.name, "version": w.version}, **extra)
        if input is not None:
            kwargs["input"] = input
        return str(self.client.start_workflow_execution(**kwargs)["runId"])

    def decide(self) -> list[dict[str, Any]]:
        """Take the waiting decision task and answer it as decider.py would."""
        task = poll_decision_task(self.client, self.config, self.config.workflow.task_list, "test")
        assert task is not None, "no decision task was waiting"
        return handle_decision_task(self.client, self.config, task).swf

    def work(self, result: str | None = None, fail: str | None = None, task_list: str | None = None) -> str:
        """Take the waiting activity task and complete it (or fail it); returns its activity id."""
        task = self.client.poll_for_activity_task(
            domain=self.config.domain.name, taskList={"name": task_list or self.config.workflow.task_list},
            identity="test")
        assert task.get("taskToken"), "no activity task was waiting"
        if fail is not None:
            self.client.respond_activity_task_failed(taskToken=task["taskToken"], reason=fail)
        else:
            self.client.respond_activity_task_completed(taskToken=task["taskToken"], result=result or "")
        return str(task["activityId"])

    def complete_demo(self, workflow_id: str) -> str:
        """A demo execution run to COMPLETED: A answers 'a', B answers 'apple'."""
        run_id = self.start(workflow_id)
        self.decide()
        assert self.work("a") == "Test_Task_A-1"
        self.decide()
        assert self.work("apple") == "Test_Task_B-1"
        assert self.decide()[0]["decisionType"] == "CompleteWorkflowExecution"
        return run_id

    def fail_demo(self, workflow_id: str) -> str:
        """A demo execution whose A fails with no retries left: FAILED by the decider."""
        run_id = self.start(workflow_id)
        self.decide()
        self.work(fail="exit code 1")
        assert self.decide()[0]["decisionType"] == "FailWorkflowExecution"
        return run_id

    def cancel_directly(self, workflow_id: str) -> str:
        """CANCELED: a CancelWorkflowExecution decision answered with boto3, with no cancel request."""
        run_id = self.start(workflow_id)
        task = poll_decision_task(self.client, self.config, self.config.workflow.task_list, "test")
        assert task is not None
        self.client.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[{
            "decisionType": "CancelWorkflowExecution",
            "cancelWorkflowExecutionDecisionAttributes": {"details": "asked to stop"}}])
        return run_id
