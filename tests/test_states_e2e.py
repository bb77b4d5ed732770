"""End to end on the embedded SWF, the Step Functions kinds: a 500-item map with max_concurrency 20 and two workers,
a signal sent by `swfagent signal` (the AWS CLI's signal-workflow-execution), a wait, and a catch that ends in a fail;
each checked through the history. The decider and the workers run in this process (as decider.py and worker.py call
them), so the map takes seconds."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from swfagent import cli
from swfagent.config import Config
from swfagent.decision_tasks import handle_decision_task, poll_decision_task
from swfagent.history import fold
from swfagent.ids import parse_item
from tests.e2e import Driver, e2e_config, wait_for
from tests.support import Server

ECHO = {"command": ["echo.py"]}


def history(server: Server, config: Config, workflow_id: str) -> list[dict[str, Any]]:
    from swfagent.executions import fetch_history, latest_run

    client = server.client()
    return fetch_history(client, config, workflow_id, latest_run(client, config, workflow_id))


def counts(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["eventType"] for e in events)


def _pending(client: Any, config: Config, kind: str) -> int:
    call = client.count_pending_decision_tasks if kind == "decision" else client.count_pending_activity_tasks
    return int(call(domain=config.domain.name, taskList={"name": config.workflow.task_list})["count"])


def _decider(server: Server, config: Config, stop: threading.Event) -> None:
    client = server.client()
    while not stop.is_set():
        task = poll_decision_task(client, config, config.workflow.task_list, "decider")
        if isinstance(task, dict):
            handle_decision_task(client, config, task)
            time.sleep(0.05)  # let the items that finish meanwhile come in one decision task, as a busy decider does


def _worker(server: Server, config: Config, stop: threading.Event, name: str) -> None:
    """A worker that answers each item with its input upper-cased, and fails item 7 once (it is retried)."""
    client = server.client()
    while not stop.is_set():
        task = client.poll_for_activity_task(domain=config.domain.name, taskList={"name": config.workflow.task_list},
                                             identity=name)
        if not task.get("taskToken"):
            continue
        if task["activityId"] == "Convert@7-1":
            client.respond_activity_task_failed(taskToken=task["taskToken"], reason="exit code 1")
        elif task["activityId"].startswith("List-"):
            client.respond_activity_task_completed(taskToken=task["taskToken"],
                                                   result=json.dumps([f"f{i}" for i in range(500)]))
        else:
            client.respond_activity_task_completed(taskToken=task["taskToken"], result=task.get("input", "").upper())


def test_a_map_of_500_items_20_at_a_time_on_two_workers(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [
        {"activity": "List"},
        {"id": "Convert", "activity": "One", "for_each": "List", "max_concurrency": 20},
    ], {"List": ECHO, "One": {**ECHO, "retries": 1}}, max_history_events=5000)
    Driver(server.client(), config).start("map-500")
    held, server.swf.engine.poll_seconds = server.swf.engine.poll_seconds, 0.2  # the pollers stop at once at the end
    stop = threading.Event()
    threads = [threading.Thread(target=_decider, args=(server, config, stop), daemon=True),
               *(threading.Thread(target=_worker, args=(server, config, stop, f"w{i}"), daemon=True) for i in (1, 2))]
    for t in threads:
        t.start()
    try:
        client = server.client()
        wait_for(lambda: client.list_closed_workflow_executions(
            domain=config.domain.name, startTimeFilter={"oldestDate": 0})["executionInfos"], timeout=120, every=0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        server.swf.engine.poll_seconds = held
    events = history(server, config, "map-500")
    state = fold(events)
    n = counts(events)
    assert str(state.close_status) == "COMPLETED", state.close_reason
    assert json.loads(state.close_result or "") == [f"F{i}" for i in range(500)]
    assert n["ActivityTaskScheduled"] == 1 + 500 + 1 and n["ActivityTaskFailed"] == 1  # the list, the items, a retry
    assert len({e["activityTaskStartedEventAttributes"]["identity"] for e in events
                if e["eventType"] == "ActivityTaskStarted"}) == 2  # both workers took items
    open_now = most = 0
    for e in events:  # the cap, through the history
        if e["eventType"] == "ActivityTaskScheduled":
            open_now += parse_item(state.activities[e["activityTaskScheduledEventAttributes"]["activityId"]].step_id
                                   or "") is not None
        elif e["eventType"] in ("ActivityTaskCompleted", "ActivityTaskFailed"):
            key = next(k for k in e if k.endswith("EventAttributes"))
            act = next(a for a in state.activities.values() if a.scheduled_event_id == e[key]["scheduledEventId"])
            open_now -= parse_item(act.step_id or "") is not None
        most = max(most, open_now)
    assert most == 20
    assert n["WorkflowExecutionCompleted"] == 1 and len(events) < 3000, n


def test_a_signal_sent_from_the_command_line(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [
        {"activity": "A"}, {"id": "Approval", "signal": "approve", "after": ["A"], "timeout": 3600},
        {"activity": "B", "after": ["Approval"], "when": {"Approval": {"equals": "yes"}}},
    ], {"A": ECHO, "B": ECHO})
    d = Driver(server.client(), config)
    d.start("approve-me")
    d.decide()
    d.work("a")
    assert [x["decisionType"] for x in d.decide()] == ["StartTimer"]  # the signal's timeout; it waits
    assert cli.run(["signal", "approve-me", "approve", "--input", "yes", "--config", str(config.path)],
                   signals=False) == 0
    assert [x["decisionType"] for x in d.decide()] == ["RecordMarker", "ScheduleActivityTask"]
    assert d.work("done") == "B-1"
    assert d.decide()[0]["decisionType"] == "CompleteWorkflowExecution"
    events = history(server, config, "approve-me")
    n = counts(events)
    assert (n["WorkflowExecutionSignaled"], n["MarkerRecorded"], n["TimerStarted"]) == (1, 1, 1)
    state = fold(events)
    assert state.activities["B-1"].input == "yes" and state.close_result == "done"


def test_a_wait_goes_on_when_its_timer_fires(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [{"activity": "A"}, {"id": "Settle", "wait": 1, "after": ["A"]},
                                   {"activity": "B", "after": ["Settle"]}], {"A": ECHO, "B": ECHO})
    d = Driver(server.client(), config)
    d.start("settle")
    d.decide()
    d.work("a")
    timer = d.decide()
    assert timer == [{"decisionType": "StartTimer",
                      "startTimerDecisionAttributes": {"timerId": "swfagent-wait-Settle", "startToFireTimeout": "1"}}]
    client = server.client()
    wait_for(lambda: _pending(client, config, "decision"), timeout=10, every=0.1)
    assert [x["decisionType"] for x in d.decide()] == ["ScheduleActivityTask"]
    d.work("b")
    assert d.decide()[0]["decisionType"] == "CompleteWorkflowExecution"
    events = history(server, config, "settle")
    assert (counts(events)["TimerStarted"], counts(events)["TimerFired"]) == (1, 1)
    assert fold(events).activities["B-1"].input == "a"  # a wait passes its input on


def test_a_catch_that_ends_in_a_fail(server: Server, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, [
        {"activity": "Publish", "catch": "Report"}, {"activity": "After", "after": ["Publish"]},
        {"id": "Report", "activity": "Notify"},
        {"id": "Give_Up", "fail": "Publish failed: see Report", "after": ["Report"]},
    ], {"Publish": ECHO, "After": ECHO, "Notify": ECHO})
    d = Driver(server.client(), config)
    d.start("caught")
    d.decide()
    d.work(fail="exit code 3")
    d.decide()
    assert d.work("reported") == "Report-1"
    assert d.decide()[0]["decisionType"] == "FailWorkflowExecution"
    events = history(server, config, "caught")
    state = fold(events)
    assert json.loads(state.activities["Report-1"].input or "") == {
        "step": "Publish", "reason": "Publish failed: exit code 3", "details": None}
    assert "After-1" not in state.activities
    assert str(state.close_status) == "FAILED" and state.close_reason == "Publish failed: see Report"
    assert counts(events)["ActivityTaskScheduled"] == 2


def test_the_web_console_names_the_signal_waited_for_and_fills_in_the_form(server: Server, tmp_path: Path) -> None:
    from swfagent.web.app import create_app

    config = e2e_config(tmp_path, [{"activity": "A"}, {"id": "Approval", "signal": "approve", "after": ["A"]},
                                   {"id": "Convert", "activity": "A", "for_each": "A", "after": ["Approval"]}],
                        {"A": ECHO})
    d = Driver(server.client(), config)
    d.start("web-signal")
    d.decide()
    d.work("a\nb")
    d.decide()
    browser = create_app(server.client(), config, hosts=frozenset({"localhost"})).test_client()
    page = browser.get("/execution?workflow_id=web-signal").get_data(as_text=True)
    assert 'data-signal="approve"' in page and "waiting for signal approve" in page
    assert "signal_name=approve" in page
    d.client.signal_workflow_execution(domain=config.domain.name, workflowId="web-signal", signalName="approve")
    d.decide()
    d.work(fail="exit code 1")
    page = browser.get("/execution?workflow_id=web-signal").get_data(as_text=True)
    assert "signal approve taken (event " in page and "0/2 done · 1 failed" in page
    assert '<div class="item" data-item="1">item 1: <span class="status failed" title="Convert@1-1">FAILED</span>' in page
    form = browser.get("/action?do=signal&workflow_id=web-signal&signal_name=approve").get_data(as_text=True)
    assert 'name="signal_name" size="30" value="approve"' in form
