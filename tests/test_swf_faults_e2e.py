"""End to end on the embedded SWF with SWF's faults on demand (`--faults`): the agent survives each of them.

Each behaviour here is also proven on histories built in the test (test_decide.py) or with botocore's
Stubber (test_decision_tasks.py, test_activity_tasks.py); here the real decider.py and worker.py meet the real thing.
"""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

from tests.e2e import (
    HOOKS,
    e2e_config,
    event_types,
    final_state,
    pollers,
    register_and_start,
    run_to_close,
    wait_closed,
    wait_for,
)
from tests.support import HELPERS, Server, run_script


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie, dead but not yet reaped by whoever adopted it, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def test_passing_refusals_wait_and_the_execution_completes(server: Server, tmp_path: Path) -> None:
    steps = [{"activity": f"S{i}"} for i in range(16)]
    config = e2e_config(tmp_path, steps, {f"S{i}": {"command": ["echo.py", str(i)]} for i in range(16)})
    register_and_start(server, config, "busy")
    server.faults("open-activities=10")
    record = tmp_path / "runs.txt"
    [closed], output = run_to_close(server, config, env={**server.env, "RECORD_FILE": str(record)},
                                    worker_args=("--concurrency", "4"))
    assert closed["closeStatus"] == "COMPLETED", output
    types = event_types(server, config, "busy")
    assert types.count("ScheduleActivityTaskFailed") >= 6 and "TimerFired" in types  # refused, waited, scheduled
    runs = collections.Counter(record.read_text().split("\n")[:-1])
    assert runs == collections.Counter(f"busy S{i}-1" for i in range(16))  # each once: no retry was used


def test_a_refusal_that_lasts_fails_once_saying_what_to_do(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}, {"activity": "B", "after": ["A"]}],
                        {"A": {"command": ["echo.py", "a"]}, "B": {"command": ["echo.py"]}})
    register_and_start(server, config, "stale")
    server.client().deprecate_activity_type(domain="TEST_SWF", activityType={"name": "B", "version": "1.0"})
    [closed], output = run_to_close(server, config)
    assert closed["closeStatus"] == "FAILED", output
    assert final_state(server, config, "stale").close_reason == (
        "B could not be scheduled (ACTIVITY_TYPE_DEPRECATED): activity type B 1.0 is deprecated in SWF: give it a new "
        "version in config.yaml and run python register_swf.py")
    assert event_types(server, config, "stale").count("ScheduleActivityTaskFailed") == 1


def test_timers_refused_again_and_again_end_in_a_clear_reason(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {
        "A": {"command": ["flaky.py", str(tmp_path / "marker")], "retries": 2, "retry_delay": 1}})
    register_and_start(server, config, "no-timers")
    server.faults("open-timers=0")
    [closed], output = run_to_close(server, config)
    assert closed["closeStatus"] == "FAILED", output
    reason = final_state(server, config, "no-timers").close_reason or ""
    assert reason.startswith("A could not be scheduled: SWF refused it 10 times in a row"), reason
    assert "OPEN_TIMERS_LIMIT_EXCEEDED" in reason


def test_a_fan_out_of_250_steps_is_answered_in_parts_and_completes(server: Server, tmp_path: Path) -> None:
    steps = [{"activity": "A"}, *({"id": f"S{i}", "activity": "B", "after": ["A"]} for i in range(250))]
    config = e2e_config(tmp_path, steps, {"A": {"argv": ["true"]}, "B": {"argv": ["true"]}})
    register_and_start(server, config, "wide")
    server.faults("max-decisions=100")  # what the agent promises to send at most, checked by the embedded SWF
    [closed], output = run_to_close(server, config, worker_args=("--concurrency", "4"), timeout=180)
    assert closed["closeStatus"] == "COMPLETED", output
    types = event_types(server, config, "wide")
    assert types.count("ActivityTaskCompleted") == 251 and "ScheduleActivityTaskFailed" not in types
    assert "The rest in the next decision task" in output


def test_an_answer_over_one_megabyte_is_split_and_completes(server: Server, tmp_path: Path) -> None:
    steps = [{"activity": "A"}, *({"id": f"S{i}", "activity": "B", "after": ["A"]} for i in range(40))]
    config = e2e_config(tmp_path, steps, {"A": {"command": ["big.py", "30000", "0", "0"]}, "B": {"command": ["digest.py"]}})
    register_and_start(server, config, "heavy")  # 40 inputs of 30,000 characters: 1.2 MB of decisions
    [closed], output = run_to_close(server, config, worker_args=("--concurrency", "4"), timeout=120)
    assert closed["closeStatus"] == "COMPLETED", output
    assert event_types(server, config, "heavy").count("ActivityTaskCompleted") == 41


