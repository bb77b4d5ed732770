"""A small SWF driver for the embedded-SWF tests: one domain, one workflow type, one activity type, raw boto3."""

from __future__ import annotations

import time
from typing import Any

import boto3
import botocore.config

DOMAIN, TASK_LIST = "D", "T"
WORKFLOW = {"name": "W", "version": "1"}
ACTIVITY = {"name": "A", "version": "1"}


class FakeClock:
    """The embedded SWF's clock, moved by the test: timeouts and retention fire when it passes them."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def client(endpoint: str) -> Any:
    """A boto3 SWF client for an endpoint, with made-up credentials and no retries hiding an answer."""
    return boto3.client("swf", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="y", config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}))


def schedule(activity_id: str, *, input: str | None = None, task_list: str = TASK_LIST, **timeouts: str) -> dict[str, Any]:
    """A ScheduleActivityTask decision; timeouts default to NONE except start-to-close (60 s)."""
    attrs: dict[str, Any] = {
        "activityType": ACTIVITY, "activityId": activity_id, "taskList": {"name": task_list},
        "startToCloseTimeout": "60", "heartbeatTimeout": "NONE", "scheduleToStartTimeout": "NONE",
        "scheduleToCloseTimeout": "NONE", **timeouts,
    }
    if input is not None:
        attrs["input"] = input
    return {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": attrs}


def decision(kind: str, **attrs: Any) -> dict[str, Any]:
    """Any decision: decision("StartTimer", timerId="t", startToFireTimeout="5")."""
    key = kind[0].lower() + kind[1:] + "DecisionAttributes"
    return {"decisionType": kind, key: attrs}


class Swf:
    """Registers the domain and types, then starts, decides and works as a test needs."""

    def __init__(self, c: Any, *, retention: str = "1", decision_timeout: str = "10"):
        self.c = c
        c.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays=retention)
        c.register_workflow_type(
            domain=DOMAIN, **WORKFLOW, defaultTaskList={"name": TASK_LIST}, defaultChildPolicy="TERMINATE",
            defaultExecutionStartToCloseTimeout="3600", defaultTaskStartToCloseTimeout=decision_timeout)
        c.register_activity_type(domain=DOMAIN, **ACTIVITY, defaultTaskList={"name": TASK_LIST})
        self.runs: dict[str, str] = {}

    def start(self, workflow_id: str = "w", **extra: Any) -> str:
        run_id = str(self.c.start_workflow_execution(domain=DOMAIN, workflowId=workflow_id, workflowType=WORKFLOW,
                                                      **extra)["runId"])
        self.runs[workflow_id] = run_id
        return run_id

    def poll_decision(self, **extra: Any) -> dict[str, Any]:
        return dict(self.c.poll_for_decision_task(domain=DOMAIN, taskList={"name": TASK_LIST}, identity="d", **extra))

    def decide(self, *decisions: dict[str, Any]) -> dict[str, Any]:
        """Take the waiting decision task and answer it with these decisions; the task taken."""
        task = self.poll_decision()
        assert task.get("taskToken"), "no decision task was waiting"
        self.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=list(decisions))
        return task

    def poll_activity(self, task_list: str = TASK_LIST) -> dict[str, Any]:
        return dict(self.c.poll_for_activity_task(domain=DOMAIN, taskList={"name": task_list}, identity="w"))

    def execution(self, workflow_id: str = "w") -> dict[str, str]:
        return {"workflowId": workflow_id, "runId": self.runs[workflow_id]}

    def events(self, workflow_id: str = "w") -> list[dict[str, Any]]:
        pages = self.c.get_paginator("get_workflow_execution_history").paginate(
            domain=DOMAIN, execution=self.execution(workflow_id))
        return [e for page in pages for e in page["events"]]

    def types(self, workflow_id: str = "w") -> list[str]:
        return [e["eventType"] for e in self.events(workflow_id)]

    def describe(self, workflow_id: str = "w") -> dict[str, Any]:
        return dict(self.c.describe_workflow_execution(domain=DOMAIN, execution=self.execution(workflow_id)))

    def pending(self, kind: str = "activity") -> int:
        call = self.c.count_pending_activity_tasks if kind == "activity" else self.c.count_pending_decision_tasks
        return int(call(domain=DOMAIN, taskList={"name": TASK_LIST})["count"])


def code(exc: Any) -> tuple[str, int]:
    """The error code and HTTP status of a ClientError."""
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
