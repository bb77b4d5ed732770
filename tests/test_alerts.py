"""Alerts: the message's fields, SNS (to an SQS queue, in moto) and the command, and broken alerts that stop nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from swfagent import alerts
from swfagent.config import Config, load_config
from swfagent.decision_tasks import handle_decision_task
from tests.e2e import Driver
from tests.histories import History
from tests.support import HELPERS, Server, demo_config_data, run_script, write_config

FIELDS = {"domain", "workflow_type", "workflow_id", "run_id", "status", "step", "reason", "details", "show"}


class FakeSWF:
    """Only what handle_decision_task calls on the SWF client: the decisions are recorded."""

    def __init__(self) -> None:
        self.responded: list[list[dict[str, Any]]] = []

    def respond_decision_task_completed(self, taskToken: str, decisions: list[dict[str, Any]]) -> dict[str, Any]:
        self.responded.append(decisions)
        return {}


def make_config(tmp_path: Path, sns_topic_arn: str | None = None, command: list[str] | None = None) -> Config:
    data = demo_config_data()
    data["alerts"] = {k: v for k, v in (("sns_topic_arn", sns_topic_arn), ("command", command)) if v}
    return load_config(write_config(tmp_path / "config.yaml", data))


def record(tmp_path: Path) -> list[str]:
    return ["python", str(HELPERS / "record_alert.py"), str(tmp_path / "alerts.jsonl")]


def recorded(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def failed_task(workflow_id: str = "nightly 1", run_id: str = "run-1") -> dict[str, Any]:
    """A decision task whose history has Test_Task_A failed (the demo gives it no retries)."""
    h = History().decision().schedule("Test_Task_A").fail("Test_Task_A", "exit code 2", details="Traceback: boom")
    h.add("DecisionTaskScheduled", {"taskList": {"name": "TestTasks"}})
    h.add("DecisionTaskStarted", {"scheduledEventId": len(h.events)})
    return {"taskToken": "token", "workflowExecution": {"workflowId": workflow_id, "runId": run_id},
            "previousStartedEventId": 3, "events": h.events}


def topic_and_queue(region: str = "us-east-1", endpoint: str | None = None) -> tuple[str, Any, str]:
    """An SNS topic with an SQS queue subscribed: (topic ARN, SQS client, queue URL)."""
    sns = boto3.client("sns", region_name=region, endpoint_url=endpoint)
    sqs = boto3.client("sqs", region_name=region, endpoint_url=endpoint)
    topic = sns.create_topic(Name="swf-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="swf-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, sqs, queue


def drain(sqs: Any, queue: str) -> list[dict[str, Any]]:
    """Every message in the queue: the SNS envelope's Subject and the alert itself."""
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        for m in got:
            envelope = json.loads(m["Body"])
            out.append({"subject": envelope.get("Subject"), "alert": json.loads(envelope["Message"])})
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


# ---- the message ------------------------------------------------------------------------------


def test_message_fields(tmp_path: Path) -> None:
    config = make_config(tmp_path, command=record(tmp_path))
    msg = alerts.message(config, "nightly 1", "run-1", "FAILED", "Test_Task_A failed: exit code 2",
                         "Test_Task_A", "x" * 5000).as_json()
    assert set(msg) == FIELDS
    assert msg["workflow_id"] == "nightly 1" and msg["run_id"] == "run-1" and msg["step"] == "Test_Task_A"
    assert msg["domain"] == "TEST_SWF" and msg["workflow_type"] == "TestWorkflow 1.0"
    assert len(msg["details"]) <= 2000 and msg["details"].startswith("[... ") and msg["details"].endswith("x" * 1900)
    assert msg["show"] == f"python -m swfagent show 'nightly 1' --run-id run-1 --config {tmp_path / 'config.yaml'}"
    default = load_config()
    assert alerts.message(default, "w", "r", "FAILED", None).show == "python -m swfagent show w --run-id r"
    odd = alerts.message(default, "é\n" + "w" * 200, "r", "FAILED", None)
    assert alerts.subject(odd) == "SWF FAILED: ??" + "w" * 86


