"""End to end against the moto server: many pollers, crashes, signals, transient errors, bad input."""

from __future__ import annotations

import collections
import json
import os
import signal
import time
from pathlib import Path

import boto3

from swfagent.executions import fetch_history as history
from swfagent.executions import list_executions
from swfagent.register import register_all
from tests.e2e import (
    HOOKS,
    digest,
    e2e_config,
    event_types,
    final_state,
    pollers,
    register_and_start,
    run_to_close,
    wait_closed,
    wait_for,
)
from tests.support import Server, run_script


def _two_steps(tmp_path: Path, **a_spec: object) -> object:
    return e2e_config(tmp_path, [{"activity": "A"}, {"activity": "B", "after": ["A"]}], {
        "A": {"command": ["echo.py", "a"], **a_spec}, "B": {"command": ["echo.py"]},
    })


def test_many_executions_several_workers_and_deciders(server: Server, tmp_path: Path) -> None:
    config = _two_steps(tmp_path)
    record = tmp_path / "runs.txt"
    env = {**server.env, "RECORD_FILE": str(record)}
    ids = [f"many-{i}" for i in range(20)]
    register_and_start(server, config, *ids)
    with pollers() as p:
        p.start("decider.py", config, "--loop", env=env)
        p.start("decider.py", config, "--loop", "--concurrency", "2", env=env)  # two poll threads
        for _ in range(2):
            p.start("worker.py", config, "--loop", env=env)
        p.start("worker.py", config, "--loop", "--concurrency", "3", env=env)
        closed = wait_closed(server, config, 20, timeout=120)
    assert sorted(e["closeStatus"] for e in closed) == ["COMPLETED"] * 20, p.all_output()[-3000:]
    runs = collections.Counter(record.read_text().split("\n")[:-1])
    assert runs == collections.Counter(f"{w} {s}-1" for w in ids for s in ("A", "B"))  # each activity exactly once


def test_kill_9_of_a_worker_mid_task_is_retried_after_its_heartbeat_timeout(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {
        "A": {"command": ["flaky.py", str(tmp_path / "marker")], "heartbeat_timeout": 2, "retries": 1},
    })
    register_and_start(server, config, "crash")
    with pollers() as p:
        p.start("decider.py", config, "--loop", env=server.env)
        doomed = p.start("worker.py", config, env={**server.env, "SLOW_FIRST": "60"})
        wait_for(lambda: (tmp_path / "marker").exists())
        os.kill(doomed.pid, signal.SIGKILL)
        os.killpg(int((tmp_path / "marker").read_text()), signal.SIGKILL)  # the host is gone: its task (a group) too
        p.start("worker.py", config, "--loop", env=server.env)
        [closed] = wait_closed(server, config, 1, timeout=60)
    assert closed["closeStatus"] == "COMPLETED", p.all_output()
    state = final_state(server, config, "crash")
    assert state.activities["A-1"].status == "TIMED_OUT" and state.activities["A-1"].timeout_type == "HEARTBEAT"
    assert state.activities["A-2"].status == "COMPLETED"


def test_kill_9_of_a_decider_holding_a_decision_task(server: Server, tmp_path: Path) -> None:
    config = _two_steps(tmp_path)
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["echo.py", "a"]}}, decision_timeout=2)
    register_and_start(server, config, "decider-crash")
    stall = {**server.env, "PYTHONPATH": HOOKS, "SWFAGENT_TEST_STALL": "RespondDecisionTaskCompleted:60"}
    with pollers() as p:
        doomed = p.start("decider.py", config, env=stall)
        wait_for(lambda: "DecisionTaskStarted" in event_types(server, config, "decider-crash"))
        os.kill(doomed.pid, signal.SIGKILL)
        p.loop(config, server.env)
        [closed] = wait_closed(server, config, 1, timeout=60)
    assert closed["closeStatus"] == "COMPLETED", p.all_output()
    assert "DecisionTaskTimedOut" in event_types(server, config, "decider-crash")


def test_sigterm_to_a_worker_mid_task_finishes_and_reports(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["slow.py", "2"]}})
    register_and_start(server, config, "sigterm")
    with pollers() as p:
        worker = p.start("worker.py", config, "--loop", env=server.env)
        decider = p.start("decider.py", config, "--loop", env=server.env)
        wait_for(lambda: "ActivityTaskStarted" in event_types(server, config, "sigterm"))
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert "A succeeded with output: slept 2" in out
        [closed] = wait_closed(server, config, 1, timeout=30)
        assert decider.poll() is None
    assert closed["closeStatus"] == "COMPLETED"


def test_transient_errors_lose_nothing(server: Server, tmp_path: Path) -> None:
    config = _two_steps(tmp_path)
    ids = [f"chaos-{i}" for i in range(6)]
    register_and_start(server, config, *ids)
    # the pollers' calls fail 2 times in 10, throttled or with a 500; the test's own calls go through
    ops = "+".join(("PollForActivityTask", "PollForDecisionTask", "CountPendingActivityTasks", "CountPendingDecisionTasks",
                    "RespondDecisionTaskCompleted", "RespondActivityTaskCompleted", "RespondActivityTaskFailed",
                    "RecordActivityTaskHeartbeat"))
    server.faults(f"throttle=0.1@{ops},errors=0.1@{ops}")
    closed, output = run_to_close(server, config, len(ids), timeout=120)
    assert sorted(e["closeStatus"] for e in closed) == ["COMPLETED"] * len(ids), output[-3000:]
    assert "Traceback" not in output


