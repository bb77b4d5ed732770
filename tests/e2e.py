"""Helpers for end-to-end tests: pollers as background subprocesses, waiting for executions to close."""

from __future__ import annotations

import contextlib
import hashlib
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

from swfagent.config import Config
from swfagent.console import history, list_executions
from swfagent.history import ExecutionState, fold
from tests.conftest import ROOT, Server, run_script, start_script


class Pollers:
    """Background deciders and workers; stopped with SIGTERM on exit, their output kept."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []
        self.output: dict[int, tuple[str, str]] = {}

    def start(self, script: str, config: Config, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
        proc = start_script(script, "--config", str(config.path), *args, env=env)
        self.procs.append((script, proc))
        return proc

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
        return "\n".join(out + err for out, err in self.output.values())


@contextlib.contextmanager
def pollers() -> Iterator[Pollers]:
    p = Pollers()
    try:
        yield p
    finally:
        p.stop()


def register_and_start(server: Server, config: Config, *workflow_ids: str, input: str | None = None) -> None:
    done = run_script("register_swf.py", "--config", str(config.path), env=server.env)
    assert done.returncode == 0, done.stderr
    from swfagent.console import start_execution

    client = server.client()
    for wid in workflow_ids:
        start_execution(client, config, wid, input)


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


HOOKS = str(ROOT / "tests" / "helpers" / "hooks")


def digest(text: str) -> str:
    """What tests/helpers/digest.py prints for this stdin."""
    data = text.encode()
    return f"{len(data)} {hashlib.sha256(data).hexdigest()[:16]}"


HELPERS = ROOT / "tests" / "helpers"


def e2e_config(tmp_path: Any, steps: list[dict[str, Any]], activities: dict[str, dict[str, Any]],
               **workflow: Any) -> Config:
    """A config file in tmp_path; activity commands like ["echo.py", "x"] run tests/helpers scripts, "argv" any command."""
    from swfagent.config import load_config
    from tests.conftest import write_config

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


def run_to_close(server: Server, config: Config, count: int = 1, *, env: dict[str, str] | None = None,
                 worker_args: tuple[str, ...] = (), timeout: float = 60) -> tuple[list[dict[str, Any]], str]:
    """One decider and one worker in --loop until `count` executions closed: those executions, and what the pollers printed."""
    env = env or server.env
    with pollers() as p:
        p.start("decider.py", config, "--loop", env=env)
        p.start("worker.py", config, "--loop", *worker_args, env=env)
        closed = wait_closed(server, config, count, timeout)
    return closed, p.all_output()