# ---- the decider's alert, in moto in this process ---------------------------------------------


@mock_aws
def test_failing_an_execution_sends_one_alert_to_sns_and_the_command(aws_env: None, tmp_path: Path) -> None:
    topic, sqs, queue = topic_and_queue()
    config = make_config(tmp_path, sns_topic_arn=topic, command=record(tmp_path))
    swf = FakeSWF()
    decisions = handle_decision_task(swf, config, failed_task()).swf
    assert [d["decisionType"] for d in decisions] == ["FailWorkflowExecution"]
    assert swf.responded == [decisions]

    (sent,) = drain(sqs, queue)
    alert = sent["alert"]
    assert sent["subject"] == "SWF FAILED: nightly 1"
    assert set(alert) == FIELDS
    assert alert["workflow_id"] == "nightly 1" and alert["run_id"] == "run-1" and alert["status"] == "FAILED"
    assert alert["step"] == "Test_Task_A" and alert["reason"] == "Test_Task_A failed: exit code 2"
    assert alert["details"] == "Traceback: boom"
    assert alert["show"].startswith("python -m swfagent show 'nightly 1' --run-id run-1")
    assert recorded(tmp_path) == [alert]


@mock_aws
def test_a_cancel_request_sends_a_canceled_alert(aws_env: None, tmp_path: Path) -> None:
    topic, sqs, queue = topic_and_queue()
    config = make_config(tmp_path, sns_topic_arn=topic)
    task = failed_task()
    task["events"] = History().decision().cancel_request().events
    assert handle_decision_task(FakeSWF(), config, task).swf[0]["decisionType"] == "CancelWorkflowExecution"
    (sent,) = drain(sqs, queue)
    assert sent["alert"]["status"] == "CANCELED" and sent["alert"]["reason"] == "cancel requested"


@mock_aws
def test_no_alert_when_an_execution_goes_on_or_completes(aws_env: None, tmp_path: Path) -> None:
    topic, sqs, queue = topic_and_queue()
    config = make_config(tmp_path, sns_topic_arn=topic, command=record(tmp_path))
    task = failed_task()
    task["events"] = History().decision().schedule("Test_Task_A").complete("Test_Task_A", "a").events
    assert handle_decision_task(FakeSWF(), config, task).swf[0]["decisionType"] == "ScheduleActivityTask"
    task["events"] = History().decision().schedule("Test_Task_A").complete("Test_Task_A", "a").decision() \
        .schedule("Test_Task_B").complete("Test_Task_B", "apple").events
    assert handle_decision_task(FakeSWF(), config, task).swf[0]["decisionType"] == "CompleteWorkflowExecution"
    assert drain(sqs, queue) == [] and recorded(tmp_path) == []


def test_a_fail_decision_that_swf_refused_once_is_not_alerted_twice(tmp_path: Path) -> None:
    config = make_config(tmp_path, command=record(tmp_path))
    task = failed_task()
    assert handle_decision_task(FakeSWF(), config, task).swf[0]["decisionType"] == "FailWorkflowExecution"
    # SWF refused that decision (a signal came first): the next decision task fails it again, silently
    h = History().decision().schedule("Test_Task_A").fail("Test_Task_A", "exit code 2").decision()
    h.close_refused("FailWorkflowExecution", "UNHANDLED_DECISION")
    h.signal("poke").decision()
    task["events"] = h.events
    assert handle_decision_task(FakeSWF(), config, task).swf[0]["decisionType"] == "FailWorkflowExecution"
    assert len(recorded(tmp_path)) == 1