def test_a_close_refused_for_good_alerts_once_and_is_not_sent_again(server: Server, tmp_path: Path) -> None:
    alert_file = tmp_path / "alerts.jsonl"
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["big.py", "1", "1", "3"]}},
                        alerts={"command": ["python", str(HELPERS / "record_alert.py"), str(alert_file)]})
    register_and_start(server, config, "stuck")
    server.faults("deny=FailWorkflowExecution")
    with pollers() as p:
        p.loop(config, server.env)
        wait_for(lambda: "FailWorkflowExecutionFailed" in event_types(server, config, "stuck"), why=p.all_output)
        time.sleep(2)  # the decision task after the refusal, and time for any re-send
    types = event_types(server, config, "stuck")
    assert types.count("FailWorkflowExecutionFailed") == 1 and types[-1] == "DecisionTaskCompleted"
    # the decider alerts as it fails the execution; SWF refuses; one more alert says so, and that is all
    failed, refused = [json.loads(line) for line in alert_file.read_text().splitlines()]
    assert failed["status"] == "FAILED" and failed["reason"] == "A failed: exit code 3"
    assert refused["status"] == "CLOSE_REFUSED" and "OPERATION_NOT_PERMITTED" in refused["reason"]
    assert "SWF refused to close this execution (FailWorkflowExecution: OPERATION_NOT_PERMITTED)" in p.all_output()


def test_cancel_stops_the_running_task_and_cancels_the_execution(server: Server, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    config = e2e_config(tmp_path, [{"activity": "A"}, {"activity": "B", "after": ["A"]}], {
        "A": {"command": ["sleeper.py", str(pids), "120"], "heartbeat_timeout": 3}, "B": {"command": ["echo.py"]}})
    register_and_start(server, config, "stop-me")
    with pollers() as p:
        p.loop(config, server.env)
        wait_for(pids.exists, why=p.all_output, every=0.1)
        task, child = (int(x) for x in pids.read_text().split())
        asked = time.monotonic()
        done = run_script("swfagent", "cancel", "stop-me", "--config", str(config.path), env=server.env)
        assert done.returncode == 0, done.stderr
        [closed] = wait_closed(server, config, 1, timeout=30)
        took = time.monotonic() - asked
        gone = not _alive(task) and not _alive(child)
    assert closed["closeStatus"] == "CANCELED", p.all_output()
    assert gone, "the task's processes outlived the cancel"
    assert took < 3 / 3 + 5 + 10  # heartbeat_timeout/3 + the grace, with room for a loaded machine
    types = event_types(server, config, "stop-me")
    assert types.index("ActivityTaskCancelRequested") < types.index("ActivityTaskCanceled") < types.index(
        "WorkflowExecutionCanceled")
    assert "A canceled" in p.all_output() and "ActivityTaskScheduled" in types and types.count("ActivityTaskScheduled") == 1


def test_a_page_that_fails_drops_the_task_and_the_run_goes_on(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["echo.py", "a"]}}, decision_timeout=2)
    register_and_start(server, config, "pages")
    client = server.client()  # a history of more than one page: a thousand markers
    task = client.poll_for_decision_task(domain="TEST_SWF", taskList={"name": "TestTasks"})
    client.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
        {"decisionType": "RecordMarker", "recordMarkerDecisionAttributes": {"markerName": f"m-{i}"}} for i in range(1000)])
    client.signal_workflow_execution(domain="TEST_SWF", workflowId="pages", signalName="go")
    server.faults("page-errors=1")
    done = run_script("decider.py", "--config", str(config.path), "--until-idle", env=server.env)
    assert done.returncode == 0, done.stderr  # a cron run goes on past it, and ends when nothing is queued
    assert "a page of its history could not be read (InternalFailure)" in done.stderr
    server.faults("")
    [closed], output = run_to_close(server, config)  # SWF hands the task out again after its timeout
    assert closed["closeStatus"] == "COMPLETED", output
    assert "DecisionTaskTimedOut" in event_types(server, config, "pages")


def test_three_decision_tasks_timed_out_in_a_row_fail_the_execution(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}], {"A": {"command": ["echo.py", "a"]}}, decision_timeout=1)
    register_and_start(server, config, "hung")
    stalled = {**server.env, "PYTHONPATH": HOOKS, "SWFAGENT_TEST_STALL": "RespondDecisionTaskCompleted:60"}
    for n in range(1, 4):  # a decider that hangs on this execution, three times
        with pollers() as p:
            p.start("decider.py", config, env=stalled)
            wait_for(lambda n=n: event_types(server, config, "hung").count("DecisionTaskTimedOut") >= n,
                     why=p.all_output)
    done = run_script("decider.py", "--config", str(config.path), env=server.env)
    assert done.stdout.splitlines()[-1] == (
        "Decision Made: Fail the workflow execution -- 3 decision tasks in a row timed out without an answer "
        "(decision_timeout 1 s): see the decider's log"), done.stderr
