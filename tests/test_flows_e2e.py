"""End to end against the moto server, the real scripts looping: a diamond, a fan-out/fan-in, a retry."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e import e2e_config, event_types, final_state, register_and_start, run_to_close
from tests.support import Server, run_script


def test_diamond_one_branch_runs_the_other_is_skipped_both_meet(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [
        {"activity": "A"},
        {"activity": "B", "after": ["A"], "when": {"A": "[a-m]"}},
        {"activity": "C", "after": ["A"], "when": {"A": "[n-z]"}},
        {"activity": "D", "after": ["B", "C"]},
    ], {"A": {"command": ["echo.py", "x"]}, "B": {"command": ["echo.py"]}, "C": {"command": ["echo.py"]},
        "D": {"command": ["echo.py"]}})
    register_and_start(server, config, "diamond")
    [closed], output = run_to_close(server, config)
    assert closed["closeStatus"] == "COMPLETED", output
    state = final_state(server, config, "diamond")
    assert set(state.by_step) == {"A", "C", "D"}  # B was skipped: never scheduled
    assert state.by_step["C"].input == "x"
    assert json.loads(state.by_step["D"].input or "") == {"C": "x"}  # B left out
    assert state.close_result == state.by_step["D"].result


def test_fan_out_and_fan_in(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [
        {"activity": "A"}, {"activity": "B", "after": ["A"]}, {"activity": "C", "after": ["A"]},
        {"activity": "D", "after": ["B", "C"]},
    ], {"A": {"command": ["echo.py", "a"]}, "B": {"command": ["echo.py", "b"]}, "C": {"command": ["echo.py", "c"]},
        "D": {"command": ["echo.py"]}})
    register_and_start(server, config, "fan")
    [closed], output = run_to_close(server, config, worker_args=("--concurrency", "2"))
    assert closed["closeStatus"] == "COMPLETED", output
    types = event_types(server, config, "fan")
    # B and C were scheduled by one decision: two ActivityTaskScheduled events in a row
    second = [i for i, t in enumerate(types) if t == "ActivityTaskScheduled"][1]
    assert types[second + 1] == "ActivityTaskScheduled"
    state = final_state(server, config, "fan")
    assert json.loads(state.by_step["D"].input or "") == {"B": "b", "C": "c"}
    assert state.close_result == json.dumps({"B": "b", "C": "c"})


def test_a_task_that_fails_once_succeeds_through_a_retry_timer(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {
        "A": {"command": ["flaky.py", str(tmp_path / "marker")], "retries": 2, "retry_delay": 1},
    })
    register_and_start(server, config, "retry")
    [closed], output = run_to_close(server, config)
    assert closed["closeStatus"] == "COMPLETED", output
    types = event_types(server, config, "retry")
    assert "TimerStarted" in types and "TimerFired" in types
    assert types.index("ActivityTaskFailed") < types.index("TimerStarted") < types.index("TimerFired")
    state = final_state(server, config, "retry")
    assert state.activities["A-1"].status == "FAILED" and state.activities["A-2"].status == "COMPLETED"
    assert state.close_result == "ok on a later attempt"


def test_a_history_of_more_than_one_page_is_read_whole(server: Server, tmp_path: Path) -> None:
    """A's completion lands on the history's second page: a decider that read one page would wait for ever."""
    config = e2e_config(tmp_path, [{"activity": "A"}, {"activity": "B", "after": ["A"]}],
                        {"A": {"command": ["echo.py", "a"]}, "B": {"command": ["echo.py"]}})
    register_and_start(server, config, "long")
    args = ("--config", str(config.path))
    assert run_script("decider.py", *args, env=server.env).stdout.splitlines()[-1] == "Decision Made: Schedule activity -- A"
    client = server.client()  # a thousand events in one decision: markers
    client.signal_workflow_execution(domain="TEST_SWF", workflowId="long", signalName="go")
    task = client.poll_for_decision_task(domain="TEST_SWF", taskList={"name": "TestTasks"})
    client.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
        {"decisionType": "RecordMarker", "recordMarkerDecisionAttributes": {"markerName": f"m-{i}"}} for i in range(1000)])
    assert "A succeeded with output: a" in run_script("worker.py", *args, env=server.env).stdout
    done = run_script("decider.py", *args, env=server.env)
    assert done.stdout.splitlines()[-2:] == ["A succeeded", "Decision Made: Schedule activity -- B"], done.stderr
    events = event_types(server, config, "long")
    assert len(events) > 1000 and events.index("ActivityTaskCompleted") >= 1000
