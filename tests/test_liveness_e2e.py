"""End to end on the embedded SWF with `--faults deny=X`, for each decision the decider sends: SWF refuses it for good
(OPERATION_NOT_PERMITTED), and the decider asks once, then fails the execution, cancels it, or alerts and waits.

The decider runs in this process (handle_decision_task, as decider.py calls it), so each case takes a second or two;
test_decide_properties.py proves the same rule for every cause in botocore's model, on histories built in the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from swfagent import decide as decide_module
from swfagent import decision_tasks
from swfagent.config import Config, load_config
from swfagent.decision_tasks import handle_decision_task, poll_decision_task
from swfagent.executions import request_cancel
from swfagent.register import register_all
from tests.e2e import e2e_config, event_types, final_state, wait_for
from tests.histories import SENT
from tests.support import HELPERS, Server, write_config


class Run:
    """One execution driven from this process: its decision tasks decided as decider.py would, its activities
    answered by the test; every decision sent, kept."""

    def __init__(self, server: Server, config: Config, workflow_id: str = "denied"):
        self.server, self.config, self.workflow_id = server, config, workflow_id
        self.client = server.client()
        self.sent: list[dict[str, Any]] = []
        register_all(self.client, config)
        w = config.workflow
        self.client.start_workflow_execution(domain=config.domain.name, workflowId=workflow_id,
                                             workflowType={"name": w.name, "version": w.version})

    def _pending(self, kind: str) -> int:
        call = self.client.count_pending_decision_tasks if kind == "decision" else self.client.count_pending_activity_tasks
        return int(call(domain=self.config.domain.name, taskList={"name": self.config.workflow.task_list})["count"])

    def decide(self, wait: float = 0) -> int:
        """Decide every decision task waiting (and those they bring), waiting up to `wait` s for the first; how many."""
        if wait:
            wait_for(lambda: self._pending("decision"), timeout=wait, every=0.1)
        n = 0
        while self._pending("decision"):
            task = poll_decision_task(self.client, self.config, self.config.workflow.task_list, "test")
            assert isinstance(task, dict)
            self.sent += handle_decision_task(self.client, self.config, task).swf
            n += 1
            assert n < 20, f"decision tasks without end: {self.types()}"
        return n

    def take(self) -> str:
        """Take the next activity task, as a worker does; its token."""
        assert self._pending("activity"), "no activity task was waiting"
        task = self.client.poll_for_activity_task(domain=self.config.domain.name,
                                                  taskList={"name": self.config.workflow.task_list}, identity="test")
        return str(task["taskToken"])

    def count(self, kind: str) -> int:
        return sum(1 for d in self.sent if d["decisionType"] == kind)

    def types(self) -> list[str]:
        return event_types(self.server, self.config, self.workflow_id)

    def cancel(self) -> None:
        request_cancel(self.client, self.config, self.workflow_id)

    def poke(self) -> None:
        """Another decision task on it (a signal): what was refused for good is not sent again."""
        self.client.signal_workflow_execution(domain=self.config.domain.name, workflowId=self.workflow_id,
                                              signalName="poke")
        assert self.decide() == 1


def _schedule(run: Run) -> None:
    run.decide()


def _start_timer(run: Run) -> None:
    run.decide()
    run.client.respond_activity_task_failed(taskToken=run.take(), reason="exit code 1")
    run.decide()


def _cancel_timer(run: Run) -> None:
    run.decide()  # A and B
    run.client.respond_activity_task_failed(taskToken=run.take(), reason="exit code 1")  # A: its retry timer, 60 s
    b = run.take()
    run.decide()
    run.cancel()
    run.decide()  # cancel B, cancel A's timer: refused, not asked again
    assert run.client.record_activity_task_heartbeat(taskToken=b)["cancelRequested"]
    run.client.respond_activity_task_canceled(taskToken=b)
    run.decide()


def _request_cancel(run: Run) -> None:
    run.decide()
    a = run.take()
    run.cancel()
    run.decide()  # refused: said once, and the execution waits for A
    run.poke()
    assert not run.client.record_activity_task_heartbeat(taskToken=a)["cancelRequested"]
    run.client.respond_activity_task_completed(taskToken=a, result="a")  # A ends by itself
    run.decide()


def _record_marker(run: Run) -> None:
    assert run.decide() == 2  # a decider that cannot decide: its marker refused, a timer; at once again, a timer only
    assert run.decide(wait=10) == 1  # the first timer fired: the third error fails the execution


def _complete(run: Run) -> None:
    run.decide()
    run.client.respond_activity_task_completed(taskToken=run.take(), result="a")
    run.decide()
    run.poke()


def _fail(run: Run) -> None:
    run.decide()
    run.client.respond_activity_task_failed(taskToken=run.take(), reason="exit code 3")
    run.decide()
    run.poke()


def _cancel(run: Run) -> None:
    run.cancel()
    run.decide()
    run.poke()


def _cancel_child(run: Run) -> None:
    run.decide()  # the child starts; its decision tasks are on SubTasks, which no one polls here
    wait_for(lambda: "ChildWorkflowExecutionStarted" in run.types(), timeout=10, every=0.1)
    run.decide()
    run.cancel()
    run.decide()  # refused: not asked again; the child is left to the child policy, the parent canceled
    run.decide()


def _continue_as_new(run: Run) -> None:
    run.decide()
    run.client.respond_activity_task_completed(taskToken=run.take(), result="a")
    run.decide()  # the chart completes: ContinueAsNew at once, refused; one alert, and the execution waits for a person
    run.poke()


REASON_POLICY = "IAM policy does not allow {} for {}: see python -m swfagent policies"


class Case:
    """One denied decision: the flow chart, how the test drives it, and how it must end."""

    def __init__(self, steps: list[dict[str, Any]], drive: Callable[[Run], None], status: str | None,
                 reason: str | None, alerts: list[str], activities: dict[str, dict[str, Any]] | None = None,
                 keys: dict[str, Any] | None = None, sub: bool = False):
        self.steps, self.drive, self.status, self.reason, self.alerts = steps, drive, status, reason, alerts
        self.activities = activities or {}
        self.keys = keys or {}  # the workflow's further keys (repeat:)
        self.sub = sub  # a second workflow, Sub (one step A, on SubTasks), for a child step to run


SUB = {"version": "1.0", "task_list": "SubTasks", "decision_timeout": 10, "steps": [{"activity": "A"}]}


def _with_sub(config: Config, steps: list[dict[str, Any]]) -> Config:
    """The config rewritten with workflows: its workflow with these steps, and Sub."""
    data = yaml.safe_load(config.path.read_text())
    workflow = data.pop("workflow")
    data["workflows"] = {workflow.pop("name"): {**workflow, "steps": steps}, "Sub": SUB}
    return load_config(write_config(config.path, data))


CASES = {
    "ScheduleActivityTask": Case([{"activity": "A"}], _schedule, "FAILED",
                                 "A could not be scheduled (OPERATION_NOT_PERMITTED): the decider's "
                                 + REASON_POLICY.format("ScheduleActivityTask", "A 1.0"), ["FAILED"]),
    "StartTimer": Case([{"activity": "A"}], _start_timer, "FAILED",
                       "A could not be scheduled (OPERATION_NOT_PERMITTED): the decider's "
                       + REASON_POLICY.format("StartTimer", "its timers"), ["FAILED"],
                       {"A": {"retries": 1, "retry_delay": 1}}),
    "CancelTimer": Case([{"activity": "A"}, {"activity": "B"}], _cancel_timer, "CANCELED", None, ["CANCELED"],
                        {"A": {"retries": 1, "retry_delay": 60}}),
    "RequestCancelActivityTask": Case([{"activity": "A"}, {"activity": "B", "after": ["A"]}], _request_cancel,
                                      "CANCELED", None, ["CANCEL_REFUSED", "CANCELED"]),
    "RecordMarker": Case([{"activity": "A"}], _record_marker, "FAILED",
                         "the decider failed 3 times in a row: cannot decide: KeyError('broken')", ["FAILED"]),
    # SWF will not close it: one alert says so, and it waits for a person
    "CompleteWorkflowExecution": Case([{"activity": "A"}], _complete, None, "OPERATION_NOT_PERMITTED",
                                      ["CLOSE_REFUSED"]),
    "FailWorkflowExecution": Case([{"activity": "A"}], _fail, None, "OPERATION_NOT_PERMITTED",
                                  ["FAILED", "CLOSE_REFUSED"]),
    "CancelWorkflowExecution": Case([{"activity": "A"}], _cancel, None, "OPERATION_NOT_PERMITTED",
                                    ["CANCELED", "CLOSE_REFUSED"]),
    "StartChildWorkflowExecution": Case([{"id": "Run", "workflow": "Sub"}], _schedule, "FAILED",
                                        "Run could not be scheduled (OPERATION_NOT_PERMITTED): the decider's "
                                        + REASON_POLICY.format("StartChildWorkflowExecution", "Sub 1.0"), ["FAILED"],
                                        sub=True),
    # SWF will not ask the child: it is left to the child policy (TERMINATE), and the parent is canceled
    "RequestCancelExternalWorkflowExecution": Case([{"id": "Run", "workflow": "Sub"}], _cancel_child, "CANCELED", None,
                                                   ["CANCELED"], sub=True),
    "ContinueAsNewWorkflowExecution": Case([{"activity": "A"}], _continue_as_new, None, "OPERATION_NOT_PERMITTED",
                                           ["CLOSE_REFUSED"], keys={"repeat": {"every": 1}}),
}


def test_every_decision_the_decider_sends_is_denied_once_here() -> None:
    assert set(CASES) == set(SENT)


@pytest.mark.parametrize("denied", SENT)
def test_a_decision_swf_refuses_for_good_is_sent_once(server: Server, tmp_path: Path, denied: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[denied]
    alert_file = tmp_path / "alerts.jsonl"
    steps = [{"activity": "A"}] if case.sub else case.steps  # Sub's, with a child step: written in below
    activities = {s["activity"]: {"command": ["echo.py"], **case.activities.get(s["activity"], {})} for s in steps}
    config = e2e_config(tmp_path, steps, activities, **case.keys,
                        alerts={"command": ["python", str(HELPERS / "record_alert.py"), str(alert_file)]})
    if case.sub:
        config = _with_sub(config, case.steps)
    if denied == "RecordMarker":
        def broken(*_: Any) -> Any:
            raise KeyError("broken")

        monkeypatch.setattr(decision_tasks, "decide", broken)
        monkeypatch.setattr(decide_module, "WAIT_CAP", 2)  # its timers: 1 s, then 2 s
    server.faults(f"deny={denied}")
    run = Run(server, config)
    case.drive(run)
    types = run.types()
    assert run.count(denied) == 1 and types.count(f"{denied}Failed") == 1, (run.sent, types)
    state = final_state(server, config, "denied")
    alerts = [json.loads(line) for line in alert_file.read_text().splitlines()] if alert_file.exists() else []
    assert [a["status"] for a in alerts] == case.alerts
    assert state.close_status == case.status, types
    if case.status is None:
        assert types[-1] == "DecisionTaskCompleted" and str(case.reason) in alerts[-1]["reason"]
    elif case.status == "FAILED":
        assert state.close_reason == case.reason == alerts[-1]["reason"]
    if denied == "RequestCancelActivityTask":
        assert "ActivityTaskCompleted" in types and types.count("ActivityTaskScheduled") == 1  # A ended, B never ran