def test_an_activity_cancel_refused_for_good_alerts_once_and_the_cancel_alerts_when_it_happens(tmp_path: Path) -> None:
    config = make_config(tmp_path, command=record(tmp_path))
    h = History().decision().schedule("Test_Task_A").start("Test_Task_A").cancel_request().decision()
    h.add("RequestCancelActivityTaskFailed", {"activityId": "Test_Task_A-1", "cause": "OPERATION_NOT_PERMITTED",
                                              "decisionTaskCompletedEventId": len(h.events)})
    first = h.started_decision()
    task = {**failed_task(), "events": list(h.events), "previousStartedEventId": first - 5}
    assert handle_decision_task(FakeSWF(), config, task).swf == []
    h.add("DecisionTaskCompleted", {"scheduledEventId": first - 1, "startedEventId": first})
    h.signal("poke")
    h.started_decision()
    task = {**task, "events": list(h.events), "previousStartedEventId": first}
    assert handle_decision_task(FakeSWF(), config, task).swf == []  # no second alert
    [alert] = recorded(tmp_path)
    assert alert["status"] == "CANCEL_REFUSED" and "Test_Task_A-1 (OPERATION_NOT_PERMITTED)" in alert["reason"]
    h.complete("Test_Task_A", "a")  # it ended by itself: the execution is canceled, and that is alerted
    task = {**task, "events": list(h.events)}
    assert handle_decision_task(FakeSWF(), config, task).swf[0]["decisionType"] == "CancelWorkflowExecution"
    assert [a["status"] for a in recorded(tmp_path)] == ["CANCEL_REFUSED", "CANCELED"]


@mock_aws
@pytest.mark.parametrize("broken", ["topic", "command", "both", "command fails"])
def test_a_broken_alert_does_not_stop_the_decision(aws_env: None, tmp_path: Path, broken: str) -> None:
    topic, sqs, queue = topic_and_queue()
    missing_topic = topic.rsplit(":", 1)[0] + ":no-such-topic"
    command = {"topic": record(tmp_path), "command": [str(tmp_path / "no-such-command")],
               "both": [str(tmp_path / "no-such-command")], "command fails": [sys.executable, "-c", "exit(3)"]}[broken]
    config = make_config(tmp_path, sns_topic_arn=missing_topic if broken in ("topic", "both") else topic,
                         command=command)
    swf = FakeSWF()
    decisions = handle_decision_task(swf, config, failed_task()).swf
    assert swf.responded == [decisions] and decisions[0]["decisionType"] == "FailWorkflowExecution"
    problems = alerts.send(config, alerts.message(config, "w", "r", "FAILED", "why"))
    assert len(problems) == (2 if broken == "both" else 1)
    assert all("\n" not in p for p in problems)
    if broken == "topic":
        assert "no-such-topic" in problems[0] and len(recorded(tmp_path)) == 2
    else:
        assert len(drain(sqs, queue)) == (0 if broken == "both" else 2)
    if broken == "command fails":
        assert problems == ["alert command exited 3: "]


# ---- the real decider.py against the embedded SWF --------------------------------------------


def test_decider_script_alerts_through_the_embedded_sns(server: Server, tmp_path: Path) -> None:
    topic, sqs, queue = topic_and_queue(endpoint=server.endpoint)
    config = make_config(tmp_path, sns_topic_arn=topic, command=record(tmp_path))
    d = Driver(server.client(), config)
    run_id = d.start("nightly")
    d.decide()
    d.work(fail="exit code 1")
    env = {**server.env, "AWS_ENDPOINT_URL_SNS": server.endpoint}
    done = run_script("decider.py", "--config", str(config.path), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Decision Made: Fail the workflow execution -- Test_Task_A failed: exit code 1"
    (sent,) = drain(sqs, queue)
    alert = sent["alert"]
    assert (alert["workflow_id"], alert["run_id"], alert["status"], alert["step"]) == \
        ("nightly", run_id, "FAILED", "Test_Task_A")
    assert alert["reason"] == "Test_Task_A failed: exit code 1"
    assert alert["show"] == f"python -m swfagent show nightly --run-id {run_id} --config {config.path}"
    assert recorded(tmp_path) == [alert]
