"""End to end, the article's order: register, start, then decider and worker one task per run, as subprocesses."""

from __future__ import annotations

from pathlib import Path

from swfagent.config import Config, load_config
from swfagent.executions import fetch_history as history
from swfagent.history import fold
from swfagent.register import register_all
from tests.e2e import register_and_start
from tests.support import Server, demo_config_data, run_script, write_config


def _run(server: Server, config: Config, script: str, *args: str) -> str:
    done = run_script(script, *args, "--config", str(config.path), env=server.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_the_articles_walkthrough(server: Server, demo_config: Config) -> None:
    _run(server, demo_config, "register_swf.py")
    assert "workflow id Demo, run id " in _run(server, demo_config, "swfagent", "start", "--workflow-id", "Demo")
    assert _run(server, demo_config, "decider.py").splitlines() == [
        "Received a Decision Task",
        "Making decision on what is next",
        "Decision Made: Schedule activity -- Test_Task_A",
    ]
    out = _run(server, demo_config, "worker.py").splitlines()
    assert out[:2] == ["Received an Activity Task", f"Execute Test_Task_A with command - python {demo_config.activities['Test_Task_A'].command[1]} --out {demo_config.activities['Test_Task_A'].command[3]}"]
    assert out[2].startswith("Test_Task_A succeeded with output: ")
    letter = out[2].rsplit(" ", 1)[1]
    assert len(letter) == 1 and letter.islower()

    client = server.client()
    run_id = client.list_open_workflow_executions(
        domain="TEST_SWF", startTimeFilter={"oldestDate": 0})["executionInfos"][0]["execution"]["runId"]
    events = history(client, demo_config, "Demo", run_id)
    assert [e["eventType"] for e in events[:7]] == [
        "WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
        "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
    ]
    assert events[6]["activityTaskCompletedEventAttributes"]["result"] == letter

    assert _run(server, demo_config, "decider.py").splitlines() == [
        "Received a Decision Task", "Making decision on what is next",
        "Test_Task_A succeeded", "Decision Made: Schedule activity -- Test_Task_B",
    ]
    out = _run(server, demo_config, "worker.py").splitlines()
    assert out[2].startswith("Test_Task_B succeeded with output: ")
    fruit = out[2].split(": ", 1)[1]
    assert fruit.startswith(letter)
    assert _run(server, demo_config, "decider.py").splitlines()[-1] == "Decision Made: Complete the workflow execution"

    state = fold(history(client, demo_config, "Demo", run_id))
    assert state.close_status == "COMPLETED" and state.close_result == fruit
    shown = _run(server, demo_config, "swfagent", "show", "Demo")
    assert "COMPLETED" in shown and fruit in shown and "Test_Task_B-1" in shown


def test_a_failing_task_fails_the_execution(server: Server, tmp_path: Path) -> None:
    data = demo_config_data()
    data["workflow"]["steps"] = [{"activity": "Test_Task_B"}]  # B first: it gets the execution's input
    config = load_config(write_config(tmp_path / "config.yaml", data))
    register_and_start(server, config, "bad-input", input="7")  # the scripts' own runs are the test above
    _run(server, config, "decider.py")
    out = _run(server, config, "worker.py")
    assert "Test_Task_B failed: exit code 1" in out
    out = _run(server, config, "decider.py")
    assert out.splitlines()[-1] == "Decision Made: Fail the workflow execution -- Test_Task_B failed: exit code 1"
    client = server.client()
    closed = client.list_closed_workflow_executions(domain="TEST_SWF", startTimeFilter={"oldestDate": 0})
    run_id = closed["executionInfos"][0]["execution"]["runId"]
    state = fold(history(client, config, "bad-input", run_id))
    assert state.close_status == "FAILED"
    assert state.close_reason == "Test_Task_B failed: exit code 1"
    failed = state.activities["Test_Task_B-1"]
    assert failed.input == "7" and "expected one letter a-z" in (failed.details or "")


def test_execution_started_by_a_plain_api_call_completes(server: Server, demo_config: Config) -> None:
    client = server.client()
    register_all(client, demo_config)
    # Like the console or `aws swf start-workflow-execution`: only a workflow id, no input, type defaults.
    client.start_workflow_execution(domain="TEST_SWF", workflowId="from-the-console",
                                    workflowType={"name": "TestWorkflow", "version": "1.0"})
    for script in ("decider.py", "worker.py", "decider.py", "worker.py", "decider.py"):
        _run(server, demo_config, script)
    closed = client.list_closed_workflow_executions(domain="TEST_SWF", startTimeFilter={"oldestDate": 0})
    assert [e["closeStatus"] for e in closed["executionInfos"]] == ["COMPLETED"]


def test_the_walkthrough_s_single_runs_make_the_article_s_calls_and_no_more(server: Server, demo_config: Config) -> None:
    """Each single run polls and answers: 2 calls, no CountPending* first (the waiting line comes from a timer)."""
    register_and_start(server, demo_config, "counted")
    calls: list[str] = []
    for script in ("decider.py", "worker.py", "decider.py", "worker.py", "decider.py"):
        done = run_script(script, "--stats", "--config", str(demo_config.path), env=server.env)
        assert done.returncode == 0, done.stderr
        stats = done.stderr.splitlines()[-1]
        assert stats.startswith("API calls: ") and stats.endswith("; empty polls: 0"), stats
        calls += stats[len("API calls: "):].split(";")[0].split()
    assert calls == ["PollForDecisionTask=1", "RespondDecisionTaskCompleted=1", "PollForActivityTask=1",
                     "RespondActivityTaskCompleted=1"] * 2 + ["PollForDecisionTask=1", "RespondDecisionTaskCompleted=1"]
    # with the start, the 11 calls of the walkthrough by hand (register's 4 come once per account and region)
