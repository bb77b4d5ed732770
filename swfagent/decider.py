"""The decider's edges: poll a decision task (every page), fold, decide, respond."""

from __future__ import annotations

import time
from typing import Any

from . import alerts
from .client import describe_error, error_code, redact
from .config import Config
from .decide import GAVE_UP, decide, describe, plan
from .errors import TaskError
from .history import COMPLETED, FAILED, TIMED_OUT, fold
from .logs import log
from .poller import retry_transient

PAGE_SIZE = 1000


def poll_decision_task(client: Any, config: Config, task_list: str, identity: str) -> dict[str, Any] | None:
    """One decision task with its whole history (all pages merged), or None when the poll was empty."""
    paginator = client.get_paginator("poll_for_decision_task")
    task: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    pages = paginator.paginate(
        domain=config.domain.name, taskList={"name": task_list}, identity=identity,
        maximumPageSize=PAGE_SIZE,
    )
    for page in pages:
        if task is None:
            if not page.get("taskToken"):
                return None
            task = page
        events.extend(page.get("events", []))
    if task is None:
        return None
    task["events"] = events
    return task


def pending_decision_tasks(client: Any, config: Config, task_list: str) -> int:
    """How many decision tasks wait on the task list (SWF's estimate)."""
    answer = client.count_pending_decision_tasks(domain=config.domain.name, taskList={"name": task_list})
    return int(answer.get("count", 0))


def handle_decision_task(client: Any, config: Config, task: dict[str, Any]) -> list[dict[str, Any]]:
    """Decide on one decision task and report the decisions; returns them."""
    execution = task.get("workflowExecution", {})
    ctx = {"workflow_id": execution.get("workflowId"), "run_id": execution.get("runId")}
    log.info("Received a Decision Task", extra=ctx)
    received = time.monotonic()
    try:
        log.info("Making decision on what is next", extra=ctx)
        state = fold(task["events"])
        decisions = decide(config.workflow, state)
        previous = task.get("previousStartedEventId") or 0
        for act in state.activities.values():
            if act.closed_event_id > previous and act.step_id is not None:
                if act.status == COMPLETED:
                    log.info(f"{act.step_id} succeeded", extra={**ctx, "activity_id": act.activity_id})
                elif act.status in (FAILED, TIMED_OUT):
                    log.info(f"{act.step_id} failed: {act.reason}", extra={**ctx, "activity_id": act.activity_id})
        for name in state.unknown_events:
            log.warning(f"ignored an event type this decider does not know: {name}", extra=ctx)
        statuses = plan(config.workflow, state)
    except Exception as exc:
        raise TaskError(f"workflow {ctx['workflow_id']}: cannot decide: {exc!r}") from exc
    token = task["taskToken"]
    try:
        retry_transient(
            lambda: client.respond_decision_task_completed(taskToken=token, decisions=decisions),
            f"workflow {ctx['workflow_id']}: reporting the decision",
            until=received + max(config.workflow.decision_timeout, 30),  # SWF takes it until the task times out
        )
    except Exception as exc:
        if error_code(exc) == "UnknownResourceFault":
            log.warning(
                "The decision task is no longer open (it timed out or the execution closed): "
                "another decision task will follow", extra=ctx,
            )
            return []
        text = redact(describe_error(exc), token)
        raise TaskError(f"workflow {ctx['workflow_id']}: reporting the decision: {text}") from None
    log.info(f"Decision Made: {describe(decisions, statuses)}", extra=ctx)
    closing = decisions[0]["decisionType"] if decisions else ""
    # one alert per execution: a fail or cancel SWF refused once (a new event came first) was alerted on then
    if config.alerts is not None and closing in ("FailWorkflowExecution", "CancelWorkflowExecution") \
            and not state.close_rejections:
        failed = next((s for s, st in statuses.items() if st.status == GAVE_UP), None)
        attrs = decisions[0].get("failWorkflowExecutionDecisionAttributes", {})
        status = "FAILED" if closing == "FailWorkflowExecution" else "CANCELED"
        reason = attrs.get("reason") or ("cancel requested" if status == "CANCELED" else None)
        alerts.send(config, alerts.message(
            config, str(ctx["workflow_id"]), str(ctx["run_id"]), status, reason, failed, attrs.get("details"),
        ))
    return decisions

