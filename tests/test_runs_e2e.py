"""Past one history, end to end on the embedded SWF with the real decider and worker: a child step, a repeating
workflow, a parent's cancel reaching its children, a map in batches of child executions."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from swfagent.config import Config, load_config
from swfagent.executions import list_executions
from swfagent.web.app import create_app
from tests.e2e import final_state, pollers, run_to_close, wait_for
from tests.support import Server, run_script, write_config

APPEND = "import sys; print(sys.stdin.read().strip() + sys.argv[1])"  # a step appends its letter to its input


def _config(tmp_path: Path, parent: list[dict[str, Any]], sub: list[dict[str, Any]],
            keys: dict[str, Any] | None = None, one: dict[str, Any] | None = None) -> Config:
    """Parent and Sub on one task list; activities A, B, C append their letter, Slow sleeps."""
    acts: dict[str, Any] = {n: {"version": "1.0", "timeout": 60, "command": [sys.executable, "-c", APPEND, n.lower()]}
                            for n in ("A", "B", "C")}
    acts["List"] = {"version": "1.0", "timeout": 60, "command": [sys.executable, "-c", "print(list(range(8)))"]}
    one = dict(one or {})
    pause = one.pop("sleep", 0)  # seconds each item takes
    acts["One"] = {"version": "1.0", "timeout": 60, **one, "command": [
        sys.executable, "-c", f"import sys, time; time.sleep({pause}); print(int(sys.stdin.read()) * 2)"]}
    data = {
        "domain": {"name": "TEST_SWF"},
        "workflows": {
            "Parent": {"version": "1.0", "task_list": "TestTasks", "decision_timeout": 10, "steps": parent,
                       **(keys or {})},
            "Sub": {"version": "1.0", "task_list": "TestTasks", "decision_timeout": 10, "steps": sub},
        },
        "activities": acts,
    }
    return load_config(write_config(tmp_path / "config.yaml", data))


def _start(server: Server, config: Config, workflow_id: str, input: str = "x", workflow: str = "Parent") -> None:
    cfg = ("--config", str(config.path))
    done = run_script("register_swf.py", *cfg, env=server.env)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_script("swfagent", "start", "--workflow", workflow, "--workflow-id", workflow_id, "--input", input, *cfg,
                      env=server.env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_child_step_runs_another_workflow_and_its_result_is_the_steps(server: Server, tmp_path: Path) -> None:
    config = _config(tmp_path, [{"activity": "A"}, {"id": "Run_Sub", "workflow": "Sub", "after": ["A"]},
                                {"activity": "B", "after": ["Run_Sub"]}], [{"activity": "C"}])
    _start(server, config, "parent")
    closed, output = run_to_close(server, config, 2)
    assert sorted((e["execution"]["workflowId"], e["closeStatus"]) for e in closed) == [
        ("parent", "COMPLETED"), ("parent--Run_Sub-1", "COMPLETED")], output
    state = final_state(server, config, "parent")
    assert state.children["Run_Sub-1"].result == "xac" and state.close_result == "xacb"
    assert "Start child workflow -- Run_Sub (Sub)" in output
    page = create_app(server.client(), config, hosts=frozenset({"localhost"})).test_client().get(
        "/execution?workflow_id=parent", headers={"Host": "localhost"}).get_data(as_text=True)
    assert '<a class="child" href="/execution?workflow_id=parent--Run_Sub-1">child workflow parent--Run_Sub-1</a>' \
        in page, page  # the console links the child's page from the parent's step
    shown = run_script("swfagent", "show", "parent", "--config", str(config.path), env=server.env).stdout
    assert "child workflow parent--Run_Sub-1" in shown and "Start timer" not in shown
    assert "Children      Run_Sub: parent--Run_Sub-1" in shown, shown
    parent_run = next(e["execution"]["runId"] for e in closed if e["execution"]["workflowId"] == "parent")
    child = run_script("swfagent", "show", "parent--Run_Sub-1", "--config", str(config.path), env=server.env).stdout
    assert f"Parent        parent (run id {parent_run})" in child and "Previous run" not in child, child
    page = _page(server, config, "/execution?workflow_id=parent--Run_Sub-1")
    assert f'child of <a id="parent" href="/execution?workflow_id=parent&amp;run_id={parent_run}">parent</a>' \
        in page, page  # and the child's page links back to its parent's


def _page(server: Server, config: Config, path: str) -> str:
    """A page of the console, over the test client."""
    got = create_app(server.client(), config, hosts=frozenset({"localhost"})).test_client().get(
        path, headers={"Host": "localhost"})
    assert got.status_code == 200, got.get_data(as_text=True)
    return got.get_data(as_text=True)


def test_a_repeating_workflow_continues_as_new_with_the_same_input(server: Server, tmp_path: Path) -> None:
    config = _config(tmp_path, [{"activity": "A"}], [{"activity": "C"}], {"repeat": {"every": 1}})
    _start(server, config, "daily")
    client = server.client()
    with pollers() as p:
        p.loop(config, server.env)
        wait_for(lambda: len([e for e in list_executions(client, config, "closed")
                              if e["closeStatus"] == "CONTINUED_AS_NEW"]) >= 2, 60, p.all_output)
        client.terminate_workflow_execution(domain="TEST_SWF", workflowId="daily", reason="the test is over")
    runs = [e for e in list_executions(client, config, "all") if e["execution"]["workflowId"] == "daily"]
    assert len({e["execution"]["runId"] for e in runs}) >= 3  # one workflow id, a chain of runs
    for run in runs:  # each with the same input: the next runs' with the time they may start
        history = client.get_workflow_execution_history(domain="TEST_SWF", execution=run["execution"])["events"]
        text = history[0]["workflowExecutionStartedEventAttributes"]["input"]
        carried = json.loads(text)["swfagent-carry"] if text.startswith('{"swfagent-') else {"input": text}
        assert carried["input"] == "x" and (text == "x" or "not_before" in carried)
    _shows_the_chain(server, config, [e["execution"]["runId"] for e in reversed(runs)])


def _shows_the_chain(server: Server, config: Config, ids: list[str]) -> None:
    """executions, show and the console number the runs oldest first and link each to the next."""
    cfg = ("--config", str(config.path))
    listed = json.loads(run_script("swfagent", "executions", "--json", *cfg, env=server.env).stdout)
    assert [(r["execution"]["runId"], r["run"]) for r in reversed(listed)] == [(r, n) for n, r in enumerate(ids, 1)]
    assert [r.get("closeStatus") for r in reversed(listed)] == ["CONTINUED_AS_NEW"] * (len(ids) - 1) + ["TERMINATED"]
    filtered = json.loads(run_script("swfagent", "executions", "--json", "--status", "CONTINUED_AS_NEW", *cfg,
                                     env=server.env).stdout)  # numbered in the whole chain, not among those listed
    assert [(r["execution"]["runId"], r["run"]) for r in reversed(filtered)] == [
        (r, n) for n, r in enumerate(ids[:-1], 1)]
    text = run_script("swfagent", "executions", *cfg, env=server.env).stdout.splitlines()
    assert text[1].split()[:3] == ["daily", ids[-1], str(len(ids))] and text[-1].split()[:3] == ["daily", ids[0], "1"]
    latest = run_script("swfagent", "show", "daily", *cfg, env=server.env).stdout
    assert f"Run           {len(ids)} of {len(ids)} under this workflow id" in latest, latest
    assert f"Previous run  {ids[-2]}" in latest and "Next run      - (the latest)" in latest
    chain = json.loads(run_script("swfagent", "show", "daily", "--run-id", ids[1], "--json", *cfg,
                                  env=server.env).stdout)["summary"]["chain"]
    assert chain == {"run": 2, "runs": len(ids), "previous_run_id": ids[0], "next_run_id": ids[2],
                     "parent_workflow_id": None, "parent_run_id": None}
    first = run_script("swfagent", "show", "daily", "--run-id", ids[0], *cfg, env=server.env).stdout
    assert "Close status  CONTINUED_AS_NEW" in first and f"Next run      {ids[1]}" in first, first
    page = _page(server, config, f"/execution?workflow_id=daily&run_id={ids[1]}")
    assert f"Run 2 of {len(ids)} under this workflow id" in page
    assert f'<a id="previous-run" href="/execution?workflow_id=daily&amp;run_id={ids[0]}">' in page
    assert f'<a id="next-run" href="/execution?workflow_id=daily&amp;run_id={ids[2]}">' in page
    for query, numbers in (("workflow_id=daily", range(len(ids), 0, -1)),
                           ("which=CONTINUED_AS_NEW", range(len(ids) - 1, 0, -1))):
        rows = _page(server, config, f"/?{query}").split('<tr class="execution">')[1:]
        assert [row.split('class="run-number"', 1)[1].split(">", 1)[1].split("<", 1)[0] for row in rows] == \
            [str(n) for n in numbers], query


def test_cancelling_a_parent_cancels_its_children(server: Server, tmp_path: Path) -> None:
    config = _config(tmp_path, [{"id": "Run_Sub", "workflow": "Sub"}], [{"id": "Sleep", "wait": 600}])
    _start(server, config, "parent")
    client = server.client()
    with pollers() as p:
        p.start("decider.py", config, "--loop", env=server.env)
        wait_for(lambda: any(e["execution"]["workflowId"] == "parent--Run_Sub-1"
                             for e in list_executions(client, config, "open")), 30, p.all_output)
        done = run_script("swfagent", "cancel", "parent", "--config", str(config.path), env=server.env)
        assert done.returncode == 0, done.stdout + done.stderr
        wait_for(lambda: len(list_executions(client, config, "closed")) >= 2, 30, p.all_output)
    closed = {e["execution"]["workflowId"]: e["closeStatus"] for e in list_executions(client, config, "closed")}
    assert closed == {"parent": "CANCELED", "parent--Run_Sub-1": "CANCELED"}
    types = [e["eventType"] for e in client.get_workflow_execution_history(
        domain="TEST_SWF", execution={"workflowId": "parent", "runId": _run(client, config, "parent")})["events"]]
    assert "RequestCancelExternalWorkflowExecutionInitiated" in types and "ChildWorkflowExecutionCanceled" in types


def _run(client: Any, config: Config, workflow_id: str) -> str:
    [run] = [e for e in list_executions(client, config, "all") if e["execution"]["workflowId"] == workflow_id]
    return str(run["execution"]["runId"])


def test_a_map_in_batches_runs_its_items_in_child_executions(server: Server, tmp_path: Path) -> None:
    config = _config(tmp_path, [{"activity": "List"}, {"id": "M", "activity": "One", "for_each": "List",
                                                       "batch_size": 3, "max_concurrency": 6}], [{"activity": "C"}])
    _start(server, config, "map")
    closed, output = run_to_close(server, config, 4, worker_args=("--concurrency", "2"), timeout=120)
    status = {e["execution"]["workflowId"]: e["closeStatus"] for e in closed}
    assert status == {"map": "COMPLETED", "map--M#1-1": "COMPLETED", "map--M#2-1": "COMPLETED",
                      "map--M#3-1": "COMPLETED"}, output
    assert json.loads(final_state(server, config, "map").close_result or "") == [2 * i for i in range(8)]
    shown = run_script("swfagent", "show", "map", "--config", str(config.path), env=server.env).stdout
    assert "Children      M: map--M#1-1, map--M#2-1, map--M#3-1" in shown, shown
    page = _page(server, config, "/execution?workflow_id=map")  # the console links each batch's page
    assert [f'<a class="child-execution" href="/execution?workflow_id=map--M%23{n}-1">map--M#{n}-1</a>' in page
            for n in (1, 2, 3)] == [True] * 3, page
    assert "Parent        map (run id" in run_script("swfagent", "show", "map--M#2-1", "--config", str(config.path),
                                                     env=server.env).stdout


def test_kill_9_of_the_pollers_during_a_batched_map_loses_nothing(server: Server, tmp_path: Path) -> None:
    """The decider and the worker killed (kill -9) twice while the batches run: new ones take over from the
    histories, a killed worker's task is taken again after its heartbeat timeout, and the map completes with every
    item's result in order."""
    config = _config(tmp_path, [{"activity": "List"}, {"id": "M", "activity": "One", "for_each": "List",
                                                       "batch_size": 3, "max_concurrency": 6}], [{"activity": "C"}],
                     {"decision_timeout": 2}, one={"heartbeat_timeout": 2, "retries": 3, "sleep": 0.3})
    _start(server, config, "crash")
    client = server.client()

    def children(status: str) -> int:
        return len([e for e in list_executions(client, config, status) if "--" in e["execution"]["workflowId"]])

    with pollers() as p:
        for closed_before in (0, 1):
            decider = p.start("decider.py", config, "--loop", env=server.env)
            worker = p.start("worker.py", config, "--loop", env=server.env)
            wait_for(lambda n=closed_before: children("closed") > n or (n == 0 and children("open") > 0), 60,
                     p.all_output)
            os.kill(decider.pid, signal.SIGKILL)
            os.kill(worker.pid, signal.SIGKILL)
        p.loop(config, server.env)
        wait_for(lambda: any(e["execution"]["workflowId"] == "crash" for e in list_executions(client, config, "closed")),
                 120, p.all_output)
    state = final_state(server, config, "crash")
    assert state.close_status == "COMPLETED", p.all_output()[-3000:]
    assert json.loads(state.close_result or "") == [2 * i for i in range(8)]