BAD_INPUTS = ["$(touch {tmp}/pwned)", "; touch {tmp}/pwned2 #", "`touch {tmp}/pwned3`", "x" * 1_000_000]


def test_bad_input_reaches_the_task_verbatim_and_nothing_is_executed(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["echo.py"]}})
    client = server.client()
    register_all(client, config)
    inputs = [s.format(tmp=tmp_path) for s in BAD_INPUTS[:3]] + ["x" * 30_000, "caf\u00e9 \udcff".encode(
        "utf-8", "surrogateescape").decode("utf-8", "replace")]
    for i, text in enumerate(inputs):
        client.start_workflow_execution(
            domain="TEST_SWF", workflowId=f"bad-{i}", workflowType={"name": "TestWorkflow", "version": "1.0"},
            input=text)
    closed, output = run_to_close(server, config, len(inputs))
    assert sorted(e["closeStatus"] for e in closed) == ["COMPLETED"] * len(inputs), output[-2000:]
    assert not list(tmp_path.glob("pwned*"))
    for i, text in enumerate(inputs):
        assert final_state(server, config, f"bad-{i}").close_result == text.strip()


def test_a_result_over_swf_limit_fails_the_step_and_never_is_cut(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["big.py", "100000", "0", "0"]}})
    register_and_start(server, config, "big")
    [closed], _ = run_to_close(server, config)
    a = final_state(server, config, "big").activities["A-1"]
    assert a.status == "FAILED" and closed["closeStatus"] == "FAILED"
    assert a.reason == ("the result is 100000 characters, over SWF's 32768: print less, or set results: "
                        "{s3: s3://BUCKET/PREFIX} in config.yaml")


def test_the_end_of_a_long_stderr_is_kept(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["big.py", "10", "40000", "4"]}})
    register_and_start(server, config, "loud")
    [closed], _ = run_to_close(server, config)
    a = final_state(server, config, "loud").activities["A-1"]
    assert a.status == "FAILED" and a.reason == "exit code 4"
    assert len(a.details or "") <= 32_768 and "characters cut" in (a.details or "")
    assert (a.details or "").endswith("e" * 10_000)  # the end is kept, the cut is marked


def test_large_values_go_through_s3_and_the_next_step_gets_them_whole(server: Server, tmp_path: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="swf-values")
    config = e2e_config(tmp_path, [{"activity": "A"}, {"activity": "B", "after": ["A"]}, {"activity": "C"},
                                   {"activity": "D", "after": ["B", "C"]}],
                        {"A": {"command": ["big.py", "100000", "0", "0"]}, "B": {"command": ["digest.py"]},
                         "C": {"command": ["big.py", "40000", "0", "0"]}, "D": {"command": ["digest.py"]}},
                        results={"s3": "s3://swf-values/runs"})
    register_and_start(server, config, "jumbo")
    env = {**server.env, "AWS_ENDPOINT_URL_S3": server.endpoint}
    [closed], output = run_to_close(server, config, env=env)
    assert closed["closeStatus"] == "COMPLETED", output
    state = final_state(server, config, "jumbo")
    a = state.activities["A-1"]
    assert a.result == f"swfagent+s3://swf-values/runs/jumbo/{closed['execution']['runId']}/A-1/result"
    whole = "y" * 100_000 + "\n"
    assert state.activities["B-1"].input == a.result  # SWF carries the reference; B got the text on stdin
    assert state.activities["B-1"].result == digest(whole)
    fan_in = json.dumps({"B": digest(whole), "C": "y" * 40_000 + "\n"}, ensure_ascii=False)
    assert state.activities["D-1"].result == digest(fan_in)  # a fan-in with a large value: expanded for D


def test_until_idle_with_nothing_to_do_exits_0_quickly(server: Server, tmp_path: Path) -> None:
    config = _two_steps(tmp_path)
    register_and_start(server, config)
    for script in ("decider.py", "worker.py"):
        started = time.monotonic()
        done = run_script(script, "--config", str(config.path), "--until-idle", env=server.env)
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 10


def test_max_tasks_handles_that_many_and_exits(server: Server, tmp_path: Path) -> None:
    config = _two_steps(tmp_path)
    register_and_start(server, config, "m1", "m2", "m3")
    done = run_script("decider.py", "--config", str(config.path), "--max-tasks", "2", env=server.env)
    assert done.returncode == 0 and done.stdout.count("Received a Decision Task") == 2
    client = server.client()
    scheduled = sum("ActivityTaskScheduled" in [e["eventType"] for e in history(client, config, e["execution"]["workflowId"], e["execution"]["runId"])]
                    for e in list_executions(client, config, "open"))
    assert scheduled == 2
